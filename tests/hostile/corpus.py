"""The hostile-input corpus (`corpus.jsonl`): reading the cases, injecting them into the simulators, and reading
back what became of each one (its mirror on the other platform, or its quarantine row).

One case a line, grouped by kind. Each names its platform ("eccp" or "kicox"), how it is injected ("put": stored
as a record through the simulator's admin API, as an editor would; "listing": added raw at the start of the
native listing, for what a platform would not store — non-objects, bad ids, wrong JSON types, duplicates), the
record or element (`record`, or `records` for several under one id), and the outcome:

- `"outcome": "cleaned"` with `mirror_field` (a dotted path into the mirror's payload on the other platform) and
  the exact `value` it must hold;
- `"outcome": "quarantined"` with `field` (the `record_errors.field` value, null for an element that is not
  an object) and `reason` (a substring of the quarantine reason).

A long text is written as `{"$join": [part, ...]}`, each part a string or `[string, times]`. Lone surrogates are
JSON escapes ("\\ud800"): the file is read with `json.loads`, and sent to the simulators as ASCII JSON.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import httpx
import sqlalchemy as sa

from clusterbridge.store import db
from clusterbridge.store.ledger import canonical_json
from clusterbridge.store.tables import record_errors
from tests.e2e.harness import Bridge

CORPUS = Path(__file__).with_name("corpus.jsonl")
# the direction a native of each platform travels in, and how its mirror is keyed on the other platform
DIRECTION = {"eccp": "eu-to-kr", "kicox": "kr-to-eu"}
UNIDENTIFIED = "unidentified:"
# the ids each contract allows (contracts/*.openapi.yaml)
ID_PATTERN = {
    "eccp": re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]{0,63}"),
    "kicox": re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"),
}


@dataclass(frozen=True)
class Case:
    """One hostile record (or element) and what must become of it."""

    id: str
    kind: str
    platform: Literal["eccp", "kicox"]
    inject: Literal["put", "listing"]
    records: tuple[Any, ...]
    outcome: Literal["cleaned", "quarantined"]
    mirror_field: str | None = None
    value: Any = None
    field: str | None = None
    reason: str | None = None

    @property
    def native_id(self) -> str:
        """The id the ledger knows the record by: its own id, or the hash of an element that has none usable."""
        first = self.records[0]
        own = _own_id(self.platform, first)
        return own if own is not None else unidentified_id(first)

    @property
    def identified(self) -> bool:
        return _own_id(self.platform, self.records[0]) is not None

    @property
    def external_id(self) -> str:
        """The id its mirror carries on the other platform."""
        return f"eccp:{self.native_id}" if self.platform == "eccp" else self.native_id


def _own_id(platform: str, record: Any) -> str | None:
    """The record's id when the contract allows it (so the ledger may key the record by it), else None."""
    if not isinstance(record, dict):
        return None
    value = record.get("id" if platform == "eccp" else "clstrId")
    if isinstance(value, str) and platform == "kicox":
        value = value.strip()
    return value if isinstance(value, str) and ID_PATTERN[platform].fullmatch(value) else None


def unidentified_id(element: Any) -> str:
    """The quarantine id of an element without a usable id: a hash of the element as it was read."""
    return UNIDENTIFIED + hashlib.sha256(canonical_json(element).encode()).hexdigest()[:16]


def expand(value: Any) -> Any:
    """The value with every {"$join": [...]} replaced by the text it stands for."""
    if isinstance(value, dict):
        if set(value) == {"$join"}:
            return "".join(part if isinstance(part, str) else part[0] * part[1] for part in value["$join"])
        return {k: expand(v) for k, v in value.items()}
    if isinstance(value, list):
        return [expand(v) for v in value]
    return value


