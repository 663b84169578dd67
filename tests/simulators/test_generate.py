"""The synthetic data generator: deterministic, unique, varied, streaming, and in the sample formats."""

from __future__ import annotations

import inspect
import itertools
import json
import re
import subprocess
import sys
import time
import tracemalloc
import uuid
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from clusterbridge.simulators.generate import generate_eccp, generate_kicox, load_sample, main, write_seed_files
from tests.contracts import ECOSYSTEMS, INDUSTRY_LABELS
from tests.contracts import validator as contract_validator

N = 5_000



@pytest.fixture(scope="module")
def eccp() -> list[dict[str, Any]]:
    return list(generate_eccp(N, seed=11))


@pytest.fixture(scope="module")
def kicox() -> list[dict[str, str]]:
    return list(generate_kicox(N, seed=11))




def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").removeprefix("www.")


# ---------------------------------------------------------------------------------------------------------------
# determinism and streaming


def test_deterministic_per_seed() -> None:
    assert list(generate_eccp(300, seed=5)) == list(generate_eccp(300, seed=5))
    assert list(generate_kicox(300, seed=5)) == list(generate_kicox(300, seed=5))
    assert list(generate_eccp(50, seed=5)) != list(generate_eccp(50, seed=6))
    assert list(generate_kicox(50, seed=5)) != list(generate_kicox(50, seed=6))


def test_a_shorter_run_is_a_prefix() -> None:
    assert list(generate_eccp(40, seed=2)) == list(generate_eccp(400, seed=2))[:40]
    assert list(generate_kicox(40, seed=2)) == list(generate_kicox(400, seed=2))[:40]


def test_generators_stream() -> None:
    eccp, kicox = generate_eccp(10**12), generate_kicox(10**12)
    assert inspect.isgenerator(eccp)
    assert inspect.isgenerator(kicox)
    assert next(eccp)["attributes"]["field_origin"] == "eccp"
    assert next(kicox)["clstrId"]
    assert list(generate_eccp(0)) == []
    with pytest.raises(ValueError, match="negative"):
        next(generate_kicox(-1))


def test_fast_enough() -> None:
    started = time.perf_counter()
    for _ in generate_eccp(10_000, seed=3):
        pass
    for _ in generate_kicox(10_000, seed=3):
        pass
    assert time.perf_counter() - started < 15  # 100,000 a side runs in about ten seconds


# ---------------------------------------------------------------------------------------------------------------
# uniqueness


def test_eccp_unique(eccp: list[dict[str, Any]]) -> None:
    ids = [r["id"] for r in eccp]
    assert len(set(ids)) == N
    assert all(uuid.UUID(i).version == 4 for i in ids)
    nids = [r["attributes"]["drupal_internal__nid"] for r in eccp]
    assert all(a < b for a, b in itertools.pairwise(nids))
    assert len({r["attributes"]["title"] for r in eccp}) == N


def test_kicox_unique(kicox: list[dict[str, str]]) -> None:
    assert len({r["clstrId"] for r in kicox}) == N
    assert len({r["clstrNm"] for r in kicox}) == N
    english = [r["clstrEngNm"] for r in kicox if r["clstrEngNm"].strip()]
    assert len(set(english)) == len(english)


# ---------------------------------------------------------------------------------------------------------------
# variety, drawn from the samples


def test_eccp_variety(eccp: list[dict[str, Any]]) -> None:
    attrs = [r["attributes"] for r in eccp]
    sample = [r["attributes"] for r in load_sample("eccp.json")["data"]]
    countries = Counter(a["field_country"] for a in attrs)
    assert len(countries) >= 13
    assert "EL" in countries
    assert "KR" in countries
    assert set(countries) <= {a["field_country"] for a in sample}
    assert len({a["field_nuts_region"] for a in attrs if a["field_nuts_region"]}) >= 30
    assert {e for a in attrs for e in a["field_ecosystems"]} == ECOSYSTEMS
    assert {a["field_esca_label"] for a in attrs} == {"gold", "silver", "bronze", None}
    sample_nace = {c for a in sample for c in a["field_nace_codes"]}
    assert {c for a in attrs for c in a["field_nace_codes"] if a["field_country"] != "KR"} <= sample_nace
    contacts = [a["field_contact"] for a in attrs]
    assert {c["public"] for c in contacts} == {True, False}
    assert any(a["field_cooperation_interest"] is None for a in attrs)
    assert any(a["field_website"] is None for a in attrs)
    assert all(a["langcode"] == "en" and a["field_origin"] == "eccp" for a in attrs)


def test_eccp_withdrawn_hostile_and_shared_seconds(eccp: list[dict[str, Any]]) -> None:
    attrs = [r["attributes"] for r in eccp]
    unpublished = sum(1 for a in attrs if not a["status"])
    assert 0.003 * N <= unpublished <= 0.02 * N
    html = [a["field_description"]["value"] for a in attrs]
    for marker in ("<script>", "onclick=", "javascript:"):
        assert 0 < sum(marker in h for h in html) < 0.02 * N, marker
    assert any("<ul><li>" in h for h in html)
    assert Counter(a["changed"] for a in attrs).most_common(1)[0][1] >= 3
    for a in attrs:
        assert a["created"] <= a["changed"]
        assert re.fullmatch(r"202[4-6]-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00", a["changed"])


