"""A standalone SVG from matplotlib becomes an inline chart that references nothing outside itself."""

from __future__ import annotations

import re

from clusterbridge.report.charts import FONT_SIZE, Bars, bar_chart
from clusterbridge.report.svg import inline_svg

STANDALONE = """<?xml version="1.0" encoding="utf-8" standalone="no"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN"
  "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<svg xmlns:xlink="http://www.w3.org/1999/xlink" width="100pt" height="50pt" viewBox="0 0 100 50"
     xmlns="http://www.w3.org/2000/svg" version="1.1">
 <metadata><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></metadata>
 <defs>
  <style type="text/css">*{stroke-linejoin: round}</style>
 </defs>
 <g id="figure_1">
  <g id="patch_1"><path d="M 0 0 L 1 1" clip-path="url(#p1)" style="fill: #ffffff"/></g>
  <defs><path id="m1" d="M 0 0 L 0 3"/></defs>
  <use xlink:href="#m1" x="1" y="2"/>
  <path d="M 0 0" fill="url(#m1)"/>
  <text x="1" y="1">A &amp; B &lt;b&gt;</text>
 </g>
 <defs><clipPath id="p1"><rect x="0" y="0" width="1" height="1"/></clipPath></defs>
</svg>
"""


class TestInlineSvg:
    """What inline_svg keeps, renames and drops."""

    def test_drops_prolog_metadata_styles_and_clip_paths(self) -> None:
        svg = inline_svg(STANDALONE, "chart-x", "A chart")
        assert svg.startswith("<svg ")
        for gone in ("<?xml", "DOCTYPE", "metadata", "rdf", "<style", "clipPath", "clip-path", "xmlns", "xlink"):
            assert gone not in svg

    def test_referenced_ids_are_prefixed_and_others_dropped(self) -> None:
        svg = inline_svg(STANDALONE, "chart-x", "A chart")
        assert re.findall(r' id="([^"]+)"', svg) == ["chart-x", "chart-x-m1"]
        assert 'href="#chart-x-m1"' in svg
        assert 'fill="url(#chart-x-m1)"' in svg

    def test_title_role_and_size(self) -> None:
        svg = inline_svg(STANDALONE, "chart-x", "Clusters <by> ecosystem")
        assert svg.startswith('<svg width="100pt" height="50pt" viewBox="0 0 100 50" id="chart-x" class="chart" '
                              'role="img" aria-label="Clusters &lt;by&gt; ecosystem">'
                              "<title>Clusters &lt;by&gt; ecosystem</title>")

    def test_text_stays_escaped(self) -> None:
        assert ">A &amp; B &lt;b&gt;</text>" in inline_svg(STANDALONE, "chart-x", "t")


class TestBarChart:
    """A matplotlib bar chart comes out inline, salted by its id, and the same every time."""

    def chart(self, chart_id: str = "chart-a") -> str:
        return bar_chart(chart_id, "Title", ["Digital · 디지털", "Health"], [Bars("Live", [3, 0], "#003399")])

    def test_stable(self) -> None:
        assert self.chart() == self.chart()

    def test_ids_differ_between_charts(self) -> None:
        ids_a = set(re.findall(r' id="([^"]+)"', self.chart("chart-a")))
        ids_b = set(re.findall(r' id="([^"]+)"', self.chart("chart-b")))
        assert len(ids_a) > 1
        assert len(ids_b) > 1
        assert not ids_a & ids_b

    def test_labels_and_values_are_text(self) -> None:
        svg = self.chart()
        assert ">Digital · 디지털</text>" in svg
        # bar labels are a point smaller than the axis text; a zero bar gets none
        assert re.findall(rf"font-size: {FONT_SIZE - 1:.0f}px[^>]*>([^<]*)</text>", svg) == ["3"]

    def test_long_labels_are_shortened(self) -> None:
        svg = bar_chart("chart-a", "T", ["x" * 100], [Bars("Live", [1], "#003399")])
        assert ">" + "x" * 59 + "…</text>" in svg

    def test_control_characters_do_not_break_the_xml(self) -> None:
        svg = bar_chart("chart-a", "T", ["bad\x00na\x1bme\u200b"], [Bars("Live", [1], "#003399")])
        assert ">bad na me</text>" in svg
