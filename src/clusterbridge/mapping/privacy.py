"""Rule 7 inside free text: personal data written into a description or a cooperation text is withheld.

Before a text crosses to the other platform, `withhold` finds e-mail addresses (also when obfuscated), phone
numbers, Korean resident registration numbers and the names of the record's non-public contact, and puts a
placeholder where each stood. The ledger keeps only the counts (`Withheld`), never the values.

What stays: the record's own contact's e-mail and phone when the source marks that contact public, and a
generic organisational address (`ORGANISATIONAL_MAILBOXES`) on the cluster's own website domain or one of its
subdomains. Everything else that is found is withheld, whoever it belongs to.

Phone numbers are found by the `phonenumbers` library's `PhoneNumberMatcher`, tried for Korea and each
European region in turn; a match is taken only when it is written the way people write phone numbers, so that
years, dates, postcodes, industry codes, amounts and counts stay (see `_phone_shaped`).

Names are searched for in every script and spelling: a Hangul name with any spacing between its syllables;
its Latin spellings in any case, order and hyphenation, compared through Revised Romanization (the project's
romaniser), common surname spellings (Kim, Lee, Park …) and a skeleton on which the usual romanisations of a
given name meet (Cheol-su, Chul-soo); a Latin name in any case, order (Rossi, Maria) and with or without
diacritics; and a Latin name written in Hangul, found by romanising the Hangul words (마리아 로시 → Maria
Rossi). A particle or title after a Hangul name stays (홍길동님 → [placeholder]님).

Resident registration numbers (YYMMDD-GNNNNNN, hyphen optional) need a real birth date, not in the future,
with the century the seventh digit gives (1, 2, 5, 6: 1900s; 3, 4, 7, 8: 2000s). Numbers issued before
October 2020 end in a check digit, so a number of someone born before 2020-10-01 must pass it (citizens:
(11 − Σ mod 11) mod 10; foreign residents: that rule or (13 − Σ mod 11) mod 10). Numbers issued since October
2020 carry random digits instead, so for a birth date on or after 2020-10-01 the date alone decides. A number
re-issued after 2020 to someone born earlier fails its check digit and is not recognised as such; it is still
withheld as a phone number only when it looks like one.

HTML (the safe subset) is read text node by text node with character references decoded; each value found
is replaced where it stands in the markup, so everything else keeps its exact bytes. A link whose target holds
personal data (mailto:, tel:, an address in a URL) loses the link but keeps its text, itself withheld; a value
in a link target counts as one more occurrence.

The common case is cheap: a text without an address marker (@, ＠, (at), 골뱅이, "dot" …), without a run of
seven or more digits and separators, and without a trace of the contact's name comes back as it is, before
any parsing.

Known limits: a value split by markup (`홍<em>길동</em>`) is not seen; "kim at example.kr" (the word "at"
with a written dot) is ambiguous in English prose and stays, while "kim at example dot kr" is withheld; a
one-word contact name is not searched for, nor one-letter romanised surnames (I, O, U: the spellings people
use instead, Lee, Oh, Woo, are); an address whose local part is not ASCII is not recognised.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from functools import lru_cache
from urllib.parse import urlsplit

from phonenumbers import (
    Leniency,
    PhoneMetadata,
    PhoneNumber,
    PhoneNumberMatcher,
    is_possible_number,
    is_valid_number_for_region,
    national_significant_number,
    parse,
)
from phonenumbers.phonenumberutil import UNKNOWN_REGION, NumberParseException, region_code_for_country_code

from clusterbridge.mapping.romanise import romanise_word
from clusterbridge.model import Contact

__all__ = [
    "ORGANISATIONAL_MAILBOXES",
    "PHONE_REGIONS",
    "PLACEHOLDER_EN",
    "PLACEHOLDER_KO",
    "Withheld",
    "placeholder_for",
    "withhold",
]

PLACEHOLDER_KO = "[연락처 비공개]"
PLACEHOLDER_EN = "[contact withheld]"

# Mailboxes of an organisation rather than of a person; on the cluster's own domain they may cross.
ORGANISATIONAL_MAILBOXES = frozenset(
    {
        "admin", "bureau", "communication", "communications", "contact", "contacto", "contatti", "contacts",
        "enquiries", "enquiry", "general", "hello", "info", "information", "inquiries", "inquiry", "kontakt",
        "mail", "media", "office", "post", "press", "secretaria", "secretariaat", "secretariat", "secretary",
        "segreteria", "sekretariat", "webmaster",
    }
)  # fmt: skip

# Korea first, then every EU and EEA member, the United Kingdom and Switzerland.
PHONE_REGIONS = (
    "KR", "DE", "FR", "IT", "ES", "NL", "BE", "AT", "PL", "GB", "SE", "DK", "FI", "PT", "IE", "CZ", "SK", "HU",
    "GR", "RO", "BG", "HR", "SI", "LU", "LT", "LV", "EE", "CY", "MT", "CH", "NO", "IS", "LI",
)  # fmt: skip


@dataclass(frozen=True)
class Withheld:
    """How many values of each kind one text lost; counts only, so that the audit trail holds no personal data."""

    emails: int = 0
    phones: int = 0
    national_ids: int = 0
    names: int = 0

    def total(self) -> int:
        return self.emails + self.phones + self.national_ids + self.names

    def __add__(self, other: Withheld) -> Withheld:
        return Withheld(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


NOTHING = Withheld()


def placeholder_for(lang: str) -> str:
    """The placeholder a reader of `lang` (a BCP 47 tag) understands: Korean for 'ko…', English otherwise."""
    primary = lang.strip().replace("_", "-").split("-", 1)[0].casefold()
    return PLACEHOLDER_KO if primary == "ko" else PLACEHOLDER_EN


def withhold(text: str, *, contact: Contact | None, website: str | None, placeholder: str) -> tuple[str, Withheld]:
    """`text` (plain, or the safe HTML subset) with personal data replaced by `placeholder`, and the counts.

    `contact` is the record's own contact (its name is searched for when it is not public; its e-mail and
    phone may stay when it is); `website` is the cluster's own site, whose domain may show generic mailboxes.
    Running it again on its own output withholds nothing more."""
    if not text:
        return text, NOTHING
    public = contact if contact is not None and contact.public else None
    names = _name_forms(contact.name) if contact is not None and public is None and contact.name else None
    # the fast path: most texts have no address marker, no long run of digits and no sign of the name
    lowered = text.lower()
    if (
        not _may_hold_address(lowered)
        and not _RUN_HINT.search(text)
        and (names is None or not names.present(text, lowered))
    ):
        return text, NOTHING
    rules = _Rules(
        names=names,
        site=_site_domain(website),
        public_email=_canonical_email(public.email) if public is not None and public.email else None,
        public_phone=public.phone or None if public is not None else None,
    )
    if _HTML_HINT.search(text):
        return _withhold_html(text, rules, placeholder)
    return _withhold_plain(text, rules, placeholder)


# --------------------------------------------------------------------------------------------------------------
# text shapes

# Full-width forms and typographic dashes/spaces folded to ASCII one character for one, so that offsets in the
# folded text are offsets in the original.
_FOLD: dict[int, int] = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FOLD.update({0x3000: 0x20, 0x00A0: 0x20, 0x202F: 0x20, 0xFE6B: 0x40, 0x3002: 0x2E, 0xFF61: 0x2E, 0x2212: 0x2D})
_FOLD.update({cp: 0x2D for cp in range(0x2010, 0x2016)})

# Cheap signs (in the lower-cased text) that it may hold an e-mail address, or a number worth a closer look.
_ADDRESS_MARKS = ("@", "＠", "﹫", "&#64;", "&#064;", "&#x40;", "&commat;", "골뱅이", "dot", "ｄｏｔ", "&lt;at")
_BRACKETED_AT = re.compile(r"[(\[{（［｛]\s*(?:at|ａｔ)\s*[)\]}）］｝]")
_RUN_HINT = re.compile(r"[0-9０-９](?:[0-9０-９\s.\-‐‑‒–/()（）]|&nbsp;|&#160;){5,}[0-9０-９]")
_HTML_HINT = re.compile(r"</?(?:p|br|ul|ol|li|strong|em|a)\b[^<>]*>", re.IGNORECASE)

_LOCAL = r"[a-z0-9_%+\-](?:[a-z0-9._%+\-]{0,62}[a-z0-9_%+\-])?"
_LABEL = r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?"
_AT = r"(?:\s*@\s*|\s*[(\[{<]\s*(?:at|@|골뱅이)\s*[)\]}>]\s*|\s*골뱅이\s*)"
_DOT = r"(?:\.|\s*[(\[{<]\s*(?:dot|\.|점|닷)\s*[)\]}>]\s*|\s+dot\s+|\s*(?:점|닷)\s*)"
_EMAIL = re.compile(
    rf"(?<![a-z0-9._%+\-])(?P<local>{_LOCAL})(?P<at>{_AT})(?P<domain>{_LABEL}(?:{_DOT}{_LABEL})*{_DOT}[a-z]{{2,24}})"
    r"(?![a-z0-9\-])",
    re.IGNORECASE,
)
# "kim at example dot kr": the plain word "at" counts only when every dot is spelled out too
_EMAIL_SPELLED = re.compile(
    rf"(?<![a-z0-9._%+\-])(?P<local>{_LOCAL})\s+at\s+(?P<domain>{_LABEL}(?:\s+dot\s+{_LABEL})+)(?![a-z0-9\-])",
    re.IGNORECASE,
)
_DOT_TOKEN = re.compile(_DOT, re.IGNORECASE)
_GENERIC_TLDS = frozenset({"com", "org", "net", "edu", "gov", "int", "eu", "info", "biz"})

_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
# Calendar dates (2024-05-01, 2024. 5. 1., 01.05.2024, 12/31/2024, 20240501) and ranges of them; never part
# of a longer number.
_ONE_DATE = (
    r"(?:(?:19|20)\d\d\s?[./\-]\s?(?:0?[1-9]|1[0-2])\s?[./\-]\s?(?:0?[1-9]|[12]\d|3[01])\.?"
    r"|(?:0?[1-9]|[12]\d|3[01])[./\-](?:0?[1-9]|1[0-2])[./\-](?:19|20)?\d\d"
    r"|(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\d|3[01])/(?:19|20)\d\d"
    r"|(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))"
)
_DATE = re.compile(rf"(?<![\d+])(?<!\d[\-./]){_ONE_DATE}(?:\s?[\-~]\s?{_ONE_DATE})?(?!\d)(?![\-./]\d)")
_RRN = re.compile(r"(?<!\d)(\d{6})(?:\s?-\s?)?([1-8]\d{6})(?!\d)")
_RUN = re.compile(r"(?:\+|\(\+?)?\d[\d \t.\-/()]*\d")
_YEARS_ONLY = re.compile(r"(?:(?:19|20)\d\d[\s.\-/]*)+")
_AMOUNT_BEFORE = re.compile(r"(?:€|\$|₩|£|eur|usd|krw|chf)\s*$", re.IGNORECASE)
_AMOUNT_AFTER = re.compile(
    r"^\s*(?:€|\$|₩|£|%|원|명|개|eur\b|euro|usd\b|krw\b|won\b|chf\b|members|employees|companies|jobs)", re.IGNORECASE
)
_KR_SERVICE = re.compile(r"1[5-8]\d\d[ .\-]?\d{4}")
_NO_TRUNK_PREFIX = frozenset(
    r for r in PHONE_REGIONS if (m := PhoneMetadata.metadata_for_region(r)) is not None and not m.national_prefix
)
_DOMESTIC_WITHOUT_ZERO = ("KR", *(r for r in PHONE_REGIONS if r in _NO_TRUNK_PREFIX))
# Europe dials 00 then the country code; Korea's 00 is followed by a carrier digit first (001, 002, 00700 …)
_IDD_REGIONS = ("DE", "KR")

_TAG_SPLIT = re.compile(r"(<[^<>]*>)")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7};?|#[xX][0-9a-fA-F]{1,6};?|[A-Za-z][A-Za-z0-9]{1,31};?)")
_HREF = re.compile(r"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
_ANCHOR_OPEN = re.compile(r"<a\b", re.IGNORECASE)
_ANCHOR_CLOSE = re.compile(r"</a\s*>", re.IGNORECASE)


# --------------------------------------------------------------------------------------------------------------
# one text


@dataclass(frozen=True)
class _Rules:
    names: _NameForms | None
    site: str | None
    public_email: str | None
    public_phone: str | None


@dataclass
class _Found:
    """Spans claimed so far: withheld ones (with their kind) and kept ones (kind None), never overlapping."""

    spans: list[tuple[int, int, str | None]] = field(default_factory=list)

    def free(self, start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e, _ in self.spans)

    def claim(self, start: int, end: int, kind: str | None) -> None:
        if self.free(start, end):
            self.spans.append((start, end, kind))


def _withhold_plain(text: str, rules: _Rules, placeholder: str) -> tuple[str, Withheld]:
    spans = _personal_data(text, rules)
    if not spans:
        return text, NOTHING
    return _replace(text, [(s, e) for s, e, _ in spans], placeholder), _count(spans)


def _personal_data(text: str, rules: _Rules) -> list[tuple[int, int, str]]:
    """Where `text` holds personal data to withhold, as sorted (start, end, kind). Each kind is looked for only
    where its cheap sign is present; addresses first, so that the digits of an address are never read as a
    number; URLs are left whole."""
    folded = text.translate(_FOLD)
    lowered = folded.lower()
    found = _Found()
    if _may_hold_address(lowered):
        _find_emails(folded, rules, found)
    masked = [(m.start(), m.end()) for m in _URL.finditer(folded)] if "http" in lowered or "www." in lowered else []
    if _RUN_HINT.search(folded):
        _find_national_ids(folded, found)
        _find_phones(folded, rules, found, masked + [(m.start(), m.end()) for m in _DATE.finditer(folded)])
    if rules.names is not None and rules.names.present(folded, lowered):
        for start, end in rules.names.find(folded):
            if all(end <= s or start >= e for s, e in masked):
                found.claim(start, end, "names")
    return sorted((s, e, k) for s, e, k in found.spans if k is not None)


def _replace(text: str, spans: Sequence[tuple[int, int]], placeholder: str) -> str:
    parts: list[str] = []
    at = 0
    for start, end in spans:
        parts += [text[at:start], placeholder]
        at = end
    parts.append(text[at:])
    return "".join(parts)


def _count(spans: Sequence[tuple[int, int, str]]) -> Withheld:
    counts: dict[str, int] = {}
    for _, _, kind in spans:
        counts[kind] = counts.get(kind, 0) + 1
    return Withheld(**counts)


def _withhold_html(text: str, rules: _Rules, placeholder: str) -> tuple[str, Withheld]:
    """Text between tags is read with its character references decoded, and each value found is replaced in
    the markup as written, so that everything else keeps its exact bytes; a link whose target holds personal
    data loses the link (its text stays, withheld in turn)."""
    escaped_placeholder = html.escape(placeholder, quote=False)
    total = NOTHING
    out: list[str] = []
    drop_close = False
    for piece in _TAG_SPLIT.split(text):
        if not piece:
            continue
        if piece.startswith("<"):
            if drop_close and _ANCHOR_CLOSE.match(piece):
                drop_close = False
                continue
            href = _HREF.search(piece) if _ANCHOR_OPEN.match(piece) else None
            if href is not None:
                target = html.unescape(next(g for g in href.groups() if g is not None))
                found = _personal_data(target, rules)
                if found:
                    total += _count(found)
                    drop_close = True
                    continue
            out.append(piece)
            continue
        plain, origin = _decoded(piece)
        found = _personal_data(plain, rules)
        if found:
            total += _count(found)
            spans = [(origin[s][0], origin[e - 1][1]) for s, e, _ in found] if origin else [(s, e) for s, e, _ in found]
            out.append(_replace(piece, spans, escaped_placeholder))
        else:
            out.append(piece)
    return "".join(out), total


def _decoded(piece: str) -> tuple[str, list[tuple[int, int]] | None]:
    """HTML text with its character references decoded, and where each decoded character came from (None
    when nothing needed decoding)."""
    if "&" not in piece:
        return piece, None
    chars: list[str] = []
    origin: list[tuple[int, int]] = []
    at = 0
    for m in _ENTITY.finditer(piece):
        chars.append(piece[at : m.start()])
        origin += [(i, i + 1) for i in range(at, m.start())]
        decoded = html.unescape(m.group())
        chars.append(decoded)
        origin += [(m.start(), m.end())] * len(decoded)
        at = m.end()
    chars.append(piece[at:])
    origin += [(i, i + 1) for i in range(at, len(piece))]
    return "".join(chars), origin


# --------------------------------------------------------------------------------------------------------------
# e-mail addresses


def _may_hold_address(lowered: str) -> bool:
    return any(mark in lowered for mark in _ADDRESS_MARKS) or _BRACKETED_AT.search(lowered) is not None


def _find_emails(folded: str, rules: _Rules, found: _Found) -> None:
    for m in _EMAIL.finditer(folded):
        domain = _DOT_TOKEN.sub(".", m.group("domain")).replace(" ", "").lower()
        address = f"{m.group('local').lower()}@{domain}"
        found.claim(m.start(), m.end(), None if _may_show(address, rules) else "emails")
    for m in _EMAIL_SPELLED.finditer(folded):
        labels = [part.lower() for part in re.split(r"\s+dot\s+", m.group("domain"), flags=re.IGNORECASE)]
        tld = labels[-1]
        if not (tld in _GENERIC_TLDS or (len(tld) == 2 and tld.isalpha())):
            continue
        address = f"{m.group('local').lower()}@{'.'.join(labels)}"
        found.claim(m.start(), m.end(), None if _may_show(address, rules) else "emails")


def _may_show(address: str, rules: _Rules) -> bool:
    if rules.public_email is not None and address == rules.public_email:
        return True
    local, _, domain = address.partition("@")
    site = rules.site
    return site is not None and local in ORGANISATIONAL_MAILBOXES and (domain == site or domain.endswith("." + site))


def _canonical_email(raw: str) -> str:
    return raw.strip().translate(_FOLD).lower()


def _site_domain(website: str | None) -> str | None:
    if not website or not website.strip():
        return None
    raw = website.strip()
    try:
        host = urlsplit(raw if "//" in raw else "//" + raw).hostname
    except ValueError:
        return None
    if not host or "." not in host:
        return None
    return host.lower().removeprefix("www.")


# --------------------------------------------------------------------------------------------------------------
# resident registration numbers

_RRN_WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
_RANDOM_DIGITS_SINCE = date(2020, 10, 1)


def _find_national_ids(folded: str, found: _Found) -> None:
    for m in _RRN.finditer(folded):
        if _is_rrn(m.group(1) + m.group(2)):
            found.claim(m.start(), m.end(), "national_ids")


def _is_rrn(digits: str) -> bool:
    """A real birth date for the century the seventh digit gives, and the check digit where one exists."""
    gender = int(digits[6])
    century = 1900 if gender in (1, 2, 5, 6) else 2000
    try:
        born = date(century + int(digits[0:2]), int(digits[2:4]), int(digits[4:6]))
    except ValueError:
        return False
    if born > date.today():
        return False
    if born >= _RANDOM_DIGITS_SINCE:
        return True
    total = sum(int(d) * w for d, w in zip(digits, _RRN_WEIGHTS, strict=False))
    check = int(digits[12])
    if (11 - total % 11) % 10 == check:
        return True
    return gender >= 5 and (13 - total % 11) % 10 == check


# --------------------------------------------------------------------------------------------------------------
# phone numbers


def _find_phones(folded: str, rules: _Rules, found: _Found, masked: Sequence[tuple[int, int]]) -> None:
    for run in _RUN.finditer(folded):
        if sum(ch.isdigit() for ch in run.group()) < 8:
            continue
        blocked = [*masked, *((s, e) for s, e, _ in found.spans)]
        if all(run.end() <= s or run.start() >= e for s, e in blocked):
            _find_phones_in(folded, run.start(), run.end(), rules, found)
            continue
        # a run that touches a date, a URL, an address or an id is looked at in the pieces beside them
        for piece_start, piece_end in _outside(run.start(), run.end(), blocked):
            for piece in _RUN.finditer(folded, piece_start, piece_end):
                if sum(ch.isdigit() for ch in piece.group()) >= 8:
                    _find_phones_in(folded, piece.start(), piece.end(), rules, found)


def _outside(start: int, end: int, masked: Sequence[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    at = start
    for s, e in sorted(masked):
        if e <= at or s >= end:
            continue
        if s > at:
            yield at, s
        at = max(at, e)
    if at < end:
        yield at, end


def _find_phones_in(folded: str, start: int, end: int, rules: _Rules, found: _Found) -> None:
    before = folded[start - 1] if start > 0 else " "
    after = folded[end] if end < len(folded) else " "
    if (before.isascii() and before.isalnum()) or (after.isascii() and after.isalnum()):
        return  # part of a code or an identifier (DE123456789, H2020), never a phone number
    glued = before in "./_:" and start >= 2 and folded[start - 2].isascii() and folded[start - 2].isalnum()
    if glued and not folded[start:end].lstrip("(").startswith(("+", "0")):
        return  # the tail of a token (j.jclepro.2020.123456); "Tel.031-000-1047" still is a number
    if _AMOUNT_BEFORE.search(folded, max(0, start - 5), start) or _AMOUNT_AFTER.match(folded[end : end + 12]):
        return
    window = folded[start:end]
    digits_left = sum(ch.isdigit() for ch in window)
    for region in _regions_for(window):
        for match in PhoneNumberMatcher(window, region, leniency=Leniency.POSSIBLE):
            raw = match.raw_string
            offset = match.start
            if raw.startswith("(") and ")" not in raw:
                raw, offset = raw[1:], offset + 1
            s, e = start + offset, start + offset + len(raw)
            if not found.free(s, e) or not _phone_shaped(raw, match.number, region):
                continue
            found.claim(s, e, None if _is_public_phone(match.number, raw, region, rules) else "phones")
            digits_left -= sum(ch.isdigit() for ch in raw)
        if digits_left < 7:
            return
    if window.startswith("+") and found.free(start, end):
        # written in international form with a known country code, but off that country's plan (a typo, a
        # made-up number): still somebody's phone number
        try:
            number = parse(window, None)
        except NumberParseException:
            return
        country = region_code_for_country_code(number.country_code or 0)
        if country != UNKNOWN_REGION and 7 <= len(str(number.national_number)) <= 12:
            found.claim(start, end, None if _is_public_phone(number, window, country, rules) else "phones")


def _regions_for(window: str) -> Sequence[str]:
    """The regions whose reading of the number can matter: any one for the international form, those with
    a trunk prefix for a leading 0, Korea and the regions without a trunk prefix otherwise (`_phone_shaped`)."""
    lead = window.lstrip("(")
    if lead.startswith("+"):
        return PHONE_REGIONS[:1]
    if lead.startswith("00"):
        return _IDD_REGIONS
    if lead.startswith("0"):
        return PHONE_REGIONS
    return _DOMESTIC_WITHOUT_ZERO


def _phone_shaped(raw: str, number: PhoneNumber, region: str) -> bool:
    """Written as a phone number: international (+ or 00), national with a trunk 0 and at least nine digits,
    a Korean 15xx–18xx service number, or — in a region without a trunk prefix — a valid number written in
    groups, the first of at most four digits (91 123 45 67, 333 123 4567). Dates and lists of years never are."""
    digits = sum(ch.isdigit() for ch in raw)
    lead = raw.lstrip("(")
    if lead.startswith("+"):
        return is_possible_number(number)
    if _DATE.fullmatch(raw) or _YEARS_ONLY.fullmatch(raw.strip()):
        return False
    if lead.startswith("00"):
        return digits >= 9 and is_possible_number(number)
    if lead.startswith("0"):
        return digits >= 9
    if region == "KR" and _KR_SERVICE.fullmatch(raw):
        return is_valid_number_for_region(number, "KR")
    groups = re.findall(r"\d+", raw)
    grouped = len(groups) >= 2 and len(groups[0]) <= 4
    return region in _NO_TRUNK_PREFIX and grouped and digits >= 8 and is_valid_number_for_region(number, region)


def _is_public_phone(number: PhoneNumber, raw: str, region: str, rules: _Rules) -> bool:
    """The public contact's own number, however written: the same digits after any country code and trunk
    0, and the same country where both say which."""
    if rules.public_phone is None:
        return False
    own_raw = rules.public_phone.translate(_FOLD).strip()
    try:
        own = parse(own_raw, region)
    except NumberParseException:
        return False
    if national_significant_number(own).lstrip("0") != national_significant_number(number).lstrip("0"):
        return False
    both_international = _international(own_raw) and _international(raw)
    return not both_international or own.country_code == number.country_code


def _international(raw: str) -> bool:
    return raw.lstrip("(").startswith(("+", "00"))


# --------------------------------------------------------------------------------------------------------------
# the contact's name

_HANGUL_RUN = re.compile(r"[가-힣]+")
_LATIN_WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ɏ]+(?:['’\-][A-Za-zÀ-ÖØ-öø-ɏ]+)*")
_WORD_GAP = re.compile(r"\s*[,.]?\s*")  # "Hong, Gil-dong", "J. Müller"
_SPACE_GAP = re.compile(r"\s+")
_OPENERS_KEPT = 8192  # Hangul words remembered per contact name
# Hangul initial consonants (index in ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ) by the first letter of the skeleton of
# their romanisation: ㅋ (k) and ㄲ (kk) meet ㄱ (g) there, ㅇ begins with its vowel
_INITIALS_FOR: dict[str, tuple[int, ...]] = {
    "g": (0, 1, 15), "n": (2,), "d": (3, 4, 16), "l": (5,), "m": (6,), "b": (7, 8, 17), "s": (9, 10),
    "j": (12, 13, 14), "h": (18,), **{vowel: (11,) for vowel in "aeiouyw"},
}  # fmt: skip
# job titles and honorifics that a contact field may carry after or before the name itself
_KO_TITLES = (
    "사무국장", "연구원", "매니저", "팀장", "과장", "부장", "대리", "차장", "실장", "소장", "국장", "이사", "주임",
    "사원", "책임", "선임", "대표", "위원", "박사", "교수", "님",
)  # fmt: skip
_LATIN_TITLES = frozenset({"dr", "prof", "mr", "mrs", "ms", "mx", "dipl", "ing", "mag", "phd", "msc", "dott", "sig"})
# Korean particles and titles that may follow a two-syllable name written in Hangul
# what may follow a two-syllable name written in Hangul: an honorific or a title (then anything), or a particle
# that ends the word
_HANGUL_NAME_HONORIFICS = ("씨", *_KO_TITLES)
_HANGUL_NAME_PARTICLES = ("은", "는", "이", "가", "을", "를", "의", "께", "에게", "과", "와", "도")
_DOUBLE_SURNAMES = frozenset({"남궁", "황보", "제갈", "선우", "독고", "사공", "서문", "동방"})
# spellings in use besides Revised Romanization, for the most common surnames
_SURNAME_SPELLINGS: dict[str, tuple[str, ...]] = {
    "김": ("kim",), "이": ("lee", "yi", "rhee", "ri"), "박": ("park", "pak"), "최": ("choi",),
    "정": ("jung", "chung"), "조": ("cho", "joh"), "윤": ("yoon",), "장": ("chang",), "임": ("lim", "yim"),
    "오": ("oh",), "서": ("suh",), "신": ("shin",), "안": ("ahn",), "류": ("ryu", "yoo", "yu"), "유": ("yoo", "you"),
    "전": ("jun", "chun"), "고": ("ko", "koh"), "문": ("moon",), "손": ("sohn",), "배": ("pae",),
    "백": ("paik", "baik"),
    "허": ("huh", "hur"), "노": ("roh", "noh"), "곽": ("kwak",), "성": ("sung",), "주": ("joo", "chu"),
    "우": ("woo",), "구": ("koo", "ku"), "나": ("ra",), "엄": ("um", "uhm"), "천": ("chun",), "현": ("hyun",),
    "변": ("byun",), "염": ("yum",), "추": ("choo",), "석": ("suk",), "선": ("sun",), "설": ("sul",),
    "연": ("yun",), "명": ("myung",), "금": ("keum",), "선우": ("sunwoo",), "남궁": ("namkung",),
}  # fmt: skip


@lru_cache(maxsize=65536)
def _romanised(hangul: str) -> str:
    return romanise_word(hangul)


@lru_cache(maxsize=65536)
def _plain_letters(text: str) -> str:
    """Lower-case ASCII letters only: 'Gil-dong' → 'gildong', 'Müller' → 'muller'."""
    decomposed = unicodedata.normalize("NFKD", text.replace("ß", "ss"))
    return "".join(ch for ch in decomposed.lower() if "a" <= ch <= "z")


_SKELETON_RULES = (("sh", "s"), ("ch", "j"), ("oo", "u"), ("eo", "u"), ("ou", "u"), ("ee", "i"), ("ui", "i"),
                   ("wu", "u"), ("k", "g"), ("t", "d"), ("p", "b"), ("r", "l"))  # fmt: skip
_DOUBLED = re.compile(r"(.)\1+")


@lru_cache(maxsize=65536)
def _skeleton(text: str) -> str:
    """What survives the usual ways of spelling a Korean name in Latin letters: Revised Romanization,
    McCune–Reischauer and informal spellings meet here ('Cheol-su', 'Chul-soo' → 'julsu'; 'Kildong' →
    'gildong')."""
    out = _plain_letters(text)
    for before, after in _SKELETON_RULES:
        out = out.replace(before, after)
    return _DOUBLED.sub(r"\1", out)


@dataclass(frozen=True)
class _NameForms:
    """Every way a text may write one contact's name, worked out once per name."""

    hangul: re.Pattern[str] | None  # a Hangul name, with any spacing between its syllables
    hangul_initial: str  # its first syllable
    spelled: frozenset[str]  # skeletons of Latin spellings of that Hangul name (either order)
    latin: frozenset[str]  # plain letters of a Latin name, in the orders people write it
    heard: frozenset[str]  # skeletons of that Latin name, to compare romanised Hangul with
    heard_prefixes: frozenset[str]
    # cheap necessary conditions for a Latin spelling, on the lower-cased text: one of the surname's spellings
    # (Hangul name), or every part of every word, as written or in plain letters (Latin name)
    surname_hints: tuple[str, ...]
    part_hints: tuple[tuple[str, str], ...]
    most_words: int
    # what lets the search give up early on a word: the first letters and the longest spelling there is
    latin_prefixes: frozenset[str] = frozenset()
    initials: frozenset[str] = frozenset()
    longest_spelled: int = 0
    # Hangul syllables whose initial consonant can begin the romanised Latin name, as a set and a search
    opening_syllables: frozenset[str] = frozenset()
    hangul_openers: re.Pattern[str] | None = None
    openers: dict[str, bool] = field(default_factory=dict, compare=False, hash=False)

    def present(self, text: str, lowered: str) -> bool:
        if self.hangul is not None and self.hangul_initial in text and self.hangul.search(text):
            return True
        if self._latin_present(lowered):
            return True
        return self.hangul_openers is not None and self.hangul_openers.search(text) is not None

    def _latin_present(self, lowered: str) -> bool:
        if any(hint in lowered for hint in self.surname_hints):
            return True
        return bool(self.part_hints) and all(raw in lowered or plain in lowered for raw, plain in self.part_hints)

    def find(self, text: str) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        if self.hangul is not None:
            spans += [(m.start(), m.end()) for m in self.hangul.finditer(text)]
        if self._latin_present(text.lower()):
            spans += self._latin_spans(text)
        if self.hangul_openers is not None and self.hangul_openers.search(text):
            spans += self._hangul_spans(text)
        return spans

    def _hangul_spans(self, text: str) -> list[tuple[int, int]]:
        """Hangul words whose romanisation spells the Latin name; the last word may carry a particle or a title
        of up to two syllables ('로시는', '홍길동님')."""
        words = [(m.start(), m.end(), m.group()) for m in _HANGUL_RUN.finditer(text)]
        spans: list[tuple[int, int]] = []
        i = 0
        while i < len(words):
            found_end, found_j = -1, i
            if words[i][2][0] in self.opening_syllables and self._opens(words[i][2]):
                joined = ""
                for j in range(i, min(i + self.most_words, len(words))):
                    if j > i and not _SPACE_GAP.fullmatch(text, words[j - 1][1], words[j][0]):
                        break
                    _, end, word = words[j]
                    for cut in range(min(3, len(word))):
                        if _skeleton(joined + _romanised(word[: len(word) - cut])) in self.heard:
                            found_end, found_j = end - cut, j
                            break
                    joined += _romanised(word)
                    if _skeleton(joined) not in self.heard_prefixes:
                        break
            if found_end >= 0:
                spans.append((words[i][0], found_end))
                i = found_j + 1
            else:
                i += 1
        return spans

    def _opens(self, word: str) -> bool:
        """Whether a Hangul word may begin the name (worked out once per word: most never can)."""
        known = self.openers.get(word)
        if known is None:
            variants = (_skeleton(_romanised(word[: len(word) - cut])) for cut in range(min(3, len(word))))
            known = _skeleton(_romanised(word)) in self.heard_prefixes or any(v in self.heard for v in variants)
            if len(self.openers) >= _OPENERS_KEPT:
                self.openers.clear()
            self.openers[word] = known
        return known

    def _latin_spans(self, text: str) -> list[tuple[int, int]]:
        """The longest run of neighbouring Latin words, from each word on, that spells the name."""
        words = [(m.start(), m.end(), _plain_letters(m.group())) for m in _LATIN_WORD.finditer(text)]
        spans: list[tuple[int, int]] = []
        i = 0
        while i < len(words):
            best = -1
            if words[i][2][:1] in self.initials or _skeleton(words[i][2])[:1] in self.initials:
                joined = ""
                for j in range(i, min(i + self.most_words, len(words))):
                    if j > i and not _WORD_GAP.fullmatch(text, words[j - 1][1], words[j][0]):
                        break
                    joined += words[j][2]
                    if joined in self.latin or _skeleton(joined) in self.spelled:
                        best = j
                    if joined not in self.latin_prefixes and len(joined) > self.longest_spelled:
                        break
            if best >= 0:
                spans.append((words[i][0], words[best][1]))
                i = best + 1
            else:
                i += 1
        return spans


