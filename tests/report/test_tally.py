"""The report's numbers, counted from rows by pure functions."""

from __future__ import annotations

from clusterbridge.report import ClusterRow, PairRow
from clusterbridge.report.tally import (
    Count,
    Interest,
    by_country,
    by_ecosystem,
    interests_by_ecosystem,
    live_over_time,
    naming,
    new_since,
    strongest,
    targets_named,
    withdrawn_since,
)
from tests.report.sample import EU, KR, SINCE, at


def row(key: str, *, live: bool = True, first: int = 1, gone: int | None = None, ecosystems: tuple[str, ...] = (),
        country: str = "DE", mirrored: bool = False, seeks: bool = False, targets: tuple[str, ...] = ()) -> ClusterRow:
    return ClusterRow(key, f"Cluster {key}", country, ecosystems, live, at(5, first), at(5, first),
                      withdrawn=at(5, gone) if gone else None, mirrored=mirrored, seeks_partners=seeks,
                      target_countries=targets)


class TestCounts:
    """Live clusters only; once per ecosystem; names trimmed; the 'none stated' bucket last."""

    def test_by_ecosystem(self) -> None:
        rows = [
            row("a", ecosystems=("Digital", "Health"), mirrored=True),
            row("b", ecosystems=(" Digital ", "Digital")),  # the same ecosystem twice counts once
            row("c", ecosystems=()),
            row("d", ecosystems=("Health",), live=False, gone=3),
            row("e", ecosystems=("Aerospace & defence",)),
        ]
        assert by_ecosystem(rows) == [
            Count("Digital", 2, 1), Count("Aerospace & defence", 1, 0), Count("Health", 1, 1), Count(None, 1, 0),
        ]

    def test_by_country_normalises_case(self) -> None:
        rows = [row("a", country="fr"), row("b", country="FR", mirrored=True), row("c", country=" de"),
                row("d", country="")]
        assert by_country(rows) == [Count("FR", 2, 1), Count("DE", 1, 0), Count(None, 1, 0)]

    def test_nothing_live_counts_nothing(self) -> None:
        assert by_ecosystem([row("a", live=False, gone=2)]) == []


class TestWindow:
    """New means first seen at or after the date; withdrawn means withdrawn at or after it."""

    def test_new_since_includes_the_boundary_and_withdrawn_newcomers(self) -> None:
        rows = [row("old", first=1), row("edge", first=10), row("gone", first=11, live=False, gone=12)]
        assert [r.id for r in new_since(rows, at(5, 10))] == ["gone", "edge"]

    def test_withdrawn_since(self) -> None:
        assert [r.id for r in withdrawn_since(EU, SINCE)] == ["eu:103"]
        assert [r.id for r in withdrawn_since(EU, at(3, 1))] == ["eu:103", "eu:104"]


class TestInterests:
    """Seekers per ecosystem and side; target countries named by live clusters, each once per cluster."""

    def test_interests_by_ecosystem(self) -> None:
        assert interests_by_ecosystem(EU, KR) == [
            Interest("Digital", 1, 1), Interest("Electronics", 1, 1), Interest("Health", 1, 0),
            Interest("Mobility-Transport-Automotive", 0, 1), Interest(None, 1, 0),
        ]

    def test_naming(self) -> None:
        assert naming(EU, "KR") == 3
        assert naming(EU, "kr") == 3
        assert naming(EU, "JP") == 1

    def test_targets_named_leave_home_out(self) -> None:
        assert targets_named(KR, "KR") == [("DE", 2), ("FR", 1), ("IT", 1)]
        assert targets_named([row("a", targets=("", "  "))], "KR") == []


class TestOverTime:
    """The live count as a step series from the date to the report's time."""

    def test_steps(self) -> None:
        rows = [row("before", first=1), row("joins", first=12), row("leaves", first=2, live=False, gone=13),
                row("gone-before", first=1, live=False, gone=5)]
        assert live_over_time(rows, at(5, 10), at(5, 15)) == [
            (at(5, 10), 2), (at(5, 12), 3), (at(5, 13), 2), (at(5, 15), 2),
        ]

    def test_an_event_at_the_end_is_the_last_point(self) -> None:
        assert live_over_time([row("a", first=15)], at(5, 10), at(5, 15)) == [(at(5, 10), 0), (at(5, 15), 1)]


class TestStrongest:
    """Best score first; ties by ids; at most the limit."""

    def test_order_and_limit(self) -> None:
        pairs = [PairRow("eu:2", "B", "kr:1", "K", 0.5), PairRow("eu:1", "A", "kr:2", "K", 0.5),
                 PairRow("eu:1", "A", "kr:1", "K", 0.5), PairRow("eu:3", "C", "kr:1", "K", 0.9)]
        assert [(p.eu_id, p.kr_id) for p in strongest(pairs, 3)] == [("eu:3", "kr:1"), ("eu:1", "kr:1"),
                                                                    ("eu:1", "kr:2")]
        assert strongest(pairs, 0) == []
