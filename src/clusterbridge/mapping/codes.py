"""Industry codes: NACE Rev.2 and KSIC 10th revision, and the crosswalk between them (mappings/nace_ksic.csv).

A code is kept as its section letter plus digits, without dots for KSIC ("C29172", "C271") and with the
NACE dot ("C26.5"). Lookups use the most specific listed prefix of a code plus every more specific row
beneath it, so both a sub-class (29172) and a bare division (C27) find their counterparts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

_NACE = re.compile(r"^([A-U])?\s*(\d{2})(?:\.(\d{1,2}))?$")
_KSIC = re.compile(r"^([A-U])?\s*(\d{2,5})$")


def _digits(code: str) -> str:
    return code[1:].replace(".", "")


def nace_division_number(code: str) -> str:
    return _digits(code)[:2]


@dataclass(frozen=True)
class Crosswalk:
    """NACE ↔ KSIC pairs (each side section letter + digits) with section lookups for bare numbers."""

    pairs: tuple[tuple[str, str], ...]

    @cached_property
    def nace_sections(self) -> Mapping[str, str]:
        return {nace_division_number(n): n[0] for n, _ in self.pairs}

    @cached_property
    def ksic_sections(self) -> Mapping[str, str]:
        return {_digits(k)[:2]: k[0] for _, k in self.pairs}

    def parse_nace(self, raw: str) -> str | None:
        """'c26.1', 'C26.1', '26.1' → 'C26.1'; None when it is no NACE code of a known division."""
        m = _NACE.match(raw.strip().upper())
        if m is None:
            return None
        letter, division, group = m.groups()
        section = self.nace_sections.get(division)
        if section is None or (letter is not None and letter != section):
            return None
        return f"{section}{division}" + (f".{group}" if group else "")

    def parse_ksic(self, raw: str) -> str | None:
        """'29172', 'C29', 'c 29' → 'C29172' / 'C29'; None when it is no KSIC code of a known division."""
        m = _KSIC.match(raw.strip().upper())
        if m is None:
            return None
        letter, digits = m.groups()
        section = self.ksic_sections.get(digits[:2])
        if section is None or (letter is not None and letter != section):
            return None
        return f"{section}{digits}"

    @cached_property
    def _by_nace(self) -> tuple[tuple[str, str], ...]:
        return tuple((_digits(n), k) for n, k in self.pairs)

    @cached_property
    def _by_ksic(self) -> tuple[tuple[str, str], ...]:
        return tuple((_digits(k), n) for n, k in self.pairs)

    @cached_property
    def _memo(self) -> dict[tuple[str, str], tuple[str, ...]]:
        # every record asks about the same few codes: each answer is worked out once per process
        return {}

    def nace_to_ksic(self, code: str) -> list[str]:
        """KSIC codes (as listed in the crosswalk) for one parsed NACE code."""
        key = ("nace", code)
        if key not in self._memo:
            self._memo[key] = tuple(_lookup(self._by_nace, _digits(code)))
        return list(self._memo[key])

    def ksic_to_nace(self, code: str) -> list[str]:
        """NACE codes (as listed in the crosswalk) for one parsed KSIC code."""
        key = ("ksic", code)
        if key not in self._memo:
            self._memo[key] = tuple(_lookup(self._by_ksic, _digits(code)))
        return list(self._memo[key])


def _lookup(rows: Sequence[tuple[str, str]], key: str) -> list[str]:
    ancestors = [r for r in rows if key.startswith(r[0])]
    result: list[str] = []
    if ancestors:
        longest = max(len(r[0]) for r in ancestors)
        result += [target for source, target in ancestors if len(source) == longest]
    result += [target for source, target in rows if source.startswith(key) and len(source) > len(key)]
    return unique(result)


def ksic_division(code: str) -> str:
    """'C29172' → 'C29'."""
    return code[:3]


def nace_division(code: str) -> str:
    """'C26.1' → 'C26'."""
    return code[:3]


def unique(items: Iterable[str]) -> list[str]:
    """Items in first-seen order without repeats (rendering stays deterministic)."""
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)


def most_specific(code: str, listed: Sequence[str]) -> list[str]:
    """The listed codes that are the longest prefix of `code` (sections ignored: same digits, same section)."""
    matches = [c for c in listed if code.startswith(c)]
    if not matches:
        return []
    longest = max(len(c) for c in matches)
    return [c for c in matches if len(c) == longest]
