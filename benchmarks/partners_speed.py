"""Time and peak memory of partner suggestions for N synthetic clusters per side (default 10,000).

    .venv/bin/python benchmarks/partners_speed.py [--count 10000] [--top 5] [--unique-texts] [--changes 20]

Clusters come from `clusterbridge.simulators.generate`, normalised as the sync does today. The Korean
cooperation texts get an English version (as the engine's translator would give them: one per distinct Korean
text), so the text signal is measured too. Generated texts repeat a lot; `--unique-texts` appends each
cluster's own name to its English texts, the worst case for the text comparisons. Peak memory is measured
with tracemalloc in a second, separate run (it slows Python down), and the process's max RSS is printed
too. Figures are printed, never asserted: the machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import time
import tracemalloc
import zlib
from collections.abc import Callable
from typing import TypeVar

from clusterbridge.config import Settings
from clusterbridge.connectors.eccp.models import EccpCluster
from clusterbridge.connectors.eccp.normalise import normalise as from_eccp
from clusterbridge.connectors.kicox.models import KicoxCluster
from clusterbridge.connectors.kicox.normalise import normalise as from_kicox
from clusterbridge.mapping.vocabulary import Vocabulary
from clusterbridge.model import Cluster, Text
from clusterbridge.partners import CooperationText, EnglishTexts, Matcher
from clusterbridge.simulators.generate import generate_eccp, generate_kicox

T = TypeVar("T")

# English wording of the generator's four Korean interest templates, as a translator would render them
_INTEREST_EN = (
    "Joint technology development and demonstration with European {theme} clusters",
    "Technology exchange and joint R&D projects with European {theme} companies; new export markets",
    "B2B matching between member companies, joint trade fair participation and staff exchange",
    "Joint research with European {theme} research institutes; standards and certification",
)


def english_texts(korean: list[Cluster], unique: bool) -> EnglishTexts:
    """English seeking texts for the Korean clusters that have one (the same Korean text, the same English)."""
    found: dict[str, CooperationText] = {}
    for c in korean:
        if c.cooperation.seeking is None:
            continue
        template = _INTEREST_EN[zlib.crc32(c.cooperation.seeking.text.encode()) % len(_INTEREST_EN)]
        text = template.format(theme=", ".join(c.industry_labels.get("en", ())) or "industry")
        found[c.source_id] = CooperationText(seeking=f"{text} ({c.name_en})" if unique else text)
    return EnglishTexts(kr=found)


def unique_european(c: Cluster) -> Cluster:
    """The cluster with its own name appended to its English texts, so that no two clusters share one."""
    coop = c.cooperation
    seeking = Text(text=f"{coop.seeking.text} ({c.name_en})", lang="en") if coop.seeking else None
    offering = Text(text=f"{coop.offering.text} ({c.name_en})", lang="en") if coop.offering else None
    return c.model_copy(update={"cooperation": coop.model_copy(update={"seeking": seeking, "offering": offering})})


def timed(label: str, work: Callable[[], T]) -> T:
    """Run `work`, printing its wall-clock and CPU time (they differ when the machine is busy)."""
    gc.collect()
    started, cpu = time.perf_counter(), time.process_time()
    result = work()
    print(f"{label}: {time.perf_counter() - started:.1f} s ({time.process_time() - cpu:.1f} s CPU)")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="synthetic clusters per side")
    parser.add_argument("--top", type=int, default=5, help="partners kept per cluster")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--unique-texts", action="store_true", help="make every English text unique")
    parser.add_argument("--changes", type=int, default=20, help="clusters changed before the incremental refresh")
    args = parser.parse_args()

    vocabulary = Vocabulary.load(Settings(_env_file=None))

    def build() -> tuple[list[Cluster], list[Cluster]]:
        eu = [
            from_eccp(EccpCluster.model_validate({"type": "node--cluster_organisation", **r}), "eu", vocabulary)
            for r in generate_eccp(args.count, args.seed)
        ]
        kr = [from_kicox(KicoxCluster.model_validate(r), "kr", vocabulary)
              for r in generate_kicox(args.count, args.seed)]
        return eu, kr

    eu, kr = timed(f"generated and normalised {args.count} clusters per side", build)
    if args.unique_texts:
        eu = [unique_european(c) for c in eu]
    texts = english_texts(kr, args.unique_texts)
    matcher = Matcher.load(Settings(_env_file=None))
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    found = timed(f"suggest (top {args.top})", lambda: matcher.suggest(eu, kr, top_n=args.top, texts=texts))
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"suggestions: {len(found)}; max RSS {rss_before:.0f} MiB before, {rss_after:.0f} MiB after")

    gc.collect()
    tracemalloc.start()
    matcher.suggest(eu, kr, top_n=args.top, texts=texts)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"suggest peak memory (tracemalloc, Python allocations of the run): {peak / 2**20:.0f} MiB")

    rng = random.Random(args.seed)
    changed_kr = set(rng.sample([c.source_id for c in kr], args.changes // 2))
    changed_eu = set(rng.sample([c.source_id for c in eu], args.changes - len(changed_kr)))
    kr = [c.model_copy(update={"live": not c.live}) if c.source_id in changed_kr else c for c in kr]
    eu = [c.model_copy(update={"live": not c.live}) if c.source_id in changed_eu else c for c in eu]
    refresh = timed(
        f"refresh after {args.changes} clusters changed",
        lambda: matcher.refresh(
            eu, kr, found, changed_eu=changed_eu, changed_kr=changed_kr, top_n=args.top, texts=texts
        ),
    )
    print(
        f"affected: {len(refresh.affected_eu)} European, {len(refresh.affected_kr)} Korean clusters; "
        f"{len(refresh.suggestions)} suggestions recomputed"
    )


if __name__ == "__main__":
    main()
