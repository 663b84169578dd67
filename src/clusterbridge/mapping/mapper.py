"""Normalise each platform's records into the shared `Cluster` and render mirrors for the other side.

Rendering is deterministic (same Cluster, same cache → byte-identical payload) because the engine hashes
payloads to skip unchanged records: payloads hold no timestamps but the source's change time and never the
translator's name. A record that cannot be rendered raises ValueError naming the field (it is quarantined).

Where the Hangul name goes on ECCP: ECCP has no field for a second name, and the title must stay an English
name of at most 255 characters, so the mirror's description opens with a paragraph "Korean name: <Hangul>"
(and the industrial complex, English and Hangul) before the introduction.
The introduction of a Korean cluster is plain text at the source; it crosses to ECCP as *escaped* basic_html
(every character of the source text escaped, line breaks as <br>/<p>), so no markup from KICOX ever survives.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from datetime import UTC
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Engine

from clusterbridge.abc import Translator
from clusterbridge.config import Settings
from clusterbridge.connectors.eccp.models import EccpCluster
from clusterbridge.connectors.kicox.models import ForeignCluster, KicoxCluster
from clusterbridge.mapping.codes import ksic_division, most_specific, unique
from clusterbridge.mapping.countries import country_name, iso_country
from clusterbridge.mapping.data import Ecosystem, IndustryLabel, MappingData, Region, load_data
from clusterbridge.mapping.linkage import Match, match_natives
from clusterbridge.mapping.romanise import Romaniser
from clusterbridge.mapping.text import (
    html_to_text,
    normalise_url,
    plain_line,
    sanitize_html,
    sanitize_html_limited,
    site_key,
    text_to_html,
    truncate,
)
from clusterbridge.model import Cluster, Contact, Cooperation, Members, Text
from clusterbridge.translate import KeepOriginal, TranslationCache, TranslationError, make_translator
from clusterbridge.translate.cache import CachedTranslator

log = logging.getLogger(__name__)

KICOX_ORIGIN = "kicox"
TITLE_MAX = 255
ENG_NAME_MAX = 300
INTRO_MAX = 8000
URL_MAX = 500
ACRONYM_MAX = 64
WITHHELD = "[contact withheld]"
# how the two cooperation texts are labelled for Korean readers
SEEKING_KO = "협력 희망 분야"
OFFERING_KO = "제공 가능 분야"


class Mapper:
    """Everything that knows both sides' vocabularies: codes, regions, names, text, linkage."""

    def __init__(self, data: MappingData, translator: Translator | None = None) -> None:
        self.data = data
        self.translator: Translator = translator or KeepOriginal()
        self.romaniser = Romaniser(data.glossary)
        self._ecosystems = {e.name.casefold(): e for e in data.ecosystems}
        self._labels = {label.label_ko: label for label in data.labels}

    @classmethod
    def load(
        cls,
        settings: Settings | None = None,
        translator: Translator | None = None,
        cache: TranslationCache | Engine | None = None,
    ) -> Mapper:
        """Read every mappings file once. The translator defaults to the one the settings name (offline:
        keep the original text); `cache` (a TranslationCache or the ledger's Engine) keeps paid results."""
        settings = settings or Settings()
        if translator is None:
            translator = make_translator(settings, cache)
        elif cache is not None and not isinstance(translator, KeepOriginal | CachedTranslator):
            store = cache if isinstance(cache, TranslationCache) else TranslationCache(cache)
            translator = CachedTranslator(translator, store)
        return cls(load_data(settings), translator)

    # ---------------------------------------------------------------- vocabularies

    def ecosystem(self, raw: str) -> str:
        """ECCP's own wording of an ecosystem name (case and spacing forgiven); unknown names kept as given."""
        name = plain_line(raw)
        known = self._ecosystems.get(name.casefold())
        return known.name if known else name

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

    def ecosystems_for_ksic(self, ksic: Iterable[str]) -> list[str]:
        found: list[str] = []
        for code in self.ksic_codes(ksic):
            for eco in self.data.ecosystems:
                if most_specific(code, eco.ksic):
                    found.append(eco.name)
        return unique(found)

    def labels_for_ksic(self, ksic: Iterable[str]) -> list[IndustryLabel]:
        """The Korean industry labels whose most specific listed code covers each KSIC code."""
        found: list[IndustryLabel] = []
        for code in self.ksic_codes(ksic):
            best: list[tuple[int, IndustryLabel]] = [
                (len(listed), label) for label in self.data.labels for listed in most_specific(code, label.ksic)
            ]
            if best:
                top = max(size for size, _ in best)
                found += [label for size, label in best if size == top]
        return list({label.label_ko: label for label in found}.values())

    def _known(self, ecosystems: Iterable[str]) -> list[Ecosystem]:
        return [eco for name in ecosystems if (eco := self._ecosystems.get(name.casefold())) is not None]

    def _korean_labels(self, ecosystems: Iterable[str], ksic: Iterable[str]) -> list[str]:
        """Korean industry words for a European cluster: its ecosystems' labels, then its KSIC labels."""
        ecosystem_labels = [eco.label_ko for eco in self._known(ecosystems)]
        return unique(ecosystem_labels + [label.label_ko for label in self.labels_for_ksic(ksic)])

    def region(self, hangul: str | None) -> Region | None:
        """A first-level region from its full, short or former Hangul name ('경기', '강원도', '전라북도')."""
        if not hangul:
            return None
        name = plain_line(hangul)
        for region in self.data.regions:
            if name in (region.name_ko, region.short_ko, *region.former_ko):
                return region
        return None

    # ---------------------------------------------------------------- normalise

    def from_eccp(self, rec: EccpCluster) -> Cluster:
        a = rec.attributes
        lang = (a.langcode or "en").strip() or "en"
        title = plain_line(a.title)
        description = None
        if a.field_description is not None and a.field_description.value.strip():
            value = a.field_description.value
            safe = text_to_html(value) if a.field_description.format == "plain_text" else sanitize_html(value)
            description = Text(text=safe, lang=lang) if safe else None
        coop = a.field_cooperation_interest
        contact = a.field_contact
        nace = self.nace_codes(a.field_nace_codes)
        ecosystems = unique(self.ecosystem(e) for e in a.field_ecosystems if e.strip())
        ksic = self.ksic_for_nace(nace) or unique(k for eco in self._known(ecosystems) for k in eco.ksic)
        labels = self._korean_labels(ecosystems, ksic)
        members = Members(
            sme=a.field_members_sme,
            large=a.field_members_large,
            research=a.field_members_research,
            other=a.field_members_other,
            total=_sum(a.field_members_sme, a.field_members_large, a.field_members_research, a.field_members_other),
        )
        country = iso_country(a.field_country) or a.field_country
        return Cluster(
            source="eccp",
            source_id=rec.id,
            source_changed=a.changed.astimezone(UTC),
            live=a.status,
            names={lang.split("-")[0]: title},
            name_en=title,
            name_en_origin="source",
            acronym=plain_line(a.field_acronym or "") or None,
            country=country,
            region_code=plain_line(a.field_nuts_region or "").upper() or None,
            region=_named("en", a.field_region_name),
            city=_named("en", a.field_city),
            website=normalise_url(a.field_website.uri if a.field_website else None),
            year_established=a.field_year_established,
            members=members,
            ecosystems=tuple(ecosystems),
            sectors=tuple(unique(x for x in (plain_line(s) for s in a.field_sectors) if x)),
            technologies=tuple(unique(x for x in (plain_line(s) for s in a.field_technologies) if x)),
            industry_labels={"ko": tuple(labels)} if labels else {},
            nace_codes=tuple(nace),
            ksic_codes=tuple(ksic),
            description=description,
            cooperation=Cooperation(
                seeking=_text(coop.seeking, lang) if coop else None,
                offering=_text(coop.offering, lang) if coop else None,
                target_countries=_countries(coop.target_countries if coop else []),
            ),
            quality_label=a.field_esca_label,
            contact=_contact(contact.name, contact.email, contact.phone, contact.public) if contact else None,
        )

    def from_kicox(self, rec: KicoxCluster) -> Cluster:
        hangul = plain_line(rec.clstrNm)
        romanised = self.romaniser.name(hangul)
        own = plain_line(rec.clstrEngNm or "")
        names = {"ko": hangul, "ko-Latn": romanised}
        if own:
            names["en"] = own
        region = self.region(rec.ctprvnNm)
        region_names = {"ko": region.name_ko, "en": region.name_en} if region else self._place(rec.ctprvnNm)
        labels_ko = [x for x in (plain_line(x) for x in re.split(r"[,;/]", rec.indutyNm or "")) if x]
        known = [self._labels[x] for x in labels_ko if x in self._labels]
        labels_en = [self._labels[x].label_en if x in self._labels else self.romaniser.term(x) for x in labels_ko]
        ksic_raw = [x.strip() for x in (rec.ksicCd or "").split(",") if x.strip()]
        ksic = [x for x in ksic_raw if self.data.crosswalk.parse_ksic(x)]
        basis = ksic or [code for label in known for code in label.ksic]
        ecosystems = unique(e for label in known for e in label.ecosystems) or self.ecosystems_for_ksic(basis)
        members = Members(total=rec.mberCo, sme=rec.smeCo, research=rec.rsrchInsttCo, other=_rest(rec))
        intro = html_to_text(rec.intrcn or "")
        complex_ko = plain_line(rec.cmplxNm or "")
        return Cluster(
            source="kicox",
            source_id=rec.clstrId,
            source_changed=rec.updtDt.astimezone(UTC),
            live=rec.useAt == "Y",
            names=names,
            name_en=own or romanised,
            name_en_origin="own" if own else "romanised",
            country="KR",
            region_code=region.iso_code if region else None,
            region=region_names,
            city=self._place(rec.signguNm),
            address=plain_line(rec.rdnmadr or "") or None,
            industrial_complex={"ko": complex_ko, "en": self.romaniser.name(complex_ko)} if complex_ko else {},
            website=normalise_url(rec.hmpgUrl),
            year_established=rec.estblYear,
            members=members,
            ecosystems=tuple(ecosystems),
            industry_labels={"ko": tuple(labels_ko), "en": tuple(labels_en)} if labels_ko else {},
            nace_codes=tuple(self.nace_for_ksic(basis)),
            ksic_codes=tuple(ksic),
            description=Text(text=intro, lang="ko") if intro else None,
            cooperation=Cooperation(
                seeking=_text(rec.cprtnIntrstCn, "ko"),
                target_countries=_countries((rec.cprtnNatnCd or "").split(",")),
            ),
            contact=_contact(rec.chargerNm, rec.chargerEmail, rec.chargerTelno, rec.chargerOthbcAt == "Y"),
        )

    def _place(self, hangul: str | None) -> dict[str, str]:
        name = plain_line(hangul or "")
        return {"ko": name, "en": self.romaniser.place(name)} if name else {}

    # ---------------------------------------------------------------- render

    def external_id(self, c: Cluster) -> str:
        """The id a mirror carries on the target: the KICOX clstrId on ECCP, 'eccp:<uuid>' on KICOX."""
        return c.source_id if c.source == "kicox" else f"eccp:{c.source_id}"

    def to_eccp_mirror(self, c: Cluster) -> dict[str, Any]:
        """ECCP ClusterAttributes of the mirror of a Korean cluster."""
        if c.source != "kicox":
            raise ValueError(f"source: only KICOX clusters are mirrored to ECCP, not {c.source}")
        title = truncate(plain_line(c.name_en), TITLE_MAX)
        if not title:
            raise ValueError("title: the cluster has no name to show")
        intro, seeking, offering = self._translated(
            [c.description, c.cooperation.seeking, c.cooperation.offering], target="en"
        )
        paragraphs: list[str] = []
        if c.names.get("ko"):
            paragraphs.append(f"Korean name: {plain_line(c.names['ko'])}")
        if c.industrial_complex.get("ko"):
            ko, en = plain_line(c.industrial_complex["ko"]), plain_line(c.industrial_complex.get("en", ""))
            paragraphs.append(f"Industrial complex: {en} ({ko})" if en else f"Industrial complex: {ko}")
        if intro is not None:
            if intro is not c.description:
                paragraphs.append("Machine translation from Korean:")
            paragraphs.append(intro.text)
        description = "\n\n".join(_scrub(p, c.contact) for p in paragraphs)
        coop = None
        if seeking or offering or c.cooperation.target_countries:
            coop = {
                "seeking": _scrub(html_to_text(seeking.text), c.contact) if seeking else "",
                "offering": _scrub(html_to_text(offering.text), c.contact) if offering else "",
                "target_countries": list(c.cooperation.target_countries),
            }
        year = c.year_established if c.year_established and c.year_established >= 1900 else None
        lang = c.description.lang if c.description else (c.cooperation.seeking.lang if c.cooperation.seeking else "ko")
        return {
            "title": title,
            "field_acronym": _acronym(c.acronym) or None,
            "status": True,
            "langcode": "en",
            "field_description": {"value": text_to_html(description), "format": "basic_html"} if description else None,
            "field_website": {"uri": c.website, "title": site_key(c.website) or c.website}
            if c.website and len(c.website) <= URL_MAX
            else None,
            "field_country": iso_country(c.country) or _fail("field_country", c.country),
            "field_nuts_region": None,
            "field_region_name": c.region.get("en") or None,
            "field_city": c.city.get("en") or None,
            "field_year_established": year,
            "field_members_sme": c.members.sme,
            "field_members_large": c.members.large,
            "field_members_research": c.members.research,
            "field_members_other": c.members.other,
            "field_ecosystems": list(c.ecosystems) or self.ecosystems_for_ksic(c.ksic_codes),
            "field_sectors": list(c.industry_labels.get("en", ())),
            "field_technologies": list(c.technologies),
            "field_nace_codes": list(c.nace_codes) or self.nace_for_ksic(c.ksic_codes),
            "field_esca_label": c.quality_label,
            "field_cooperation_interest": coop,
            "field_contact": _public_contact_eccp(c.contact),
            "field_origin": KICOX_ORIGIN,
            "field_external_id": self.external_id(c),
            "field_source_changed": c.source_changed.astimezone(UTC).isoformat(),
            "field_original_language": lang,
        }

    def to_kicox_mirror(self, c: Cluster) -> dict[str, Any]:
        """A ForeignCluster item of the partner ingest API for a European cluster."""
        if c.source != "eccp":
            raise ValueError(f"source: only ECCP clusters are mirrored to KICOX, not {c.source}")
        name = truncate(plain_line(c.name_en), ENG_NAME_MAX)
        if not name:
            raise ValueError("clstrEngNm: the cluster has no name to show")
        country = iso_country(c.country)
        if country is None:
            raise ValueError(f"natnCd: not a country code: {c.country!r}")
        seeking, offering = self._translated([c.cooperation.seeking, c.cooperation.offering], target="ko")
        coop = [
            f"{label}: {_scrub(plain_line(t.text), c.contact)}"
            for label, t in ((SEEKING_KO, seeking), (OFFERING_KO, offering))
            if t is not None
        ]
        ksic = list(c.ksic_codes) or self.ksic_for_nace(c.nace_codes)
        labels = list(c.industry_labels.get("ko", ())) or self._korean_labels(c.ecosystems, ksic)
        region = plain_line(c.region.get("en") or next(iter(c.region.values()), ""))
        region_text = f"{region} ({c.region_code})" if region and c.region_code else region or (c.region_code or "")
        contact = c.contact if c.contact is not None and c.contact.public else None
        intro = sanitize_html_limited(_scrub(c.description.text, c.contact), INTRO_MAX) if c.description else ""
        payload: dict[str, Any] = {
            "extrlId": self.external_id(c),
            "srcSysCd": "ECCP",
            "clstrEngNm": name,
            "clstrNm": truncate(plain_line(c.names.get("ko", "")), ENG_NAME_MAX),
            "acrnm": _acronym(c.acronym),
            "natnCd": country,
            "natnNm": country_name(country, "ko"),
            "rgnNm": region_text,
            "ctyNm": plain_line(c.city.get("en") or next(iter(c.city.values()), "")),
            "indutyNm": "; ".join(unique(labels)),
            "ksicCd": ",".join(ksic),
            "ecsysNm": "; ".join(c.ecosystems),
            "mberCo": c.members.total,
            "smeCo": c.members.sme,
            "rsrchInsttCo": c.members.research,
            "estblYear": c.year_established,
            "hmpgUrl": c.website if c.website and len(c.website) <= URL_MAX else "",
            "intrcn": intro,
            "intrcnLang": c.description.lang if intro and c.description else "",
            "cprtnIntrstCn": "\n".join(coop),
            "cprtnNatnCd": ",".join(c.cooperation.target_countries),
            "qlityLblNm": c.quality_label or "",
            "chargerNm": plain_line(contact.name or "") if contact else "",
            "chargerEmail": plain_line(contact.email or "") if contact else "",
            "chargerTelno": plain_line(contact.phone or "") if contact else "",
            "srcUpdtDt": c.source_changed.astimezone(UTC).isoformat(),
        }
        try:
            ForeignCluster.model_validate(payload)
        except ValidationError as exc:
            err = exc.errors()[0]
            raise ValueError(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}") from None
        return payload

    def _translated(self, texts: Sequence[Text | None], target: str) -> list[Text | None]:
        """Each text in `target` where the translator gives one, else the original with its own tag."""
        out = list(texts)
        todo = [i for i, t in enumerate(texts) if t is not None and t.text and _primary(t.lang) != target]
        by_lang: dict[str, list[int]] = {}
        for i in todo:
            by_lang.setdefault(_primary(texts[i].lang), []).append(i)  # type: ignore[union-attr]
        for lang, indexes in sorted(by_lang.items()):
            originals = [texts[i].text for i in indexes]  # type: ignore[union-attr]
            try:
                results = self.translator.translate(originals, lang, target)
            except TranslationError as exc:
                log.warning("translation failed, keeping the original text: %s", exc)
                continue
            for i, result in zip(indexes, results, strict=True):
                if result and result.strip():
                    out[i] = Text(text=html_to_text(result), lang=target)
        return out

    # ---------------------------------------------------------------- linkage

    def match_natives(
        self, korean: Iterable[Cluster], eccp_korean: Iterable[Cluster], threshold: float | None = None
    ) -> list[Match]:
        """Korean clusters that already have their own native ECCP profile (rule 11)."""
        return match_natives(korean, eccp_korean, self.data.links, threshold)


