"""The reconciler is pure: every rule of the plan is proven here without servers."""

from __future__ import annotations

from datetime import UTC, datetime

from clusterbridge.reconcile.plan import (
    LinkState,
    MirrorState,
    NativeItem,
    decide,
    decide_orphan,
    decide_unreadable,
    decide_vanished,
)

T = datetime(2026, 10, 1, tzinfo=UTC)


def native(live: bool = True, digest: str = "h1", nid: str = "n1") -> NativeItem:
    return NativeItem(native_id=nid, external_id=f"x-{nid}", live=live, changed=T, name="Cluster",
                      payload={"title": "Cluster"} if live else None, payload_hash=digest if live else None)


def link(state: str = "live", digest: str | None = "h1", nid: str = "n1") -> LinkState:
    return LinkState(nid, f"x-{nid}", "m1", state, digest)


def mirror(digest: str = "h1", nid: str = "n1") -> MirrorState:
    return MirrorState("m1", f"x-{nid}", digest)


class TestLiveNatives:
    """A live native gets exactly one mirror, written only when something changed."""

    def test_new_native_is_created(self) -> None:
        assert decide(native(), None, None, full=False).kind == "create"

    def test_unchanged_native_costs_no_write(self) -> None:
        assert decide(native(), link(), None, full=False).kind == "unchanged"

    def test_changed_native_is_updated_with_its_mirror_id(self) -> None:
        action = decide(native(digest="h2"), link(), None, full=False)
        assert action.kind == "update"
        assert action.mirror_id == "m1"
        assert not action.repair

    def test_interrupted_create_is_resumed_as_a_create(self) -> None:
        # the connector's create adopts an existing mirror, so repeating it cannot duplicate
        assert decide(native(), link(state="creating", digest=None), None, full=False).kind == "create"

    def test_interrupted_create_that_succeeded_is_adopted_on_a_full_run(self) -> None:
        action = decide(native(), link(state="creating", digest=None), mirror(), full=True)
        assert action.kind in {"adopt", "update"}
        assert action.mirror_id == "m1"

    def test_mirror_already_on_target_without_ledger_entry_is_adopted_not_duplicated(self) -> None:
        assert decide(native(), None, mirror(), full=True).kind == "adopt"
        action = decide(native(digest="h2"), None, mirror(), full=True)
        assert action.kind == "update"
        assert action.repair


class TestRepairs:
    """Rule 1: edits or deletions made to a mirror on the target are repaired on a full reconcile."""

    def test_mirror_deleted_on_target_is_recreated(self) -> None:
        assert decide(native(), link(), None, full=True).kind == "create"

    def test_mirror_edited_on_target_is_overwritten_with_every_attribute(self) -> None:
        action = decide(native(), link(), mirror(digest="tampered"), full=True)
        assert action.kind == "update"
        assert action.repair

    def test_incremental_run_does_not_claim_a_missing_mirror(self) -> None:
        assert decide(native(), link(), None, full=False).kind == "unchanged"


class TestWithdrawal:
    """Rule 5: deleted, unpublished or withdrawn natives lose their mirrors."""

    def test_withdrawn_native_with_mirror_is_deleted(self) -> None:
        action = decide(native(live=False), link(), None, full=False)
        assert action.kind == "delete"
        assert action.mirror_id == "m1"

    def test_withdrawn_native_without_mirror_is_skipped(self) -> None:
        assert decide(native(live=False), None, None, full=False).kind == "skip"
        assert decide(native(live=False), link(state="deleted", digest=None), None, full=False).kind == "skip"

    def test_native_missing_from_full_listing_loses_its_mirror(self) -> None:
        action = decide_vanished(link(), full=True, trusted=True)
        assert action is not None
        assert (action.kind, action.mirror_id) == ("delete", "m1")

    def test_incremental_run_never_deletes_for_absence(self) -> None:
        assert decide_vanished(link(), full=False, trusted=True) is None
        assert decide_orphan(mirror(), full=False, trusted=True) is None

    def test_untrusted_listing_never_deletes_for_absence(self) -> None:
        assert decide_vanished(link(), full=True, trusted=False) is None
        assert decide_orphan(mirror(), full=True, trusted=False) is None

    def test_interrupted_deletion_is_finished_even_incrementally(self) -> None:
        action = decide_vanished(link(state="deleting"), full=False, trusted=False)
        assert action is not None
        assert action.kind == "delete"

    def test_orphan_mirror_is_deleted_on_full_reconcile(self) -> None:
        action = decide_orphan(mirror(nid="gone"), full=True, trusted=True)
        assert action is not None
        assert (action.kind, action.external_id) == ("delete", "x-gone")


class TestUnreadable:
    """A record the service cannot read is not a record that is gone (issue: nothing wiped)."""

    def test_unreadable_native_is_quarantined_and_keeps_its_mirror(self) -> None:
        action = decide_unreadable("n1", "x-n1", link(), "normalise: clstrNm is empty")
        assert action.kind == "quarantine"
        assert action.outcome == "quarantined"
        assert action.mirror_id == "m1"
        assert "kept" in action.reason

    def test_unreadable_new_native_is_quarantined_without_a_mirror(self) -> None:
        action = decide_unreadable("n2", "x-n2", None, "pull: estblYear is not a number")
        assert (action.kind, action.mirror_id) == ("quarantine", None)


class TestNativeLinks:
    """Rule 11: a native that has its own profile on the target is linked, never mirrored."""

    def test_linked_native_gets_no_mirror(self) -> None:
        action = decide(native(), None, None, full=False, linked_to="eu:p-1")
        assert (action.kind, action.outcome) == ("link", "linked")

    def test_existing_mirror_of_a_linked_native_is_removed(self) -> None:
        action = decide(native(), link(), None, full=False, linked_to="eu:p-1")
        assert (action.kind, action.outcome) == ("delete", "linked")
        assert "eu:p-1" in action.reason

    def test_withdrawn_linked_native_stays_linked(self) -> None:
        assert decide(native(live=False), None, None, full=False, linked_to="eu:p-1").kind == "link"


class TestTranslation:
    def test_a_translation_that_arrives_later_is_an_update(self) -> None:
        pending = LinkState("n1", "x-n1", "m1", "live", "h1", translation_pending=True)
        action = decide(native(digest="h2"), pending, None, full=False)
        assert (action.kind, action.reason) == ("update", "translation now available")
