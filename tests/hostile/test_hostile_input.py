"""Hostile input end to end (issue "Hostile input", rule 6): the whole campaign of `corpus.jsonl` is injected into
both simulators at once, next to their sample data, and one full sync runs per database (SQLite, PostgreSQL).
Every case then ends as the corpus says — its mirror on the other platform holds the exact cleaned value, or its
quarantine row names the field — and around it: the run ends partial and never failed, no traceback is logged,
the sample data crosses as always, nothing unsafe stands on either platform, a native that turns hostile keeps
its mirror, and the daemon keeps running over the corpus.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import structlog

from clusterbridge.mapping.clean import UnsafeValue, check_payload
from clusterbridge.store import db
from clusterbridge.store.tables import pending_deletions
from clusterbridge.sync.result import RunResult
from tests.e2e.harness import Bridge, wait_until
from tests.e2e.test_sync import linked
from tests.hostile import corpus

pytestmark = pytest.mark.slow

CASES = corpus.load()
KINDS = (
    "wrong types", "missing fields", "100 kB texts", "NUL and control characters", "lone surrogates",
    "RTL/bidi overrides", "zero-width and combining-only names", "script tags", "event handlers",
    "script and data URLs", "URLs with markup", "bad language tags", "bad and unknown country codes",
    "bad NUTS and KSIC codes", "ids too long, with markup or empty", "duplicate ids in one listing",
    "non-object listing elements", "attributes that are not an object", "future and impossible dates",
    "numeric KICOX times", "HTML in plain KICOX fields", "oversized and negative member counts",
    "private contacts in free text",
)  # fmt: skip
# the mirror fields each site shows as the safe HTML subset; every other string is plain text
RICH = {"eccp": frozenset({"field_description.value"}), "kicox": frozenset({"intrcn"})}
# what must not stand anywhere in a mirror, whatever the field
MARKERS = ("<script", "onerror=", "javascript:", "data:text", "\u202e", "\u200b", "\x00")
# log events that say a record or a run hit a bug rather than a rule
BUG_EVENTS = frozenset({"sync.internal_error", "record.internal_error", "daemon.run_crashed", "daemon.run_failed",
                        "uncaught_exception", "uncaught_exception_in_thread"})


# --- what a run logged ------------------------------------------------------------------------------------


@dataclass
class Logs:
    """What a run logged: structlog events, standard-library records, and anything written to stdout/stderr."""

    events: list[dict[str, Any]] = field(default_factory=list)
    records: list[logging.LogRecord] = field(default_factory=list)
    text: str = ""

    def tracebacks(self) -> list[str]:
        found = [f"{e.get('event')}: {e.get('exception') or e.get('exc_info')}" for e in self.events
                 if e.get("exc_info") or e.get("exception") or e.get("event") in BUG_EVENTS]
        found += [r.getMessage() for r in self.records if r.exc_info]
        if "Traceback" in self.text:
            found.append(self.text[self.text.index("Traceback"):][:2000])
        return found


class _Keep(logging.Handler):
    def __init__(self, into: list[logging.LogRecord]) -> None:
        super().__init__(logging.DEBUG)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record)


@contextlib.contextmanager
def captured() -> Iterator[Logs]:
    """Everything logged or printed while the block runs (the simulators' threads included)."""
    logs = Logs()
    keep = _Keep(logs.records)
    root = logging.getLogger()
    root.addHandler(keep)
    out = io.StringIO()
    try:
        with structlog.testing.capture_logs() as events, contextlib.redirect_stderr(out), \
                contextlib.redirect_stdout(out):
            yield logs
            logs.events = events
    finally:
        root.removeHandler(keep)
        logs.text = out.getvalue()


# --- the campaign: every case at once, one full sync per database --------------------------------------------


@dataclass(repr=False)  # its payloads run to megabytes: not for failure reports
class Campaign:
    bridge: Bridge
    result: RunResult
    logs: Logs
    mirrors: dict[str, dict[str, dict[str, Any]]]
    quarantine: dict[tuple[str, str], corpus.QuarantineRow]


@pytest.fixture(scope="module")
def campaign(module_bridge: Bridge) -> Campaign:
    corpus.inject(module_bridge, CASES)
    with captured() as logs:
        result = module_bridge.sync(full=True)
    return Campaign(module_bridge, result, logs, {p: corpus.mirrors(module_bridge, p) for p in ("eccp", "kicox")},
                    corpus.quarantine(module_bridge))


def describe(row: corpus.QuarantineRow | None) -> str:
    return "no quarantine row" if row is None else f"quarantined ({row.stage}, field {row.field}): {row.reason}"


class TestTheCorpus:
    """The corpus is the whole campaign: at least 110 cases, every kind of hostile input, both platforms."""

    def test_it_holds_every_kind_on_both_platforms(self) -> None:
        assert len(CASES) >= 110
        assert {c.kind for c in CASES} == set(KINDS)
        assert {c.platform for c in CASES} == {"eccp", "kicox"}

    def test_every_case_says_exactly_one_outcome(self) -> None:
        for case in CASES:
            if case.outcome == "cleaned":
                assert case.mirror_field, case.id
                assert case.identified, f"{case.id}: a mirror is found by its id"
            else:
                assert case.reason, case.id
                assert case.mirror_field is None, case.id


class TestEveryCase:
    """Each hostile record ends as the corpus says: its mirror holds the exact cleaned value, or it is quarantined
    naming the field. Neither outcome can be met by dropping the record: a cleaned case needs its mirror, a
    quarantined one its quarantine row."""

    @pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
    def test_outcome(self, campaign: Campaign, case: corpus.Case) -> None:
        mirror = campaign.mirrors[case.platform].get(case.external_id) if case.identified else None
        row = corpus.find_quarantine(campaign.quarantine, case)
        if case.outcome == "cleaned":
            assert case.mirror_field is not None
            assert row is None, describe(row)
            assert mirror is not None, f"no mirror of {case.external_id} on the other platform"
            assert corpus.at(mirror, case.mirror_field) == case.value
        else:
            assert row is not None, f"no quarantine row; mirror: {mirror}"
            assert mirror is None, "quarantined, yet mirrored"
            assert (row.field, case.reason in row.reason) == (case.field, True), describe(row)


class TestTheRun:
    """The run over the corpus survives it: partial in both directions, the sample data across, nothing unsafe."""

    def test_it_ends_partial_never_failed(self, campaign: Campaign) -> None:
        result = campaign.result
        assert result.exit_code == 3
        assert {d.direction: (d.status, d.error) for d in result.directions} == {
            "eu-to-kr": ("partial", None), "kr-to-eu": ("partial", None)}

    def test_no_traceback_is_logged(self, campaign: Campaign) -> None:
        assert campaign.logs.tracebacks() == []

    def test_every_live_readable_native_has_exactly_one_mirror(self, campaign: Campaign) -> None:
        bridge = campaign.bridge
        kicox_linked, eccp_linked = linked(bridge)
        failing = {(direction, native_id) for direction, native_id in campaign.quarantine}
        injected = {(c.platform, c.external_id) for c in CASES if c.inject == "listing" and c.outcome == "cleaned"}
        live = {
            "eccp": {r["id"] for r in bridge.eccp_natives() if r["attributes"].get("status") is True} - eccp_linked,
            "kicox": {c["clstrId"] for c in bridge.kicox.clusters() if c.get("useAt") == "Y"} - kicox_linked,
        }
        shown = {"eccp": Counter(f["extrlId"] for f in bridge.kicox_mirrors()),
                 "kicox": Counter(r["attributes"]["field_external_id"] for r in bridge.eccp_mirrors())}
        for platform, prefix in (("eccp", "eccp:"), ("kicox", "")):
            readable = {n for n in live[platform] if (corpus.DIRECTION[platform], n) not in failing}
            expected = {prefix + n for n in readable} | {e for p, e in injected if p == platform}
            assert [e for e, n in shown[platform].items() if n > 1] == []
            assert set(shown[platform]) == expected
        assert len(live["eccp"] - {c.native_id for c in CASES}) >= 50  # the sample data is in there too

    def test_nothing_unsafe_stands_on_either_platform(self, campaign: Campaign) -> None:
        bridge = campaign.bridge
        found: list[str] = []
        on_eccp = [r["attributes"] for r in bridge.eccp_mirrors()]
        for site, payloads in (("kicox", bridge.kicox_mirrors()), ("eccp", on_eccp)):
            for payload in payloads:
                found += unsafe(payload, RICH[site])
        assert found == []


def unsafe(payload: dict[str, Any], rich: frozenset[str]) -> list[str]:
    """What is unsafe in one mirror payload: what the final gate refuses, and any of MARKERS in any string."""
    problems: list[str] = []
    try:
        check_payload(payload, rich=rich)
    except UnsafeValue as exc:
        problems.append(str(exc))

    def strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
        if isinstance(value, str):
            yield path, value
        elif isinstance(value, dict):
            for key, item in value.items():
                yield from strings(item, f"{path}.{key}" if path else key)
        elif isinstance(value, list):
            for item in value:
                yield from strings(item, path)

    for path, text in strings(payload, ""):
        lowered = text.lower()
        problems += [f"{path} holds {marker!r}" for marker in MARKERS if marker in lowered]
    return problems


# --- natives that turn hostile keep their mirrors ---------------------------------------------------------

# values that make a readable native unreadable, one native each
ECCP_HOSTILE = (
    {"title": 42}, {"field_country": "XX"}, {"langcode": "english"}, {"field_members_sme": -5},
    {"title": "\u200b\u200b"}, {"changed": "2099-01-01T00:00:00+00:00"},
)
KICOX_HOSTILE = (
    {"clstrNm": ""}, {"mberCo": "-1"}, {"updtDt": "20991231235959"}, {"useAt": "maybe"}, {"estblYear": "abc"},
    {"clstrEngNm": "javascript:alert(1)"},
)


def held_or_done_deletions(bridge: Bridge) -> list[Any]:
    engine = db.make_engine(bridge.settings.database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.select(pending_deletions)))
    finally:
        engine.dispose()