def _primary(lang: str) -> str:
    return lang.split("-")[0].lower()


def _fail(field: str, value: object) -> str:
    raise ValueError(f"{field}: invalid value {value!r}")


def _sum(*values: int | None) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _rest(rec: KicoxCluster) -> int | None:
    """Members neither SME nor research, when the three counts are given and consistent."""
    if rec.mberCo is None or rec.smeCo is None or rec.rsrchInsttCo is None:
        return None
    rest = rec.mberCo - rec.smeCo - rec.rsrchInsttCo
    return rest if rest >= 0 else None


def _named(lang: str, value: str | None) -> dict[str, str]:
    text = plain_line(value or "")
    return {lang: text} if text else {}


def _text(value: str | None, lang: str) -> Text | None:
    text = html_to_text(value or "")
    return Text(text=text, lang=lang) if text else None


def _countries(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(unique(code for code in (iso_country(v) for v in values if v.strip()) if code))


def _contact(name: str | None, email: str | None, phone: str | None, public: bool) -> Contact | None:
    fields = {k: plain_line(v or "") or None for k, v in (("name", name), ("email", email), ("phone", phone))}
    if not any(fields.values()):
        return None
    return Contact(name=fields["name"], email=fields["email"], phone=fields["phone"], public=public)


def _public_contact_eccp(contact: Contact | None) -> dict[str, Any] | None:
    if contact is None or not contact.public:
        return None
    return {"name": contact.name or "", "email": contact.email or "", "phone": contact.phone or "", "public": True}


def _acronym(value: str | None) -> str:
    text = plain_line(value or "")
    return text if len(text) <= ACRONYM_MAX else ""


def _scrub(text: str, contact: Contact | None) -> str:
    """Rule 7 inside free text: a private contact's name, e-mail or phone written into it is withheld."""
    if contact is None or contact.public:
        return text
    for value in (contact.email, contact.phone, contact.name):
        if value and len(value.strip()) >= 2:
            text = text.replace(value.strip(), WITHHELD)
    return text
