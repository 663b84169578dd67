"""`render_report`: one self-contained HTML document for the programme's contact persons on both sides.

The page is a Jinja template with autoescaping, so every piece of cluster text is escaped on its way in;
the only markup inserted unescaped is the charts, which the SVG module has parsed and serialised itself.
The page loads nothing: styles are inline, charts are inline SVG, and its Content-Security-Policy forbids
any fetch, so even a mistake would not reach the network.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from clusterbridge.report import labels, tally
from clusterbridge.report.charts import (
    EU_COLOUR,
    EU_LIGHT,
    KR_COLOUR,
    KR_LIGHT,
    PAIR_COLOUR,
    Bars,
    Steps,
    bar_chart,
    step_chart,
)
from clusterbridge.report.data import ClusterRow, DirectionHealth, ReportData, Side

T = TypeVar("T")

# Charts show the largest categories; the tables beside them list every one.
CHART_ROWS = 20


@dataclass(frozen=True, slots=True)
class Chart:
    """An inline chart and the title it carries (in its `<title>` and its caption)."""

    id: str
    title_en: str
    title_ko: str
    svg: Markup


@dataclass(frozen=True, slots=True)
class CountLine:
    """One line of a count table: the category in both languages, live and mirrored counts."""

    key: str
    name_en: str
    name_ko: str
    live: int
    mirrored: int


@dataclass(frozen=True, slots=True)
class SideView:
    """What the report says about one side's native clusters."""

    side: Side
    platform: str
    other_platform: str
    live: int
    mirrored: int
    seeking: int
    new: list[ClusterRow]
    withdrawn: list[ClusterRow]
    ecosystems: list[CountLine]
    countries: list[CountLine]


@dataclass(frozen=True, slots=True)
class HealthLine:
    """One direction of the sync, with its freshness worked out against the report's own time."""

    row: DirectionHealth
    fresh_en: str
    fresh_ko: str
    stale: bool


def _bar_chart(
    name: str, title: tuple[str, str], categories: Sequence[str], series: Sequence[Bars], *, whole: bool = True
) -> Chart:
    chart_id = f"chart-{name}"  # the page's own ids (sections, tables) never start so
    svg = bar_chart(chart_id, labels.both(title), categories, series, whole=whole)
    return Chart(chart_id, *title, Markup(svg))  # noqa: S704 - parsed and serialised by svg.inline_svg


def _top(items: Sequence[T], title: tuple[str, str]) -> tuple[list[T], tuple[str, str]]:
    """The first CHART_ROWS items (the largest), and the title saying so when some are left out."""
    if len(items) <= CHART_ROWS:
        return list(items), title
    en, ko = title
    shown = f"{CHART_ROWS}/{len(items)}"
    return list(items[:CHART_ROWS]), (f"{en} (the {shown} largest)", f"{ko} (상위 {shown})")


def _side(data: ReportData, side: Side) -> SideView:
    rows = data.side(side)
    other: Side = "kr" if side == "eu" else "eu"
    live = [row for row in rows if row.live]
    ecosystems = [
        CountLine(count.key or "", *labels.ecosystem(count.key, data.ecosystem_labels_ko), count.live,
                  count.mirrored)
        for count in tally.by_ecosystem(rows)
    ]
    countries = [
        CountLine(count.key or "", *labels.country(count.key), count.live, count.mirrored)
        for count in tally.by_country(rows)
    ]
    return SideView(
        side=side,
        platform=data.platform(side),
        other_platform=data.platform(other),
        live=len(live),
        mirrored=sum(1 for row in live if row.mirrored),
        seeking=sum(1 for row in live if row.seeks_partners),
        new=tally.new_since(rows, data.since),
        withdrawn=tally.withdrawn_since(rows, data.since),
        ecosystems=ecosystems,
        countries=countries,
    )


def _count_chart(view: SideView, what: str, lines: list[CountLine], title: tuple[str, str]) -> Chart:
    light, dark = (EU_LIGHT, EU_COLOUR) if view.side == "eu" else (KR_LIGHT, KR_COLOUR)
    series = [
        Bars(f"Live on {view.platform} · {view.platform} 게시 중", [line.live for line in lines], dark),
        Bars(f"Shown on {view.other_platform} · {view.other_platform}에 게시됨",
             [line.mirrored for line in lines], light),
    ]
    categories = [labels.both((line.name_en, line.name_ko)) for line in lines]
    return _bar_chart(f"{what}-{view.side}", title, categories, series)


def _health(data: ReportData) -> list[HealthLine]:
    lines = []
    for row in data.health:
        if row.last_clean_at is None:
            lines.append(HealthLine(row, "never", "없음", True))
            continue
        age = data.generated_at - row.last_clean_at
        en, ko = labels.duration(age)
        lines.append(HealthLine(row, en, ko, age > data.stale_after))
    return lines


