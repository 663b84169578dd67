"""Hangul names made readable in English: glossary words translated, the rest in Revised Romanization.

korean-romanizer follows pronunciation but returns lower case, without the hyphen before administrative
units and without some consonant assimilations across syllables (종로 → "jongro", not "Jongno"); this module
adds what a display name needs on top of it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from korean_romanizer.romanizer import Romanizer

_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]+")
# consonant assimilation across a syllable boundary that the library leaves out (Revised Romanization §1.3)
_ASSIMILATION = (("ngr", "ngn"), ("kr", "ngn"), ("pr", "mn"), ("mr", "mn"), ("nr", "ll"), ("lr", "ll"), ("ln", "ll"))
# administrative units a place name ends with, and how Revised Romanization writes them
_UNITS = {"시": "si", "군": "gun", "구": "gu", "도": "do", "읍": "eup", "면": "myeon", "동": "dong", "리": "ri"}
# words remembered per Romaniser: cluster names repeat their words (places, "미니클러스터", sectors)
WORD_CACHE = 20_000


def romanise_word(hangul: str) -> str:
    """One word in Revised Romanization, lower case ('신라' → 'silla')."""
    text = str(Romanizer(hangul).romanize())
    for before, after in _ASSIMILATION:
        text = text.replace(before, after)
    return text


def capitalise(word: str) -> str:
    return word[:1].upper() + word[1:]


def is_hangul(text: str) -> bool:
    return _HANGUL.search(text) is not None


class Romaniser:
    """Turns Hangul names into English display names with a glossary of common words."""

    def __init__(self, glossary: Mapping[str, str]) -> None:
        self.glossary = dict(glossary)
        self._longest = max((len(k) for k in self.glossary), default=0)
        self._words: dict[str, str] = {}

    def name(self, hangul: str) -> str:
        """'반월시화 기계부품 미니클러스터' → 'Banwolsihwa Machinery Parts Mini-Cluster'."""
        words = [self._word(word) for word in hangul.split()]
        return re.sub(r"\(\s+", "(", re.sub(r"\s+\)", ")", " ".join(w for w in words if w)))

    def term(self, hangul: str) -> str:
        """A label such as '기계·장비' → 'Machinery & Equipment' (the glossary's word when it has one)."""
        return self.glossary.get(hangul) or self.name(hangul)

    def place(self, hangul: str) -> str:
        """'안산시' → 'Ansan-si', '창원시 성산구' → 'Changwon-si Seongsan-gu', '남구' → 'Nam-gu'."""
        out = []
        for word in hangul.split():
            unit = _UNITS.get(word[-1]) if len(word) > 1 else None
            if unit is not None and is_hangul(word[:-1]):
                out.append(f"{capitalise(romanise_word(word[:-1]))}-{unit}")
            else:
                out.append(self._word(word))
        return " ".join(out)

    def _word(self, word: str) -> str:
        known = self._words.get(word)
        if known is None:
            if len(self._words) >= WORD_CACHE:
                self._words.clear()
            known = self._words[word] = self._romanised(word)
        return known

    def _romanised(self, word: str) -> str:
        parts = [p for p in word.split("·") if p]
        rendered = [self._compound(p) for p in parts]
        if not rendered:
            return ""
        out, prev_glossary = rendered[0]
        for text, glossary in rendered[1:]:
            # '반월·시화' is one place (Banwol-Sihwa); '원전·에너지' lists two things (Nuclear Power & Energy)
            out += (" & " if prev_glossary or glossary else "-") + text
            prev_glossary = glossary
        return out

    def _compound(self, word: str) -> tuple[str, bool]:
        """A word without spaces: glossary words longest-first, Hangul runs romanised, other text kept.
        Returns the English and whether any glossary word was used."""
        pieces: list[str] = []
        pending = ""
        used = False
        i = 0

        def flush() -> None:
            nonlocal pending
            if pending:
                pieces.append(capitalise(romanise_word(pending)) if is_hangul(pending) else pending)
                pending = ""

        while i < len(word):
            for size in range(min(self._longest, len(word) - i), 1, -1):
                english = self.glossary.get(word[i : i + size])
                if english is not None:
                    flush()
                    pieces.append(english)
                    used = True
                    i += size
                    break
            else:
                ch = word[i]
                if pending and is_hangul(pending[-1]) != is_hangul(ch):
                    flush()
                pending += ch
                i += 1
        flush()
        return " ".join(pieces), used
