"""Writing the other side's mirrors: one flat row a cluster in the reader's language, upserted by external id
into an import file that is replaced atomically, in a stable order, with a manifest beside it."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from clusterbridge.abc import MirrorWrite
from clusterbridge.connectors.files import FilesConnector, formats
from clusterbridge.connectors.files.formats import sha256_of
from clusterbridge.errors import PlatformError
from clusterbridge.model import Contact, RenderedText
from clusterbridge.sync.payload import content_hash

from .support import cluster_of, eu_row, make, rendered_for, write_export


@pytest.fixture
def eu_cluster(eu_folder: Path) -> Any:
    write_export(eu_folder / "clusters.csv", [eu_row(
        "E-1", name="Bavarian Automotive Cluster", country="DE", nace_codes="C29.1",
        ecosystems="Mobility-Transport-Automotive", sectors="Automotive",
        contact_name="Anna Weber", contact_email="anna@example.eu", contact_public="yes")])
    return cluster_of(make("eu", eu_folder), "E-1")


def kr_target(folder: Path, name: str = "foreign-clusters.xlsx", **overrides: Any) -> FilesConnector:
    return make("kr", folder, **{"import": {"file": name, **overrides.pop("imp", {})}}, **overrides)


def payload(connector: FilesConnector, **changes: Any) -> dict[str, Any]:
    row = {name: "" for name in connector.settings.import_.layout}
    row.update(changes)
    return row


class TestShape:
    """A rendered cluster becomes one row in the reader's language; only text, only what may be published."""

    def test_a_european_cluster_for_korean_readers(self, kr_folder: Path, eu_cluster: Any) -> None:
        row = kr_target(kr_folder).shape(rendered_for("kr", eu_cluster, "eccp:E-1"))
        assert row["external_id"] == "eccp:E-1"
        assert (row["country"], row["country_name"]) == ("DE", "독일")
        assert (row["codes"], row["code_system"]) == ("C30", "KSIC")
        assert row["ecosystems"] == "모빌리티·운송·자동차"
        assert "자동차·부품" in row["industries"]
        assert row["sections"] == "분야: Automotive"
        assert row["contact_email"] == "anna@example.eu"
        assert row["source_changed"] == "2026-10-15T07:30:00+00:00"
        assert all(isinstance(v, str) for v in row.values())
        assert list(row) == list(kr_target(kr_folder).settings.import_.layout)

    def test_a_private_contact_leaves_its_columns_blank(self, kr_folder: Path, eu_cluster: Any) -> None:
        record = rendered_for("kr", eu_cluster, "eccp:E-1").model_copy(
            update={"contact": Contact(name="Anna", email="anna@example.eu", public=False)})
        row = kr_target(kr_folder).shape(record)
        assert (row["contact_name"], row["contact_email"]) == ("", "")

    def test_a_machine_translation_is_followed_by_its_original(self, kr_folder: Path, eu_cluster: Any) -> None:
        text = RenderedText(text="자동차 클러스터", lang="ko", original="<p>A car cluster</p>", original_lang="en",
                            machine_translated=True, note="영어에서 기계 번역", original_heading="원문 (영어)")
        record = rendered_for("kr", eu_cluster, "eccp:E-1").model_copy(update={"description": text})
        row = kr_target(kr_folder).shape(record)
        assert row["description"] == "자동차 클러스터\n\n[영어에서 기계 번역] 원문 (영어): A car cluster"
        assert row["description_language"] == "ko"

    def test_a_column_left_out_in_settings_is_not_shaped(self, kr_folder: Path, eu_cluster: Any) -> None:
        connector = kr_target(kr_folder, imp={"columns": {"sections": "", "name": "영문명"}})
        row = connector.shape(rendered_for("kr", eu_cluster, "eccp:E-1"))
        assert "sections" not in row
        assert row["name"] == "Bavarian Automotive Cluster"

    def test_control_characters_go_and_line_ends_become_newlines(self, kr_folder: Path, eu_cluster: Any) -> None:
        text = RenderedText(text="line\r\none\x00\x0b two", lang="en")
        row = kr_target(kr_folder).shape(rendered_for("kr", eu_cluster, "x").model_copy(update={"description": text}))
        assert row["description"] == "line\none two"


