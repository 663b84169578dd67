"""`clusterbridge demo`: both simulators on loopback, a full two-way sync, and what each site now shows."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url

from clusterbridge.config import Settings
from clusterbridge.store import db
from clusterbridge.sync.result import RunResult

DEMO_CLIENT_ID = "demo-client"
DEMO_CLIENT_SECRET = "demo-secret"  # noqa: S105 - the simulator's published demo credential
DEMO_SERVICE_KEY = "demo/Key+with==chars"
DEMO_API_KEY = "demo-api-key"


def run_demo(settings: Settings, database_url: str, console: Console | None = None) -> int:
    """Run the demo; returns the exit code of the first sync."""
    from clusterbridge.runtime import open_engine
    from clusterbridge.simulators import EccpSimulator, KicoxSimulator

    console = console or Console()
    url = make_url(db.normalise_url(database_url))
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        for suffix in ("", "-wal", "-shm"):
            Path(url.database + suffix).unlink(missing_ok=True)

    eccp = EccpSimulator(client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET, partner_code="kicox")
    kicox = KicoxSimulator(service_key=DEMO_SERVICE_KEY, api_key=DEMO_API_KEY)
    eccp.start(port=0)
    kicox.start(port=0)
    try:
        demo_settings = settings.model_copy(update={
            "database_url": database_url,
            "eccp_base_url": eccp.url, "eccp_client_id": DEMO_CLIENT_ID,
            "eccp_client_secret": SecretStr(DEMO_CLIENT_SECRET),
            "kicox_base_url": kicox.url, "kicox_service_key": SecretStr(DEMO_SERVICE_KEY),
            "kicox_api_key": SecretStr(DEMO_API_KEY),
        })
        console.print(f"[bold]ECCP simulator[/] {eccp.url}   [bold]KICOX simulator[/] {kicox.url}")
        console.print(f"ledger: {database_url}")
        db.upgrade(db.make_engine(database_url))
        with open_engine(demo_settings) as engine:
            console.rule("first sync: full, both directions")
            first = engine.run("both", full=True, trigger="demo")
            _summary(console, first)
            console.rule("second sync: nothing changed, so nothing is written")
            second = engine.run("both", trigger="demo")
            _summary(console, second)
        _show(console, eccp.records(), kicox.foreign(), kicox.clusters())
        return int(first.exit_code)
    finally:
        eccp.stop()
        kicox.stop()


def _summary(console: Console, result: RunResult) -> None:
    for d in result.directions:
        console.print(f"  {d.direction:<9} {d.mode:<11} {d.status:<8} {d.summary()}")
        for anomaly in d.anomalies:
            console.print(f"    [yellow]! {anomaly}[/]")


def _show(console: Console, eccp_records: list[dict], foreign: list[dict], korean: list[dict]) -> None:  # type: ignore[type-arg]
    mirrors = [r["attributes"] for r in eccp_records if r["attributes"].get("field_origin") == "kicox"]
    natives = [r for r in eccp_records if r["attributes"].get("field_origin") == "eccp"]
    console.rule("what each platform now displays")
    overview = Table("platform", "own clusters", "clusters of the other side (mirrors)")
    overview.add_row("ECCP", str(len(natives)), f"{len(mirrors)} Korean clusters")
    overview.add_row("KICOX", str(len(korean)), f"{len(foreign)} European clusters")
    console.print(overview)

    left = Table("name", "region", "city", "ecosystems", "NACE", title="ECCP shows these Korean clusters")
    for m in sorted(mirrors, key=lambda a: a["title"]):
        left.add_row(m["title"], m.get("field_region_name") or "-", m.get("field_city") or "-",
                     "; ".join(m.get("field_ecosystems") or []), ", ".join(m.get("field_nace_codes") or []))
    right = Table("name", "country", "region", "industries", "KSIC", title="KICOX shows these European clusters")
    for f in sorted(foreign, key=lambda a: a["clstrEngNm"]):
        right.add_row(f["clstrEngNm"], f"{f.get('natnNm', '')} ({f['natnCd']})", f.get("rgnNm") or "-",
                      f.get("indutyNm") or "-", f.get("ksicCd") or "-")
    console.print(left)
    console.print(right)
