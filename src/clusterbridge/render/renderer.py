"""Render a `Cluster` for the readers of one side: their language, their industry codes, their country names,
translated texts with the originals kept, and only what may be published (rules 7 and 8).

Rendering is deterministic (same Cluster, same translations → the same record), because the engine hashes the
payload a connector shapes from it to skip unchanged records: nothing here depends on the time or on which
translator answered. A record that cannot be rendered raises ValueError naming the field (it is quarantined).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import structlog

from clusterbridge.abc import Translator
from clusterbridge.errors import ClusterbridgeError
from clusterbridge.mapping.clean import plain_line
from clusterbridge.mapping.clean import plain_text as html_to_text
from clusterbridge.mapping.codes import unique
from clusterbridge.mapping.countries import country_name, iso_country
from clusterbridge.mapping.privacy import Withheld, placeholder_for, withhold
from clusterbridge.mapping.vocabulary import Vocabulary, language_name
from clusterbridge.model import Cluster, Contact, RenderedCluster, RenderedText, Section, Text
from clusterbridge.sides import Side

log = structlog.get_logger(__name__)

NAME_MAX = 300


@dataclass(frozen=True)
class Rendering:
    """A rendered record and what rendering it withheld (counts only, for the ledger's audit)."""

    record: RenderedCluster
    withheld: Withheld = field(default_factory=Withheld)


def primary(lang: str) -> str:
    return lang.split("-")[0].lower()


class Renderer:
    """Renders clusters for a reader side. `translator` is the run's translator; `translating` says whether a
    real provider stands behind it (then a text left untranslated marks the record as pending)."""

    def __init__(self, vocabulary: Vocabulary, translator: Translator | None = None, *, translating: bool = False):
        self.vocabulary = vocabulary
        self.translator = translator
        self.translating = translating and translator is not None

    def render(self, cluster: Cluster, reader: Side, external_id: str,
               extra_sections: Sequence[Section] = ()) -> Rendering:
        v = self.vocabulary
        lang = primary(reader.language)
        country = iso_country(cluster.country)
        if country is None:
            raise ValueError(f"country: not a country code: {cluster.country!r}")
        name = plain_line(cluster.name_en)[:NAME_MAX].strip()
        if not name:
            raise ValueError("name: the cluster has no name to show")

        ksic = list(cluster.ksic_codes) or self._label_ksic(cluster)
        nace = list(cluster.nace_codes) or v.nace_for_ksic(ksic)
        if not ksic:
            ksic = v.ksic_for_nace(nace) or v.ksic_of_ecosystems(cluster.ecosystems)
        ecosystems = list(cluster.ecosystems) or v.ecosystems_for_ksic(ksic)
        codes = nace if reader.code_system == "NACE" else ksic
        industries = list(cluster.industry_labels.get(lang, ()))
        if not industries and lang == "ko":
            industries = v.korean_labels(ecosystems, ksic)

        translation = _Translation(self, cluster.lang, lang)
        withheld = Withheld()

        def private(text: Text | None) -> Text | None:
            nonlocal withheld
            if text is None:
                return None
            cleaned, found = withhold(text.text, contact=cluster.contact, website=cluster.website,
                                      placeholder=placeholder_for(text.lang))
            withheld += found
            return Text(text=cleaned, lang=text.lang)

        description = private(cluster.description)
        seeking = private(cluster.cooperation.seeking)
        offering = private(cluster.cooperation.offering)
        wanted = [(html_to_text(t.text) if "<" in t.text else t.text, t.lang)
                  for t in (description, seeking, offering) if t is not None]
        wanted += [(term, cluster.lang) for term in (*cluster.sectors, *cluster.technologies)]
        if not cluster.names.get(lang) and lang != "en" and not v.korean_name_from_glossary(name):
            wanted.append((name, "en"))
        translation.prefetch(wanted)
        description_r = translation.text(description, html=True)
        seeking_r = translation.text(seeking, label=v.heading("seeking", lang))
        offering_r = translation.text(offering, label=v.heading("offering", lang))
        sectors = translation.terms(cluster.sectors)
        technologies = translation.terms(cluster.technologies)
        name_local = self._local_name(cluster, lang, name, translation)

        sections: list[Section] = []
        original_name = cluster.names.get(primary(cluster.lang)) if primary(cluster.lang) != lang else None
        if original_name and original_name != name:
            heading = v.heading("name_original", lang, language=language_name(cluster.lang, reader.locale))
            sections.append(Section(key="name_original", heading=heading, lines=(original_name,), lang=lang))
        if cluster.industrial_complex:
            local = cluster.industrial_complex.get(lang) or cluster.industrial_complex.get("en", "")
            src = cluster.industrial_complex.get(primary(cluster.lang), "")
            line = f"{local} ({src})" if local and src and src != local else (local or src)
            sections.append(Section(key="industrial_complex", heading=v.heading("industrial_complex", lang),
                                    lines=(line,), lang=lang))
        if sectors:
            sections.append(Section(key="sectors", heading=v.heading("sectors", lang), lines=tuple(sectors),
                                    lang=lang))
        if technologies:
            sections.append(Section(key="technologies", heading=v.heading("technologies", lang),
                                    lines=tuple(technologies), lang=lang))
        sections.extend(extra_sections)

        region = cluster.region.get(lang) or cluster.region.get("en") or next(iter(cluster.region.values()), "")
        city = cluster.city.get(lang) or cluster.city.get("en") or next(iter(cluster.city.values()), "")
        contact = cluster.contact if cluster.contact is not None and cluster.contact.public else None
        record = RenderedCluster(
            native_id=cluster.source_id,
            external_id=external_id,
            source_side=cluster.source,
            source_changed=cluster.source_changed,
            reader_side=reader.name,
            reader_lang=lang,
            original_lang=cluster.lang,
            name=name,
            name_local=name_local,
            acronym=plain_line(cluster.acronym or ""),
            country=country,
            country_name=country_name(country, reader.locale),
            region=plain_line(region),
            region_code=cluster.region_code or "",
            city=plain_line(city),
            website=cluster.website,
            year_established=cluster.year_established,
            members=cluster.members,
            ecosystems=tuple(ecosystems),
            industries=tuple(unique(industries)),
            codes=tuple(codes),
            code_system=reader.code_system,
            sectors=tuple(sectors),
            technologies=tuple(technologies),
            description=description_r,
            seeking=seeking_r,
            offering=offering_r,
            target_countries=cluster.cooperation.target_countries,
            quality_label=cluster.quality_label,
            contact=_public(contact),
            sections=tuple(sections),
            translation_pending=translation.pending,
        )
        return Rendering(record, withheld)

    def _label_ksic(self, cluster: Cluster) -> list[str]:
        """KSIC codes of a cluster's Korean industry labels, when it names labels but no codes."""
        codes: list[str] = []
        for label_ko in cluster.industry_labels.get("ko", ()):
            label = self.vocabulary.industry_label(label_ko)
            if label is not None:
                codes.extend(label.ksic)
        return unique(codes)

    def _local_name(self, cluster: Cluster, lang: str, name: str, translation: _Translation) -> str:
        """The name in the reader's language: the source's own, else the glossary's, else a translation."""
        own = cluster.names.get(lang)
        if own:
            return plain_line(own)[:NAME_MAX]
        if lang == "en":
            return name
        from_glossary = self.vocabulary.korean_name_from_glossary(name) if lang == "ko" else None
        if from_glossary:
            return from_glossary
        translated = translation.line(name, source_lang="en")
        return plain_line(translated)[:NAME_MAX] if translated else ""


class _Translation:
    """The translations one record needs: asked of the translator in one call per source language (`prefetch`),
    remembered, and marked pending when a real provider left one out."""

    def __init__(self, renderer: Renderer, source_lang: str, target_lang: str) -> None:
        self.renderer = renderer
        self.source = primary(source_lang)
        self.target = target_lang
        self.pending = False
        self._known: dict[tuple[str, str], str | None] = {}

    def prefetch(self, texts: Iterable[tuple[str, str]]) -> None:
        """Ask for every (text, language) the record will need at once, grouped by language."""
        by_lang: dict[str, list[str]] = {}
        for text, lang in texts:
            source = primary(lang)
            if text and source != self.target and (text, source) not in self._known:
                by_lang.setdefault(source, [])
                if text not in by_lang[source]:
                    by_lang[source].append(text)
        for source, batch in sorted(by_lang.items()):
            for text, result in zip(batch, self._call(batch, source), strict=True):
                self._known[(text, source)] = result

    def _call(self, texts: list[str], source_lang: str) -> list[str | None]:
        translator = self.renderer.translator
        if translator is None or not texts:
            return [None] * len(texts)
        try:
            results = translator.translate(texts, source_lang, self.target)
        except ClusterbridgeError as exc:
            log.warning("translation.failed", error=str(exc), note="the original text is kept")
            results = [None] * len(texts)
        return [r if r is not None and r.strip() else None for r in results]

    def _ask(self, text: str, lang: str) -> str | None:
        source = primary(lang)
        if (text, source) not in self._known:
            self.prefetch([(text, source)])
        result = self._known[(text, source)]
        if result is None and self.renderer.translating:
            self.pending = True
        return result

    def text(self, text: Text | None, *, html: bool = False, label: str = "") -> RenderedText | None:
        if text is None or not text.text:
            return None
        is_html = html and "<" in text.text
        fmt = "html" if is_html else "plain"
        if primary(text.lang) == self.target:
            return RenderedText(text=text.text, lang=text.lang, format=fmt, label=label)
        result = self._ask(html_to_text(text.text) if is_html else text.text, text.lang)
        if result is None:
            return RenderedText(text=text.text, lang=text.lang, format=fmt, label=label)
        v = self.renderer.vocabulary
        language = language_name(text.lang, self.target)
        return RenderedText(text=html_to_text(result), lang=self.target, format="plain", label=label,
                            original=text.text, original_lang=text.lang, machine_translated=True,
                            note=v.heading("machine_translated", self.target, language=language),
                            original_heading=v.heading("original", self.target, language=language))

    def terms(self, terms: Sequence[str]) -> list[str]:
        if not terms or self.source == self.target:
            return list(terms)
        return unique(plain_line(r) if (r := self._ask(t, self.source)) else t for t in terms)

    def line(self, value: str, source_lang: str) -> str | None:
        if primary(source_lang) == self.target:
            return value
        return self._ask(value, source_lang)


def _public(contact: Contact | None) -> Contact | None:
    if contact is None:
        return None
    return Contact(name=contact.name, email=contact.email, phone=contact.phone, public=True)
