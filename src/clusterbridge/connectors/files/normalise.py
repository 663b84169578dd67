"""An export row → the shared `Cluster`, for a side of any language: names with the cluster's own English name
first and a romanisation for Hangul (rule 8), regions, industry labels and codes through the vocabulary.

What differs between a Korean-language row and others is only what the vocabulary knows: Korean regions, the
Korean industry labels (with their KSIC codes and ecosystems) and romanisation.
"""

from __future__ import annotations

from datetime import UTC

from clusterbridge.connectors.files.models import ExportRow
from clusterbridge.mapping import fields
from clusterbridge.mapping.clean import plain_line, plain_text, url
from clusterbridge.mapping.codes import unique
from clusterbridge.mapping.romanise import is_hangul
from clusterbridge.mapping.vocabulary import Vocabulary
from clusterbridge.model import Cluster, Cooperation, Members, Text
from clusterbridge.sides import Side


def normalise(row: ExportRow, side: Side, vocabulary: Vocabulary) -> Cluster:
    """The shared model of one export row; ValueError naming the field when it cannot be read."""
    v = vocabulary
    lang = fields.language(row.language, side.language.lower())
    primary = lang.split("-")[0]
    korean = primary == "ko"
    name = fields.visible_name(row.name, "name")
    own_en = plain_line(row.name_en or "")
    names = {primary: name}
    romanised = v.romaniser.name(name) if korean or is_hangul(name) else ""
    if romanised:
        names["ko-Latn"] = romanised
    if own_en and primary != "en":
        names["en"] = own_en
    if own_en:
        name_en, origin = own_en, "source" if primary == "en" else "own"
    elif romanised:
        name_en, origin = romanised, "romanised"
    else:
        name_en, origin = name, "source"

    labels = fields.terms(row.industries)
    ksic = v.ksic_codes(row.ksic_codes)
    ecosystems = unique(v.ecosystem(e) for e in row.ecosystems if e.strip())
    industry_labels: dict[str, tuple[str, ...]] = {primary: tuple(labels)} if labels else {}
    if korean and labels:
        known = [label for x in labels if (label := v.industry_label(x)) is not None]
        english = [label.label_en if (label := v.industry_label(x)) else v.romaniser.term(x) for x in labels]
        industry_labels["en"] = tuple(english)
        basis = ksic or [code for label in known for code in label.ksic]
        ecosystems = ecosystems or unique(e for label in known for e in label.ecosystems) or v.ecosystems_for_ksic(
            basis)
    elif korean and not ecosystems:
        ecosystems = v.ecosystems_for_ksic(ksic)

    region_code = plain_line(row.region_code or "").upper() or None
    region_names = fields.named(primary, row.region)
    city = fields.named(primary, row.city)
    if korean:
        region = v.region(row.region)
        if region is not None:
            region_code = region_code or region.iso_code
            region_names = {"ko": region.name_ko, "en": region.name_en}
        else:
            region_names = v.place(row.region)
        city = v.place(row.city)

    description = plain_text(row.description or "")
    members = Members(
        total=row.members_total if row.members_total is not None else fields.total(
            row.members_sme, row.members_large, row.members_research, row.members_other),
        sme=row.members_sme,
        large=row.members_large,
        research=row.members_research,
        other=row.members_other,
    )
    return Cluster(
        source=side.name,
        source_id=row.id,
        source_changed=row.changed.astimezone(UTC),
        live=row.live,
        lang=lang,
        names=names,
        name_en=name_en,
        name_en_origin=origin,
        acronym=plain_line(row.acronym or "") or None,
        country=row.country,
        region_code=region_code,
        region=region_names,
        city=city,
        website=url(row.website),
        year_established=row.year,
        members=members,
        ecosystems=tuple(ecosystems),
        sectors=tuple(fields.terms(row.sectors)),
        technologies=tuple(fields.terms(row.technologies)),
        industry_labels=industry_labels,
        nace_codes=tuple(v.nace_codes(row.nace_codes)),
        ksic_codes=tuple(ksic),
        description=Text(text=description, lang=lang) if description else None,
        cooperation=Cooperation(
            seeking=fields.text(row.seeking, lang),
            offering=fields.text(row.offering, lang),
            target_countries=fields.countries(row.target_countries),
        ),
        contact=fields.contact(row.contact_name, row.contact_email, row.contact_phone, row.contact_public),
    )
