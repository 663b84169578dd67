"""Nothing lost, nothing wiped: the ledger, the cursor and the plan tell the truth (rules 2, 3 and 6).

Each test reproduces a case field tests found — a graceful stop moving the cursor past unwritten records, an
unreadable record taken for a deleted one, a rejected deletion carried out later, a dry run that is not the
plan that runs, runs left "running", a future date poisoning the cursor, failed writes never retried, rule-11
edges, an edit while a full listing pages — against the real simulators and ledger, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import signal
import time
from typing import Any

import pytest
import sqlalchemy as sa

from clusterbridge.simulators import FaultSpec
from clusterbridge.store import db
from clusterbridge.store.tables import cursors, sync_runs, sync_status
from clusterbridge.sync.engine import SyncEngine
from tests.e2e.harness import Bridge
from tests.e2e.test_sync import assert_exactly_one_mirror_each, linked, live_korean, published_european

pytestmark = pytest.mark.slow


def rows(bridge: Bridge, table: sa.Table) -> list[sa.Row[Any]]:
    engine = db.make_engine(bridge.settings.database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.select(table)))
    finally:
        engine.dispose()


def cli_json(bridge: Bridge, *args: str) -> Any:
    out = bridge.cli(*args, "--json")
    assert out.stdout.strip(), out.stderr
    return json.loads(out.stdout)


def wait_for_a_run(bridge: Bridge) -> None:
    """Until a run has started (its process is past start-up and handles signals)."""
    for _ in range(300):
        try:
            if rows(bridge, sync_runs):
                return
        except sa.exc.OperationalError:
            pass  # the ledger is being written to for the first time
        time.sleep(0.05)
    raise AssertionError("no run started")


def kst_now() -> str:
    from datetime import UTC, datetime

    from clusterbridge.connectors.kicox.models import format_kst

    return format_kst(datetime.now(UTC))


def counts(result: Any) -> dict[str, dict[str, int]]:
    keys = ("created", "updated", "deleted", "unchanged", "linked", "skipped", "quarantined", "held_deletions")
    return {d["direction"]: {k: d[k] for k in keys} for d in result["directions"]}


class TestGracefulStop:
    """A stop moves no cursor past records it never wrote."""

    @pytest.mark.parametrize("stop_after", [0.1, 1.0, 2.0])
    def test_sigterm_during_a_first_full_sync_then_an_incremental_sync_leaves_nothing_missing(
            self, bridge: Bridge, stop_after: float) -> None:
        # slow enough that every stop point lands inside the run (its writes take several seconds)
        bridge.eccp.set_faults(FaultSpec.parse("latency=0.3"))
        bridge.kicox.set_faults(FaultSpec.parse("latency=0.6"))
        run = bridge.popen("sync")
        wait_for_a_run(bridge)
        time.sleep(stop_after)
        assert run.poll() is None, "the run ended before the stop: slow the platforms down further"
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=60) == 1  # stopped: not in sync yet
        bridge.eccp.set_faults(FaultSpec.parse(""))
        bridge.kicox.set_faults(FaultSpec.parse(""))
        statuses = {r.status for r in rows(bridge, sync_runs)}
        assert "running" not in statuses
        after = bridge.cli("sync")
        assert after.returncode == 0, after.stdout + after.stderr
        assert_exactly_one_mirror_each(bridge)


class TestUnreadableIsNotGone:
    """A live native that fails to read keeps its mirror through any number of full runs."""

    def test_korean_cluster_with_an_empty_name_keeps_its_eccp_mirror(self, bridge: Bridge) -> None:
        assert bridge.sync(full=True).exit_code == 0
        mirrored = {r["attributes"]["field_external_id"] for r in bridge.eccp_mirrors()}
        target = sorted(set(live_korean(bridge)) & mirrored)[0]
        bridge.admin(bridge.kicox, "PATCH", f"/clusters/{target}", {"clstrNm": ""})
        for _ in range(2):
            result = bridge.sync(full=True)
            assert result.exit_code == 3
            k2e = next(d for d in result.directions if d.direction == "kr-to-eu")
            assert (k2e.deleted, k2e.quarantined, k2e.kept) == (0, 1, 1)
        assert target in {r["attributes"]["field_external_id"] for r in bridge.eccp_mirrors()}
        assert cli_json(bridge, "deletions") == []

    def test_european_cluster_with_a_bad_year_keeps_its_kicox_mirror_and_nothing_is_held(self,
                                                                                         bridge: Bridge) -> None:
        assert bridge.sync(full=True).exit_code == 0
        target = sorted(published_european(bridge))[0]
        bridge.admin(bridge.eccp, "PATCH", f"/records/{target}", {"attributes": {"field_year_established": "abcd"}})
        for _ in range(2):
            result = bridge.sync(full=True)
            e2k = next(d for d in result.directions if d.direction == "eu-to-kr")
            assert (e2k.deleted, e2k.held, e2k.kept) == (0, 0, 1)
        assert f"eccp:{target}" in {f["extrlId"] for f in bridge.kicox_mirrors()}
        assert cli_json(bridge, "deletions") == []
        errors = cli_json(bridge, "errors")
        assert [e["native_id"] for e in errors] == [target]


class TestRejection:
    """A rejected deletion stays rejected until the native reappears or an operator resets it."""

    def test_one_rejected_deletion_survives_later_full_runs_until_reset(self, bridge: Bridge) -> None:
        assert bridge.sync(full=True).exit_code == 0
        mirrored = {r["attributes"]["field_external_id"] for r in bridge.eccp_mirrors()}
        withdrawn = sorted(set(live_korean(bridge)) & mirrored)[:12]
        for clstr_id in withdrawn:
            bridge.admin(bridge.kicox, "POST", f"/clusters/{clstr_id}/withdraw")
        assert bridge.cli("sync").returncode == 3
        held = {h["native_id"]: h["id"] for h in cli_json(bridge, "deletions")}
        assert sorted(held) == withdrawn
        kept = withdrawn[0]
        assert bridge.cli("deletions", "reject", str(held[kept])).returncode == 0
        approved = bridge.cli("deletions", "approve", *(str(held[k]) for k in withdrawn[1:]))
        assert approved.returncode == 0, approved.stderr
        for _ in range(2):
            done = bridge.cli("sync", "--full")
            assert done.returncode == 0, done.stdout + done.stderr
            assert kept in {r["attributes"]["field_external_id"] for r in bridge.eccp_mirrors()}
            assert cli_json(bridge, "deletions") == []
        assert bridge.cli("deletions", "reset", str(held[kept])).returncode == 0
        assert bridge.cli("sync", "--full").returncode == 0
        assert kept not in {r["attributes"]["field_external_id"] for r in bridge.eccp_mirrors()}


class TestDryRunIsThePlan:
    """`sync --dry-run` plans exactly what the real run then does."""

    def test_dry_run_counts_equal_the_real_run_on_a_fresh_and_an_established_ledger(self, bridge: Bridge) -> None:
        planned = cli_json(bridge, "sync", "--dry-run")
        done = cli_json(bridge, "sync")
        assert counts(planned) == counts(done)
        assert counts(done)["kr-to-eu"]["linked"] >= 2  # rule 11 applies in the dry run too
        assert all(len(d["plan"]) == sum(v for k, v in counts(planned)[d["direction"]].items() if k != "unchanged")
                   for d in planned["directions"])
        # an established ledger with changes of every kind
        korean = sorted(live_korean(bridge))
        bridge.admin(bridge.kicox, "POST", f"/clusters/{korean[0]}/withdraw")
        bridge.admin(bridge.kicox, "PATCH", f"/clusters/{korean[1]}", {"mberCo": "999"})
        bridge.admin(bridge.kicox, "PATCH", f"/clusters/{korean[2]}", {"estblYear": "abcd"})
        european = sorted(published_european(bridge))
        bridge.admin(bridge.eccp, "POST", f"/records/{european[0]}/unpublish")
        bridge.admin(bridge.eccp, "DELETE", f"/records/{european[1]}")
        planned = cli_json(bridge, "sync", "--dry-run", "--full")
        done = cli_json(bridge, "sync", "--full")
        assert counts(planned) == counts(done)
        assert done["exit_code"] == planned["exit_code"] == 3


class TestNoRunStaysRunning:
    def test_a_killed_run_is_closed_as_interrupted_by_the_next(self, bridge: Bridge) -> None:
        bridge.kicox.set_faults(FaultSpec.parse("latency=0.2"))
        run = bridge.popen("sync")
        wait_for_a_run(bridge)
        time.sleep(0.5)
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=10)
        assert "running" in {r.status for r in rows(bridge, sync_runs)}
        bridge.kicox.set_faults(FaultSpec.parse(""))
        assert bridge.cli("sync").returncode == 0
        runs = rows(bridge, sync_runs)
        assert "running" not in {r.status for r in runs}
        assert "interrupted" in {r.status for r in runs}
        assert not any(r.run_in_progress for r in rows(bridge, sync_status))

    def test_a_configuration_error_in_one_direction_closes_both_runs(self, bridge: Bridge) -> None:
        bridge.env["CLUSTERBRIDGE_KICOX_API_KEY"] = "wrong-key"
        out = bridge.cli("sync")
        assert out.returncode == 2, out.stdout + out.stderr
        assert "CLUSTERBRIDGE_KICOX_API_KEY" in out.stderr
        runs = rows(bridge, sync_runs)
        assert runs
        assert "running" not in {r.status for r in runs}


class TestCursor:
    def test_the_cursor_moves_past_a_quarantined_record_which_is_retried_by_id(self, bridge: Bridge) -> None:
        bridge.admin(bridge.kicox, "PUT", "/clusters/KC-BROKEN", {
            "clstrId": "KC-BROKEN", "clstrNm": "망가진 클러스터", "ctprvnNm": "경기도", "mberCo": "many",
            "useAt": "Y", "updtDt": "20200101000000"})
        assert bridge.sync(full=True).exit_code == 3
        again = bridge.sync()
        k2e = next(d for d in again.directions if d.direction == "kr-to-eu")
        assert (k2e.mode, k2e.retried, k2e.quarantined) == ("incremental", 1, 1)
        assert k2e.pulled < 5  # only the cursor's overlap is pulled again, not everything since the bad record

    def test_a_future_dated_native_cannot_hide_later_edits(self, bridge: Bridge) -> None:
        assert bridge.sync(full=True).exit_code == 0
        bridge.admin(bridge.kicox, "PUT", "/clusters/KC-FUTURE", {
            "clstrId": "KC-FUTURE", "clstrNm": "미래 클러스터", "ctprvnNm": "경기도", "useAt": "Y",
            "updtDt": "20991231000000"})
        european = sorted(published_european(bridge))[0]
        bridge.admin(bridge.eccp, "PATCH", f"/records/{european}",
                     {"attributes": {"changed": "2099-12-31T00:00:00+00:00"}})
        result = bridge.sync()
        assert result.exit_code == 3
        for row in rows(bridge, cursors):
            assert row.value.year < 2099
        target = sorted(live_korean(bridge))[3]
        time.sleep(1.1)
        bridge.admin(bridge.kicox, "PATCH", f"/clusters/{target}", {"mberCo": "777"})
        result = bridge.sync()
        k2e = next(d for d in result.directions if d.direction == "kr-to-eu")
        assert k2e.updated == 1
        errors = {e["native_id"]: e for e in cli_json(bridge, "errors")}
        assert {"KC-FUTURE", european} <= set(errors)
        assert "future" in errors["KC-FUTURE"]["reason"]

    def test_a_kicox_time_sent_as_a_number_is_refused(self, bridge: Bridge) -> None:
        bridge.admin(bridge.kicox, "POST", "/listing", {"extra": [{
            "clstrId": "KC-EPOCH", "clstrNm": "숫자 시각", "useAt": "Y", "updtDt": 4102444800000}]})
        assert bridge.sync(full=True).exit_code == 3
        errors = {e["native_id"]: e for e in cli_json(bridge, "errors")}
        assert errors["KC-EPOCH"]["field"] == "updtDt"
        assert all(r.value.year < 2099 for r in rows(bridge, cursors))


class TestFailedWrites:
    def test_a_refused_write_is_retried_on_the_next_run_until_it_passes(self, bridge: Bridge) -> None:
        refused = sorted(live_korean(bridge))[5]
        bridge.admin(bridge.eccp, "POST", "/refuse", {"external_ids": [refused]})
        first = bridge.sync(full=True)
        assert first.exit_code == 3
        assert refused not in {r["attributes"]["field_external_id"] for r in bridge.eccp_mirrors()}
        assert bridge.sync().exit_code == 3  # still refused, still in quarantine
        bridge.admin(bridge.eccp, "POST", "/refuse", {"external_ids": []})
        again = bridge.sync()  # incremental: the record is not pulled again, it is retried by id
        assert again.exit_code == 0
        k2e = next(d for d in again.directions if d.direction == "kr-to-eu")
        assert (k2e.retried, k2e.created, k2e.quarantined) == (1, 1, 0)
        assert refused in {r["attributes"]["field_external_id"] for r in bridge.eccp_mirrors()}
        assert cli_json(bridge, "errors") == []

    def test_a_refused_kicox_item_does_not_stop_the_batch(self, bridge: Bridge) -> None:
        refused = f"eccp:{sorted(published_european(bridge))[2]}"
        bridge.admin(bridge.kicox, "POST", "/refuse", {"extrl_ids": [refused]})
        result = bridge.sync(full=True)
        e2k = next(d for d in result.directions if d.direction == "eu-to-kr")
        assert e2k.quarantined == 1
        assert e2k.created >= 40
        bridge.admin(bridge.kicox, "POST", "/refuse", {"extrl_ids": []})
        assert bridge.sync().exit_code == 0
        assert refused in {f["extrlId"] for f in bridge.kicox_mirrors()}


class TestRule11Edges:
    """Links follow the live state of both records."""

    def test_withdrawing_the_korean_cluster_does_not_mirror_its_eccp_profile_back(self, bridge: Bridge) -> None:
        assert bridge.sync(full=True).exit_code == 0
        kicox_ids, eccp_ids = linked(bridge)
        home = sorted(kicox_ids)[0]
        bridge.admin(bridge.kicox, "POST", f"/clusters/{home}/withdraw")
        assert bridge.sync(full=True).exit_code == 0
        assert not {f"eccp:{e}" for e in eccp_ids} & {f["extrlId"] for f in bridge.kicox_mirrors()}
        assert home not in {r["attributes"]["field_external_id"] for r in bridge.eccp_mirrors()}

    def test_unpublishing_the_eccp_profile_gives_the_korean_cluster_a_mirror_until_it_returns(
            self, bridge: Bridge) -> None:
        assert bridge.sync(full=True).exit_code == 0
        matches = {r["kicox_id"]: r["eccp_id"] for r in cli_json(bridge, "links")}
        home, profile = sorted(matches.items())[0]
        bridge.admin(bridge.eccp, "POST", f"/records/{profile}/unpublish")
        assert bridge.sync().exit_code == 0  # incremental: only the profile changed
        assert home in {r["attributes"]["field_external_id"] for r in bridge.eccp_mirrors()}
        assert f"eccp:{profile}" not in {f["extrlId"] for f in bridge.kicox_mirrors()}
        bridge.admin(bridge.eccp, "POST", f"/records/{profile}/publish")
        assert bridge.sync().exit_code == 0
        assert home not in {r["attributes"]["field_external_id"] for r in bridge.eccp_mirrors()}
        assert_exactly_one_mirror_each(bridge)

    def test_a_real_run_holds_its_deferred_natives_in_the_ledger_and_links_them_as_a_dry_run_does(
            self, bridge: Bridge, monkeypatch: pytest.MonkeyPatch) -> None:
        # Korean natives whose own ECCP profile may exist wait until rule 11 is settled: a real run keeps only
        # their ids while it pulls (their snapshots are in the ledger), so no listing is held in memory
        seen: dict[bool, list[Any]] = {}
        settle = SyncEngine._settle_matches

        def watched(engine: SyncEngine, run: Any, runs: Any) -> None:
            seen[run.dry_run] = [c for r in runs for c in r.deferred.values()]
            settle(engine, run, runs)

        monkeypatch.setattr(SyncEngine, "_settle_matches", watched)
        planned, done = bridge.sync(full=True, dry_run=True), bridge.sync(full=True)
        assert seen[True]  # a dry run stores nothing: it keeps the clusters
        assert all(c is not None for c in seen[True])
        assert len(seen[False]) == len(seen[True])
        assert all(c is None for c in seen[False])
        assert [d.counts for d in done.directions] == [d.counts for d in planned.directions]
        assert done.directions[1].counts["linked"] >= 2
        assert_exactly_one_mirror_each(bridge)


class TestEditDuringAFullListing:
    def test_an_edit_while_the_listing_pages_is_neither_an_anomaly_nor_a_double_count(self,
                                                                                     bridge: Bridge) -> None:
        oldest = min(bridge.eccp_natives(),
                     key=lambda r: (r["attributes"]["changed"], r["attributes"]["drupal_internal__nid"]))
        first = oldest["id"]  # served on the first page, then edited: served again at the end
        bridge.admin(bridge.eccp, "POST", "/listing", {"touch_after_page": {"page": 1, "uuid": first}})
        result = bridge.sync(full=True)
        e2k = next(d for d in result.directions if d.direction == "eu-to-kr")
        assert e2k.anomalies == []
        assert e2k.held == 0
        assert e2k.pulled == len(bridge.eccp_natives())
        assert e2k.balanced()
        assert_exactly_one_mirror_each(bridge)


class TestStatusTruth:
    def test_freshness_is_time_since_the_last_clean_run_and_counts_balance(self, bridge: Bridge) -> None:
        result = bridge.sync(full=True)
        assert all(d.balanced() for d in result.directions)
        status = cli_json(bridge, "status")
        for d in status["directions"]:
            assert d["freshness_seconds"] is not None
            assert d["freshness_seconds"] < 120
            assert d["records_behind"] == 0
            assert d["run_in_progress"] is False
            assert d["fresh_as_of"].endswith("+00:00")
        fresh_before = {d["direction"]: d["fresh_as_of"] for d in status["directions"]}
        bridge.admin(bridge.kicox, "PUT", "/clusters/KC-BROKEN", {
            "clstrId": "KC-BROKEN", "clstrNm": "망가진", "mberCo": "many", "useAt": "Y", "updtDt": kst_now()})
        bridge.sync()
        status = cli_json(bridge, "status")
        k2e = next(d for d in status["directions"] if d["direction"] == "kr-to-eu")
        assert k2e["records_behind"] == 1
        assert k2e["fresh_as_of"] == fresh_before["kr-to-eu"]  # a run that left a record behind is not fresh


class TestLockLost:
    def test_a_killed_postgresql_session_stops_the_sync_before_a_second_one_starts(self, bridge: Bridge) -> None:
        if "postgresql" not in bridge.settings.database_url:
            pytest.skip("the advisory lock and its session are PostgreSQL's; SQLite's file lock cannot be lost")
        bridge.eccp.set_faults(FaultSpec.parse("latency=0.05"))
        bridge.kicox.set_faults(FaultSpec.parse("latency=0.2"))
        run = bridge.popen("sync")
        engine = db.make_engine(bridge.settings.database_url)
        try:
            holder = None
            for _ in range(100):
                with engine.connect() as conn:
                    holder = conn.execute(sa.text(
                        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = "
                        "(SELECT oid FROM pg_database WHERE datname = current_database())")).scalar()
                if holder is not None:
                    break
                time.sleep(0.1)
            assert holder is not None, "the sync never took its lock"
            time.sleep(0.5)
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": holder})
            code = run.wait(timeout=60)
        finally:
            engine.dispose()
        assert code == 1
        first = rows(bridge, sync_runs)
        assert {r.status for r in first} <= {"interrupted", "failed"}
        assert any("lock" in (r.error or "") for r in first)
        bridge.eccp.set_faults(FaultSpec.parse(""))
        bridge.kicox.set_faults(FaultSpec.parse(""))
        second = bridge.cli("sync")
        assert second.returncode == 0, second.stdout + second.stderr
        assert_exactly_one_mirror_each(bridge)
