"""Reading natives from an export file: the three formats alike, columns mapped in settings, every row
validated at the edge (a bad row is a problem naming its column, the rest goes on), listings paged and
counted like a platform's."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import openpyxl
import pytest

from clusterbridge.abc import NativeRecord
from clusterbridge.errors import ListingIncomplete

from .support import eu_row, kr_row, make, natives, write_export


def rows(n: int) -> list[dict[str, str]]:
    return [kr_row(f"KC-{i:03}", changed=f"2026-10-15T09:{i % 60:02}:00+09:00") for i in range(n)]


class TestFormats:
    """CSV, XLSX and JSON Lines hold the same rows; the extension says which."""

    @pytest.mark.parametrize("name", ["clusters.csv", "clusters.xlsx", "clusters.jsonl"])
    def test_the_same_rows_read_alike_in_every_format(self, kr_folder: Path, name: str) -> None:
        write_export(kr_folder / name, [kr_row("KC-1", name="반월시화 기계부품 미니클러스터", members_total="153"),
                                        kr_row("KC-2", live="N")])
        records, problems = natives(make("kr", kr_folder, export={"file": name}))
        assert problems == []
        assert [r.native_id for r in records] == ["KC-1", "KC-2"]
        first = records[0].wire
        assert (first.name, first.members_total, first.country, first.live) == ("반월시화 기계부품 미니클러스터", 153,
                                                                                 "KR", True)
        assert records[0].changed == datetime(2026, 10, 15, 0, 30, tzinfo=UTC)
        assert records[1].wire.live is False

    def test_a_csv_with_a_byte_order_mark_and_one_in_cp949(self, kr_folder: Path) -> None:
        write_export(kr_folder / "bom.csv", [kr_row("KC-1")], encoding="utf-8-sig")
        write_export(kr_folder / "korean-excel.csv", [kr_row("KC-2", name="구미 전자부품 클러스터")], encoding="cp949")
        assert natives(make("kr", kr_folder, export={"file": "bom.csv"}))[0][0].native_id == "KC-1"
        records, _ = natives(make("kr", kr_folder, export={"file": "korean-excel.csv", "encoding": "cp949"}))
        assert records[0].wire.name == "구미 전자부품 클러스터"

    def test_a_wrong_encoding_fails_the_listing_and_says_what_to_set(self, kr_folder: Path) -> None:
        write_export(kr_folder / "clusters.csv", [kr_row("KC-1")], encoding="cp949")
        with pytest.raises(ListingIncomplete, match="cp949"):
            natives(make("kr", kr_folder, export={"file": "clusters.csv"}))

    def test_spreadsheet_cells_numbers_and_dates_read_as_their_values(self, kr_folder: Path) -> None:
        book = openpyxl.Workbook()
        ws = book.active
        assert ws is not None
        ws.append(["id", "name", "members_total", "year", "changed", "contact_public"])
        ws.append([1001, "숫자 아이디 클러스터", 12.0, 2015, datetime(2026, 10, 15, 9, 30), True])
        book.save(kr_folder / "clusters.xlsx")
        records, problems = natives(make("kr", kr_folder, export={"time_zone": "Asia/Seoul"}))
        assert problems == []
        wire = records[0].wire
        assert (wire.id, wire.members_total, wire.year, wire.contact_public) == ("1001", 12, 2015, True)
        assert records[0].changed == datetime(2026, 10, 15, 0, 30, tzinfo=UTC)

    def test_the_newest_file_matching_a_pattern_is_read_never_the_import_file(self, kr_folder: Path) -> None:
        older = write_export(kr_folder / "clusters-20261014.csv", [kr_row("KC-OLD")])
        write_export(kr_folder / "clusters-20261015.csv", [kr_row("KC-NEW")])
        write_export(kr_folder / "foreign-clusters.csv", [kr_row("eccp-1")])
        os.utime(older, (1, 1))
        exchange = {"export": {"file": "*.csv"}, "import": {"file": "foreign-clusters.csv"}}
        records, _ = natives(make("kr", kr_folder, **exchange))
        assert [r.native_id for r in records] == ["KC-NEW"]


class TestColumns:
    """Headers are mapped in settings; unmapped fields are looked for under their own names."""

    KOREAN: ClassVar[dict[str, str]] = {
        "id": "클러스터ID", "name": "클러스터명", "changed": "수정일시", "region": "시도"}

    def test_mapped_headers_are_read_and_unknown_columns_ignored(self, kr_folder: Path) -> None:
        write_export(kr_folder / "clusters.csv", [{**kr_row("KC-1"), "비고": "내부 메모"}], rename=self.KOREAN)
        records, problems = natives(make("kr", kr_folder, export={"file": "clusters.csv", "columns": self.KOREAN}))
        assert problems == []
        assert (records[0].native_id, records[0].wire.region) == ("KC-1", "경기도")

    def test_headers_match_whatever_their_case_and_spacing(self, kr_folder: Path) -> None:
        write_export(kr_folder / "clusters.csv", [kr_row("KC-1")], rename={"id": " ID ", "name": "Name"})
        assert natives(make("kr", kr_folder, export={"file": "clusters.csv"}))[0][0].wire.name == "시험 미니클러스터"

    def test_a_file_without_a_required_column_fails_the_listing_naming_it(self, kr_folder: Path) -> None:
        write_export(kr_folder / "clusters.csv", [{k: v for k, v in kr_row("KC-1").items() if k != "changed"}])
        with pytest.raises(ListingIncomplete, match=r"no column changed.*\[kr.export.columns\]"):
            natives(make("kr", kr_folder, export={"file": "clusters.csv"}))


class TestValidation:
    """A bad row is a problem naming its column; the other rows go on."""

    @pytest.mark.parametrize(
        ("values", "column", "reason"),
        [
            ({"country": "Korea"}, "country", "not an ISO 3166-1"),
            ({"changed": "2026-10-15 09:30"}, "changed", "no UTC offset"),
            ({"changed": "yesterday"}, "changed", "not an ISO 8601 time"),
            ({"changed": ""}, "changed", "needs an ISO 8601 time"),
            ({"year": "1066"}, "year", "greater than or equal to 1800"),
            ({"members_total": "-3"}, "members_total", "greater than or equal to 0"),
            ({"live": "maybe"}, "live", "not a yes/no value"),
            ({"name": " "}, "name", "missing: every row needs a name"),
        ],
    )
    def test_a_bad_value_is_a_problem_of_its_row_only(self, kr_folder: Path, values: dict[str, str], column: str,
                                                      reason: str) -> None:
        write_export(kr_folder / "clusters.csv", [kr_row("KC-1"), kr_row("KC-2", **values), kr_row("KC-3")])
        records, problems = natives(make("kr", kr_folder, export={"file": "clusters.csv"}))
        assert [r.native_id for r in records] == ["KC-1", "KC-3"]
        assert len(problems) == 1
        assert (problems[0].source_id, problems[0].field) == ("KC-2", column)
        assert reason in problems[0].reason
        assert problems[0].reason.startswith("row 3: ")
        assert problems[0].raw["id"] == "KC-2"

    @pytest.mark.parametrize("bad", ["", "KC 1", "-KC", "x" * 65, "KC/1"])
    def test_a_row_without_a_usable_id_has_no_source_id(self, kr_folder: Path, bad: str) -> None:
        write_export(kr_folder / "clusters.csv", [kr_row(bad), kr_row("KC-2")])
        records, problems = natives(make("kr", kr_folder, export={"file": "clusters.csv"}))
        assert [r.native_id for r in records] == ["KC-2"]
        assert [(p.source_id, p.field) for p in problems] == [(None, "id")]

    def test_rows_sharing_an_id_are_all_problems_and_stay_so_when_retried(self, kr_folder: Path) -> None:
        write_export(kr_folder / "clusters.csv", [kr_row("KC-1"), kr_row("KC-2"), kr_row("KC-1", name="다른 이름")])
        connector = make("kr", kr_folder, export={"file": "clusters.csv"})
        records, problems = natives(connector)
        assert [r.native_id for r in records] == ["KC-2"]
        assert [(p.source_id, "rows 2, 4" in p.reason) for p in problems] == [("KC-1", True), ("KC-1", True)]
        with pytest.raises(ValueError, match=r"^id: several rows"):
            connector.normalise(NativeRecord("KC-1", datetime.now(UTC), problems[0].raw))

    def test_a_row_with_more_cells_than_headers_is_a_problem(self, kr_folder: Path) -> None:
        path = kr_folder / "clusters.csv"
        path.write_text("id,name,changed\nKC-1,가,2026-10-15T09:30:00+09:00,extra\nKC-2,나,2026-10-15T09:30:00+09:00,,\n",
                        encoding="utf-8")
        records, problems = natives(make("kr", kr_folder, export={"file": "clusters.csv"}))
        assert [r.native_id for r in records] == ["KC-2"]
        assert problems[0].source_id == "KC-1"
        assert "more than the 3 headers" in problems[0].reason

    def test_a_json_line_that_is_no_object_is_an_unidentified_problem(self, kr_folder: Path) -> None:
        path = kr_folder / "clusters.jsonl"
        write_export(path, [kr_row("KC-1")])
        with path.open("a", encoding="utf-8") as fh:
            fh.write('["KC-2"]\n{not json\n\n')
        records, problems = natives(make("kr", kr_folder, export={"file": "clusters.jsonl"}))
        assert [r.native_id for r in records] == ["KC-1"]
        assert [p.source_id for p in problems] == [None, None]

    def test_a_blank_country_is_the_sides_only_home_country_and_needed_elsewhere(self, kr_folder: Path,
                                                                                 eu_folder: Path) -> None:
        write_export(kr_folder / "clusters.csv", [kr_row("KC-1", country="")])
        write_export(eu_folder / "clusters.csv", [eu_row("E-1", country="")])
        assert natives(make("kr", kr_folder, export={"file": "clusters.csv"}))[0][0].wire.country == "KR"
        records, problems = natives(make("eu", eu_folder))
        assert records == []
        assert (problems[0].field, "missing" in problems[0].reason) == ("country", True)

    def test_eu_and_uk_country_codes_read_as_iso(self, eu_folder: Path) -> None:
        write_export(eu_folder / "clusters.csv", [eu_row("E-1", country="EL"), eu_row("E-2", country="uk")])
        records, _ = natives(make("eu", eu_folder))
        assert [r.wire.country for r in records] == ["GR", "GB"]


class TestFileProblems:
    """A file that is missing, unreadable or changing is a failed listing, never an empty one (nothing is
    deleted because of it)."""

    def test_no_export_file(self, kr_folder: Path) -> None:
        with pytest.raises(ListingIncomplete, match=r"no export file 'clusters\.xlsx'"):
            natives(make("kr", kr_folder))

    def test_a_file_that_is_not_a_workbook(self, kr_folder: Path) -> None:
        (kr_folder / "clusters.xlsx").write_text("id,name\n")
        with pytest.raises(ListingIncomplete, match="not an XLSX workbook"):
            natives(make("kr", kr_folder))

    def test_a_missing_worksheet_is_named(self, kr_folder: Path) -> None:
        write_export(kr_folder / "clusters.xlsx", [kr_row("KC-1")])
        with pytest.raises(ListingIncomplete, match="no worksheet '클러스터'"):
            natives(make("kr", kr_folder, export={"sheet": "클러스터"}))

    def test_an_empty_file(self, kr_folder: Path) -> None:
        (kr_folder / "clusters.csv").write_text("")
        with pytest.raises(ListingIncomplete, match="empty"):
            natives(make("kr", kr_folder, export={"file": "clusters.csv"}))

    def test_a_header_alone_is_an_empty_listing_that_counts_zero(self, kr_folder: Path) -> None:
        (kr_folder / "clusters.csv").write_text("id,name,changed\n\n")
        pages = list(make("kr", kr_folder, export={"file": "clusters.csv"}).iter_natives())
        assert [(len(p.records), p.reported_total) for p in pages] == [(0, 0)]


class TestListing:
    """Listings page like a platform's: counted when full, oldest change first, `since` inclusive."""

    def test_a_full_listing_pages_oldest_first_and_reports_every_data_row(self, kr_folder: Path) -> None:
        write_export(kr_folder / "clusters.csv", [*reversed(rows(7)), kr_row("bad id")])
        pages = list(make("kr", kr_folder, export={"file": "clusters.csv"}, page_size=3).iter_natives())
        assert [len(p.records) for p in pages] == [3, 3, 1]
        assert [len(p.problems) for p in pages] == [1, 0, 0]
        assert {p.reported_total for p in pages} == {8}
        ids = [r.native_id for p in pages for r in p.records]
        assert ids == [f"KC-{i:03}" for i in range(7)]

    def test_an_incremental_listing_holds_rows_changed_since_minus_the_overlap(self, kr_folder: Path) -> None:
        write_export(kr_folder / "clusters.csv", rows(10))
        connector = make("kr", kr_folder, export={"file": "clusters.csv"}, cursor_overlap_seconds=60)
        since = datetime(2026, 10, 15, 0, 6, tzinfo=UTC)  # 09:06 KST: the overlap reaches back to 09:05
        pages = list(connector.iter_natives(since))
        assert [r.native_id for p in pages for r in p.records] == ["KC-005", "KC-006", "KC-007", "KC-008", "KC-009"]
        assert {p.reported_total for p in pages} == {None}

    def test_bad_rows_come_in_every_listing(self, kr_folder: Path) -> None:
        write_export(kr_folder / "clusters.csv", [*rows(2), kr_row("KC-9", country="??")])
        connector = make("kr", kr_folder, export={"file": "clusters.csv"})
        records, problems = natives(connector, datetime(2030, 1, 1, tzinfo=UTC))
        assert (records, [p.source_id for p in problems]) == ([], ["KC-9"])
