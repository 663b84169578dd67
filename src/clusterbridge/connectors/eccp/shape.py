"""A rendered cluster → the attributes of its mirror on ECCP (node--cluster_organisation).

ECCP has no field for a second name or for an industrial complex, and its title must stay a Latin-script name
of at most 255 characters, so those sections open the description ("Korean name: <Hangul>"). A plain-text
source crosses as *escaped* basic_html (every character escaped, line breaks as <br>/<p>), so no markup from the
other platform survives; a machine translation is followed by its original.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from clusterbridge.abc import JSON
from clusterbridge.mapping.clean import check_payload, plain_line, rich_text, site_key, text_to_html
from clusterbridge.model import Contact, RenderedCluster, RenderedText

TITLE_MAX = 255
URL_MAX = 500
ACRONYM_MAX = 64
# sections ECCP has no field for: they open the description
DESCRIPTION_SECTIONS = ("name_original", "industrial_complex", "partners")
RICH = frozenset({"field_description.value"})


def shape(r: RenderedCluster, *, partner_code: str) -> JSON:
    """The mirror's attributes; ValueError naming the field when the record cannot be shown on ECCP."""
    title = plain_line(r.name, max_len=TITLE_MAX)
    if not title:
        raise ValueError("title: the cluster has no name to show")
    year = r.year_established if r.year_established and r.year_established >= 1900 else None
    website = r.website if r.website and len(r.website) <= URL_MAX else None
    payload = {
        "title": title,
        "field_acronym": r.acronym if r.acronym and len(r.acronym) <= ACRONYM_MAX else None,
        "status": True,
        "langcode": r.description.lang if r.description else r.reader_lang,
        "field_description": _description(r),
        "field_website": {"uri": website, "title": site_key(website) or website} if website else None,
        "field_country": r.country,
        "field_nuts_region": r.region_code if r.code_system == "NACE" and _is_nuts(r.region_code) else None,
        "field_region_name": r.region or None,
        "field_city": r.city or None,
        "field_year_established": year,
        "field_members_sme": r.members.sme,
        "field_members_large": r.members.large,
        "field_members_research": r.members.research,
        "field_members_other": r.members.other,
        "field_ecosystems": list(r.ecosystems),
        "field_sectors": list(r.sectors) or list(r.industries),
        "field_technologies": list(r.technologies),
        "field_nace_codes": list(r.codes),
        "field_esca_label": r.quality_label,
        "field_cooperation_interest": _cooperation(r),
        "field_contact": _contact(r.contact),
        "field_origin": partner_code,
        "field_external_id": r.external_id,
        "field_source_changed": r.source_changed.astimezone(UTC).isoformat(),
        "field_original_language": r.original_lang,
    }
    check_payload(payload, rich=RICH)  # nothing unsafe reaches the site, whatever a record held
    return payload


def _is_nuts(code: str) -> bool:
    return len(code) >= 2 and code[:2].isalpha() and "-" not in code


def _description(r: RenderedCluster) -> dict[str, str] | None:
    parts: list[str] = []
    for section in r.sections:
        if section.key in DESCRIPTION_SECTIONS:
            parts += [text_to_html(f"{section.heading}: {line}") for line in section.lines]
    if r.description is not None:
        parts.append(_text_html(r.description))
    html = "".join(parts)
    return {"value": html, "format": "basic_html"} if html else None


def _text_html(text: RenderedText) -> str:
    body = rich_text(text.text) if text.format == "html" else text_to_html(text.text)
    if not text.machine_translated or not text.original:
        return body
    original = rich_text(text.original) if "<" in text.original else text_to_html(text.original)
    return text_to_html(f"{text.note}:") + body + text_to_html(f"{text.original_heading}:") + original


def _cooperation(r: RenderedCluster) -> dict[str, Any] | None:
    if not (r.seeking or r.offering or r.target_countries):
        return None
    return {
        "seeking": r.seeking.with_original() if r.seeking else "",
        "offering": r.offering.with_original() if r.offering else "",
        "target_countries": list(r.target_countries),
    }


def _contact(contact: Contact | None) -> dict[str, Any] | None:
    if contact is None or not contact.public:
        return None
    return {"name": contact.name or "", "email": contact.email or "", "phone": contact.phone or "", "public": True}
