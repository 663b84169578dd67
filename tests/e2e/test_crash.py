"""Rule 3: a run killed at any instant is completed by the next, with no duplicate and no loss."""

from __future__ import annotations

import signal
import time

import pytest
import sqlalchemy as sa

from clusterbridge.simulators import FaultSpec
from clusterbridge.store import db
from clusterbridge.store.tables import links
from tests.e2e.harness import Bridge
from tests.e2e.test_sync import assert_exactly_one_mirror_each

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("kill_after", [0.9, 1.6, 2.4, 3.5])
def test_sigkill_mid_run_then_rerun_leaves_exactly_one_mirror_each(bridge: Bridge, kill_after: float) -> None:
    # slow the platforms down so that the kill lands among the writes
    bridge.eccp.set_faults(FaultSpec.parse("latency=0.03"))
    bridge.kicox.set_faults(FaultSpec.parse("latency=0.2"))
    run = bridge.popen("sync", "--full")
    time.sleep(kill_after)
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=10)
    bridge.eccp.set_faults(FaultSpec.parse(""))
    bridge.kicox.set_faults(FaultSpec.parse(""))
    rerun = bridge.cli("sync")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert_exactly_one_mirror_each(bridge)
    full = bridge.cli("sync", "--full")
    assert full.returncode == 0, full.stdout + full.stderr
    assert_exactly_one_mirror_each(bridge)


def test_kill_between_http_create_and_ledger_commit(bridge: Bridge) -> None:
    """The exact worst instant: the mirrors exist on both targets, but the ledger still says "creating"."""
    assert bridge.sync(full=True).exit_code == 0
    engine = db.make_engine(bridge.settings.database_url)
    try:
        with engine.begin() as conn:
            conn.execute(links.update().where(links.c.state == "live")
                         .values(state="creating", mirror_id=None, payload_hash=None, payload=None))
    finally:
        engine.dispose()
    before_eccp, before_kicox = len(bridge.eccp_mirrors()), len(bridge.kicox_mirrors())
    result = bridge.sync()  # incremental: the records are not even pulled again
    result = bridge.sync(full=True)
    assert result.exit_code == 0
    assert (len(bridge.eccp_mirrors()), len(bridge.kicox_mirrors())) == (before_eccp, before_kicox)
    assert_exactly_one_mirror_each(bridge)
    engine = db.make_engine(bridge.settings.database_url)
    try:
        with engine.connect() as conn:
            states = set(conn.execute(sa.select(links.c.state).distinct()).scalars())
    finally:
        engine.dispose()
    assert "creating" not in states