class TestNativesTurnedHostile:
    """A native that was synced and then turns hostile is quarantined with its mirror kept; no deletion is made
    or held because a record went bad (a record the service cannot read is not a record that is gone)."""

    def test_their_mirrors_stay_through_two_full_syncs(self, bridge: Bridge) -> None:
        assert bridge.sync(full=True).exit_code == 0
        on_kicox = {f["extrlId"]: f for f in bridge.kicox_mirrors()}
        on_eccp = {r["attributes"]["field_external_id"]: r["attributes"] for r in bridge.eccp_mirrors()}
        eccp_targets = sorted(e.removeprefix("eccp:") for e in on_kicox)[: len(ECCP_HOSTILE)]
        kicox_targets = sorted(on_eccp)[: len(KICOX_HOSTILE)]
        for uuid, values in zip(eccp_targets, ECCP_HOSTILE, strict=True):
            corpus.send(bridge, "eccp", "PATCH", f"/records/{uuid}", {"attributes": values})
        for clstr_id, values in zip(kicox_targets, KICOX_HOSTILE, strict=True):
            corpus.send(bridge, "kicox", "PATCH", f"/clusters/{clstr_id}", values)

        for _ in range(2):
            result = bridge.sync(full=True)
            assert result.exit_code == 3
            for d in result.directions:
                assert (d.status, d.deleted, d.held, d.created, d.updated) == ("partial", 0, 0, 0, 0), d.summary()
            assert {f["extrlId"]: f for f in bridge.kicox_mirrors()} == on_kicox
            assert {r["attributes"]["field_external_id"]: r["attributes"] for r in bridge.eccp_mirrors()} == on_eccp
            rows = corpus.quarantine(bridge)
            hostile = [("eu-to-kr", uuid) for uuid in eccp_targets] + [("kr-to-eu", c) for c in kicox_targets]
            assert [key for key in hostile if key not in rows] == []
            assert [key for key in hostile if "(its mirror is kept)" not in rows[key].reason] == []
            assert held_or_done_deletions(bridge) == []