class TestWriting:
    """Upserts by external id, a stable order, a manifest, and rows that read back as they were shaped."""

    @pytest.mark.parametrize("name", ["foreign.csv", "foreign.xlsx", "foreign.jsonl"])
    def test_rows_read_back_exactly_as_written_in_every_format(self, kr_folder: Path, eu_cluster: Any,
                                                               name: str) -> None:
        writer = kr_target(kr_folder, name)
        shaped = writer.shape(rendered_for("kr", eu_cluster, "eccp:E-1"))
        tricky = payload(writer, external_id="eccp:E-2", name="=HYPERLINK(\"http://x\")", contact_phone="+49 30 1",
                         members_total="12", year_established="007",
                         description="'quoted' and\nmulti-line", acronym="'=")
        assert [r.action for r in writer.write([MirrorWrite("eccp:E-1", shaped), MirrorWrite("eccp:E-2", tricky)])] \
            == ["created", "created"]
        reader = kr_target(kr_folder, name)  # a fresh connector reads the file itself
        listed = {m.external_id: m for page in reader.iter_mirrors() for m in page}
        assert listed["eccp:E-1"].payload == shaped
        assert listed["eccp:E-2"].payload == tricky
        assert listed["eccp:E-1"].mirror_id == "eccp:E-1"
        assert content_hash(listed["eccp:E-1"].payload) == content_hash(shaped)

    def test_a_spreadsheet_gets_text_never_formulas_and_numbers_as_numbers(self, kr_folder: Path) -> None:
        writer = kr_target(kr_folder)
        writer.write([MirrorWrite("eccp:E-1", payload(writer, name="=1+1", members_total="12"))])
        book = openpyxl.load_workbook(kr_folder / "foreign-clusters.xlsx")
        ws = book["clusters"]
        headers = [c.value for c in ws[1]]
        cells = {h: c for h, c in zip(headers, ws[2], strict=False)}
        assert (cells["name"].value, cells["name"].data_type) == ("=1+1", "s")
        assert cells["members_total"].value == 12

    def test_a_csv_guards_formulas_with_an_apostrophe(self, kr_folder: Path) -> None:
        writer = kr_target(kr_folder, "foreign.csv")
        writer.write([MirrorWrite("eccp:E-1", payload(writer, name="=cmd|' /C calc'!A0", contact_phone="+82 2"))])
        text = (kr_folder / "foreign.csv").read_text(encoding="utf-8-sig")
        assert "'=cmd|" in text
        assert "'+82 2" in text
        assert (kr_folder / "foreign.csv").read_bytes().startswith(b"\xef\xbb\xbf")

    def test_a_create_of_an_existing_row_updates_it_never_a_duplicate(self, kr_folder: Path) -> None:
        writer = kr_target(kr_folder, "foreign.jsonl")
        writer.write([MirrorWrite("eccp:E-1", payload(writer, name="Old"))])
        again = writer.write([MirrorWrite("eccp:E-1", payload(writer, name="New")),
                              MirrorWrite("eccp:E-1", payload(writer, name="New"))])
        assert [r.action for r in again] == ["adopted", "unchanged"]
        lines = (kr_folder / "foreign.jsonl").read_text().splitlines()
        assert [json.loads(x)["name"] for x in lines] == ["New"]

    def test_updates_unchanged_rows_and_the_order_by_external_id(self, kr_folder: Path) -> None:
        writer = kr_target(kr_folder, "foreign.jsonl")
        writer.write([MirrorWrite(k, payload(writer, name=k)) for k in ("eccp:c", "eccp:a", "eccp:b")])
        before = (kr_folder / "foreign.jsonl").stat().st_mtime_ns
        results = writer.write([MirrorWrite("eccp:b", payload(writer, name="eccp:b"), "eccp:b")])
        assert results[0].action == "unchanged"
        assert (kr_folder / "foreign.jsonl").stat().st_mtime_ns == before  # nothing changed: nothing written
        results = writer.write([MirrorWrite("eccp:b", payload(writer, name="B"), "eccp:b")])
        assert (results[0].action, results[0].mirror_id) == ("updated", "eccp:b")
        ids = [json.loads(x)["external_id"] for x in (kr_folder / "foreign.jsonl").read_text().splitlines()]
        assert ids == ["eccp:a", "eccp:b", "eccp:c"]

    def test_a_bad_external_id_fails_alone(self, kr_folder: Path) -> None:
        writer = kr_target(kr_folder, "foreign.jsonl")
        results = writer.write([MirrorWrite("bad\nid", payload(writer)), MirrorWrite("eccp:ok", payload(writer))])
        assert [r.action for r in results] == ["failed", "created"]
        assert results[0].problem is not None
        assert results[0].problem.field == "external_id"

    def test_the_manifest_describes_the_file(self, kr_folder: Path) -> None:
        writer = kr_target(kr_folder)
        writer.write([MirrorWrite(f"eccp:{i}", payload(writer, name=f"N{i}")) for i in range(3)])
        writer.delete("eccp:1", "eccp:1")
        manifest = json.loads((kr_folder / "foreign-clusters.xlsx.manifest.json").read_text())
        assert manifest["file"] == "foreign-clusters.xlsx"
        assert (manifest["format"], manifest["side"], manifest["code_system"]) == ("xlsx", "kr", "KSIC")
        assert manifest["rows"] == 2
        assert manifest["changes"] == {"created": 0, "updated": 0, "deleted": 1}
        assert manifest["sha256"] == sha256_of(kr_folder / "foreign-clusters.xlsx")
        assert manifest["columns"][0] == "external_id"
        written = datetime.fromisoformat(manifest["written_at"])
        assert abs((datetime.now(UTC) - written).total_seconds()) < 60
        assert writer.verify()

    def test_mapped_headers_are_written_and_read_back(self, kr_folder: Path) -> None:
        columns = {"external_id": "외부ID", "name": "영문명", "country_name": "국가명"}
        writer = kr_target(kr_folder, "foreign.csv", imp={"columns": columns})
        writer.write([MirrorWrite("eccp:1", payload(writer, name="Cluster", country_name="독일"))])
        assert (kr_folder / "foreign.csv").read_text(encoding="utf-8-sig").startswith("외부ID,영문명,name_local")
        listed = [m for page in kr_target(kr_folder, "foreign.csv", imp={"columns": columns}).iter_mirrors()
                  for m in page]
        assert (listed[0].external_id, listed[0].payload["country_name"]) == ("eccp:1", "독일")


