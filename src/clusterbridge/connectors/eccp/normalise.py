"""ECCP profile (JSON:API resource) → the shared `Cluster`: ECCP's own words and codes, cleaned, nothing derived
for the other side (the renderer does that for each reader)."""

from __future__ import annotations

import re
from datetime import UTC

from clusterbridge.connectors.eccp.models import EccpCluster
from clusterbridge.mapping import fields
from clusterbridge.mapping.clean import country_code, plain_line, rich_text, text_to_html, url
from clusterbridge.mapping.codes import unique
from clusterbridge.mapping.vocabulary import Vocabulary
from clusterbridge.model import Cluster, Cooperation, Members, Text


def normalise(rec: EccpCluster, side: str, vocabulary: Vocabulary) -> Cluster:
    """The shared model of one native ECCP profile; ValueError naming the field when it cannot be read."""
    a = rec.attributes
    lang = fields.language(a.langcode, "en")
    title = fields.visible_name(a.title, "title")
    description = None
    if a.field_description is not None and a.field_description.value.strip():
        value = a.field_description.value
        safe = text_to_html(value) if a.field_description.format == "plain_text" else rich_text(value)
        description = Text(text=safe, lang=lang) if safe else None
    coop = a.field_cooperation_interest
    contact = a.field_contact
    members = Members(
        sme=a.field_members_sme,
        large=a.field_members_large,
        research=a.field_members_research,
        other=a.field_members_other,
        total=fields.total(a.field_members_sme, a.field_members_large, a.field_members_research, a.field_members_other),
    )
    country = country_code(a.field_country)
    if country is None:
        raise ValueError(f"field_country: not a country code: {a.field_country!r}")
    return Cluster(
        source=side,
        source_id=rec.id,
        source_changed=a.changed.astimezone(UTC),
        live=a.status,
        lang=lang,
        names={lang.split("-")[0]: title},
        name_en=title,
        name_en_origin="source",
        acronym=plain_line(a.field_acronym or "", field="field_acronym") or None,
        country=country,
        region_code=_nuts(a.field_nuts_region),
        region=fields.named("en", a.field_region_name, "field_region_name"),
        city=fields.named("en", a.field_city, "field_city"),
        website=url(a.field_website.uri if a.field_website else None),
        year_established=a.field_year_established,
        members=members,
        ecosystems=tuple(unique(vocabulary.ecosystem(e) for e in a.field_ecosystems if e.strip())),
        sectors=tuple(fields.terms(a.field_sectors, "field_sectors")),
        technologies=tuple(fields.terms(a.field_technologies, "field_technologies")),
        nace_codes=tuple(vocabulary.nace_codes(a.field_nace_codes)),
        description=description,
        cooperation=Cooperation(
            seeking=fields.text(coop.seeking, lang, "field_cooperation_interest.seeking") if coop else None,
            offering=fields.text(coop.offering, lang, "field_cooperation_interest.offering") if coop else None,
            target_countries=fields.countries(coop.target_countries if coop else []),
        ),
        quality_label=a.field_esca_label,
        contact=fields.contact(contact.name, contact.email, contact.phone, contact.public,
                               ("field_contact.name", "field_contact.email", "field_contact.phone"))
        if contact else None,
    )


_NUTS = re.compile(r"^[A-Z]{2}[A-Z0-9]{0,3}$")


def _nuts(value: str | None) -> str | None:
    """A NUTS 2021 code (two letters and up to three more letters or digits); anything else is dropped, as a
    region code is only ever shown beside the region's name."""
    code = plain_line(value or "").upper().replace(" ", "")
    return code if _NUTS.match(code) else None
