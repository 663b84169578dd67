"""The report's numbers, counted from its rows: pure functions, so every figure can be checked by hand.

Only live clusters are counted by ecosystem, country and interest; a cluster with several ecosystems counts
once in each. Orders are total (count first, then key), so equal input gives equal output.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from clusterbridge.report.data import ClusterRow, PairRow


@dataclass(frozen=True, slots=True)
class Count:
    """How many live clusters fall under `key`, and how many of them the other platform shows.

    `key` is an ecosystem or an ISO country code; None stands for clusters that state none.
    """

    key: str | None
    live: int
    mirrored: int


def _ecosystems(row: ClusterRow) -> list[str | None]:
    names = sorted({name.strip() for name in row.ecosystems if name.strip()})
    return list(names) if names else [None]


def _country(code: str) -> str | None:
    return code.strip().upper() or None


def _ordered(live: Counter[str | None], mirrored: Counter[str | None]) -> list[Count]:
    # the "none stated" bucket goes last whatever its size: it is a gap in the data, not a category
    keys = sorted(live, key=lambda key: (key is None, -live[key], key or ""))
    return [Count(key, live[key], mirrored[key]) for key in keys]


def by_ecosystem(rows: Iterable[ClusterRow]) -> list[Count]:
    """Live clusters per ecosystem, largest first."""
    live: Counter[str | None] = Counter()
    mirrored: Counter[str | None] = Counter()
    for row in rows:
        if row.live:
            for key in _ecosystems(row):
                live[key] += 1
                mirrored[key] += row.mirrored
    return _ordered(live, mirrored)


def by_country(rows: Iterable[ClusterRow]) -> list[Count]:
    """Live clusters per country, largest first."""
    live: Counter[str | None] = Counter()
    mirrored: Counter[str | None] = Counter()
    for row in rows:
        if row.live:
            key = _country(row.country)
            live[key] += 1
            mirrored[key] += row.mirrored
    return _ordered(live, mirrored)


def new_since(rows: Iterable[ClusterRow], since: datetime) -> list[ClusterRow]:
    """Clusters first seen at or after `since`, newest first (withdrawn ones included: they did appear)."""
    found = [row for row in rows if row.first_seen >= since]
    return sorted(found, key=lambda row: (-row.first_seen.timestamp(), row.name, row.id))


def withdrawn_since(rows: Iterable[ClusterRow], since: datetime) -> list[ClusterRow]:
    """Clusters withdrawn at or after `since`, most recent first."""
    found = [row for row in rows if row.withdrawn is not None and row.withdrawn >= since]
    return sorted(found, key=lambda row: (-_when(row.withdrawn), row.name, row.id))


def _when(moment: datetime | None) -> float:
    return moment.timestamp() if moment is not None else 0.0


@dataclass(frozen=True, slots=True)
class Interest:
    """How many live clusters of each side that seek partners belong to one ecosystem."""

    ecosystem: str | None
    eu: int
    kr: int


def interests_by_ecosystem(eu: Iterable[ClusterRow], kr: Iterable[ClusterRow]) -> list[Interest]:
    """Clusters seeking partners per ecosystem and side, by total, largest first."""
    counts: dict[str, Counter[str | None]] = {"eu": Counter(), "kr": Counter()}
    for side, rows in (("eu", eu), ("kr", kr)):
        for row in rows:
            if row.live and row.seeks_partners:
                counts[side].update(_ecosystems(row))
    keys = set(counts["eu"]) | set(counts["kr"])
    total = counts["eu"] + counts["kr"]
    ordered = sorted(keys, key=lambda key: (key is None, -total[key], key or ""))
    return [Interest(key, counts["eu"][key], counts["kr"][key]) for key in ordered]


def naming(rows: Iterable[ClusterRow], country: str) -> int:
    """How many live clusters name `country` among their target countries."""
    wanted = country.upper()
    return sum(1 for row in rows if row.live and wanted in {_country(code) for code in row.target_countries})


def targets_named(rows: Iterable[ClusterRow], home: str) -> list[tuple[str, int]]:
    """Each target country the live clusters name (their `home` country aside), with how many name it."""
    counts: Counter[str] = Counter()
    for row in rows:
        if row.live:
            named = {_country(code) for code in row.target_countries} - {None, home.upper()}
            counts.update(code for code in named if code is not None)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def live_over_time(rows: Iterable[ClusterRow], start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """The number of live clusters at `start`, after each appearance or withdrawal up to `end`, and at `end`.

    A step series: each point holds until the next one.
    """
    count = 0
    changes: Counter[datetime] = Counter()
    for row in rows:
        if row.first_seen <= start and (row.withdrawn is None or row.withdrawn > start):
            count += 1
        if start < row.first_seen <= end:
            changes[row.first_seen] += 1
        if row.withdrawn is not None and start < row.withdrawn <= end:
            changes[row.withdrawn] -= 1
    points = [(start, count)]
    for moment in sorted(changes):
        count += changes[moment]
        points.append((moment, count))
    if points[-1][0] != end:
        points.append((end, count))
    return points


def strongest(pairs: Iterable[PairRow], limit: int) -> list[PairRow]:
    """The `limit` best-scored pairs, best first; ties are ordered by the ids, so the order is stable."""
    return sorted(pairs, key=lambda pair: (-pair.score, pair.eu_id, pair.kr_id))[:limit]
