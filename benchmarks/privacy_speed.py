"""Time of withholding personal data in every free text of N generated records per side.

    .venv/bin/python benchmarks/privacy_speed.py [--count 10000] [--repeat 3]

The texts are those a sync hands to `withhold`: each record's description and cooperation texts, with the
record's own contact and website, as the synthetic generators produce them (the shape of the platforms' data).
A second pass appends the record's contact details to every text, so that none takes the fast path: the cost
when every text carries personal data. Figures are printed, never asserted: the machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from dataclasses import dataclass

from clusterbridge.mapping.privacy import Withheld, placeholder_for, withhold
from clusterbridge.model import Contact
from clusterbridge.simulators.generate import generate_eccp, generate_kicox


@dataclass(frozen=True)
class Sample:
    text: str
    lang: str
    contact: Contact | None
    website: str | None


def eccp_texts(count: int) -> Iterator[Sample]:
    for record in generate_eccp(count):
        a = record["attributes"]
        person = a.get("field_contact") or {}
        contact = Contact(name=person.get("name"), email=person.get("email"), phone=person.get("phone"),
                          public=bool(person.get("public")))
        website = (a.get("field_website") or {}).get("uri")
        coop = a.get("field_cooperation_interest") or {}
        for text in ((a.get("field_description") or {}).get("value"), coop.get("seeking"), coop.get("offering")):
            if text:
                yield Sample(text, a.get("langcode") or "en", contact, website)


def kicox_texts(count: int) -> Iterator[Sample]:
    for r in generate_kicox(count):
        contact = Contact(name=r["chargerNm"] or None, email=r["chargerEmail"] or None,
                          phone=r["chargerTelno"] or None, public=r["chargerOthbcAt"] == "Y")
        for text in (r["intrcn"], r["cprtnIntrstCn"]):
            if text.strip():
                yield Sample(text, "ko", contact, r["hmpgUrl"] or None)


def with_contact_details(samples: list[Sample]) -> list[Sample]:
    """Every text with its record's contact written into it, as the field tests found them."""
    out = []
    for s in samples:
        c = s.contact or Contact()
        extra = " ".join(x for x in (c.name, c.phone, c.email) if x)
        out.append(Sample(f"{s.text} {extra}", s.lang, s.contact, s.website))
    return out


def timed(samples: list[Sample], repeat: int) -> tuple[float, Withheld]:
    """Best wall time of `repeat` passes over the samples, and what one pass withheld."""
    best = float("inf")
    total = Withheld()
    for _ in range(repeat):
        total = Withheld()
        started = time.perf_counter()
        for s in samples:
            _, counts = withhold(s.text, contact=s.contact, website=s.website, placeholder=placeholder_for(s.lang))
            total += counts
        best = min(best, time.perf_counter() - started)
    return best, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="generated records per side")
    parser.add_argument("--repeat", type=int, default=3, help="passes; the best is reported")
    args = parser.parse_args()
    sides = {"eccp": list(eccp_texts(args.count)), "kicox": list(kicox_texts(args.count))}
    for side, samples in sides.items():
        for label, texts in (("as generated", samples), ("with contact details", with_contact_details(samples))):
            seconds, total = timed(texts, args.repeat)
            print(f"{side:5} {label:21} {len(texts):6} texts {seconds:7.3f} s "
                  f"{seconds / len(texts) * 1e6:8.1f} µs/text  withheld {total.as_dict()}")


if __name__ == "__main__":
    main()
