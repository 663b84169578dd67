"""The matcher's side of a run: its facts by id, its groups and their classes, and what they hold."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable, Sequence

import pytest

from clusterbridge.partners.facts import Evidence, Facts, Field, Profile
from clusterbridge.partners.index import Side

EVIDENCE = Evidence({}, {}, (), ())
BATTERIES = Profile(Field(frozenset({"energy-intensive industries"}), frozenset({"C28"})), "DE", frozenset(), False)
TEXTILES = Profile(Field(frozenset({"textiles"}), frozenset({"C13"})), "FR", frozenset({"KR"}), True)


def facts(cluster_id: str, profile: Profile = BATTERIES, seeking: str | None = None,
          offering: str | None = None) -> Facts:
    return Facts(cluster_id, profile, EVIDENCE, None, seeking, offering)


def plain_classes(members: Sequence[Facts]) -> list[list[Facts]]:
    """Members sorted by id and split by their texts, classes in the order their first member comes."""
    found: dict[tuple[str | None, str | None], list[Facts]] = {}
    for f in sorted(members, key=lambda f: f.id):
        found.setdefault((f.seeking, f.offering), []).append(f)
    return list(found.values())


class TestFactsById:
    def test_every_cluster_is_found_by_its_id_and_no_other(self) -> None:
        given = [facts(f"eu-{n:03d}", BATTERIES if n % 3 else TEXTILES) for n in (7, 3, 11, 5, 1, 9)]
        side = Side(given, "European")
        for f in given:
            assert side.facts[f.id] is f
            assert f.id in side.facts
            assert side.group_of(f.id) is side.groups[f.profile]
        for missing in ("eu-000", "eu-004", "eu-012", "", "zz"):
            assert missing not in side.facts
            assert side.facts.get(missing) is None
            assert side.group_of(missing) is None
            with pytest.raises(KeyError):
                side.facts[missing]
        assert list(side.facts) == sorted(f.id for f in given)
        assert len(side.facts) == len(given)
        assert dict(side.facts) == {f.id: f for f in given}

    @pytest.mark.parametrize(("ids", "twice"), [
        (["b", "b", "c", "d"], "b"), (["b", "c", "d", "b"], "b"), (["d", "c", "a", "d"], "d"), (["a", "c", "c"], "c"),
    ])
    def test_a_cluster_given_twice_anywhere_is_refused_by_name(self, ids: list[str], twice: str) -> None:
        # in a group of its own or in another: the profile does not matter
        given = [facts(cluster_id, BATTERIES if n % 2 else TEXTILES) for n, cluster_id in enumerate(ids)]
        with pytest.raises(ValueError, match=rf"^Korean cluster '{twice}' is given twice$"):
            Side(given, "Korean")


class TestClasses:
    def test_a_groups_classes_are_its_members_sorted_by_id_and_split_by_their_texts(self) -> None:
        texts = [("a", None), (None, "b"), ("a", None), (None, None), ("a", "b"), (None, "b"), ("a", None)]
        given = [facts(f"kr-{n}", BATTERIES if n % 2 else TEXTILES, *texts[n % len(texts)])
                 for n in (14, 3, 9, 20, 1, 7, 12, 5, 18, 0, 11)]
        side = Side(given, "Korean")
        for profile, group in side.groups.items():
            members = [f for f in given if f.profile == profile]
            assert list(group.members) == sorted(members, key=lambda f: f.id)
            assert [list(c) for c in group.each_class()] == plain_classes(members)
            assert group.seeks == any(f.seeking for f in members)
            assert group.offers == any(f.offering for f in members)

    def test_a_class_of_one_is_held_as_its_facts_and_a_group_of_one_class_shares_its_members(self) -> None:
        alone = [facts(f"eu-{n}", seeking=f"text {n}") for n in range(4)]
        alike = [facts(f"eu-t{n}", TEXTILES, seeking="the same") for n in range(3)]
        side = Side([*alone, *alike], "European")
        singles = side.groups[BATTERIES]
        assert singles.classes == tuple(alone)  # no tuple of one around each
        assert [list(c) for c in singles.each_class()] == [[f] for f in alone]
        one_class = side.groups[TEXTILES]
        assert len(one_class.classes) == 1
        assert one_class.classes[0] is one_class.members
        assert list(one_class.members) == alike


class TestMemory:
    def test_a_side_holds_a_few_references_a_cluster_besides_its_facts(self) -> None:
        """The matcher holds both sides of a whole listing at once, and clusters with texts of their own (most
        real ones) are each a class of one. A side holds three references a cluster (the list by id, the group's
        members, its classes); a dict of every id and a tuple of one around each class took about 90 bytes."""
        given = [facts(f"eu-{n:06d}", BATTERIES if n % 2 else TEXTILES, f"seeking {n}") for n in range(20_000)]
        per_cluster = _traced(lambda: Side(given, "European")) / len(given)
        assert per_cluster < 40, f"a side took {per_cluster:.1f} bytes a cluster"


def _traced(build: Callable[[], object]) -> int:
    """Bytes still allocated once `build()` returns (its result kept alive while measured)."""
    tracemalloc.start()
    try:
        kept = build()
        size = tracemalloc.get_traced_memory()[0]
        del kept
    finally:
        tracemalloc.stop()
    return size
