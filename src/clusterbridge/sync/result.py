"""What a run did, per direction: the counts every operator surface prints (CLI, JSON, sync_runs)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

RunStatus = Literal["success", "partial", "failed", "stopped", "interrupted"]
INPUTS = ("pulled", "retried", "vanished")
OUTCOMES = ("created", "updated", "unchanged", "deleted", "linked", "skipped", "quarantined", "held_deletions")


@dataclass
class DirectionResult:
    """One direction of a run (in a dry run: what it would do). Every record the run handled — pulled from the
    listing, retried by id, or gone from a full listing — has exactly one outcome, so
    pulled + retried + vanished = the sum of the outcomes."""

    direction: str
    mode: str
    dry_run: bool = False
    status: RunStatus = "success"
    run_id: int | None = None
    counts: Counter[str] = field(default_factory=Counter)
    kept: int = 0  # quarantined records whose mirror was kept
    anomalies: list[str] = field(default_factory=list)
    error: str | None = None
    budget_stopped: bool = False
    preview: list[dict[str, Any]] = field(default_factory=list)  # a dry run's planned actions (not unchanged)

    @property
    def pulled(self) -> int:
        return self.counts["pulled"]

    @property
    def retried(self) -> int:
        return self.counts["retried"]

    @property
    def vanished(self) -> int:
        return self.counts["vanished"]

    @property
    def created(self) -> int:
        return self.counts["created"]

    @property
    def updated(self) -> int:
        return self.counts["updated"]

    @property
    def unchanged(self) -> int:
        return self.counts["unchanged"]

    @property
    def deleted(self) -> int:
        return self.counts["deleted"]

    @property
    def linked(self) -> int:
        return self.counts["linked"]

    @property
    def skipped(self) -> int:
        return self.counts["skipped"]

    @property
    def quarantined(self) -> int:
        return self.counts["quarantined"]

    @property
    def failed(self) -> int:
        return self.counts["quarantined"]

    @property
    def held(self) -> int:
        return self.counts["held_deletions"]

    def as_counts(self) -> dict[str, int]:
        """The sync_runs columns (`failed` repeats `quarantined` for dashboards written against it)."""
        out = {name: self.counts[name] for name in (*INPUTS, *OUTCOMES)}
        out["failed"] = out["quarantined"]
        return out

    def balanced(self) -> bool:
        """True when every handled record has exactly one outcome."""
        return sum(self.counts[n] for n in INPUTS) == sum(self.counts[n] for n in OUTCOMES)

    def summary(self) -> str:
        c = self.counts
        extra = [f"+{c['retried']} retried"] if c["retried"] else []
        extra += [f"{c['vanished']} gone at the source"] if c["vanished"] else []
        handled = f"pulled {c['pulled']}" + (f" ({', '.join(extra)})" if extra else "")
        verb = "would be" if self.dry_run else ""
        parts = ", ".join(f"{name.replace('_', ' ')} {c[name]}" for name in OUTCOMES)
        return f"{handled} → {verb + ' ' if verb else ''}{parts}"


@dataclass
class RunResult:
    directions: list[DirectionResult]

    @property
    def exit_code(self) -> int:
        """DESIGN.md: 0 in sync, 3 partial (records quarantined, deletions held, quota), 1 failed or stopped."""
        statuses = {d.status for d in self.directions}
        if statuses & {"failed", "stopped", "interrupted"}:
            return 1
        if "partial" in statuses:
            return 3
        return 0
