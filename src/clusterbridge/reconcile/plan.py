"""The reconciler: pure functions from native records, the ledger and the target's mirrors to a plan.

Nothing here does I/O, so every rule is tested without servers. The engine feeds it one native at a time
(`decide`) while streaming a listing, then asks `decide_absent` about what the listing did not show.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

ActionKind = Literal["create", "update", "delete", "unchanged", "adopt", "skip"]
LIVE_STATES = frozenset({"live", "creating", "deleting"})


@dataclass(frozen=True)
class LinkState:
    """What the ledger remembers of one native record's mirror."""

    native_id: str
    external_id: str
    mirror_id: str | None
    state: str  # creating | live | deleting | deleted | linked
    payload_hash: str | None


@dataclass(frozen=True)
class MirrorState:
    """A mirror as the target lists it, reduced to what reconciling needs."""

    mirror_id: str
    external_id: str
    content_hash: str


@dataclass(frozen=True)
class NativeItem:
    """A native record after normalising and rendering for the other side."""

    native_id: str
    external_id: str
    live: bool
    changed: datetime
    name: str
    payload: Mapping[str, Any] | None = None
    payload_hash: str | None = None


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    native_id: str
    external_id: str
    reason: str
    mirror_id: str | None = None
    payload: Mapping[str, Any] | None = None
    payload_hash: str | None = None
    changed: datetime | None = None
    name: str = ""
    repair: bool = False  # the target no longer holds what we wrote: send every attribute
    linked_to: str | None = None  # rule 11: the native's own profile on the target


@dataclass
class Plan:
    """Everything one direction of one run would do."""

    direction: str
    actions: list[Action] = field(default_factory=list)

    def of(self, kind: ActionKind) -> list[Action]:
        return [a for a in self.actions if a.kind == kind]

    def counts(self) -> dict[str, int]:
        out = {k: 0 for k in ("create", "update", "delete", "unchanged", "adopt", "skip")}
        for action in self.actions:
            out[action.kind] += 1
        return out


def decide(
    native: NativeItem,
    link: LinkState | None,
    mirror: MirrorState | None,
    *,
    full: bool,
    linked_to: str | None = None,
) -> Action:
    """The one action that brings the target in line for `native`.

    `mirror` is what a full listing of the target showed for this native's external id (None when the
    run is incremental, or when the target holds no such mirror). `linked_to` names the target's own
    native profile of this record (rule 11), in which case no mirror may exist.
    """
    base = {"native_id": native.native_id, "external_id": native.external_id, "name": native.name,
            "changed": native.changed}
    mirror_id = (mirror.mirror_id if mirror else None) or (link.mirror_id if link else None)
    has_mirror = mirror is not None or (link is not None and link.state in LIVE_STATES)

    if linked_to is not None:
        if has_mirror:
            return Action("delete", mirror_id=mirror_id, reason=f"linked to its own profile {linked_to}", **base)
        return Action("skip", reason=f"linked to its own profile {linked_to}", **base)

    if not native.live:
        if has_mirror:
            return Action("delete", mirror_id=mirror_id, reason="withdrawn or unpublished at the source", **base)
        return Action("skip", reason="not live at the source", **base)

    payload, digest = native.payload, native.payload_hash
    write = {"payload": payload, "payload_hash": digest, **base}
    if link is None or link.state not in LIVE_STATES:
        if mirror is None:
            return Action("create", reason="new at the source", **write)
        if mirror.content_hash == digest:
            return Action("adopt", mirror_id=mirror.mirror_id, reason="mirror already on the target", **write)
        return Action("update", mirror_id=mirror.mirror_id, repair=True, reason="adopting the mirror on the target",
                      **write)

    if link.state == "creating" and mirror is not None:
        # an interrupted create that had reached the target: adopt it, rewriting only if it differs
        if mirror.content_hash == digest:
            return Action("adopt", mirror_id=mirror.mirror_id, reason="interrupted create had succeeded", **write)
        return Action("update", mirror_id=mirror.mirror_id, repair=True,
                      reason="interrupted create had succeeded: completing", **write)
    if link.state == "creating":
        # an interrupted create: the target may or may not hold it; the connector's create adopts on conflict
        return Action("create", reason="resuming an interrupted create", **write)
    if full and mirror is None:
        return Action("create", reason="mirror missing on the target: repairing", **write)
    if full and mirror is not None and mirror.content_hash != link.payload_hash:
        return Action("update", mirror_id=mirror.mirror_id, repair=True,
                      reason="mirror edited on the target: repairing", **write)
    if link.state == "deleting":
        return Action("create", reason="interrupted deletion of a live native: restoring", **write)
    if link.payload_hash != digest:
        return Action("update", mirror_id=mirror_id, reason="changed at the source", **write)
    return Action("unchanged", mirror_id=mirror_id, reason="unchanged", **write)


def decide_absent(
    links: Iterable[LinkState],
    orphans: Iterable[MirrorState],
    *,
    full: bool,
    trusted: bool,
) -> list[Action]:
    """Actions for what the listing did not show.

    `links` are ledger entries whose native the listing did not return; `orphans` are mirrors on the
    target that no native of this run accounts for (including second copies of one external id). Both
    mean deletions only after a complete, trusted full listing: an incremental run shows only changes,
    and a short listing is not evidence of deletion.
    """
    actions: list[Action] = []
    for link in links:
        if link.state == "deleting":
            # a deletion recorded before a crash: finish it (the target treats an absent mirror as done)
            actions.append(Action("delete", link.native_id, link.external_id, "resuming an interrupted deletion",
                                  mirror_id=link.mirror_id))
        elif full and trusted and link.state in LIVE_STATES:
            actions.append(Action("delete", link.native_id, link.external_id,
                                  "no longer in the source's full listing (deleted at the source)",
                                  mirror_id=link.mirror_id))
    if full and trusted:
        for orphan in orphans:
            actions.append(Action("delete", "", orphan.external_id, "mirror on the target without a live native",
                                  mirror_id=orphan.mirror_id))
    return actions
