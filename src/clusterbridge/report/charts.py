"""The report's charts, drawn by matplotlib's SVG back end and returned as inline `<svg>` elements.

Text stays text (`svg.fonttype = none`), so Hangul is drawn by the reader's fonts; ids come from a salt per
chart and the file carries no date, so the same numbers give the same bytes. Figures are made without
pyplot: nothing global is left behind but the rc settings, which are scoped to each drawing.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import matplotlib as mpl
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from matplotlib.typing import RcKeyType

from clusterbridge.report.labels import chart_text, text_width
from clusterbridge.report.svg import inline_svg

FONT_SIZE = 10.0
WIDTH_IN = 7.0  # the time chart; a bar chart is as wide as its labels need, plus its bars
BARS_IN = 4.6
RIGHT_IN = 0.45  # room for the value at the end of the longest bar
POINTS_PER_INCH = 72.0

EU_COLOUR = "#003399"
EU_LIGHT = "#8da2d6"
KR_COLOUR = "#c60c30"
KR_LIGHT = "#eb9aa9"
PAIR_COLOUR = "#5b4a9e"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Bars:
    """One series of a bar chart: its legend label, one value per category, and its colour.

    `texts` are printed at the end of the bars; by default each value as a whole number, none for zero.
    """

    label: str
    values: Sequence[float]
    colour: str
    texts: Sequence[str] = ()

    def value_texts(self) -> list[str]:
        """The text at the end of each bar."""
        if self.texts:
            return list(self.texts)
        return [f"{value:.0f}" if value else "" for value in self.values]


@dataclass(frozen=True, slots=True)
class Steps:
    """One series of a step chart: its legend label, (time, value) points, and its colour."""

    label: str
    points: Sequence[tuple[datetime, int]]
    colour: str


def _rc(chart_id: str) -> dict[RcKeyType, Any]:
    return {
        "svg.fonttype": "none",
        "svg.hashsalt": chart_id,
        "text.parse_math": False,  # a '$' in a cluster's name is a dollar sign, not mathematics
        "text.usetex": False,
        "font.family": "sans-serif",
        "font.sans-serif": ["DejaVu Sans"],
        "font.size": FONT_SIZE,
        "axes.unicode_minus": False,
        "timezone": "UTC",
        "date.epoch": "1970-01-01T00:00:00",  # the epoch `_days` counts from
    }


def _days(moment: datetime) -> float:
    """A moment as matplotlib's date axis reads it: days since the epoch set in `_rc`."""
    return (moment - EPOCH).total_seconds() / 86400


def _svg(figure: Figure, chart_id: str, title: str) -> str:
    buffer = io.StringIO()
    with warnings.catch_warnings():
        # The layout measures text with the bundled DejaVu font, which has no Hangul; the reader's fonts
        # draw it, and label room comes from `text_width`, so the missing glyphs do not matter here.
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from", category=UserWarning)
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return inline_svg(buffer.getvalue(), chart_id, title)


def bar_chart(
    chart_id: str, title: str, categories: Sequence[str], series: Sequence[Bars], *, whole: bool = True
) -> str:
    """A horizontal bar chart, one group of bars per category (top to bottom in the order given).

    `whole` puts the value axis on whole numbers (counts); scores leave it free.
    """
    labels = [chart_text(category) for category in categories]
    rows = max(len(labels), 1)
    row_in = 0.12 * len(series) + 0.1
    top_in = 0.15 + 0.2 * len(series)
    bottom_in = 0.35
    left_in = max((text_width(label, FONT_SIZE) for label in labels), default=0.0) / POINTS_PER_INCH + 0.2
    width_in = left_in + BARS_IN + RIGHT_IN
    height_in = top_in + rows * row_in + bottom_in
    with mpl.rc_context(_rc(chart_id)):
        figure = Figure(figsize=(width_in, height_in))
        figure.subplots_adjust(
            left=left_in / width_in,
            right=1 - RIGHT_IN / width_in,
            top=1 - top_in / height_in,
            bottom=bottom_in / height_in,
        )
        axes = figure.add_subplot()
        band = 0.8 / max(len(series), 1)
        for index, bars in enumerate(series):
            positions = [row - 0.4 + band * (index + 0.5) for row in range(len(labels))]
            drawn = axes.barh(positions, list(bars.values), height=band, color=bars.colour, label=bars.label)
            axes.bar_label(drawn, labels=bars.value_texts(), padding=2, fontsize=FONT_SIZE - 1)
        axes.set_yticks(range(len(labels)), labels=labels)
        axes.set_ylim(len(labels) - 0.5, -0.5)  # first category on top
        highest = max((max(bars.values, default=0) for bars in series), default=0)
        axes.set_xlim(0, highest * 1.12 if highest > 0 else 1)
        axes.xaxis.set_major_locator(MaxNLocator(integer=whole))
        axes.tick_params(axis="y", length=0)
        axes.grid(axis="x", color="#dddddd", linewidth=0.6)
        axes.set_axisbelow(True)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        # legend above the bars, one entry a line: bilingual labels are too long to share a line
        axes.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=1, frameon=False, borderaxespad=0.3)
        return _svg(figure, chart_id, title)


def step_chart(chart_id: str, title: str, series: Sequence[Steps]) -> str:
    """A small chart of counts over time, each series a step line that holds until its next point."""
    with mpl.rc_context(_rc(chart_id)):
        height_in = 2.4 + 0.2 * len(series)
        top_in = 0.15 + 0.2 * len(series)
        figure = Figure(figsize=(WIDTH_IN, height_in))
        figure.subplots_adjust(left=0.08, right=0.97, top=1 - top_in / height_in, bottom=0.5 / height_in)
        axes = figure.add_subplot()
        days: list[float] = []
        for steps in series:
            times = [_days(moment) for moment, _ in steps.points]
            days.extend(times)
            axes.plot(times, [value for _, value in steps.points], drawstyle="steps-post", color=steps.colour,
                      linewidth=1.8, label=steps.label)
        if days and min(days) == max(days):
            axes.set_xlim(min(days) - 1, max(days) + 1)
        # matplotlib.dates ships without type hints; both calls are documented and stable
        locator = AutoDateLocator(minticks=3, maxticks=8)  # type: ignore[no-untyped-call]
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_ylim(bottom=0)
        axes.grid(axis="y", color="#dddddd", linewidth=0.6)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        axes.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=1, frameon=False, borderaxespad=0.3)
        return _svg(figure, chart_id, title)
