"""A rendered cluster → one flat row of an import file, in the reader's language.

Every value is text ('' for nothing), so a row reads back from CSV, XLSX or JSON Lines exactly as it was
shaped and an unchanged mirror hashes the same. Texts are plain: a spreadsheet shows no markup. A machine
translation is followed by its note and the original, as on the platforms.
"""

from __future__ import annotations

import re
from datetime import UTC

from clusterbridge.abc import JSON
from clusterbridge.mapping.clean import plain_text
from clusterbridge.mapping.codes import unique
from clusterbridge.mapping.vocabulary import Vocabulary
from clusterbridge.model import RenderedCluster, RenderedText

# a spreadsheet cell holds at most this many characters
CELL_MAX = 32_767
# characters a spreadsheet file cannot hold (XML 1.0 forbids them); line ends become '\n'
_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def cell(value: object) -> str:
    """A value as the text of one cell."""
    if value is None:
        return ""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    return plain_text(_UNSAFE.sub("", text).strip(), max_len=CELL_MAX)


def plain(text: RenderedText) -> str:
    return plain_text(text.text) if text.format == "html" else text.text


def with_original(text: RenderedText) -> str:
    """The text as a reader sees it: the translation, then the note and the original."""
    body = plain(text)
    if not text.machine_translated or not text.original:
        return body
    original = plain_text(text.original) if "<" in text.original else text.original
    return f"{body}\n\n[{text.note}] {text.original_heading}: {original}"


def shape(r: RenderedCluster, columns: tuple[str, ...], vocabulary: Vocabulary) -> JSON:
    """The row's cells by column (only the `columns` the import file has); ValueError naming the field when the
    record cannot be shown."""
    if not r.name.strip():
        raise ValueError("name: the cluster has no name to show")
    contact = r.contact if r.contact is not None and r.contact.public else None
    members = r.members
    values: dict[str, object] = {
        "external_id": r.external_id,
        "name": r.name,
        "name_local": r.name_local if r.name_local != r.name else "",
        "acronym": r.acronym,
        "country": r.country,
        "country_name": r.country_name,
        "region": r.region,
        "region_code": r.region_code,
        "city": r.city,
        "website": r.website,
        "year_established": r.year_established,
        "members_total": members.total,
        "members_sme": members.sme,
        "members_large": members.large,
        "members_research": members.research,
        "members_other": members.other,
        "ecosystems": "; ".join(unique(vocabulary.ecosystem_label(e, r.reader_lang) for e in r.ecosystems)),
        "industries": "; ".join(unique(r.industries)),
        "codes": ",".join(r.codes),
        "code_system": r.code_system,
        "description": with_original(r.description) if r.description else "",
        "description_language": r.description.lang if r.description else "",
        "seeking": with_original(r.seeking) if r.seeking else "",
        "offering": with_original(r.offering) if r.offering else "",
        "target_countries": ",".join(r.target_countries),
        "quality_label": r.quality_label,
        "contact_name": contact.name if contact else "",
        "contact_email": contact.email if contact else "",
        "contact_phone": contact.phone if contact else "",
        "sections": "\n".join(f"{s.heading}: {'; '.join(s.lines)}" for s in r.sections),
        "original_language": r.original_lang,
        "source_changed": r.source_changed.astimezone(UTC).isoformat(),
    }
    return {name: cell(values[name]) for name in columns}
