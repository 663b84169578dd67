"""Blocking for the partner matcher: one side's clusters grouped by profile, with inverted indexes.

Clusters with equal profiles score alike against anyone, so a group is scored once against each group of
the other side. Groups are found through their field of activity (every ecosystem and KSIC division is a
key) and, for mutual interest, through target countries: only groups sharing a key are ever compared.
"""

from __future__ import annotations

from collections.abc import Iterable

from clusterbridge.partners.facts import KOREA, Facts, Field, Profile


class Group:
    """Clusters of one side with equal profiles, sorted by id once the side is built, and split into
    classes of members with the same texts: a class scores alike against anyone."""

    __slots__ = ("classes", "members", "offers", "profile", "seeks")

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.members: list[Facts] = []
        self.classes: tuple[tuple[Facts, ...], ...] = ()
        self.seeks = False  # some member has an English seeking text
        self.offers = False  # some member has an English offering text

    def add(self, facts: Facts) -> None:
        self.members.append(facts)
        self.seeks = self.seeks or facts.seeking is not None
        self.offers = self.offers or facts.offering is not None

    def close(self) -> None:
        self.members.sort(key=lambda f: f.id)
        classes: dict[tuple[str | None, str | None], list[Facts]] = {}
        for f in self.members:
            classes.setdefault((f.seeking, f.offering), []).append(f)
        self.classes = tuple(tuple(members) for members in classes.values())  # tuples: most classes are one cluster


class Side:
    """One side's clusters of a run: facts by id, groups by profile and by field, and the indexes."""

    def __init__(self, facts: Iterable[Facts], name: str) -> None:
        self.facts: dict[str, Facts] = {}
        self.groups: dict[Profile, Group] = {}
        self.by_field: dict[Field, list[Group]] = {}
        self._fields_by_key: dict[str, set[Field]] = {}  # ecosystem or division → fields holding it
        self.by_target: dict[str, list[Group]] = {}  # groups by each country they name
        self.by_country: dict[str, list[Group]] = {}  # groups that name Korea, by their own country
        for f in facts:
            if f.id in self.facts:
                raise ValueError(f"{name} cluster {f.id!r} is given twice")
            self.facts[f.id] = f
            group = self.groups.get(f.profile)
            if group is None:
                group = self.groups[f.profile] = Group(f.profile)
                self._index(group)
            group.add(f)
        for group in self.groups.values():
            group.close()

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
