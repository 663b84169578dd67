"""Speed of the typed cleaning functions (mapping.clean), kind by kind.

    .venv/bin/python benchmarks/clean_speed.py [--count 10000] [--repeat 3]

The corpus is every text field of `--count` synthetic records per side from the simulators' generators
(names, labels, places, contacts, HTML descriptions, cooperation texts, websites, country codes, language
tags, ids). Each kind is cleaned from the source value ("pull") and once more from its own output, as
rendering a mirror cleans again what normalising cleaned ("render"). The best of `--repeat` runs is printed
per kind. (The text helpers it was first measured against are gone from the package.) Figures are printed,
never asserted: the machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterable
from typing import Any

from clusterbridge.mapping import clean
from clusterbridge.simulators.generate import generate_eccp, generate_kicox

Cleaner = Callable[[str], object]


def _strings(values: Iterable[Any]) -> list[str]:
    return [v for v in values if isinstance(v, str)]


def corpus(count: int) -> dict[str, list[str]]:
    """Every text field of `count` records per side, grouped by the kind of cleaning it gets."""
    kinds: dict[str, list[str]] = {k: [] for k in ("line", "text", "rich", "url", "country", "language", "id")}
    for record in generate_eccp(count):
        a = record["attributes"]
        contact = a.get("field_contact") or {}
        coop = a.get("field_cooperation_interest") or {}
        kinds["line"] += _strings(
            [a["title"], a.get("field_acronym"), a.get("field_region_name"), a.get("field_city"),
             a.get("field_nuts_region"), contact.get("name"), contact.get("email"), contact.get("phone"),
             *a["field_ecosystems"], *a["field_sectors"], *a["field_technologies"]]
        )  # fmt: skip
        kinds["rich"] += _strings([(a.get("field_description") or {}).get("value")])
        kinds["text"] += _strings([coop.get("seeking"), coop.get("offering")])
        kinds["url"] += _strings([(a.get("field_website") or {}).get("uri")])
        kinds["country"] += _strings([a["field_country"], *coop.get("target_countries", [])])
        kinds["language"] += _strings([a.get("langcode")])
        kinds["id"].append(record["id"])
    for r in generate_kicox(count):
        kinds["line"] += [r["clstrNm"], r["clstrEngNm"], r["cmplxNm"], r["ctprvnNm"], r["signguNm"], r["rdnmadr"]]
        kinds["line"] += [*r["indutyNm"].split(","), r["chargerNm"], r["chargerEmail"], r["chargerTelno"]]
        kinds["text"] += [r["intrcn"], r["cprtnIntrstCn"]]
        kinds["url"].append(r["hmpgUrl"])
        kinds["country"] += r["cprtnNatnCd"].split(",")
        kinds["id"].append(r["clstrId"])
    return kinds


def _new_id(value: str) -> str:
    return clean.identifier(value, field="id", max_len=100)


NEW: dict[str, Cleaner] = {
    "line": clean.plain_line,
    "text": clean.plain_text,
    "rich": clean.rich_text,
    "url": clean.url,
    "country": clean.country_code,
    "language": clean.language_tag,
    "id": _new_id,
}


def _best(function: Cleaner, values: list[str], repeat: int) -> tuple[float, list[object]]:
    best, out = float("inf"), []
    for _ in range(repeat):
        started = time.perf_counter()
        out = [function(v) for v in values]
        best = min(best, time.perf_counter() - started)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="synthetic records per side")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is kept")
    args = parser.parse_args()

    started = time.perf_counter()
    kinds = corpus(args.count)
    print(f"corpus: {sum(map(len, kinds.values()))} values from {args.count} records per side "
          f"({time.perf_counter() - started:.1f} s to generate)")  # fmt: skip
    clean.plain_line("warm-up \u0301")  # builds the character tables once, outside the timings

    print(f"{'kind':<9} {'phase':<7} {'values':>7} {'seconds':>8} {'µs/value':>9}")
    total = 0.0
    for kind, values in kinds.items():
        pull_time, out = _best(NEW[kind], values, args.repeat)
        again = [v for v in out if isinstance(v, str)]
        render_time = _best(NEW[kind], again, args.repeat)[0]
        for phase, n, seconds in (("pull", len(values), pull_time), ("render", len(again), render_time)):
            total += seconds
            print(f"{kind:<9} {phase:<7} {n:>7} {seconds:>8.3f} {seconds / max(n, 1) * 1e6:>9.1f}")
    print(f"{'total':<17} {'':>7} {total:>8.3f}")


if __name__ == "__main__":
    main()