# --- the daemon over the corpus ---------------------------------------------------------------------------


def log_events(path: Path) -> list[dict[str, Any]]:
    events = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            events.append(json.loads(line))
    return events


class TestDaemon:
    """`clusterbridge daemon` over the corpus keeps ticking and keeps syncing a normal record edited between
    ticks; it logs no traceback and stops with exit 0 on SIGTERM."""

    def test_it_keeps_running_over_the_corpus(self, bridge: Bridge, tmp_path: Path) -> None:
        corpus.inject(bridge, CASES)
        env = {**bridge.env, "CLUSTERBRIDGE_SYNC_INTERVAL_MINUTES": "0.1", "CLUSTERBRIDGE_HTTP_PORT": "0",
               "CLUSTERBRIDGE_LOG_FORMAT": "json", "CLUSTERBRIDGE_LOG_LEVEL": "info"}
        output = tmp_path / "daemon.log"
        with output.open("w") as sink:
            daemon = subprocess.Popen([sys.executable, "-m", "clusterbridge", "daemon"], env=env, stdout=sink,
                                      stderr=subprocess.STDOUT, text=True)
        try:
            def finished() -> int:
                return sum(1 for e in log_events(output) if e.get("event") == "daemon.run_finished")

            wait_until(lambda: finished() >= 1 or daemon.poll() is not None, 120.0,
                       what="the first tick finished")
            assert daemon.poll() is None, output.read_text()
            normal = sorted(r["attributes"]["field_external_id"] for r in bridge.eccp_mirrors()
                            if r["attributes"]["field_external_id"].startswith("KC-"))[0]  # a sample record
            corpus.send(bridge, "kicox", "PATCH", f"/clusters/{normal}", {"clstrEngNm": "Edited Between Ticks"})
            ticks = finished()

            def edited() -> bool:
                titles = {r["attributes"]["field_external_id"]: r["attributes"]["title"] for r in bridge.eccp_mirrors()}
                return titles.get(normal) == "Edited Between Ticks"

            wait_until(lambda: (edited() and finished() > ticks) or daemon.poll() is not None,
                       120.0, what="a later tick synced the edit")
            assert daemon.poll() is None, output.read_text()
            ticked = [e for e in log_events(output) if e.get("event") == "daemon.run_finished"]
            daemon.send_signal(signal.SIGTERM)
            assert daemon.wait(timeout=60) == 0
        finally:
            if daemon.poll() is None:
                daemon.kill()
                daemon.wait()
        # every tick ends partial: the corpus keeps its records in quarantine (a run in flight when the signal
        # came may end interrupted instead)
        assert len(ticked) >= 2
        assert {e["exit_code"] for e in ticked} == {3}
        events = log_events(output)
        text = output.read_text(encoding="utf-8", errors="replace")
        assert "Traceback" not in text
        assert [e["event"] for e in events if "exception" in e or e.get("event") in BUG_EVENTS] == []
        assert any(e.get("event") == "daemon.stopped" for e in events)
