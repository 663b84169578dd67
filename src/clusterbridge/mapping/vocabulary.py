"""The shared vocabularies of both sides, read once from `mappings/`: ecosystems, NACE ↔ KSIC, Korean regions
and industry labels, the glossary and romanisation, CLDR country and language names, reader headings.

Connectors use it to normalise their records into the shared model; the renderer uses it to show a record to
the readers of a side. It holds no platform knowledge: only the words and codes of the two industrial worlds.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property, lru_cache

from babel import Locale

from clusterbridge.config import Settings, find_file
from clusterbridge.errors import ConfigurationError
from clusterbridge.mapping.clean import plain_line
from clusterbridge.mapping.codes import ksic_division, most_specific, unique
from clusterbridge.mapping.data import Ecosystem, IndustryLabel, MappingData, Region, load_data, read_csv
from clusterbridge.mapping.romanise import Romaniser


@lru_cache(maxsize=8)
def _languages(locale: str) -> dict[str, str]:
    return dict(Locale.parse(locale).languages)


def language_name(tag: str, locale: str) -> str:
    """'ko' in 'en' → 'Korean'; 'en' in 'ko' → '영어'; the tag itself when CLDR does not know it."""
    primary = tag.split("-")[0].lower()
    return _languages(locale).get(primary, tag)


class Vocabulary:
    """Everything that knows both sides' words and codes."""

    def __init__(self, data: MappingData, headings: dict[str, dict[str, str]] | None = None) -> None:
        self.data = data
        self.romaniser = Romaniser(data.glossary)
        self.headings = headings or {}
        self._ecosystems = {e.name.casefold(): e for e in data.ecosystems}
        self._labels = {label.label_ko: label for label in data.labels}
        # look-ups by code, worked out once per process: every record asks about the same few codes
        self._ecosystem_memo: dict[str, tuple[str, ...]] = {}
        self._label_memo: dict[str, tuple[IndustryLabel, ...]] = {}

    @classmethod
    def load(cls, settings: Settings | None = None) -> Vocabulary:
        """Read every mappings file once (CLUSTERBRIDGE_CONFIG_DIR may override any of them)."""
        settings = settings or Settings(_env_file=None)
        rows = read_csv(find_file("mappings", "reader_headings.csv", settings), ("key",))
        headings = {row["key"]: {k: v for k, v in row.items() if k != "key" and v} for row in rows}
        return cls(load_data(settings), headings)

    # -- ecosystems and industries ------------------------------------------------------------------------
    def ecosystem(self, raw: str) -> str:
        """ECCP's own wording of an ecosystem name (case and spacing forgiven); unknown names kept as given."""
        name = plain_line(raw)
        known = self._ecosystems.get(name.casefold())
        return known.name if known else name

    def known_ecosystems(self, names: Iterable[str]) -> list[Ecosystem]:
        return [eco for name in names if (eco := self._ecosystems.get(name.casefold())) is not None]

    def ecosystem_label(self, name: str, lang: str) -> str:
        """An ecosystem in the reader's language (the Korean labels of ecosystems.csv; the name otherwise)."""
        eco = self._ecosystems.get(name.casefold())
        if eco is not None and lang.split("-")[0] == "ko":
            return eco.label_ko
        return name

    def industry_label(self, label_ko: str) -> IndustryLabel | None:
        return self._labels.get(label_ko)

    def nace_codes(self, raw: Iterable[str]) -> list[str]:
        return unique(code for code in (self.data.crosswalk.parse_nace(r) for r in raw) if code)

    def ksic_codes(self, raw: Iterable[str]) -> list[str]:
        return unique(code for code in (self.data.crosswalk.parse_ksic(r) for r in raw) if code)

    def ksic_for_nace(self, nace: Iterable[str]) -> list[str]:
        """KSIC divisions ('C29') for NACE codes, through the crosswalk (NACE C28 → KSIC C29)."""
        codes = self.nace_codes(nace)
        return unique(ksic_division(k) for code in codes for k in self.data.crosswalk.nace_to_ksic(code))

    def nace_for_ksic(self, ksic: Iterable[str]) -> list[str]:
        """NACE codes for KSIC codes (KSIC 29172 → C28; KSIC 27112 → C26.6)."""
        codes = self.ksic_codes(ksic)
        return unique(n for code in codes for n in self.data.crosswalk.ksic_to_nace(code))

    def ksic_of_ecosystems(self, ecosystems: Iterable[str]) -> list[str]:
        return unique(k for eco in self.known_ecosystems(ecosystems) for k in eco.ksic)

    def ecosystems_for_ksic(self, ksic: Iterable[str]) -> list[str]:
        return unique(name for code in self.ksic_codes(ksic) for name in self._ecosystems_of(code))

    def _ecosystems_of(self, code: str) -> tuple[str, ...]:
        if code not in self._ecosystem_memo:
            self._ecosystem_memo[code] = tuple(e.name for e in self.data.ecosystems if most_specific(code, e.ksic))
        return self._ecosystem_memo[code]

    def labels_for_ksic(self, ksic: Iterable[str]) -> list[IndustryLabel]:
        """The Korean industry labels whose most specific listed code covers each KSIC code."""
        found = [label for code in self.ksic_codes(ksic) for label in self._labels_of(code)]
        return list({label.label_ko: label for label in found}.values())

    def _labels_of(self, code: str) -> tuple[IndustryLabel, ...]:
        if code not in self._label_memo:
            best: list[tuple[int, IndustryLabel]] = [
                (len(listed), label) for label in self.data.labels for listed in most_specific(code, label.ksic)
            ]
            top = max((size for size, _ in best), default=0)
            self._label_memo[code] = tuple(label for size, label in best if size == top)
        return self._label_memo[code]

    def korean_labels(self, ecosystems: Iterable[str], ksic: Iterable[str]) -> list[str]:
        """Korean industry words for a cluster: its ecosystems' labels, then its KSIC codes' labels."""
        ecosystem_labels = [eco.label_ko for eco in self.known_ecosystems(ecosystems)]
        return unique(ecosystem_labels + [label.label_ko for label in self.labels_for_ksic(ksic)])

    # -- places ---------------------------------------------------------------------------------------
    def region(self, hangul: str | None) -> Region | None:
        """A first-level region from its full, short or former Hangul name ('경기', '강원도', '전라북도')."""
        if not hangul:
            return None
        name = plain_line(hangul)
        for region in self.data.regions:
            if name in (region.name_ko, region.short_ko, *region.former_ko):
                return region
        return None

    def place(self, hangul: str | None) -> dict[str, str]:
        """A Korean place name with its romanisation: {'ko': '안산시', 'en': 'Ansan-si'}."""
        name = plain_line(hangul or "")
        return {"ko": name, "en": self.romaniser.place(name)} if name else {}

    # -- names and headings ------------------------------------------------------------------------------
    @cached_property
    def _english_glossary(self) -> dict[str, str]:
        """English words of the glossary back to Korean ('Mini-Cluster' → '미니클러스터'), case-insensitive."""
        out: dict[str, str] = {}
        for ko, en in self.data.glossary.items():
            out.setdefault(en.casefold(), ko)
        return out

    def korean_name_from_glossary(self, english: str) -> str | None:
        """A Korean rendering of an English name when every word of it is in the glossary, else None."""
        words = english.split()
        if not words:
            return None
        glossary = self._english_glossary
        out: list[str] = []
        i = 0
        while i < len(words):
            for size in range(len(words) - i, 0, -1):
                ko = glossary.get(" ".join(words[i : i + size]).casefold())
                if ko is not None:
                    out.append(ko)
                    i += size
                    break
            else:
                return None
        return " ".join(out)

    def heading(self, key: str, lang: str, **values: str) -> str:
        """A reader heading ('Korean name', '분야') in `lang` (English when the table has no such language)."""
        row = self.headings.get(key)
        if row is None:
            raise ConfigurationError(f"mappings/reader_headings.csv has no row {key!r}")
        primary = lang.split("-")[0]
        template = row.get(primary) or row.get("en") or key
        return template.format(**values)
