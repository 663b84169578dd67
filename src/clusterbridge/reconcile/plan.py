"""The reconciler: pure functions from a native record, what the ledger remembers of it and what the target
shows, to the one action that brings the target in line.

Nothing here does I/O, so every rule is tested without servers. The engine asks `decide` about each native a
run handles, and `decide_vanished` / `decide_orphan` about what a full listing no longer shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

ActionKind = Literal["create", "update", "delete", "unchanged", "adopt", "skip", "link", "quarantine"]
LIVE_STATES = frozenset({"live", "creating", "deleting"})
TRANSLATED = "translation now available"
# what a handled record's action counts as in sync_runs (a held or rejected deletion is counted apart)
OUTCOMES: Mapping[str, str] = {
    "create": "created",
    "update": "updated",
    "adopt": "unchanged",
    "unchanged": "unchanged",
    "delete": "deleted",
    "skip": "skipped",
    "link": "linked",
    "quarantine": "quarantined",
}


@dataclass(frozen=True)
class LinkState:
    """What the ledger remembers of one native record's mirror."""

    native_id: str
    external_id: str
    mirror_id: str | None
    state: str  # creating | live | deleting | deleted | linked
    payload_hash: str | None
    translation_pending: bool = False

    @property
    def has_mirror(self) -> bool:
        return self.state in LIVE_STATES


@dataclass(frozen=True)
class MirrorState:
    """A mirror as the target lists it, reduced to what reconciling needs."""

    mirror_id: str
    external_id: str
    content_hash: str


@dataclass(frozen=True)
class NativeItem:
    """A native record after normalising and rendering for the other side (payload None when not live)."""

    native_id: str
    external_id: str
    live: bool
    changed: datetime
    name: str
    country: str = ""
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
    country: str = ""
    repair: bool = False  # the target no longer holds what we wrote: send every attribute
    linked_to: str | None = None  # rule 11: the native's own profile on the target

    @property
    def outcome(self) -> str:
        if self.kind == "delete" and self.linked_to is not None:
            return "linked"
        return OUTCOMES[self.kind]


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
    base = Action("skip", native.native_id, native.external_id, "", name=native.name, country=native.country,
                  changed=native.changed)
    mirror_id = (mirror.mirror_id if mirror else None) or (link.mirror_id if link else None)
    has_mirror = mirror is not None or (link is not None and link.has_mirror)

    if linked_to is not None:
        reason = f"linked to its own profile {linked_to}"
        if has_mirror:
            return replace(base, kind="delete", mirror_id=mirror_id, reason=reason, linked_to=linked_to)
        return replace(base, kind="link", reason=reason, linked_to=linked_to)

    if not native.live:
        if has_mirror:
            return replace(base, kind="delete", mirror_id=mirror_id, reason="withdrawn or unpublished at the source")
        return replace(base, kind="skip", reason="not live at the source")

    write = replace(base, payload=native.payload, payload_hash=native.payload_hash)
    if link is None or not link.has_mirror:
        if mirror is None:
            return replace(write, kind="create", reason="new at the source")
        if mirror.content_hash == native.payload_hash:
            return replace(write, kind="adopt", mirror_id=mirror.mirror_id, reason="mirror already on the target")
        return replace(write, kind="update", mirror_id=mirror.mirror_id, repair=True,
                       reason="adopting the mirror on the target")

    if link.state == "creating" and mirror is not None:
        # an interrupted create that had reached the target: adopt it, rewriting only if it differs
        if mirror.content_hash == native.payload_hash:
            return replace(write, kind="adopt", mirror_id=mirror.mirror_id, reason="interrupted create had succeeded")
        return replace(write, kind="update", mirror_id=mirror.mirror_id, repair=True,
                       reason="interrupted create had succeeded: completing")
    if link.state == "creating":
        # an interrupted create: the target may or may not hold it; the connector's create adopts on conflict
        return replace(write, kind="create", reason="resuming an interrupted create")
    if full and mirror is None:
        return replace(write, kind="create", reason="mirror missing on the target: repairing")
    if full and mirror is not None and mirror.content_hash != link.payload_hash:
        return replace(write, kind="update", mirror_id=mirror.mirror_id, repair=True,
                       reason="mirror edited on the target: repairing")
    if link.state == "deleting":
        return replace(write, kind="create", reason="interrupted deletion of a live native: restoring")
    if link.payload_hash != native.payload_hash:
        reason = TRANSLATED if link.translation_pending else "changed at the source"
        return replace(write, kind="update", mirror_id=mirror_id, reason=reason)
    return replace(write, kind="unchanged", mirror_id=mirror_id, reason="unchanged")


def decide_unreadable(native_id: str, external_id: str, link: LinkState | None, reason: str) -> Action:
    """A native the run could not read or render: quarantined, and its mirror kept. A record the service cannot
    read is not a record that is gone (it is retried by id on every run until it passes)."""
    kept = " (its mirror is kept)" if link is not None and link.has_mirror else ""
    return Action("quarantine", native_id, external_id, reason + kept,
                  mirror_id=link.mirror_id if link is not None else None)


def decide_vanished(link: LinkState, *, full: bool, trusted: bool) -> Action | None:
    """A ledger entry whose native the run did not see: a deletion only after a complete, trusted full listing
    (an incremental run shows only changes, and a short listing is not evidence of deletion), except an
    interrupted deletion, which is always finished."""
    if link.state == "deleting":
        return Action("delete", link.native_id, link.external_id, "resuming an interrupted deletion",
                      mirror_id=link.mirror_id)
    if full and trusted and link.has_mirror:
        return Action("delete", link.native_id, link.external_id,
                      "no longer in the source's full listing (deleted at the source)", mirror_id=link.mirror_id)
    return None


def decide_orphan(mirror: MirrorState, *, full: bool, trusted: bool) -> Action | None:
    """A mirror on the target that no native of this run accounts for (including a second copy of one external
    id): deleted only after a complete, trusted full listing."""
    if full and trusted:
        return Action("delete", "", mirror.external_id, "mirror on the target without a live native",
                      mirror_id=mirror.mirror_id)
    return None
