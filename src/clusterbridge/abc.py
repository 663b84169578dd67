"""Every interface of clusterbridge in one place: connectors (sources and targets) and translators.

A connector owns one platform: its wire models, the normaliser from the wire to the shared `Cluster`, and the
shaping of a rendered record into the platform's mirror payload. The core (engine, reconciler, ledger) only
sees these types and speaks of sides ("eu", "kr"), never of a platform. Implementations are injected.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from clusterbridge.model import Cluster, RenderedCluster

JSON = dict[str, Any]


@dataclass(frozen=True)
class RecordProblem:
    """A record that could not be read, rendered or written: quarantined with its reason, never raised (rule 6).

    `source_id` is None when the record carries no id the service can use (not an object, no id, an id the
    contract does not allow): such a record cannot be matched to a mirror, so a full listing holding one is not
    trusted for deletions.
    """

    source_id: str | None
    reason: str
    field: str | None = None
    raw: Any = None
    retryable: bool = True


@dataclass(frozen=True)
class NativeRecord:
    """One native record as pulled: its id, its change time and the connector's own wire model of it."""

    native_id: str
    changed: datetime
    wire: Any


@dataclass
class NativePage:
    """One page of a listing: the records that were read, and the problems of those that were not.

    `reported_total` is what the platform says the whole listing holds, when it says (full listings only).
    """

    records: list[NativeRecord] = field(default_factory=list)
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
    """Pulls a platform's own records, page by page, and turns them into the shared model."""

    @abstractmethod
    def iter_natives(self, since: datetime | None = None) -> Iterator[NativePage]:
        """Native records changed at or after `since` (all of them when None), oldest change first.

        Incremental pulls overlap the cursor, so records sharing the cursor's second are not missed. Mirrors
        written by partners are never returned (rule 2). An element the connector cannot read is a problem of
        its page, never a failed page. Raises ListingIncomplete (or a PlatformError) when the listing cannot be
        finished.
        """

    @abstractmethod
    def normalise(self, record: NativeRecord) -> Cluster:
        """The shared `Cluster` of one native; raises ValueError naming the field when it cannot be read."""

    @abstractmethod
    def external_id(self, native_id: str) -> str:
        """The id a mirror of this native carries on the other platform (how it is found there again)."""


class MirrorTarget(ABC):
    """Holds the mirrors of the other side's clusters.

    `server_keys` are the payload attributes the platform sets itself; they are never compared. `write_batch`
    is how many writes one `write` call takes, `concurrency` how many calls may run at once.
    """

    server_keys: frozenset[str] = frozenset()
    write_batch: int = 100
    concurrency: int = 1

    @abstractmethod
    def shape(self, record: RenderedCluster) -> JSON:
        """The mirror payload of a rendered record in this platform's wire shape (ValueError naming the field
        when the record cannot be shown here)."""

    @abstractmethod
    def iter_mirrors(self) -> Iterator[list[MirrorRecord]]:
        """Every mirror this partner has written, page by page."""

    @abstractmethod
    def write(self, writes: Sequence[MirrorWrite]) -> list[WriteResult]:
        """Create or update mirrors, one result per write in order. A create whose mirror already exists
        (same external id) adopts it instead of duplicating it. A write the platform refuses is a failed
        result, never an exception; an exception means the platform cannot be used at all."""

    @abstractmethod
    def delete(self, external_id: str, mirror_id: str | None) -> None:
        """Delete one mirror (found by its mirror id, or by its external id when that is unknown); one that is
        already gone counts as done."""


class Connector(NativeSource, MirrorTarget, ABC):
    """A platform: source of its natives and target for the other side's mirrors."""

    name: str

    def close(self) -> None:  # an optional hook (not abstract): most connectors hold a client to close
        """Release network and file resources."""


class Translator(ABC):
    """Turns text from one language into another. The default keeps the original, tagged (offline)."""

    name: str

    @abstractmethod
    def translate(self, texts: Sequence[str], source_lang: str, target_lang: str) -> list[str | None]:
        """One translation per text, None where the provider gave none (the original is then kept)."""


__all__ = [
    "JSON",
    "Connector",
    "MirrorRecord",
    "MirrorTarget",
    "MirrorWrite",
    "NativePage",
    "NativeRecord",
    "NativeSource",
    "RecordProblem",
    "Translator",
    "WriteResult",
]
