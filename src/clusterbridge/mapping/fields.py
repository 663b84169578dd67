"""Small builders of shared-model values that every connector's normaliser needs: cleaned names by language,
texts with their language tag, country lists, contacts and member totals."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from clusterbridge.mapping.clean import country_code, language_tag, plain_line, plain_text
from clusterbridge.mapping.codes import unique
from clusterbridge.model import Contact, Text

LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def language(value: str | None, default: str) -> str:
    """A BCP 47 tag in lower case; ValueError naming the field for anything else (it would cross as a tag)."""
    value = without_surrogates(value) if value is not None else None  # dropped, as everywhere at the edge
    if value is None or not value.strip():
        return default
    tag = language_tag(value)
    if tag is None:
        raise ValueError(f"langcode: not a language tag: {value[:40]!r}")
    return tag


def terms(values: Iterable[str], field: str | None = None) -> list[str]:
    """Cleaned one-line terms, without blanks or repeats, in source order."""
    return unique(x for x in (plain_line(s, field=field) for s in values) if x)


def total(*values: int | None) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def named(lang: str, value: str | None, field: str | None = None) -> dict[str, str]:
    """{lang: cleaned value}, or {} when there is nothing to show."""
    text = plain_line(value or "", field=field)
    return {lang: text} if text else {}


def text(value: str | None, lang: str, field: str | None = None) -> Text | None:
    """Plain text with its language tag, or None when empty."""
    cleaned = plain_text(value or "", field=field)
    return Text(text=cleaned, lang=lang) if cleaned else None


def countries(values: Iterable[str]) -> tuple[str, ...]:
    """ISO 3166-1 alpha-2 codes (EL → GR, UK → GB), without repeats."""
    return tuple(unique(code for code in (country_code(v) for v in values if v.strip()) if code))


def contact(name: str | None, email: str | None, phone: str | None, public: bool,
            fields_named: tuple[str, str, str] = ("contact.name", "contact.email", "contact.phone")) -> Contact | None:
    """A contact person, or None when the source names nobody."""
    fields = {k: plain_line(v or "", field=f) or None
              for (k, v), f in zip((("name", name), ("email", email), ("phone", phone)), fields_named, strict=True)}
    if not any(fields.values()):
        return None
    return Contact(name=fields["name"], email=fields["email"], phone=fields["phone"], public=public)


def visible_name(value: str, field: str) -> str:
    """A cleaned one-line name that shows at least one visible character (letters, digits, punctuation or
    symbols; not only zero-width characters, combining marks or spaces); ValueError naming the field otherwise."""
    name = plain_line(value, field=field)
    if not any(unicodedata.category(ch)[0] in "LNPS" for ch in name):
        raise ValueError(f"{field}: the name has no visible characters")
    return name


def without_surrogates(value: Any) -> Any:
    """A copy of a JSON value with lone surrogates removed from every string. JSON may carry them ("\\ud800" is
    valid JSON), UTF-8 cannot: they are dropped at the edge, as the text cleaning drops them anyway."""
    if isinstance(value, str):
        return value.encode("utf-8", "ignore").decode("utf-8") if _has_surrogate(value) else value
    if isinstance(value, dict):
        return {without_surrogates(k): without_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_surrogates(v) for v in value]
    return value


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def unicode_error(exc: ValidationError) -> bool:
    """True when a wire model refused a string only because it holds a lone surrogate."""
    return any(e["type"] == "string_unicode" for e in exc.errors())
