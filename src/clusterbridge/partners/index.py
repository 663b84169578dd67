"""Blocking for the partner matcher: one side's clusters grouped by profile, with inverted indexes.

Clusters with equal profiles score alike against anyone, so a group is scored once against each group of
the other side. Groups are found through their field of activity (every ecosystem and KSIC division is a
key) and, for mutual interest, through target countries: only groups sharing a key are ever compared.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import pairwise
from operator import attrgetter

from clusterbridge.partners.facts import KOREA, Facts, Field, Profile

_id = attrgetter("id")


class Group:
    """Clusters of one side with equal profiles, sorted by id, and split into classes of members with the same
    texts: a class scores alike against anyone."""

    __slots__ = ("classes", "members", "offers", "profile", "seeks")

    def __init__(self, profile: Profile, members: Iterable[Facts]) -> None:
        self.profile = profile
        self.members = tuple(sorted(members, key=_id))
        self.seeks = any(f.seeking is not None for f in self.members)  # some member has an English seeking text
        self.offers = any(f.offering is not None for f in self.members)  # ... an English offering text
        classes: dict[tuple[str | None, str | None], list[Facts]] = {}
        for f in self.members:
            classes.setdefault((f.seeking, f.offering), []).append(f)
        # most classes are one cluster, held as its facts (a tuple of one would cost more than the facts); a
        # group of one class shares the members' tuple
        self.classes: tuple[Facts | tuple[Facts, ...], ...] = (
            (self.members,) if len(classes) == 1 and len(self.members) > 1
            else tuple(found[0] if len(found) == 1 else tuple(found) for found in classes.values()))

    def each_class(self) -> Iterator[Sequence[Facts]]:
        """The classes, each as its members sorted by id."""
        for found in self.classes:
            yield (found,) if isinstance(found, Facts) else found


class ById(Mapping[str, Facts]):
    """A side's facts by id: a list sorted by id, searched by bisection. The matcher holds every cluster's facts
    at once, and a dict of every id takes several times the memory of the list."""

    __slots__ = ("_facts",)

    def __init__(self, facts: Iterable[Facts], name: str) -> None:
        self._facts = sorted(facts, key=_id)
        for before, after in pairwise(self._facts):
            if before.id == after.id:
                raise ValueError(f"{name} cluster {after.id!r} is given twice")

    def __getitem__(self, cluster_id: str) -> Facts:
        at = bisect_left(self._facts, cluster_id, key=_id)
        if at < len(self._facts) and self._facts[at].id == cluster_id:
            return self._facts[at]
        raise KeyError(cluster_id)

    def __iter__(self) -> Iterator[str]:
        return (f.id for f in self._facts)

    def __len__(self) -> int:
        return len(self._facts)


class Side:
    """One side's clusters of a run: facts by id, groups by profile and by field, and the indexes."""

    def __init__(self, facts: Iterable[Facts], name: str) -> None:
        members: dict[Profile, list[Facts]] = {}
        for f in facts:
            members.setdefault(f.profile, []).append(f)
        self.facts = ById((f for found in members.values() for f in found), name)
        self.groups: dict[Profile, Group] = {}
        self.by_field: dict[Field, list[Group]] = {}
        self._fields_by_key: dict[str, set[Field]] = {}  # ecosystem or division → fields holding it
        self.by_target: dict[str, list[Group]] = {}  # groups by each country they name
        self.by_country: dict[str, list[Group]] = {}  # groups that name Korea, by their own country
        for profile in list(members):  # each group's list let go as its group is made
            group = self.groups[profile] = Group(profile, members.pop(profile))
            self._index(group)

    def group_of(self, cluster_id: str) -> Group | None:
        """The group of this side's cluster (None: no cluster of this side has that id); found through its
        profile, so a side keeps no second map of every id."""
        f = self.facts.get(cluster_id)
        return None if f is None else self.groups[f.profile]

    def _index(self, group: Group) -> None:
        p = group.profile
        if p.field not in self.by_field:
            self.by_field[p.field] = []
            for key in _keys(p.field):
                self._fields_by_key.setdefault(key, set()).add(p.field)
        self.by_field[p.field].append(group)
        for country in p.targets:
            self.by_target.setdefault(country, []).append(group)
        if KOREA in p.targets:
            self.by_country.setdefault(p.country, []).append(group)

    def fields_near(self, field: Field) -> set[Field]:
        """This side's fields sharing an ecosystem or a division with `field`."""
        found: set[Field] = set()
        for key in _keys(field):
            found |= self._fields_by_key.get(key, set())
        return found


def _keys(field: Field) -> list[str]:
    # ecosystems and divisions share one index, kept apart by a prefix
    return [f"e:{name}" for name in field.ecosystems] + [f"d:{division}" for division in field.divisions]