class TestDeleting:
    """A deletion removes the row; one already gone is done."""

    def test_delete_by_mirror_id_or_external_id_and_absent_is_done(self, kr_folder: Path) -> None:
        writer = kr_target(kr_folder, "foreign.jsonl")
        writer.write([MirrorWrite(k, payload(writer)) for k in ("eccp:a", "eccp:b")])
        writer.delete("eccp:a", "eccp:a")
        writer.delete("eccp:b", None)
        writer.delete("eccp:b", None)
        assert [m for page in writer.iter_mirrors() for m in page] == []
        assert (kr_folder / "foreign.jsonl").read_text() == ""


class TestHeldRows:
    """Rows are held between calls, and read again when someone else changed the file."""

    def test_a_file_edited_between_calls_is_read_again(self, kr_folder: Path) -> None:
        writer = kr_target(kr_folder, "foreign.jsonl")
        writer.write([MirrorWrite(k, payload(writer)) for k in ("eccp:a", "eccp:b")])
        path = kr_folder / "foreign.jsonl"
        path.write_text(path.read_text().splitlines()[1] + "\n")  # somebody removed eccp:a by hand
        assert [m.external_id for page in writer.iter_mirrors() for m in page] == ["eccp:b"]

    def test_a_garbled_import_file_fails_loudly(self, kr_folder: Path) -> None:
        (kr_folder / "foreign-clusters.xlsx").write_text("not a workbook")
        with pytest.raises(PlatformError, match="cannot read the import file"):
            list(kr_target(kr_folder).iter_mirrors())


class TestAtomicReplace:
    """A write that fails at any step leaves the old file whole and no temporary file behind; the next write
    starts from what the file holds."""

    @pytest.fixture
    def written(self, kr_folder: Path) -> tuple[FilesConnector, bytes]:
        writer = kr_target(kr_folder)
        writer.write([MirrorWrite("eccp:old", payload(writer, name="Old"))])
        return writer, (kr_folder / "foreign-clusters.xlsx").read_bytes()

    def _check_intact(self, folder: Path, old: bytes) -> None:
        assert (folder / "foreign-clusters.xlsx").read_bytes() == old
        assert sorted(p.name for p in folder.iterdir()) == ["foreign-clusters.xlsx",
                                                            "foreign-clusters.xlsx.manifest.json"]

    def test_a_failing_rename(self, kr_folder: Path, written: tuple[FilesConnector, bytes],
                              monkeypatch: pytest.MonkeyPatch) -> None:
        writer, old = written

        def refuse(src: Any, dst: Any) -> None:
            raise OSError(18, "Invalid cross-device link")

        monkeypatch.setattr(formats.os, "replace", refuse)
        with pytest.raises(PlatformError, match="the previous file is intact"):
            writer.write([MirrorWrite("eccp:new", payload(writer, name="New"))])
        self._check_intact(kr_folder, old)
        monkeypatch.undo()
        writer.write([MirrorWrite("eccp:other", payload(writer, name="Other"))])
        assert [m.external_id for page in writer.iter_mirrors() for m in page] == ["eccp:old", "eccp:other"]

    def test_a_disk_that_fills_up_midway(self, kr_folder: Path, written: tuple[FilesConnector, bytes],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
        writer, old = written

        def full(fd: int) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(formats.os, "fsync", full)
        with pytest.raises(PlatformError, match="No space left"):
            writer.delete("eccp:old", "eccp:old")
        self._check_intact(kr_folder, old)

    def test_a_temporary_file_left_by_a_killed_run_is_cleared(self, kr_folder: Path,
                                                              written: tuple[FilesConnector, bytes]) -> None:
        writer, _ = written
        (kr_folder / ".foreign-clusters.xlsx.abc123.tmp").write_bytes(b"half a workbook")
        writer.write([MirrorWrite("eccp:new", payload(writer))])
        assert not list(kr_folder.glob(".*.tmp"))

    def test_the_file_keeps_its_permissions(self, kr_folder: Path, written: tuple[FilesConnector, bytes]) -> None:
        writer, _ = written
        path = kr_folder / "foreign-clusters.xlsx"
        assert path.stat().st_mode & 0o777 == 0o644
        os.chmod(path, 0o640)
        writer.write([MirrorWrite("eccp:new", payload(writer))])
        assert path.stat().st_mode & 0o777 == 0o640
