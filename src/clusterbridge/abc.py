"""Every interface of clusterbridge in one place: connectors (sources and targets) and translators.

Implementations are injected; the sync engine and the reconciler only see these types.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

JSON = dict[str, Any]


@dataclass(frozen=True)
class RecordProblem:
    """A record that could not be read or written: quarantined with its reason, never raised (rule 6)."""

    source_id: str
    reason: str
    field: str | None = None
    raw: JSON | None = None
    retryable: bool = True


@dataclass
class NativePage:
    """One page of native records, already validated into the platform's wire model.

    `records` hold pydantic wire models (EccpCluster, KicoxCluster); records that failed validation are in
    `problems`. `reported_total` is what the platform says the whole listing holds, when it says.
    """

    records: list[BaseModel]
    problems: list[RecordProblem] = field(default_factory=list)
    reported_total: int | None = None


@dataclass(frozen=True)
class MirrorRecord:
    """A mirror as it stands on the target platform."""

    mirror_id: str
    external_id: str
    payload: JSON
    changed: datetime | None = None


@dataclass(frozen=True)
class MirrorWrite:
    """A create (mirror_id None) or update of one mirror. `previous` is the payload last written, if any,
    so a target that patches can send only the attributes that changed."""

    external_id: str
    payload: JSON
    mirror_id: str | None = None
    previous: JSON | None = None


@dataclass(frozen=True)
class WriteResult:
    """The outcome of one MirrorWrite. `problem` is set exactly when the write failed."""

    external_id: str
    action: Literal["created", "updated", "unchanged", "adopted", "failed"]
    mirror_id: str | None = None
    problem: RecordProblem | None = None


class NativeSource(ABC):
    """Pulls a platform's own records, page by page, never the whole listing in memory."""

    platform: str

    @abstractmethod
    def iter_natives(self, since: datetime | None = None) -> Iterator[NativePage]:
        """Native records changed at or after `since` (all of them when None), oldest change first.

        Incremental pulls overlap the cursor and de-duplicate, so records sharing the cursor's second are
        not missed. Mirrors written by partners are never returned (rule 2). Raises ListingIncomplete (or a
        PlatformError) when the listing cannot be finished.
        """


class MirrorTarget(ABC):
    """Holds the mirrors of the other platform's clusters."""

    platform: str

    @abstractmethod
    def iter_mirrors(self) -> Iterator[list[MirrorRecord]]:
        """Every mirror this partner has written, page by page."""

    @abstractmethod
    def write(self, writes: Sequence[MirrorWrite]) -> list[WriteResult]:
        """Create or update mirrors, one result per write in order. A create whose mirror already exists
        (same external id) adopts it instead of duplicating it."""

    @abstractmethod
    def delete(self, mirror_id: str) -> None:
        """Delete one mirror; one that is already gone counts as done."""

    @abstractmethod
    def find_mirror(self, external_id: str) -> MirrorRecord | None:
        """Look a mirror up by the source's id: how an interrupted create is resolved safely."""


class Connector(NativeSource, MirrorTarget, ABC):
    """A platform: source of its natives and target for the other side's mirrors."""

    def close(self) -> None:
        """Release network resources."""


class Translator(ABC):
    """Turns text from one language into another. The default keeps the original, tagged (offline)."""

    name: str

    @abstractmethod
    def translate(self, texts: Sequence[str], source_lang: str, target_lang: str) -> list[str | None]:
        """One translation per text, None where the provider gave none (the original is then kept)."""
