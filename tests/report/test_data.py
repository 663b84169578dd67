"""The report's input refuses what it cannot mean: naive times, a live cluster with a withdrawal, a window
that ends before it starts."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest

from clusterbridge.report import ClusterRow, DirectionHealth, ReportData
from tests.report.sample import NOW, SINCE, at, sample


class TestValidation:
    """Each rule raises ValueError naming what is wrong."""

    def test_naive_times_are_refused(self) -> None:
        with pytest.raises(ValueError, match="first_seen is a naive datetime"):
            ClusterRow("eu:1", "A", "DE", (), True, datetime(2026, 5, 1), at(5, 1))
        with pytest.raises(ValueError, match="last_clean_at is a naive datetime"):
            DirectionHealth("eccp-to-kicox", None, None, datetime(2026, 5, 1))
        with pytest.raises(ValueError, match="since is a naive datetime"):
            dataclasses.replace(sample(), since=datetime(2026, 5, 1))

    @pytest.mark.parametrize(("live", "withdrawn"), [(True, at(5, 2)), (False, None)])
    def test_withdrawn_exactly_when_not_live(self, live: bool, withdrawn: datetime | None) -> None:
        with pytest.raises(ValueError, match="`withdrawn` is set exactly when"):
            ClusterRow("eu:1", "A", "DE", (), live, at(5, 1), at(5, 1), withdrawn=withdrawn)

    def test_since_after_generation_is_refused(self) -> None:
        with pytest.raises(ValueError, match="after `generated_at`"):
            ReportData(generated_at=SINCE, since=NOW, eu=(), kr=())

    def test_an_empty_report_is_fine(self) -> None:
        data = ReportData(generated_at=NOW, since=SINCE, eu=(), kr=())
        assert data.side("eu") == ()
        assert data.platform("kr") == "KICOX"
