"""Guard rails: when a listing is trusted, and how many deletions or updates a run may make alone."""

from __future__ import annotations

from clusterbridge.reconcile.guards import deletion_limit, listing_anomalies, update_limit


class TestListingTrust:
    def test_complete_listing_has_no_anomaly(self) -> None:
        assert listing_anomalies(100, 100, 98, 0.8) == []

    def test_short_listing_is_not_trusted(self) -> None:
        problems = listing_anomalies(50, 50, 100, 0.8)
        assert len(problems) == 1
        assert "fewer than 80%" in problems[0]

    def test_count_mismatch_is_not_trusted(self) -> None:
        assert listing_anomalies(90, 100, None, 0.8)

    def test_listing_that_ended_on_error_is_not_trusted(self) -> None:
        assert listing_anomalies(100, 100, 100, 0.8, ended_on_error="503")

    def test_first_listing_has_no_baseline(self) -> None:
        assert listing_anomalies(3, None, None, 0.8) == []


class TestLimits:
    def test_single_deletion_always_flows(self) -> None:
        assert deletion_limit(3, 10, 0.05) == 1

    def test_deletion_limit_is_the_smaller_of_count_and_share(self) -> None:
        assert deletion_limit(1000, 10, 0.05) == 10
        assert deletion_limit(100, 10, 0.05) == 5

    def test_update_limit_is_the_larger_of_count_and_share(self) -> None:
        assert update_limit(40, 50, 0.2) == 50
        assert update_limit(1000, 50, 0.2) == 200