def load(path: Path = CORPUS) -> list[Case]:
    """The cases of the corpus, long texts expanded; each id used once."""
    cases: list[Case] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        raw = json.loads(line)
        records = tuple(expand(raw["records"])) if "records" in raw else (expand(raw["record"]),)
        cases.append(Case(
            id=raw["id"], kind=raw["kind"], platform=raw["platform"], inject=raw["inject"], records=records,
            outcome=raw["outcome"], mirror_field=raw.get("mirror_field"), value=expand(raw.get("value")),
            field=raw.get("field"), reason=raw.get("reason"),
        ))
        assert cases[-1].outcome in ("cleaned", "quarantined"), f"line {number}: unknown outcome"
    duplicates = [cid for cid, n in Counter(c.id for c in cases).items() if n > 1]
    assert not duplicates, f"case ids used twice: {duplicates}"
    return cases


# --- injection ----------------------------------------------------------------------------------------------


def send(bridge: Bridge, platform: str, method: str, path: str, body: Any, client: httpx.Client | None = None) -> None:
    """An admin call with an ASCII JSON body, so lone surrogates travel as the JSON escapes they are."""
    sim = bridge.eccp if platform == "eccp" else bridge.kicox
    with contextlib.nullcontext(client) if client is not None else httpx.Client(timeout=30) as http:
        response = http.request(method, f"{sim.url}/_admin{path}", content=json.dumps(body).encode("ascii"),
                                headers={"Content-Type": "application/json"})
    response.raise_for_status()


def inject(bridge: Bridge, cases: list[Case]) -> None:
    """Every case at once: stored records through the admin API, raw elements on one listing per platform."""
    extra: dict[str, list[Any]] = {"eccp": [], "kicox": []}
    with httpx.Client(timeout=30) as client:
        for case in cases:
            if case.inject == "listing":
                extra[case.platform].extend(case.records)
                continue
            for record in case.records:
                if case.platform == "eccp":
                    send(bridge, "eccp", "PUT", f"/records/{quote(record['id'], safe='')}",
                         {"attributes": record["attributes"]}, client)
                else:
                    send(bridge, "kicox", "PUT", f"/clusters/{quote(record['clstrId'], safe='')}", record, client)
        for platform, elements in extra.items():
            if elements:
                send(bridge, platform, "POST", "/listing", {"extra": elements}, client)


# --- outcomes -----------------------------------------------------------------------------------------------

MISSING = object()


def mirrors(bridge: Bridge, platform: str) -> dict[str, dict[str, Any]]:
    """The mirrors on the other platform of `platform`'s natives, by external id: their payloads."""
    if platform == "eccp":
        return {item["extrlId"]: item for item in bridge.kicox_mirrors()}
    return {r["attributes"]["field_external_id"]: r["attributes"] for r in bridge.eccp_mirrors()}


def at(payload: Any, path: str) -> Any:
    """The value at a dotted path; a key the payload leaves out (KICOX omits nulls) reads as None."""
    for key in path.split("."):
        if not isinstance(payload, dict):
            return MISSING
        payload = payload.get(key)
    return payload


@dataclass(frozen=True)
class QuarantineRow:
    native_id: str
    stage: str
    reason: str
    field: str | None
    raw: Any


def quarantine(bridge: Bridge) -> dict[tuple[str, str], QuarantineRow]:
    """Every record_errors row, by (direction, native id)."""
    engine = db.make_engine(bridge.settings.database_url)
    try:
        with engine.connect() as conn:
            rows = list(conn.execute(sa.select(record_errors)))
    finally:
        engine.dispose()
    return {(r.direction, r.native_id): QuarantineRow(r.native_id, r.stage, r.reason, r.field,
                                                      json.loads(r.raw) if r.raw else None) for r in rows}


def find_quarantine(rows: dict[tuple[str, str], QuarantineRow], case: Case) -> QuarantineRow | None:
    """The case's quarantine row: by its id, or for an element without a usable id by the element it holds."""
    direction = DIRECTION[case.platform]
    if case.identified:
        return rows.get((direction, case.native_id))
    wanted = canonical_json(case.records[0])
    for (row_direction, native_id), row in rows.items():
        if row_direction != direction or not native_id.startswith(UNIDENTIFIED):
            continue
        raw = row.raw
        if isinstance(raw, dict) and isinstance(case.records[0], dict):
            raw = {k: v for k, v in raw.items() if k != "links"}  # the listing adds a self link to a resource
        if canonical_json(raw) == wanted:
            return row
    return None