def test_kicox_variety(kicox: list[dict[str, str]]) -> None:
    sample = load_sample("kicox.json")["clusters"]
    assert {r["indutyNm"] for r in kicox} == INDUSTRY_LABELS
    assert {r["ksicCd"] for r in kicox} <= {r["ksicCd"] for r in sample}
    assert len({r["ctprvnNm"] for r in kicox}) >= 11
    assert {r["cmplxNm"] for r in kicox} == {r["cmplxNm"] for r in sample}
    named = sum(1 for r in kicox if r["clstrEngNm"].strip())
    assert 0.3 * N <= named <= 0.7 * N
    assert any(r["clstrEngNm"] == " " for r in kicox)
    assert {r["chargerOthbcAt"] for r in kicox} == {"Y", "N"}
    assert any(r["cprtnIntrstCn"] == "" for r in kicox)
    assert any(r["hmpgUrl"] == "" for r in kicox)
    assert any("<br>" in r["intrcn"] for r in kicox)
    assert any("\r\n" in r["intrcn"] for r in kicox)
    assert 0 < sum("<script>" in r["intrcn"] for r in kicox) < 0.02 * N


def test_kicox_habits(kicox: list[dict[str, str]]) -> None:
    for r in kicox:
        assert all(isinstance(v, str) for v in r.values())
        for field in ("mberCo", "smeCo", "rsrchInsttCo", "estblYear"):
            assert r[field] == " " or r[field].isdigit()
    withdrawn = sum(1 for r in kicox if r["useAt"] == "N")
    assert 0.003 * N <= withdrawn <= 0.02 * N
    stamps = Counter(r["updtDt"] for r in kicox)
    assert stamps.most_common(1)[0][1] >= 3
    assert all(re.fullmatch(r"202[4-6]\d{10}", s) for s in stamps)


def test_korean_profiles_pair_with_kicox_records(eccp: list[dict[str, Any]], kicox: list[dict[str, str]]) -> None:
    korean = [(i, r["attributes"]) for i, r in enumerate(eccp) if r["attributes"]["field_country"] == "KR"]
    assert 0.005 * N <= len(korean) <= 0.015 * N
    by_domain = by_name = 0
    for index, a in korean:
        twin = kicox[index]
        website = a["field_website"]
        if website and twin["hmpgUrl"] and _host(website["uri"]) == _host(twin["hmpgUrl"]):
            by_domain += 1
        else:
            assert twin["clstrEngNm"].strip()
            assert a["title"].replace(" ", "-") == twin["clstrEngNm"].replace(" ", "-")
            assert a["title"] != twin["clstrEngNm"]
            by_name += 1
        assert a["field_nuts_region"] is None
    assert by_domain > 0
    assert by_name > 0


def test_records_validate_against_the_contracts(eccp: list[dict[str, Any]], kicox: list[dict[str, str]]) -> None:
    eccp_validator = contract_validator("eccp", "ClusterAttributes")
    kicox_validator = contract_validator("kicox", "KoreanCluster")
    for record in eccp[:1000]:
        errors = [e.message for e in eccp_validator.iter_errors(record["attributes"])]
        assert not errors, (record["id"], errors)
    for korean in kicox[:1000]:
        errors = [e.message for e in kicox_validator.iter_errors(korean)]
        assert not errors, (korean["clstrId"], errors)


# ---------------------------------------------------------------------------------------------------------------
# seed files


def test_write_seed_files_round_trips(tmp_path: Path) -> None:
    eccp_path, kicox_path = write_seed_files(2_000, tmp_path / "seed", seed=4)
    assert eccp_path == tmp_path / "seed" / "eccp.json"
    assert kicox_path == tmp_path / "seed" / "kicox.json"
    eccp_doc = json.loads(eccp_path.read_text(encoding="utf-8"))
    kicox_doc = json.loads(kicox_path.read_text(encoding="utf-8"))
    assert set(eccp_doc) == {"data"}
    assert set(kicox_doc) == {"clusters"}
    assert eccp_doc["data"] == list(generate_eccp(2_000, seed=4))
    assert kicox_doc["clusters"] == list(generate_kicox(2_000, seed=4))
    assert "미니클러스터" in kicox_path.read_text(encoding="utf-8")  # UTF-8, not \\u escapes


def test_write_seed_files_empty(tmp_path: Path) -> None:
    eccp_path, kicox_path = write_seed_files(0, tmp_path)
    assert json.loads(eccp_path.read_text(encoding="utf-8")) == {"data": []}
    assert json.loads(kicox_path.read_text(encoding="utf-8")) == {"clusters": []}


def test_write_seed_files_streams(tmp_path: Path) -> None:
    tracemalloc.start()
    try:
        eccp_path, kicox_path = write_seed_files(6_000, tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    written = eccp_path.stat().st_size + kicox_path.stat().st_size
    assert written > 10_000_000
    assert peak < written / 4  # nowhere near holding the records in memory


def test_main_writes_the_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--count", "25", "--out", str(tmp_path), "--seed", "9"]) == 0
    assert capsys.readouterr().out.split() == [str(tmp_path / "eccp.json"), str(tmp_path / "kicox.json")]
    data = json.loads((tmp_path / "eccp.json").read_text(encoding="utf-8"))["data"]
    assert data == list(generate_eccp(25, seed=9))


def test_runs_as_a_module(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "clusterbridge.simulators.generate", "--count", "10", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    clusters = json.loads((tmp_path / "kicox.json").read_text(encoding="utf-8"))["clusters"]
    assert clusters == list(generate_kicox(10, seed=0))
