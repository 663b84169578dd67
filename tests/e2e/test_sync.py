"""Rules 1–6, 10 and 11 end to end: real simulators over loopback, real connectors, real ledger database."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from clusterbridge.abc import MirrorWrite, WriteResult
from clusterbridge.connectors.eccp.connector import EccpConnector
from clusterbridge.connectors.kicox.connector import KicoxConnector
from tests.e2e.harness import Bridge

pytestmark = pytest.mark.slow


def live_korean(bridge: Bridge) -> dict[str, dict[str, Any]]:
    return {c["clstrId"]: c for c in bridge.kicox.clusters() if c["useAt"] == "Y"}


def published_european(bridge: Bridge) -> dict[str, dict[str, Any]]:
    return {r["id"]: r["attributes"] for r in bridge.eccp_natives() if r["attributes"].get("status", True)}


def linked(bridge: Bridge) -> tuple[set[str], set[str]]:
    from clusterbridge.store import db
    from clusterbridge.store.ledger import Ledger

    engine = db.make_engine(bridge.settings.database_url)
    try:
        rows = Ledger(engine).matches()
    finally:
        engine.dispose()
    return {r.home_id for r in rows}, {r.profile_id for r in rows}


def assert_exactly_one_mirror_each(bridge: Bridge) -> None:
    kicox_linked, eccp_linked = linked(bridge)
    eccp_side = Counter(r["attributes"]["field_external_id"] for r in bridge.eccp_mirrors())
    assert all(n == 1 for n in eccp_side.values()), f"duplicate mirrors on ECCP: {eccp_side.most_common(3)}"
    assert set(eccp_side) == set(live_korean(bridge)) - kicox_linked
    kicox_side = Counter(f["extrlId"] for f in bridge.kicox_mirrors())
    assert all(n == 1 for n in kicox_side.values()), f"duplicate mirrors on KICOX: {kicox_side.most_common(3)}"
    assert set(kicox_side) == {f"eccp:{uuid}" for uuid in published_european(bridge)} - {
        f"eccp:{e}" for e in eccp_linked}


class TestFirstSync:
    """After one sync each platform shows exactly one correct mirror per live native of the other."""

    def test_each_side_shows_the_other_side_once(self, bridge: Bridge) -> None:
        result = bridge.sync(full=True)
        assert result.exit_code == 0, [(d.direction, d.status, d.anomalies, d.error) for d in result.directions]
        assert_exactly_one_mirror_each(bridge)
        assert len(bridge.eccp_mirrors()) >= 38
        assert len(bridge.kicox_mirrors()) >= 40

    def test_mirror_fields_are_right(self, bridge: Bridge) -> None:
        bridge.sync(full=True)
        korean = live_korean(bridge)
        for mirror in bridge.eccp_mirrors():
            attrs = mirror["attributes"]
            source = korean[attrs["field_external_id"]]
            assert attrs["field_country"] == "KR"
            own = source.get("clstrEngNm", "").strip()
            if own:
                assert attrs["title"] == own
            else:
                assert attrs["title"].isascii()
            assert attrs["field_region_name"]
            assert attrs["field_region_name"].isascii()
            if source.get("mberCo", "").strip():
                total = sum(attrs.get(k) or 0 for k in ("field_members_sme", "field_members_large",
                                                        "field_members_research", "field_members_other"))
                assert total == int(source["mberCo"]) or attrs.get("field_members_sme") == int(source["smeCo"])
            if source.get("chargerOthbcAt") != "Y":
                assert not attrs.get("field_contact"), "a private contact crossed to ECCP"
                assert source["chargerEmail"] not in str(attrs)
            assert "<script" not in str(attrs).lower()
        european = published_european(bridge)
        for item in bridge.kicox_mirrors():
            source = european[item["extrlId"].removeprefix("eccp:")]
            assert item["clstrEngNm"] == source["title"]
            assert item["natnCd"] == {"EL": "GR", "UK": "GB"}.get(source["field_country"], source["field_country"])
            assert item["natnNm"]
            assert not item["natnNm"].isascii()
            if source.get("field_ecosystems"):
                assert item["ksicCd"], f"{source['title']}: no KSIC code on KICOX"
                assert item["indutyNm"]
                assert not item["indutyNm"].isascii()
            contact = source.get("field_contact") or {}
            if not contact.get("public"):
                assert not item.get("chargerEmail")
                if contact.get("email"):
                    assert contact["email"] not in str(item)
            assert "<script" not in item.get("intrcn", "").lower()

    def test_greece_crosses_as_gr(self, bridge: Bridge) -> None:
        bridge.sync(full=True)
        greek = [uuid for uuid, a in published_european(bridge).items() if a["field_country"] == "EL"]
        assert greek, "the sample data has Greek clusters"
        codes = {f["extrlId"]: f["natnCd"] for f in bridge.kicox_mirrors()}
        assert {codes[f"eccp:{uuid}"] for uuid in greek} == {"GR"}


class TestWriting:
    """A platform gets as many writes at once as its connector allows (ECCP: 4 calls of `write_batch` each), and
    a call held up (a Retry-After, a slow answer) never idles the others: the next starts when any one ends."""

    def test_a_held_up_write_lets_the_others_go_on_past_it(self, bridge: Bridge,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
        eccp_toml = Path(str(bridge.settings.config_dir)) / "connectors" / "eccp.toml"
        eccp_toml.write_text(eccp_toml.read_text() + "\nwrite_batch = 2\n")
        lock = threading.Lock()
        started, ended = [0], [0]
        released = threading.Event()
        held: list[bool] = []
        write = EccpConnector.write

        def held_up_first(connector: EccpConnector, writes: Sequence[MirrorWrite]) -> list[WriteResult]:
            with lock:
                started[0] += 1
                first = started[0] == 1
            if first:  # held until more calls ended than the 3 that could run beside it
                held.append(released.wait(timeout=20))
                return write(connector, writes)
            answers = write(connector, writes)
            with lock:
                ended[0] += 1
                if ended[0] > connector.concurrency - 1:
                    released.set()
            return answers

        monkeypatch.setattr(EccpConnector, "write", held_up_first)
        result = bridge.sync(full=True)
        assert result.exit_code == 0, [(d.direction, d.status, d.error) for d in result.directions]
        assert held == [True], "the other writers waited for the held-up one"
        assert ended[0] >= 18  # 38 and more mirrors, 2 a call
        assert_exactly_one_mirror_each(bridge)


    def test_the_two_directions_write_at_once(self, bridge: Bridge, monkeypatch: pytest.MonkeyPatch) -> None:
        eccp_wrote = threading.Event()
        waited: list[bool] = []
        to_eccp, to_kicox = EccpConnector.write, KicoxConnector.write

        def on_eccp(connector: EccpConnector, writes: Sequence[MirrorWrite]) -> list[WriteResult]:
            answers = to_eccp(connector, writes)
            eccp_wrote.set()
            return answers

        def on_kicox(connector: KicoxConnector, writes: Sequence[MirrorWrite]) -> list[WriteResult]:
            if not waited:  # the first KICOX batch waits until ECCP has taken a write of the other direction
                waited.append(eccp_wrote.wait(timeout=20))
            return to_kicox(connector, writes)

        monkeypatch.setattr(EccpConnector, "write", on_eccp)
        monkeypatch.setattr(KicoxConnector, "write", on_kicox)
        result = bridge.sync(full=True)
        assert result.exit_code == 0, [(d.direction, d.status, d.error) for d in result.directions]
        assert waited == [True], "one direction's writes waited for the other's to end"
        assert_exactly_one_mirror_each(bridge)


class TestOnlyChanges:
    """Rule 4: an unchanged record costs no write; an edit changes exactly its mirror."""

    def test_second_sync_writes_nothing(self, bridge: Bridge) -> None:
        bridge.sync(full=True)
        before_eccp = bridge.eccp.stats()["writes"]
        before_kicox = bridge.kicox.stats()["writes"]
        for full in (False, True):
            result = bridge.sync(full=full)
            assert result.exit_code == 0
            assert all(d.created == d.updated == d.deleted == 0 for d in result.directions)
        assert bridge.eccp.stats()["writes"] == before_eccp
        assert bridge.kicox.stats()["writes"] == before_kicox

    def test_an_edit_changes_exactly_that_mirror(self, bridge: Bridge) -> None:
        bridge.sync(full=True)
        before = {r["id"]: r["attributes"]["changed"] for r in bridge.eccp_mirrors()}
        target = next(iter(live_korean(bridge).values()))
        time.sleep(1.1)  # changed has one-second resolution
        bridge.admin(bridge.kicox, "PATCH", f"/clusters/{target['clstrId']}", {"mberCo": "321"})
        result = bridge.sync()
        k2e = next(d for d in result.directions if d.direction == "kr-to-eu")
        assert (k2e.created, k2e.updated, k2e.deleted) == (0, 1, 0)
        after = {r["id"]: r["attributes"] for r in bridge.eccp_mirrors()}
        changed = [uuid for uuid, attrs in after.items() if attrs["changed"] != before[uuid]]
        assert len(changed) == 1
        assert after[changed[0]]["field_external_id"] == target["clstrId"]


class TestWithdrawal:
    """Rule 5: deletion, unpublishing and withdrawal remove mirrors."""

    def test_withdrawn_korean_cluster_loses_its_eccp_mirror(self, bridge: Bridge) -> None:
        bridge.sync(full=True)
        target = sorted(live_korean(bridge))[0]
        bridge.admin(bridge.kicox, "POST", f"/clusters/{target}/withdraw")
        result = bridge.sync()
        assert result.exit_code == 0
        assert target not in {r["attributes"]["field_external_id"] for r in bridge.eccp_mirrors()}
        assert_exactly_one_mirror_each(bridge)

    def test_unpublished_eccp_profile_loses_its_kicox_mirror(self, bridge: Bridge) -> None:
        bridge.sync(full=True)
        target = sorted(published_european(bridge))[0]
        bridge.admin(bridge.eccp, "POST", f"/records/{target}/unpublish")
        assert bridge.sync().exit_code == 0
        assert f"eccp:{target}" not in {f["extrlId"] for f in bridge.kicox_mirrors()}

    def test_deleted_eccp_profile_loses_its_kicox_mirror_on_full_reconcile(self, bridge: Bridge) -> None:
        bridge.sync(full=True)
        target = sorted(published_european(bridge))[1]
        bridge.admin(bridge.eccp, "DELETE", f"/records/{target}")
        bridge.sync()  # an incremental run cannot see a deletion on ECCP
        assert f"eccp:{target}" in {f["extrlId"] for f in bridge.kicox_mirrors()}
        assert bridge.sync(full=True).exit_code == 0
        assert f"eccp:{target}" not in {f["extrlId"] for f in bridge.kicox_mirrors()}
        assert_exactly_one_mirror_each(bridge)


class TestRepairs:
    """Rule 1: a mirror edited or deleted on the target is repaired at the next full reconcile."""

    def test_tampered_and_deleted_mirrors_are_repaired(self, bridge: Bridge) -> None:
        bridge.sync(full=True)
        eccp_mirror = bridge.eccp_mirrors()[0]
        original_title = eccp_mirror["attributes"]["title"]
        bridge.admin(bridge.eccp, "PATCH", f"/records/{eccp_mirror['id']}", {"attributes": {"title": "Vandalised"}})
        kicox_mirrors = bridge.kicox_mirrors()
        tampered, removed = kicox_mirrors[0], kicox_mirrors[1]
        bridge.admin(bridge.kicox, "PATCH", f"/foreign/{tampered['extrlId']}", {"clstrEngNm": "Vandalised"})
        bridge.admin(bridge.kicox, "DELETE", f"/foreign/{removed['extrlId']}")
        assert bridge.sync(full=True).exit_code == 0
        repaired = {r["id"]: r["attributes"]["title"] for r in bridge.eccp_mirrors()}
        assert repaired[eccp_mirror["id"]] == original_title
        now_kicox = {f["extrlId"]: f for f in bridge.kicox_mirrors()}
        assert now_kicox[tampered["extrlId"]]["clstrEngNm"] == tampered["clstrEngNm"]
        assert removed["extrlId"] in now_kicox
        assert_exactly_one_mirror_each(bridge)


class TestNoEcho:
    """Rule 2: mirrors are never read back as natives, so a second sync never mirrors a mirror."""

    def test_mirrors_do_not_come_back(self, bridge: Bridge) -> None:
        bridge.sync(full=True)
        bridge.sync(full=True)
        assert not any(f["clstrEngNm"] == r["attributes"]["title"] for f in bridge.kicox_mirrors()
                       for r in bridge.eccp_mirrors())
        assert_exactly_one_mirror_each(bridge)


class TestNativeLinks:
    """Rule 11: a Korean cluster with its own ECCP profile is linked, not mirrored again."""

    def test_korean_clusters_with_an_eccp_profile_are_linked(self, bridge: Bridge) -> None:
        bridge.sync(full=True)
        kicox_ids, eccp_ids = linked(bridge)
        assert len(kicox_ids) >= 2
        mirrored = {r["attributes"]["field_external_id"] for r in bridge.eccp_mirrors()}
        assert not kicox_ids & mirrored
        assert not {f"eccp:{e}" for e in eccp_ids} & {f["extrlId"] for f in bridge.kicox_mirrors()}
        shown = bridge.cli("links", "--json")
        assert shown.returncode == 0, shown.stderr
        assert all(k in shown.stdout for k in kicox_ids)


class TestQuarantine:
    """Rule 6: a bad record is quarantined with its reason while the rest syncs; exit code 3 says so."""

    def test_invalid_record_is_quarantined_and_retried(self, bridge: Bridge) -> None:
        bridge.admin(bridge.kicox, "PUT", "/clusters/KC-BROKEN", {
            "clstrId": "KC-BROKEN", "clstrNm": "망가진 클러스터", "clstrEngNm": "", "ctprvnNm": "경기도",
            "mberCo": "many", "useAt": "Y", "updtDt": "20261101120000"})
        done = bridge.cli("sync", "--full")
        assert done.returncode == 3, done.stdout + done.stderr
        errors = bridge.cli("errors", "--json")
        assert "KC-BROKEN" in errors.stdout
        assert "mberCo" in errors.stdout
        assert len(bridge.eccp_mirrors()) >= 38  # the rest synced
        bridge.admin(bridge.kicox, "PATCH", "/clusters/KC-BROKEN", {"mberCo": "12"})
        again = bridge.cli("sync")
        assert again.returncode == 0, again.stdout + again.stderr
        assert "KC-BROKEN" in {r["attributes"]["field_external_id"] for r in bridge.eccp_mirrors()}
        assert "KC-BROKEN" not in bridge.cli("errors", "--json").stdout


class TestCommands:
    def test_dry_run_writes_nothing_anywhere(self, bridge: Bridge) -> None:
        out = bridge.cli("sync", "--dry-run", "--json")
        assert out.returncode == 0, out.stderr
        assert '"create"' in out.stdout
        assert bridge.eccp_mirrors() == []
        assert bridge.kicox_mirrors() == []
        assert "No sync has run yet" in bridge.cli("status").stdout

    def test_unmigrated_database_is_refused(self, bridge: Bridge, tmp_path: Any) -> None:
        env = dict(bridge.env, CLUSTERBRIDGE_DATABASE_URL=f"sqlite:///{tmp_path / 'empty.db'}")
        import subprocess
        import sys

        out = subprocess.run([sys.executable, "-m", "clusterbridge", "sync"], env=env, capture_output=True,
                             text=True, check=False)
        assert out.returncode == 2
        assert "clusterbridge db upgrade" in out.stderr

    def test_status_reports_each_direction(self, bridge: Bridge) -> None:
        bridge.sync(full=True)
        import json

        status = json.loads(bridge.cli("status", "--json").stdout)
        rows = {d["direction"]: d for d in status["directions"]}
        assert rows["kr-to-eu"]["mirrors_live"] == len(bridge.eccp_mirrors())
        assert rows["eu-to-kr"]["mirrors_live"] == len(bridge.kicox_mirrors())
        assert rows["eu-to-kr"]["last_status"] == "success"

    def test_one_sync_at_a_time(self, bridge: Bridge) -> None:
        from clusterbridge.store import db

        engine = db.make_engine(bridge.settings.database_url)
        try:
            with db.sync_lock(engine):
                out = bridge.cli("sync")
        finally:
            engine.dispose()
        assert out.returncode == 1
        assert "another sync is running" in out.stderr
