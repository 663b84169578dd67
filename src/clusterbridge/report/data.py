"""What a report is made of: plain typed rows that the ledger fills and `render_report` turns into HTML.

Every string here may come from a cluster's platform and is untrusted; the renderer escapes all of it.
All timestamps are aware (naive ones are refused, never guessed), so that "since" means one instant.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

Side = Literal["eu", "kr"]


def _require_aware(what: str, value: datetime | None) -> None:
    if value is not None and value.tzinfo is None:
        raise ValueError(f"{what} is a naive datetime; give its time zone")


@dataclass(frozen=True, slots=True)
class ClusterRow:
    """One native cluster of a side, as the report counts it.

    `live` is true while the native profile is published; `withdrawn` is when the service saw it go (set
    exactly when `live` is false). `mirrored` says that a live mirror of it stands on the other platform.
    `seeks_partners` is its expression of interest for cooperation; `target_countries` are ISO 3166-1
    alpha-2 codes it names.
    """

    id: str
    name: str
    country: str
    ecosystems: tuple[str, ...]
    live: bool
    first_seen: datetime
    changed: datetime
    withdrawn: datetime | None = None
    name_ko: str | None = None
    mirrored: bool = False
    seeks_partners: bool = False
    target_countries: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for what, value in (("first_seen", self.first_seen), ("changed", self.changed),
                            ("withdrawn", self.withdrawn)):
            _require_aware(f"cluster {self.id!r}: {what}", value)
        if self.live == (self.withdrawn is not None):
            raise ValueError(f"cluster {self.id!r}: `withdrawn` is set exactly when the cluster is not live")


@dataclass(frozen=True, slots=True)
class PairRow:
    """A suggested EU–Korean partner pair with its score and its reasons in English and in Korean."""

    eu_id: str
    eu_name: str
    kr_id: str
    kr_name: str
    score: float
    reasons_en: tuple[str, ...] = ()
    reasons_ko: tuple[str, ...] = ()
    kr_name_ko: str | None = None


@dataclass(frozen=True, slots=True)
class DirectionHealth:
    """The sync state of one direction (e.g. 'eccp-to-kicox').

    `last_clean_at` is when the last run finished that left no record behind (nothing quarantined, no
    deletion held); the report's freshness is the time since then.
    """

    direction: str
    last_run_at: datetime | None
    last_status: str | None
    last_clean_at: datetime | None
    quarantined: int = 0
    held_deletions: int = 0
    mirrors_live: int = 0

    def __post_init__(self) -> None:
        _require_aware(f"{self.direction}: last_run_at", self.last_run_at)
        _require_aware(f"{self.direction}: last_clean_at", self.last_clean_at)


@dataclass(frozen=True, slots=True)
class ReportData:
    """Everything one report shows; the same data always renders to the same bytes.

    `eu` holds the European clusters native to the EU platform, `kr` the Korean clusters native to the
    Korean one. `since` starts the window of "new" and "withdrawn"; `generated_at` is printed and is the
    "now" that freshness is measured against (the renderer never reads the clock). The strongest
    `max_pairs` pairs are shown; a direction whose last clean run is older than `stale_after` is flagged.
    `ecosystem_labels_ko` gives the Korean name of each ecosystem, where known.
    """

    generated_at: datetime
    since: datetime
    eu: tuple[ClusterRow, ...]
    kr: tuple[ClusterRow, ...]
    pairs: tuple[PairRow, ...] = ()
    health: tuple[DirectionHealth, ...] = ()
    ecosystem_labels_ko: Mapping[str, str] = field(default_factory=dict)
    eu_platform: str = "ECCP"
    kr_platform: str = "KICOX"
    max_pairs: int = 20
    stale_after: timedelta = timedelta(hours=24)

    def __post_init__(self) -> None:
        _require_aware("generated_at", self.generated_at)
        _require_aware("since", self.since)
        if self.since > self.generated_at:
            raise ValueError("`since` is after `generated_at`")
        if self.max_pairs < 0:
            raise ValueError("`max_pairs` is negative")

    def side(self, side: Side) -> tuple[ClusterRow, ...]:
        """The native clusters of one side."""
        return self.eu if side == "eu" else self.kr

    def platform(self, side: Side) -> str:
        """The name of the platform a side's clusters are native to."""
        return self.eu_platform if side == "eu" else self.kr_platform