@lru_cache(maxsize=4096)
def _name_forms(name: str) -> _NameForms | None:
    """The forms of a contact name: its Hangul part (titles dropped) and its Latin words (honorifics dropped)."""
    hangul = "".join(_HANGUL_RUN.findall(name))
    for title in _KO_TITLES:
        if hangul.endswith(title) and len(hangul) - len(title) >= 2:
            hangul = hangul[: -len(title)]
            break
    words = [w for w in _LATIN_WORD.findall(name) if _plain_letters(w) not in _LATIN_TITLES]
    pattern = None
    spelled: set[str] = set()
    latin: set[str] = set()
    surname_hints: set[str] = set()
    part_hints: set[tuple[str, str]] = set()
    most = 0
    if 2 <= len(hangul) <= 5:
        pattern = _hangul_pattern(hangul)
        for surname, given in _splits(hangul):
            # Revised Romanization of the given name as a whole and syllable by syllable (names are often
            # written without the sound changes between syllables: 복남 → Boknam, not Bongnam)
            givens = {_romanised(given), "".join(_romanised(s) for s in given)}
            # one-letter romanisations (이 → I, 오 → O, 우 → U) would be found in every word; the spellings
            # people use for those names (Lee, Oh, Woo) are in the table
            spellings = {_romanised(surname), *_SURNAME_SPELLINGS.get(surname, ())}
            for spelling in (x for x in spellings if len(x) >= 2):
                surname_hints.add(spelling)
                spelled |= {_skeleton(spelling + g) for g in givens} | {_skeleton(g + spelling) for g in givens}
        most = len(hangul) + 1
    if len(words) >= 2:
        orders = (words, [words[-1], *words[:-1]], [*words[1:], words[0]])
        latin = {_plain_letters("".join(order)) for order in orders}
        part_hints = {(part.lower(), _plain_letters(part)) for word in words for part in re.split(r"['’\-]", word)}
        most = max(most, len(words) + 2)
    if pattern is None and not latin:
        return None
    heard = frozenset(_skeleton(x) for x in latin)
    initials = sorted({initial for x in heard for initial in _INITIALS_FOR.get(x[:1], ())})
    opening = {chr(0xAC00 + initial * 588 + rest) for initial in initials for rest in range(588)}
    ranges = "".join(f"{chr(0xAC00 + i * 588)}-{chr(0xAC00 + i * 588 + 587)}" for i in initials)
    return _NameForms(
        hangul=pattern,
        hangul_initial=hangul[:1] if pattern is not None else "",
        spelled=frozenset(spelled),
        latin=frozenset(latin),
        heard=heard,
        heard_prefixes=_prefixes(heard),
        opening_syllables=frozenset(opening),
        hangul_openers=re.compile(f"[{ranges}]") if ranges else None,
        surname_hints=tuple(sorted(surname_hints)),
        part_hints=tuple(sorted(part_hints)),
        most_words=most,
        latin_prefixes=_prefixes(latin),
        initials=frozenset(x[:1] for x in latin | spelled),
        # a spelling is at most about twice as long as its skeleton ('Choo' → 'ju')
        longest_spelled=2 * max((len(x) for x in spelled), default=0) + 4 if spelled else 0,
    )


def _prefixes(words: frozenset[str] | set[str]) -> frozenset[str]:
    return frozenset(w[:n] for w in words for n in range(1, len(w) + 1))


def _splits(hangul: str) -> list[tuple[str, str]]:
    splits = [(hangul[:1], hangul[1:])]
    if hangul[:2] in _DOUBLE_SURNAMES and len(hangul) >= 3:
        splits.append((hangul[:2], hangul[2:]))
    return splits


def _hangul_pattern(hangul: str) -> re.Pattern[str]:
    body = r"\s*".join(re.escape(ch) for ch in hangul)
    if len(hangul) == 2:
        # a two-syllable name is a word of its own, never the start of a longer word (이산 in 이산화탄소)
        honorifics = "|".join(re.escape(f) for f in _HANGUL_NAME_HONORIFICS)
        particles = "|".join(re.escape(f) for f in _HANGUL_NAME_PARTICLES)
        return re.compile(rf"(?<![가-힣]){body}(?=[^가-힣]|$|{honorifics}|(?:{particles})(?:[^가-힣]|$))")
    return re.compile(rf"(?<![가-힣]){body}")
