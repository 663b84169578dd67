"""A throwaway third connector, "ledgerbook": a platform kept as one JSON file (`{"natives": [...],
"mirrors": {...}}`), named by `connectors/ledgerbook.toml` (`book = "/path/to/book.json"`).

It is not part of clusterbridge: tests/plugins/test_third_connector.py installs it beside the package through
the entry point group `clusterbridge.connectors` and runs a sync against it, to prove that a platform needs a
plugin and no change to the core.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from clusterbridge.abc import JSON, Connector, MirrorRecord, MirrorWrite, NativePage, NativeRecord, WriteResult
from clusterbridge.config import Settings, find_file, read_toml
from clusterbridge.mapping.vocabulary import Vocabulary
from clusterbridge.model import Cluster, RenderedCluster
from clusterbridge.sides import Side


class Ledgerbook(Connector):
    """Natives and mirrors in one JSON document."""

    name = "ledgerbook"

    def __init__(self, book: Path, side: Side, vocabulary: Vocabulary) -> None:
        self.book = book
        self.side = side
        self.vocabulary = vocabulary

    def _read(self) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(self.book.read_text(encoding="utf-8"))
        doc.setdefault("mirrors", {})
        return doc

    def _save(self, doc: dict[str, Any]) -> None:
        self.book.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")

    def iter_natives(self, since: datetime | None = None) -> Iterator[NativePage]:
        natives = self._read()["natives"]
        records = [NativeRecord(n["id"], datetime.fromisoformat(n["changed"]), n) for n in natives]
        records = sorted((r for r in records if since is None or r.changed >= since),
                         key=lambda r: (r.changed, r.native_id))
        yield NativePage(records=records, reported_total=len(natives) if since is None else None)

    def normalise(self, record: NativeRecord) -> Cluster:
        n = record.wire
        return Cluster(source=self.side.name, source_id=n["id"],
                       source_changed=datetime.fromisoformat(n["changed"]).astimezone(UTC),
                       live=n.get("live", True), names={"en": n["name"]}, name_en=n["name"], name_en_origin="source",
                       country=n["country"], nace_codes=tuple(self.vocabulary.nace_codes(n.get("nace", []))))

    def external_id(self, native_id: str) -> str:
        return f"book:{native_id}"

    def shape(self, record: RenderedCluster) -> JSON:
        return {"name": record.name, "name_local": record.name_local, "country": record.country_name,
                "codes": list(record.codes)}

    def iter_mirrors(self) -> Iterator[list[MirrorRecord]]:
        yield [MirrorRecord(k, k, v) for k, v in sorted(self._read()["mirrors"].items())]

    def write(self, writes: Sequence[MirrorWrite]) -> list[WriteResult]:
        doc = self._read()
        results = []
        for w in writes:
            current = doc["mirrors"].get(w.external_id)
            action = "unchanged" if current == w.payload else "created" if current is None else "updated"
            doc["mirrors"][w.external_id] = w.payload
            results.append(WriteResult(w.external_id, action, w.external_id))  # type: ignore[arg-type]
        self._save(doc)
        return results

    def delete(self, external_id: str, mirror_id: str | None) -> None:
        doc = self._read()
        doc["mirrors"].pop(mirror_id or external_id, None)
        self._save(doc)


def create(settings: Settings, *, side: Side, vocabulary: Vocabulary, **overrides: Any) -> Ledgerbook:
    config = read_toml(find_file("connectors", "ledgerbook.toml", settings))
    return Ledgerbook(Path(config["book"]), side, vocabulary)
