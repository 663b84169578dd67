"""Partner suggestions end to end: kept current by the sync, listed by `clusterbridge partners`, shown on the
platforms when publishing is on (only the mirrors whose partners changed are written), and reported."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from clusterbridge.errors import LockLost
from clusterbridge.partners.service import Suggestions
from clusterbridge.runtime import open_engine
from clusterbridge.store.ledger import Ledger
from tests.e2e.harness import Bridge
from tests.e2e.test_sync import live_korean, published_european

pytestmark = pytest.mark.slow


def partners(bridge: Bridge, *args: str) -> list[dict[str, Any]]:
    out = bridge.cli("partners", "--json", *args)
    assert out.returncode == 0, out.stderr
    return list(json.loads(out.stdout))


class TestSuggestions:
    def test_a_european_cluster_seeking_korean_partners_gets_the_korean_clusters_of_its_industry_naming_it(
            self, bridge: Bridge) -> None:
        assert bridge.sync(full=True).exit_code == 0
        goeppingen = next(uid for uid, a in published_european(bridge).items()
                          if a["title"].startswith("Kompetenznetz Mechatronik"))  # machinery, seeks Korea
        found = partners(bridge, "--for", goeppingen, "--top", "3")
        assert len(found) == 3
        assert "KC-000101" in [s["kicox_id"] for s in found]  # KSIC 29172 machinery, names Germany
        best = next(s for s in found if s["kicox_id"] == "KC-000101")
        assert any("NACE C28" in r and "KSIC" in r for r in best["reasons"])
        assert any("Germany" in r for r in best["reasons"])
        assert any("독일" in r for r in best["reasons_ko"])
        assert 0 < best["score"] <= 1

    def test_the_table_follows_a_changed_native(self, bridge: Bridge) -> None:
        assert bridge.sync(full=True).exit_code == 0
        before = {(s["eccp_id"], s["kicox_id"]) for s in partners(bridge, "--for", "KC-000101")}
        assert before
        # the Korean cluster stops naming any European country and moves to another industry
        bridge.admin(bridge.kicox, "PATCH", "/clusters/KC-000101",
                     {"cprtnNatnCd": "", "indutyNm": "식품", "ksicCd": "10"})
        assert bridge.sync().exit_code == 0
        after = {(s["eccp_id"], s["kicox_id"]) for s in partners(bridge, "--for", "KC-000101")}
        assert after != before

    def test_an_incremental_run_with_nothing_changed_leaves_the_table_as_it_is_without_reading_it(
            self, bridge: Bridge, monkeypatch: pytest.MonkeyPatch) -> None:
        assert bridge.sync(full=True).exit_code == 0
        before = partners(bridge)
        assert before
        reads: list[str] = []
        for name in ("suggestions", "suggestion_scores"):  # with their reasons, or the scores a refresh ranks by
            read = getattr(Ledger, name)

            def counted(ledger: Ledger, *args: str, read: Any = read, name: str = name) -> Any:
                reads.append(name)
                return read(ledger, *args)

            monkeypatch.setattr(Ledger, name, counted)
        assert bridge.sync().exit_code == 0
        assert reads == []  # every stored suggestion: the bulk of an idle run's time
        assert partners(bridge) == before

    def test_with_the_offline_translator_the_suggestions_are_given_no_translator_to_read_texts_for(
            self, bridge: Bridge, monkeypatch: pytest.MonkeyPatch) -> None:
        """The offline translator holds no translation: asking it for every Korean text would read every
        native once more for nothing."""
        assert bridge.settings.translator == "none"
        given: list[object] = []
        refresh = Suggestions.refresh

        def watched(suggestions: Suggestions, translator: object = None, **kwargs: Any) -> Any:
            given.append(translator)
            return refresh(suggestions, translator, **kwargs)  # type: ignore[arg-type]
        monkeypatch.setattr(Suggestions, "refresh", watched)
        assert bridge.sync(full=True).exit_code == 0
        assert given == [None]
        assert partners(bridge)

    def test_csv_has_a_header_and_one_row_per_suggestion(self, bridge: Bridge) -> None:
        assert bridge.sync(full=True).exit_code == 0
        out = bridge.cli("partners", "--csv", "--min-score", "0.5")
        assert out.returncode == 0, out.stderr
        lines = out.stdout.splitlines()
        assert lines[0].startswith("eccp_id,kicox_id,")
        assert len(lines) - 1 == len(partners(bridge, "--min-score", "0.5"))


def without_changed(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record["attributes"].items() if k != "changed"}


class TestPublishing:
    """With CLUSTERBRIDGE_PUBLISH_SUGGESTIONS=true each mirror shows its best partners; later, only the mirrors
    whose partners changed are written again."""

    def test_mirrors_show_partners_and_a_change_rewrites_exactly_the_mirrors_concerned(self,
                                                                                      bridge: Bridge) -> None:
        bridge.settings = bridge.settings.model_copy(update={"publish_suggestions": True})
        assert bridge.sync(full=True).exit_code == 0
        korean = live_korean(bridge)
        shown = [f for f in bridge.kicox_mirrors() if "협력 가능 클러스터" in f["intrcn"]]
        assert len(shown) >= 20
        assert any(korean["KC-000101"]["clstrNm"] in f["intrcn"] for f in shown)  # names in the reader's script
        on_eccp = [r for r in bridge.eccp_mirrors()
                   if "Possible partners in Europe" in (r["attributes"]["field_description"] or {}).get("value", "")]
        assert len(on_eccp) >= 20

        # what each mirror says (`changed` has whole seconds: both runs may fall in the same one)
        before_eccp = {r["id"]: without_changed(r) for r in bridge.eccp_mirrors()}
        before_kicox = {f["extrlId"]: f["intrcn"] for f in bridge.kicox_mirrors()}
        bridge.admin(bridge.kicox, "PATCH", "/clusters/KC-000101",
                     {"cprtnNatnCd": "", "indutyNm": "식품", "ksicCd": "10"})
        result = bridge.sync()
        assert result.exit_code == 0
        e2k = next(d for d in result.directions if d.direction == "eu-to-kr")
        changed_kicox = {k for k, f in ((f["extrlId"], f) for f in bridge.kicox_mirrors())
                         if before_kicox.get(k) != f["intrcn"]}
        assert e2k.updated == len(changed_kicox) > 0  # exactly the mirrors whose partners changed
        assert len(changed_kicox) < len(before_kicox) // 2
        k2e = next(d for d in result.directions if d.direction == "kr-to-eu")
        changed_eccp = [r["id"] for r in bridge.eccp_mirrors() if before_eccp.get(r["id"]) != without_changed(r)]
        assert k2e.updated == len(changed_eccp)


class TestReport:
    def test_the_report_is_one_file_with_its_charts(self, bridge: Bridge, tmp_path: Path) -> None:
        assert bridge.sync(full=True).exit_code == 0
        out = tmp_path / "report.html"
        done = bridge.cli("report", "--since", "2020-01-01", "--out", str(out))
        assert done.returncode == 0, done.stderr
        html = out.read_text(encoding="utf-8")
        assert html.count("<svg") >= 4
        assert "Kompetenznetz Mechatronik" in html
        assert "<script" not in html

    def test_turning_publishing_on_is_a_mass_update_an_operator_sees_and_approves(self, bridge: Bridge) -> None:
        assert bridge.sync(full=True).exit_code == 0
        bridge.env["CLUSTERBRIDGE_PUBLISH_SUGGESTIONS"] = "true"
        planned = bridge.cli("sync", "--dry-run", "--json")
        assert json.loads(planned.stdout)["directions"][0]["updated"] > 0  # the operator sees it coming
        writes = bridge.kicox.stats()["writes"]
        stopped = bridge.cli("sync")
        assert stopped.returncode == 1
        assert "--allow-mass-update" in stopped.stdout + stopped.stderr
        assert bridge.kicox.stats()["writes"] == writes
        allowed = bridge.cli("sync", "--allow-mass-update")
        assert allowed.returncode == 0, allowed.stdout + allowed.stderr
        assert any("협력 가능 클러스터" in f["intrcn"] for f in bridge.kicox_mirrors())


class TestAfterAnUnfinishedRun:
    """A run can end after it stored what it pulled but before its suggestions were recomputed (its lock lost,
    the process killed). The natives it changed must not keep stale suggestions: the next run recomputes them,
    even though it sees nothing new on the platforms."""

    def test_the_next_run_catches_up_on_the_suggestions_an_ended_run_left_undone(
            self, bridge: Bridge, monkeypatch: pytest.MonkeyPatch) -> None:
        assert bridge.sync(full=True).exit_code == 0
        before = {(s["eccp_id"], s["kicox_id"]) for s in partners(bridge, "--for", "KC-000101")}
        assert before
        bridge.admin(bridge.kicox, "PATCH", "/clusters/KC-000101",
                     {"cprtnNatnCd": "", "indutyNm": "식품", "ksicCd": "10"})
        confirm = Ledger.confirm_writes

        def lock_lost(ledger: Ledger, *args: Any, **kwargs: Any) -> None:
            raise LockLost("the sync lock was lost (test)")

        monkeypatch.setattr(Ledger, "confirm_writes", lock_lost)
        with pytest.raises(LockLost):
            bridge.sync()
        # the change was pulled and stored; its suggestions were not recomputed
        assert {(s["eccp_id"], s["kicox_id"]) for s in partners(bridge, "--for", "KC-000101")} == before
        monkeypatch.setattr(Ledger, "confirm_writes", confirm)
        assert bridge.sync().exit_code == 0
        after = {(s["eccp_id"], s["kicox_id"]) for s in partners(bridge, "--for", "KC-000101")}
        assert after != before
        assert {(s["eccp_id"], s["kicox_id"]) for s in partners(bridge)} == self._recomputed(bridge)

    @staticmethod
    def _recomputed(bridge: Bridge) -> set[tuple[str, str]]:
        """The whole table as a recompute from the stored natives makes it."""
        with open_engine(bridge.settings) as engine:
            assert engine.suggestions is not None
            engine.suggestions.refresh(whole=True)
        return {(s["eccp_id"], s["kicox_id"]) for s in partners(bridge)}
