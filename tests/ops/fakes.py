"""An in-memory `StatusSource`: what the ledger would answer, set field by field by a test."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from clusterbridge.ops.metrics import DirectionStatus


@dataclass
class MemoryStatus:
    """Holds the three answers of a `StatusSource`; `broken` makes every read raise like a lost database."""

    runs: list[tuple[str, str, int]] = field(default_factory=list)
    records: list[tuple[str, str, int]] = field(default_factory=list)
    directions: list[DirectionStatus] = field(default_factory=list)
    broken: Exception | None = None
    reads: int = 0

    def _read(self) -> None:
        self.reads += 1
        if self.broken is not None:
            raise self.broken

    def run_counts(self) -> Iterable[tuple[str, str, int]]:
        self._read()
        return list(self.runs)

    def record_counts(self) -> Iterable[tuple[str, str, int]]:
        self._read()
        return list(self.records)

    def direction_status(self) -> Iterable[DirectionStatus]:
        self._read()
        return list(self.directions)