def build_view(data: ReportData) -> dict[str, Any]:
    """Everything the template shows, counted and charted, keyed by the names the template uses."""
    eu, kr = _side(data, "eu"), _side(data, "kr")
    side_names = {
        "eu": (f"European clusters on {eu.platform}", f"{eu.platform}의 유럽 클러스터"),
        "kr": (f"Korean clusters on {kr.platform}", f"{kr.platform}의 한국 클러스터"),
    }
    charts: dict[str, Chart | None] = {}
    for view in (eu, kr):
        en, ko = side_names[view.side]
        for what, lines, title in (
            ("ecosystem", view.ecosystems, (f"{en} by industrial ecosystem", f"{ko}: 산업 생태계별")),
            ("country", view.countries, (f"{en} by country", f"{ko}: 국가별")),
        ):
            charts[f"{what}-{view.side}"] = _count_chart(view, what, *_top(lines, title)) if lines else None

    interests = [
        (labels.ecosystem(line.ecosystem, data.ecosystem_labels_ko), line)
        for line in tally.interests_by_ecosystem(data.eu, data.kr)
    ]
    shown, title = _top(
        interests, ("Clusters seeking partners, by industrial ecosystem", "파트너를 찾는 클러스터: 산업 생태계별")
    )
    charts["interests"] = _bar_chart(
        "interests",
        title,
        [labels.both(name) for name, _ in shown],
        [
            Bars("European clusters · 유럽 클러스터", [line.eu for _, line in shown], EU_COLOUR),
            Bars("Korean clusters · 한국 클러스터", [line.kr for _, line in shown], KR_COLOUR),
        ],
    ) if interests else None

    targets = [(labels.country(code), count) for code, count in tally.targets_named(data.kr, "KR")]
    named, title = _top(targets, ("Target countries named by Korean clusters", "한국 클러스터가 협력을 희망하는 국가"))
    charts["targets"] = _bar_chart(
        "targets",
        title,
        [labels.both(name) for name, _ in named],
        [Bars("Korean clusters · 한국 클러스터", [count for _, count in named], KR_COLOUR)],
    ) if targets else None

    pairs = tally.strongest(data.pairs, data.max_pairs)
    charts["pairs"] = _bar_chart(
        "pairs",
        ("Strongest suggested partner pairs, by score", "추천 파트너 쌍: 점수순"),
        [f"{pair.eu_name} ↔ {pair.kr_name}" for pair in pairs],
        [Bars("Score · 점수", [pair.score for pair in pairs], PAIR_COLOUR,
              texts=[f"{pair.score:.2f}" for pair in pairs])],
        whole=False,
    ) if pairs else None

    since_day = labels.day(data.since)
    timeline_title = (f"Live clusters since {since_day}", f"{since_day} 이후 게시 중인 클러스터 수")
    timeline = step_chart("chart-timeline", labels.both(timeline_title), [
        Steps(labels.both(side_names["eu"]), tally.live_over_time(data.eu, data.since, data.generated_at), EU_COLOUR),
        Steps(labels.both(side_names["kr"]), tally.live_over_time(data.kr, data.since, data.generated_at), KR_COLOUR),
    ])
    charts["timeline"] = Chart("chart-timeline", *timeline_title, Markup(timeline))  # noqa: S704 - see _bar_chart

    return {
        "data": data,
        "generated": labels.moment(data.generated_at),
        "since": labels.moment(data.since),
        "sides": [eu, kr],
        "side_names": side_names,
        "charts": charts,
        "ecosystem_table": _ecosystem_table(eu, kr),
        "interests": interests,
        "eu_naming_korea": tally.naming(data.eu, "KR"),
        "eu_seeking": eu.seeking,
        "targets": targets,
        "pairs": pairs,
        "health": _health(data),
        "moment": labels.moment,
        "day": labels.day,
        "country": labels.country,
    }


def _ecosystem_table(eu: SideView, kr: SideView) -> list[tuple[CountLine | None, CountLine | None]]:
    """Each ecosystem either side counts, with both sides' lines, by their total, largest first."""
    by_key = {"eu": {line.key: line for line in eu.ecosystems}, "kr": {line.key: line for line in kr.ecosystems}}
    keys = set(by_key["eu"]) | set(by_key["kr"])

    def total(key: str) -> int:
        return sum(by_key[side][key].live for side in ("eu", "kr") if key in by_key[side])

    ordered = sorted(keys, key=lambda key: (key == "", -total(key), key))
    return [(by_key["eu"].get(key), by_key["kr"].get(key)) for key in ordered]


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("clusterbridge.report"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_report(data: ReportData) -> str:
    """The whole report as one HTML document; equal data gives equal text."""
    return _environment().get_template("report.html.j2").render(build_view(data))
