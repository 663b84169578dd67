"""Filling a report from the ledger: what each side holds (the natives store), what each platform shows of the
other (live links), the suggested pairs and the sync health. No request to any platform."""

from __future__ import annotations

import json
from datetime import datetime

from clusterbridge.mapping.vocabulary import Vocabulary
from clusterbridge.model import Cluster
from clusterbridge.report.data import ClusterRow, DirectionHealth, PairRow, ReportData
from clusterbridge.sides import Bridge, Side
from clusterbridge.store.ledger import Ledger


def report_data(ledger: Ledger, bridge: Bridge, vocabulary: Vocabulary, *, since: datetime,
                generated_at: datetime) -> ReportData:
    first, second = bridge.first, bridge.second
    names: dict[tuple[str, str], Cluster] = {}
    rows: dict[str, list[ClusterRow]] = {first.name: [], second.name: []}
    for side in (first, second):
        other = bridge.other(side)
        mirrored = {r.native_id for r in ledger.iter_links(f"{side.name}-to-{other.name}")
                    if r.state in ("live", "creating")}
        for row in ledger.iter_natives(side.name):
            cluster = Cluster.model_validate_json(row.snapshot)
            names[(side.name, row.native_id)] = cluster
            withdrawn = None if row.live else (row.withdrawn_at or row.updated_at)
            rows[side.name].append(ClusterRow(
                id=row.native_id, name=cluster.name_en, country=cluster.country, ecosystems=cluster.ecosystems,
                live=bool(row.live), first_seen=row.first_seen, changed=row.changed, withdrawn=withdrawn,
                name_ko=cluster.names.get("ko"), mirrored=row.native_id in mirrored,
                seeks_partners=bool(cluster.cooperation.seeking or cluster.cooperation.target_countries),
                target_countries=cluster.cooperation.target_countries))
    pairs = []
    for s in ledger.suggestions(first.name, second.name):
        eu, kr = names.get((first.name, s.first_id)), names.get((second.name, s.second_id))
        if eu is None or kr is None:
            continue
        english = json.loads(s.reasons_en)
        pairs.append(PairRow(eu_id=s.first_id, eu_name=eu.name_en, kr_id=s.second_id, kr_name=kr.name_en,
                             score=s.score, reasons_en=tuple(r["text"] for r in english),
                             reasons_ko=tuple(json.loads(s.reasons_ko)), kr_name_ko=kr.names.get("ko")))
    health = [DirectionHealth(direction=r.direction, last_run_at=r.last_run_at, last_status=r.last_status,
                              last_clean_at=r.fresh_as_of, quarantined=r.records_failing,
                              held_deletions=r.pending_deletions, mirrors_live=r.mirrors_live)
              for r in ledger.status_rows()]
    return ReportData(
        generated_at=generated_at, since=since, eu=tuple(rows[first.name]), kr=tuple(rows[second.name]),
        pairs=tuple(pairs), health=tuple(health),
        ecosystem_labels_ko={e.name: e.label_ko for e in vocabulary.data.ecosystems},
        eu_platform=_platform(first), kr_platform=_platform(second))


def _platform(side: Side) -> str:
    return side.platform.upper()
