"""The report in a real headless Chromium: it renders without a console error, its charts are there with
their titles, and loading it requests nothing but the file itself."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clusterbridge.report import render_report
from tests.report import chromium as chromium_module
from tests.report.chromium import Browser, chromium
from tests.report.sample import sample
from tests.report.test_render import hostile_data

CHARTS = [
    ("chart-ecosystem-eu", "European clusters on ECCP by industrial ecosystem · ECCP의 유럽 클러스터: 산업 생태계별"),
    ("chart-ecosystem-kr", "Korean clusters on KICOX by industrial ecosystem · KICOX의 한국 클러스터: 산업 생태계별"),
    ("chart-country-eu", "European clusters on ECCP by country · ECCP의 유럽 클러스터: 국가별"),
    ("chart-country-kr", "Korean clusters on KICOX by country · KICOX의 한국 클러스터: 국가별"),
    ("chart-timeline", "Live clusters since 2026-05-10 · 2026-05-10 이후 게시 중인 클러스터 수"),
    ("chart-interests", "Clusters seeking partners, by industrial ecosystem · 파트너를 찾는 클러스터: 산업 생태계별"),
    ("chart-targets", "Target countries named by Korean clusters · 한국 클러스터가 협력을 희망하는 국가"),
    ("chart-pairs", "Strongest suggested partner pairs, by score · 추천 파트너 쌍: 점수순"),
]

# What the rendered DOM holds: each chart's id, <title>, drawn size and number of text elements.
INSPECT = """
[...document.querySelectorAll("svg")].map(svg => {
  const box = svg.getBoundingClientRect();
  return {
    id: svg.id,
    title: svg.querySelector(":scope > title")?.textContent ?? null,
    label: svg.getAttribute("aria-label"),
    width: box.width,
    height: box.height,
    texts: svg.querySelectorAll("text").length,
  };
})
"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as running:
        yield running


def write(tmp_path: Path, html: str) -> str:
    path = tmp_path / "report.html"
    path.write_text(html, encoding="utf-8")
    return path.as_uri()


@pytest.fixture(scope="module")
def loaded(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Any, Any]:
    """The sample report opened once: its URL, what the visit saw, and its charts as the DOM holds them."""
    url = write(tmp_path_factory.mktemp("report"), render_report(sample()))
    visit, charts = browser.visit(url, INSPECT)
    return url, visit, charts


class TestReportInChromium:
    """The report as a reader's browser shows it."""

    def test_no_console_error(self, loaded: tuple[str, Any, Any]) -> None:
        _, visit, _ = loaded
        assert visit.errors == []

    def test_no_request_but_the_file_itself(self, loaded: tuple[str, Any, Any]) -> None:
        url, visit, _ = loaded
        assert visit.requests == [url]

    def test_every_chart_is_drawn_with_its_title(self, loaded: tuple[str, Any, Any]) -> None:
        _, _, charts = loaded
        assert [(chart["id"], chart["title"]) for chart in charts] == CHARTS
        for chart in charts:
            assert chart["label"] == chart["title"]
            assert chart["width"] > 300
            assert chart["height"] > 50
            assert chart["texts"] > 2

    def test_hostile_names_stay_text(self, browser: Browser, tmp_path: Path) -> None:
        url = write(tmp_path, render_report(hostile_data()))
        visit, found = browser.visit(url, """({
            scripts: document.scripts.length,
            images: document.images.length,
            pairs: document.querySelector("#chart-pairs").textContent,
            table: document.querySelector("#pairs-table tbody td:nth-child(2)").textContent,
        })""")
        assert visit.errors == []
        assert visit.requests == [url]
        assert found["scripts"] == 0
        assert found["images"] == 0
        assert "<script>alert('x')</script>" in found["pairs"]
        assert found["table"].startswith("<script>alert('x')</script>")


class TestHarness:
    """The checks above can fail: a page that logs an error and fetches from elsewhere is caught."""

    def test_errors_and_requests_are_seen(self, browser: Browser, tmp_path: Path) -> None:
        with socket.socket() as probe:  # a loopback port that nothing listens on
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        remote = f"http://127.0.0.1:{port}/logo.png"
        url = write(tmp_path, f'<!DOCTYPE html><img src="{remote}"><script>console.error("broken")</script>')
        visit, _ = browser.visit(url, "document.readyState")
        assert visit.requests == [url, remote]
        assert "broken" in visit.errors
        assert any("Failed to load resource" in error for error in visit.errors)


class TestWithoutChromium:
    """Without a browser the browser tests skip with how to install it, or fail where CI requires it."""

    @pytest.fixture
    def missing(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        monkeypatch.setattr(chromium_module, "CANDIDATES", (str(tmp_path / "chromium"),))

    @pytest.mark.usefixtures("missing")
    def test_skips_with_the_install_command(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("CLUSTERBRIDGE_REQUIRE_BROWSER", raising=False)
        with pytest.raises(pytest.skip.Exception, match="apt-get install -y chromium"):
            chromium_module.executable()

    @pytest.mark.usefixtures("missing")
    def test_fails_when_required(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("CLUSTERBRIDGE_REQUIRE_BROWSER", "1")
        with pytest.raises(pytest.fail.Exception, match="CLUSTERBRIDGE_REQUIRE_BROWSER=1"):
            chromium_module.executable()
