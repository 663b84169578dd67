"""The report for the programme's contact persons: one self-contained HTML file.

The caller fills a `ReportData` (from the ledger) and `render_report` returns the whole document: counts
by ecosystem and country on each side, new and withdrawn clusters, cooperation interests, suggested
partner pairs and sync health, with inline SVG charts and no external reference of any kind.
"""

from __future__ import annotations

from clusterbridge.report.data import ClusterRow, DirectionHealth, PairRow, ReportData, Side
from clusterbridge.report.render import render_report

__all__ = ["ClusterRow", "DirectionHealth", "PairRow", "ReportData", "Side", "render_report"]
