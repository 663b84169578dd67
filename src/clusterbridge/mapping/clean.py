"""One typed cleaning step per kind of value that crosses between the platforms (rule 8).

Both platforms are public websites, so every value is cleaned by exactly one function for its kind, each with
an allow-list: `plain_line` (names, labels, cities), `plain_text` (free text with line breaks), `rich_text`
(the safe HTML subset KICOX accepts), `url`, `language_tag`, `country_code` and `identifier`. A value that is
still unsafe after cleaning raises `UnsafeValue`, so the caller quarantines its record instead of sending it.

How the plain kinds read their input: as HTML, the way a browser would. Character references are decoded to a
real fixpoint (however many times a source encoded them), tags go (script, style and similar elements with
their content), and block ends become line breaks. What remains is text, never markup: the targets show it
escaped, so a literal "R&D for <10 staff" or a mention of "javascript:" inside a sentence is kept as written.
What can never survive is anything a browser would read as markup — a "<" directly followed by a letter, "/",
"!" or "?" — and an unterminated tag runs to the end of the value and is dropped, as a browser drops it. A
plain value that *starts* with a javascript:, vbscript: or data: URL is refused (`UnsafeValue`): such a value
could end up as a link target, and no cluster's name or text starts that way.

Characters removed from every kind: controls (tabs and line breaks become spaces or newlines), format
characters (bidi overrides and isolates, zero-width spaces and joiners, soft hyphens: invisible, and able to
disguise text), lone surrogates (they cannot be encoded as UTF-8), private-use characters and noncharacters.
Text is NFC; combining marks with nothing to combine with are dropped; a plain value with nothing visible left
becomes "".

Speed: most values are short names with no markup, so each function first tests for the common case (a
printable string with no "<", no character reference, no combining mark without a base or invisible letter,
already NFC) and then only normalises whitespace. Nothing is cached per value.
"""

from __future__ import annotations

import functools
import html
import ipaddress
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import nh3
from babel import Locale

__all__ = [
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_TAGS",
    "LINK_REL",
    "MAX_INPUT",
    "UnsafeValue",
    "check_plain",
    "check_rich",
    "country_code",
    "identifier",
    "language_tag",
    "plain_line",
    "plain_text",
    "rich_text",
    "text_to_html",
    "url",
    "visible",
]

# The subset KICOX's contract allows in intrcn; links get rel and only http(s) targets.
ALLOWED_TAGS = frozenset({"p", "br", "ul", "ol", "li", "strong", "em", "a"})
ALLOWED_ATTRIBUTES = {"a": frozenset({"href"})}
LINK_REL = "noopener noreferrer nofollow"
URL_SCHEMES = frozenset({"http", "https"})
# Longer input is refused rather than cleaned: no field of either contract comes near it.
MAX_INPUT = 1_000_000

# elements removed with their content: scripts and styles, and elements whose content is not text to show
_DROP_CONTENT = frozenset(
    {
        "script",
        "style",
        "template",
        "iframe",
        "object",
        "embed",
        "noscript",
        "noembed",
        "noframes",
        "svg",
        "math",
        "textarea",
        "title",
        "xmp",
        "select",
    }
)

# ---------------------------------------------------------------------------------------------------- errors


class UnsafeValue(ValueError):
    """A value that is still unsafe after cleaning (or can never be made safe): its record is quarantined.

    `field` names the field where the caller knows it; `reason` says what is wrong without repeating more than
    a short preview of the value."""

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason

    def for_field(self, field: str) -> UnsafeValue:
        """The same error, naming `field` (for callers that clean before they know where a value goes)."""
        return UnsafeValue(self.reason, field=field)


def _preview(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    return repr(text[:40] + "…") if len(text) > 40 else repr(text)


# ---------------------------------------------------------------------------------------------------- characters

_INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")  # Hangul fillers and the blank Braille pattern
_WHITESPACE_CONTROLS = frozenset("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x85")
_LINE_BREAKS = str.maketrans(
    {
        "\r": "\n",
        "\x85": "\n",
        "\u2028": "\n",
        "\u2029": "\n\n",
        "\t": " ",
        "\x0b": " ",
        "\x0c": " ",
        "\x1c": " ",
        "\x1d": " ",
        "\x1e": " ",
        "\x1f": " ",
    }
)


def _noncharacter(cp: int) -> bool:
    return 0xFDD0 <= cp <= 0xFDEF or (cp & 0xFFFE) == 0xFFFE


def _char_class(points: list[int]) -> str:
    """A regex character class (without brackets) matching exactly `points`, as ranges."""
    parts: list[str] = []
    start = prev = -2
    for cp in [*sorted(set(points)), -1]:
        if cp == prev + 1:
            prev = cp
            continue
        if start >= 0:
            parts.append(f"\\U{start:08x}" if start == prev else f"\\U{start:08x}-\\U{prev:08x}")
        start = prev = cp
    return "".join(parts)


_REMOVED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co"})
# a word-initial character that could be a combining mark: none of ASCII, Latin-1, Latin Extended and IPA
# (all below U+0300) or a Hangul syllable, so the common text of both sides is passed over in C
_MAYBE_ORPHAN = re.compile(r"(?<!\S)[^\x00-\u02ff\uac00-\ud7a3]")


@dataclass(frozen=True, slots=True)
class _Tables:
    remove: re.Pattern[str]  # characters no kind keeps
    forbidden: re.Pattern[str]  # what the final gate refuses in any kind


@functools.cache
def _tables() -> _Tables:
    """Character classes from this Python's Unicode database, built on first use (a few tens of ms): planes
    0, 1 and 14 are scanned; planes 2–13 hold ideographs or nothing, 15–16 are private use. The classes are
    large, so they are only searched once `str.isprintable` (fast, in C) has found something unusual."""
    points = [*range(0x20000), *range(0xE0000, 0xE1000)]
    remove = [
        cp
        for cp, cat in zip(points, map(unicodedata.category, map(chr, points)), strict=True)
        if cat in _REMOVED_CATEGORIES and chr(cp) not in _WHITESPACE_CONTROLS
    ]
    remove += [*range(0xFDD0, 0xFDF0), *(plane * 0x10000 + low for plane in range(17) for low in (0xFFFE, 0xFFFF))]
    remove_class = _char_class(remove) + "\U000f0000-\U000ffffd\U00100000-\U0010fffd"
    return _Tables(
        remove=re.compile(f"[{remove_class}]+"),
        forbidden=re.compile(f"[{remove_class}\x09\x0b-\x1f\x85]"),
    )


def _printable(text: str) -> bool:
    """Printable once line breaks are set aside: no control, format, surrogate, private-use, unassigned or
    whitespace character but the space and the line break."""
    return text.isprintable() or ("\n" in text and text.replace("\n", "").isprintable())


def _clean_chars(text: str) -> str:
    """NFC, then every character no kind keeps removed; line breaks as '\\n', other whitespace controls as
    spaces."""
    text = unicodedata.normalize("NFC", text)
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    if not _printable(text):
        text = _tables().remove.sub("", text).translate(_LINE_BREAKS)
    return text


def _has_orphan(text: str) -> bool:
    """True when a combining mark starts the text or follows whitespace: it has nothing to combine with."""
    return any(unicodedata.category(found.group())[0] == "M" for found in _MAYBE_ORPHAN.finditer(text))


def _drop_orphans(text: str) -> str:
    if not _has_orphan(text):
        return text
    kept: list[str] = []
    word_start = True
    for ch in text:
        if word_start and unicodedata.category(ch)[0] == "M":
            continue
        word_start = ch.isspace()
        kept.append(ch)
    return "".join(kept)


def _common(value: str, *, markup: bool = False) -> bool:
    """The fast path's test: printable but for line breaks (no control, format, surrogate, private-use or
    unassigned character, no whitespace but the space and the line break), no '<', no '&' that starts a
    character reference (for HTML output no '&' or '>' at all, which it escapes), no invisible letter, no
    combining mark without a base, and NFC already. Such a value only needs its whitespace normalised."""
    if not _printable(value) or "<" in value:
        return False
    if "&" in value and (markup or html.unescape(value) != value):
        return False
    if markup and ">" in value:
        return False
    if value.isascii():
        return True
    if any(letter in value for letter in _INVISIBLE_LETTERS) or _has_orphan(value):
        return False
    return unicodedata.is_normalized("NFC", value)


def visible(value: str) -> bool:
    """True when the text has at least one visible character: not only whitespace, controls, zero-width or
    other format characters, combining marks, private-use characters or invisible letters (Hangul fillers)."""
    for ch in value:
        if ch in _INVISIBLE_LETTERS or ch.isspace():
            continue
        cat = unicodedata.category(ch)
        if cat[0] in "MZ" or cat in ("Cc", "Cf", "Cs", "Co") or (cat == "Cn" and _noncharacter(ord(ch))):
            continue
        return True
    return False


def _too_long(value: str, field: str | None) -> None:
    if len(value) > MAX_INPUT:
        raise UnsafeValue(f"longer than {MAX_INPUT} characters", field=field)


# ---------------------------------------------------------------------------------------------------- entities

# "&amp;amp;amp;…" chains, the common way a value ends up encoded many times over: all levels in one step
_AMP_CHAIN = re.compile(r"&(?:amp;?|AMP;?|#0*38(?![0-9]);?|#[xX]0*26(?![0-9a-fA-F]);?)+")
_QUICK_PASSES = 4
_NAME_STOP = frozenset("\t\n\f <&#;")  # what ends a named reference (html.unescape's rule)
_DIGITS = frozenset("0123456789")
_HEX = frozenset("0123456789abcdefABCDEF")


def _decode(text: str) -> str:
    """Character references decoded until none is left (a fixpoint of html.unescape).

    A few whole-string passes handle every realistic value; deeper nesting is finished by `_decode_stream`,
    which is linear in the length, so no crafted value can make the work quadratic."""
    for _ in range(_QUICK_PASSES):
        if "&" not in text:
            return text
        decoded = html.unescape(_AMP_CHAIN.sub("&", text))
        if decoded == text:
            return text
        text = decoded
    return _decode_stream(text) if "&" in text else text


def _reference(out: list[str], a: int, final: bool) -> str | None:
    """The character reference that starts at out[a] ('&') once its extent is known, "" when none can start
    there any more, None while the next character could still change the answer."""
    window = "".join(out[a : a + 34])
    rest = window[1:]
    if not rest:
        return "" if final else None
    if rest[0] == "#":
        digits, start = (_HEX, 2) if rest[1:2] in ("x", "X") else (_DIGITS, 1)
        if len(rest) <= start:
            return "" if final else None
        if rest[start] not in digits:
            return ""
        end = a + 1 + start
        while end < len(out) and out[end] in digits:
            end += 1
        if end == len(out) and not final:
            return None
        if end < len(out) and out[end] == ";":
            end += 1
        return "".join(out[a:end])
    if rest[0] in _NAME_STOP:
        return ""
    n = 0
    while n < len(rest) and n < 32 and rest[n] not in _NAME_STOP:
        n += 1
    if n == len(rest) and not final:
        return None
    return window[: 1 + n + (1 if n < len(rest) and rest[n] == ";" else 0)]


def _decode_stream(text: str) -> str:
    """Decode to a fixpoint in one left-to-right pass: a decoded reference is pushed back onto the input, so
    whatever it forms with its neighbours (before or after) is decoded in turn. Each decoding shortens the
    text by at least two characters and looks at most 34 characters back, so the work is linear."""
    pending = list(reversed(text))
    out: list[str] = []
    amps: list[int] = []  # positions in `out` of every '&'
    settled = False  # the last '&' starts no reference, given what follows it now

    def attempt(a: int, final: bool) -> bool | None:
        """Decode the reference at out[a]: True when decoded, False when there is none, None when unknown."""
        ref = _reference(out, a, final)
        if ref is None:
            return None
        decoded = html.unescape(ref) if ref else ref
        if decoded == ref:
            return False
        tail = "".join(out[a + len(ref) :])
        del out[a:]
        while amps and amps[-1] >= a:
            amps.pop()
        pending.extend(reversed(decoded + tail))
        return True

    while pending or (amps and not settled):
        if not pending:  # the end of the input completes the last reference
            settled = not attempt(amps[-1], True)
            continue
        ch = pending.pop()
        out.append(ch)
        if ch == "&":
            # a '&' ends the previous reference; when that decodes, this '&' went back onto the input
            if amps and not settled and attempt(amps[-1], False):
                continue
            amps.append(len(out) - 1)
            settled = False
        elif amps and not settled and (len(out) - amps[-1] <= 34 or ch not in _HEX):
            result = attempt(amps[-1], False)
            if result is not None:
                settled = not result
    return "".join(out)


# ---------------------------------------------------------------------------------------------------- markup

_ATTRS = r"""(?:[\s/](?:[^>"']|"[^"]*"|'[^']*')*)?>"""
_PARAGRAPH = re.compile(r"(?i)</?(?:p|div|h[1-6]|ul|ol|table|blockquote|section|article|pre|hr)\b" + _ATTRS)
_LINE = re.compile(r"(?i)(?:<(?:br|li|tr|dd|dt)|</br)\b" + _ATTRS)  # an item starts a line; </br> is <br>
_CELL = re.compile(r"(?i)</?(?:td|th)\b" + _ATTRS)
_TAG_OPEN = re.compile(r"<[A-Za-z/!?]")
_BLANK_LINES = re.compile(r"\n{3,}")


def _cleaner(
    tags: frozenset[str],
    attributes: dict[str, set[str]] | None = None,
    attribute_filter: Callable[[str, str, str], str | None] | None = None,
) -> Callable[[str], str]:
    """A reusable nh3 cleaner where nh3 offers one (0.3 and later: four times faster), else nh3.clean with the
    same options."""
    if hasattr(nh3, "Cleaner"):
        cleaner = nh3.Cleaner(
            tags=set(tags),
            clean_content_tags=set(_DROP_CONTENT),
            attributes=attributes,
            attribute_filter=attribute_filter,
            url_schemes=set(URL_SCHEMES),
            link_rel=LINK_REL,
            strip_comments=True,
        )
        return cleaner.clean
    return functools.partial(  # pragma: no cover - nh3 before 0.3
        nh3.clean,
        tags=set(tags),
        clean_content_tags=set(_DROP_CONTENT),
        attributes=attributes,
        attribute_filter=attribute_filter,
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )


@functools.cache
def _text_cleaner() -> Callable[[str], str]:
    return _cleaner(frozenset())


def _href(element: str, attribute: str, value: str) -> str | None:
    """Links keep only an http(s) URL with a real host, cleaned like any website."""
    if element == "a" and attribute == "href":
        return url(value)
    return value


@functools.cache
def _rich_cleaner() -> Callable[[str], str]:
    return _cleaner(ALLOWED_TAGS, {tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()}, _href)


def _strip_markup(text: str) -> str:
    """Text of an HTML fragment as a browser reads it: block ends as line breaks, tags gone (scripts, styles
    and similar elements with their content), one level of character references decoded."""
    text = _PARAGRAPH.sub("\n\n", text)
    text = _LINE.sub("\n", text)
    text = _CELL.sub(" ", text)
    return html.unescape(_text_cleaner()(text))


def _rounds(value: str) -> int:
    """A bound on cleaning rounds: every round that changes the text shortens it, except that NFC may first
    lengthen it (at most threefold)."""
    return 3 * len(value) + 4


def _to_text(value: str) -> str:
    """Characters cleaned, markup removed and references decoded, round after round until nothing changes:
    markup hidden behind references, or references split by a tag or an invisible character, come out too."""
    text = value
    for _ in range(_rounds(value)):
        before = text
        text = _clean_chars(text)
        if "<" in text:
            text = _strip_markup(text)
        if "&" in text:
            text = _decode(text)
        if text == before:
            leftover = _TAG_OPEN.search(text)
            if leftover is None:
                return text
            # what a browser would still read as the start of markup, though nh3 kept it as text ('</' at the
            # very end): the '<' goes
            text = _TAG_OPEN.sub(lambda found: found.group()[1:], text)
    raise UnsafeValue("cleaning does not settle")  # pragma: no cover - see _rounds


def _tidy_line(text: str) -> str:
    return " ".join(text.split())


def _tidy_lines(text: str) -> str:
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip("\n")


def _cut(text: str, max_len: int) -> str:
    """At most `max_len` characters, cut at a word boundary with an ellipsis when it had to be cut."""
    if max_len < 1:
        raise ValueError("max_len must be at least 1")
    if len(text) <= max_len:
        return text
    cut = text[: max_len - 1]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    if space >= max_len // 2:
        cut = cut[:space]
    return cut.rstrip(" \n,;:") + "…"


# ---------------------------------------------------------------------------------------------------- plain kinds

_DANGEROUS_START = re.compile(r"(?i)\A\s*(?:(?:java|vb)script\s*:|data\s*:\s*[a-z][a-z0-9.+-]*/[a-z0-9.+-]+)", re.ASCII)


def _plain(value: str | None, max_len: int | None, field: str | None, tidy: Callable[[str], str]) -> str:
    if not value:
        return ""
    _too_long(value, field)
    common = _common(value)
    text = tidy(value) if common else _plain_slow(value, tidy)
    if _DANGEROUS_START.match(text):  # before any cut, which could hide it
        raise UnsafeValue(f"starts with a script or data URL: {_preview(text)}", field=field)
    if max_len is not None:
        text = _cut(text, max_len)
    return text if common else check_plain(text, field)


def _plain_slow(value: str, tidy: Callable[[str], str]) -> str:
    text = tidy(_drop_orphans(_to_text(value)))
    return text if visible(text) else ""


def plain_line(value: str | None, *, max_len: int | None = None, field: str | None = None) -> str:
    """A name, label or city: no markup, no invisible or control characters, NFC, whitespace collapsed to
    single spaces; cut at a word boundary with "…" when over `max_len`. "" when nothing visible is left.

    Raises UnsafeValue (naming `field`) when the value starts with a script or data URL or is absurdly long."""
    return _plain(value, max_len, field, _tidy_line)


def plain_text(value: str | None, *, max_len: int | None = None, field: str | None = None) -> str:
    """Multi-line free text: like `plain_line`, but paragraphs and line breaks are kept (<br>, </li> and the
    like become line breaks, </p> and other block ends a blank line), with at most one blank line in a row
    and each line's whitespace collapsed."""
    return _plain(value, max_len, field, _tidy_lines)


# ---------------------------------------------------------------------------------------------------- rich text

_HTML_TOKEN = re.compile(r"(<[^>]*>)|(&[#A-Za-z0-9]+;)|([^<&]+|&)")
_TAG_NAME = re.compile(r"</?([a-z]+)")
_SEGMENTS = re.compile(r"(<[^>]*>)")
_VOID = frozenset({"br"})


def _decode_nodes(fragment: str) -> str:
    """Each text node whose shown text still holds character references decoded to a fixpoint; what that
    reveals is put back as raw markup, for the next round to sanitise like any other markup."""
    if "&" not in fragment:
        return fragment
    parts = _SEGMENTS.split(fragment)
    for i in range(0, len(parts), 2):
        if "&" in parts[i]:
            shown = html.unescape(parts[i])
            deeper = _decode(shown)
            if deeper != shown:
                parts[i] = deeper
    return "".join(parts)


def _rich_round(text: str) -> str:
    text = _clean_chars(text)
    text = _rich_cleaner()(text)
    return _decode_nodes(text).strip()


def _shown(fragment: str) -> str:
    return html.unescape(_SEGMENTS.sub("", fragment))


def _cut_html(fragment: str, max_len: int) -> str:
    """Sanitised HTML of at most `max_len` characters: cut inside the text at a word boundary, with "…" and
    every open element closed, so the cut never leaves a broken tag."""
    if max_len < 1:
        raise ValueError("max_len must be at least 1")
    if len(fragment) <= max_len:
        return fragment
    out: list[str] = []
    open_tags: list[str] = []
    used = 0  # characters in `out`
    owed = 0  # characters of the end tags still owed
    run_start = 0  # where in `out` the current text run began
    for match in _HTML_TOKEN.finditer(fragment):
        tag, entity, text = match.groups()
        if tag:
            name = _tag_name(tag)
            if tag.startswith("</"):  # always fits: its length is owed already
                out.append(tag)
                used += len(tag)
                if open_tags and open_tags[-1] == name:
                    open_tags.pop()
                    owed -= len(tag)
            else:
                end = 0 if name in _VOID else len(name) + 3
                if used + len(tag) + end + owed + 1 > max_len:
                    break
                out.append(tag)
                used += len(tag)
                if end:
                    open_tags.append(name)
                    owed += end
            run_start = len(out)
            continue
        fitted = True
        for unit in [entity] if entity else text:
            if used + len(unit) + owed + 1 > max_len:
                fitted = False
                break
            out.append(unit)
            used += len(unit)
        if not fitted:
            break
    run = out[run_start:]
    space = max((i for i, unit in enumerate(run) if unit == " "), default=-1)
    if run and space >= len(run) // 2:
        del out[run_start + space :]
    while len(out) > run_start and out[-1] in (" ", ",", ";", ":", "\n"):
        out.pop()
    while out and out[-1].startswith("<") and not out[-1].startswith("</"):
        name = _tag_name(out.pop())
        if open_tags and open_tags[-1] == name:
            open_tags.pop()
    if not out:
        return ""
    return "".join(out) + "…" + "".join(f"</{name}>" for name in reversed(open_tags))


def _tag_name(tag: str) -> str:
    found = _TAG_NAME.match(tag)
    return found.group(1) if found else ""


def _rich_slow(value: str, field: str | None) -> str:
    text = value
    for _ in range(_rounds(value)):
        before = text
        text = _rich_round(text)
        if text == before:
            return text if visible(_shown(text)) else ""
    raise UnsafeValue("cleaning does not settle", field=field)  # pragma: no cover - see _rounds


def rich_text(value: str | None, *, max_len: int | None = None, field: str | None = None) -> str:
    """HTML reduced to the subset KICOX's contract allows: p, br, ul, ol, li, strong, em and a[href], links
    with an http(s) URL with a real host (cleaned by `url`) and rel="noopener noreferrer nofollow"; scripts,
    styles, event handlers, comments and every other tag go. Text inside is cleaned like plain text (its
    character references decoded to a fixpoint; what that reveals is sanitised as markup). Cut to `max_len`
    inside the text, closing every open element. "" when nothing visible is left."""
    if not value:
        return ""
    _too_long(value, field)
    text = value.strip() if _common(value, markup=True) else _rich_slow(value, field)
    if max_len is not None and len(text) > max_len:
        text = _cut_html(text, max_len)
    return check_rich(text, field)


def text_to_html(value: str | None, *, max_len: int | None = None, field: str | None = None) -> str:
    """Plain text as escaped basic HTML (the text is cleaned by `plain_text` first): paragraphs at blank
    lines, <br> at single line breaks; no markup of the source ever survives."""
    text = plain_text(value, field=field)
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    rendered = "".join(
        "<p>" + "<br>".join(html.escape(line, quote=False) for line in p.split("\n")) + "</p>" for p in paragraphs
    )
    if max_len is not None and len(rendered) > max_len:
        rendered = _cut_html(rendered, max_len)
    return check_rich(rendered, field)


# ---------------------------------------------------------------------------------------------------- the gate

_RICH_TAG = re.compile(r'<(/?)([a-z]+)((?: [a-z]+="[^"<>]*")*)>')
_RICH_ATTR = re.compile(r' ([a-z]+)="([^"]*)"')
_HTTP_URL = re.compile(r"https?://[a-z0-9.-]+(?::[0-9]+)?(?:[/?#][^\s\"'<>\\`]*)?", re.ASCII)


class _Passed:
    """Strings one gate let through lately. A payload's strings meet the gate twice (when cleaned and again in
    the whole payload) and repeat across records (country names, labels, headings): a string seen passing is
    not checked again. Bounded by its characters in all; emptied when full. Only what passed is kept, so a
    string is never let through that the gate would refuse."""

    def __init__(self, budget: int = 2_000_000) -> None:
        self.budget = budget
        self._kept: set[str] = set()
        self._size = 0

    def __contains__(self, value: str) -> bool:
        return value in self._kept

    def add(self, value: str) -> None:
        if len(value) > self.budget // 100:
            return  # an absurdly long text is checked each time rather than crowd out the rest
        if self._size + len(value) > self.budget:
            self._kept.clear()
            self._size = 0
        self._kept.add(value)
        self._size += len(value)

    def __len__(self) -> int:
        return len(self._kept)


_PLAIN_PASSED = _Passed()
_RICH_PASSED = _Passed()


def _check_chars(value: str, field: str | None) -> None:
    if _printable(value):
        return
    found = _tables().forbidden.search(value)
    if found is not None:
        raise UnsafeValue(f"holds the forbidden character U+{ord(found.group()):04X}", field=field)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # pragma: no cover - surrogates are forbidden characters already
        raise UnsafeValue("cannot be encoded as UTF-8", field=field) from None


def check_plain(value: str, field: str | None = None) -> str:
    """The final gate for plain kinds: `value` unchanged, or UnsafeValue when it holds anything a browser
    reads as markup ('<' followed by a letter, '/', '!' or '?'), a character reference (it would decode to
    something else), a control other than the line break, a format character (bidi override, zero-width…),
    a lone surrogate, a private-use character or noncharacter, or starts with a script or data URL."""
    if value in _PLAIN_PASSED:
        return value
    _check_chars(value, field)
    tag = _TAG_OPEN.search(value)
    if tag is not None:
        raise UnsafeValue(f"holds markup at {tag.start()}: {_preview(value[tag.start() :])}", field=field)
    if "&" in value and html.unescape(value) != value:
        raise UnsafeValue(f"holds a character reference: {_preview(value)}", field=field)
    if _DANGEROUS_START.match(value):
        raise UnsafeValue(f"starts with a script or data URL: {_preview(value)}", field=field)
    _PLAIN_PASSED.add(value)
    return value


def check_rich(value: str, field: str | None = None) -> str:
    """The final gate for rich text: `value` unchanged, or UnsafeValue when it holds a tag outside the
    allowed subset, any attribute but a[href] (an http(s) URL) and a[rel] (LINK_REL) — so no event handler
    and no javascript:, data: or vbscript: link — a raw '<' in text, text whose shown form still holds a
    character reference, or a character the plain gate refuses."""
    if value in _RICH_PASSED:
        return value
    _check_chars(value, field)
    position = 0
    while (start := value.find("<", position)) >= 0:
        tag = _RICH_TAG.match(value, start)
        if tag is None or tag.group(2) not in ALLOWED_TAGS:
            raise UnsafeValue(f"holds a tag outside the allowed subset: {_preview(value[start:])}", field=field)
        for name, attr_value in _RICH_ATTR.findall(tag.group(3)):
            allowed = tag.group(2) == "a" and (
                (name == "href" and _HTTP_URL.fullmatch(html.unescape(attr_value)))
                or (name == "rel" and attr_value == LINK_REL)
            )
            if not allowed:
                raise UnsafeValue(f"holds the attribute {name}={_preview(attr_value)}", field=field)
        position = tag.end()
    for text in _SEGMENTS.split(value)[::2]:
        shown = html.unescape(text)
        if "&" in shown and html.unescape(shown) != shown:
            raise UnsafeValue(f"holds a character reference in text: {_preview(text)}", field=field)
    _RICH_PASSED.add(value)
    return value


# ---------------------------------------------------------------------------------------------------- urls

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_BARE_HOST = re.compile(r"[^\s/?#:@\\]+\.[^\s/?#:@\\]+(?::[0-9]*)?(?:[/?#]|\Z)")
_HOST = re.compile(
    r"(?=.{1,253}\Z)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})", re.ASCII
)
_AUTHORITY_BREAKOUT = re.compile(r"[\s\"'<>\\`{}|^]")
_URL_DROP = str.maketrans("", "", "".join(_WHITESPACE_CONTROLS))  # as browsers drop tabs and newlines
_NUMERIC_HOST = re.compile(r"[0-9.]+")
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
# percent-encoded in path, query and fragment: everything but RFC 3986's unreserved and reserved characters,
# and of those the quote "'"; so no quote, angle bracket, backslash, backtick, whitespace or control remains
_URL_SAFE = "/?#:@!$&()*+,;=%-._~"
_DEFAULT_PORT = {"http": 80, "https": 443}


def _host(raw: str) -> str | None:
    """A public host name as ASCII (IDNA), lower case; a global IPv4 address; else None."""
    host = raw.rstrip(".")
    if ":" in host or _NUMERIC_HOST.fullmatch(host):
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return None
        return str(address) if address.version == 4 and address.is_global else None
    if host.isascii():
        ascii_host = host.lower()
    else:
        try:
            ascii_host = host.encode("idna").decode("ascii").lower()
        except UnicodeError:
            return None
    return ascii_host if _HOST.fullmatch(ascii_host) else None


def url(value: str | None, *, max_len: int = 500) -> str | None:
    """An http(s) website URL as it may cross, or None.

    Bare hosts ('www.example.kr', 'example.com:8080/x') get 'http://'; the scheme and host are lower case,
    the host ASCII (IDNA) and a real public name (or global IPv4 address); credentials and default ports are
    dropped. Every other scheme — javascript:, however written (entities, tabs, mixed case), data:, mailto:,
    ftp: — gives None, as does any quote, bracket, backslash or whitespace in the host part. In path, query
    and fragment, every character outside RFC 3986's unreserved and reserved sets, and the quote "'", is
    percent-encoded, so the URL cannot break out of an attribute or a text field. A value is not HTML:
    character references are not decoded. None when the result is longer than `max_len`."""
    if not value:
        return None
    text = value if value.isprintable() else _tables().remove.sub("", value).translate(_URL_DROP)
    text = unicodedata.normalize("NFC", text.strip())
    if not text or len(text) > MAX_INPUT:
        return None
    if text.startswith("//"):
        text = "http:" + text
    if _BARE_HOST.match(text):
        text = "http://" + text
    else:
        scheme = _SCHEME.match(text)
        if scheme is None or scheme.group(1).lower() not in URL_SCHEMES:
            return None
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    scheme_name = parts.scheme.lower()
    if scheme_name not in URL_SCHEMES or not parts.netloc or _AUTHORITY_BREAKOUT.search(parts.netloc):
        return None
    host = _host(parts.hostname or "")
    if host is None or port == 0:
        return None
    netloc = host if port is None or port == _DEFAULT_PORT[scheme_name] else f"{host}:{port}"
    result = f"{scheme_name}://{netloc}{_encode(parts.path)}"
    if parts.query:
        result += "?" + _encode(parts.query)
    if parts.fragment:
        result += "#" + _encode(parts.fragment)
    return result if len(result) <= max_len else None


def _encode(part: str) -> str:
    return quote(_STRAY_PERCENT.sub("%25", part), safe=_URL_SAFE)


# ---------------------------------------------------------------------------------------------------- codes

_LANGUAGE_TAG = re.compile(
    r"""
    (?P<language>[a-z]{2,3}(?:-[a-z]{3}){0,3})   # ISO 639 code, optional extended language subtags
    (?:-(?P<script>[a-z]{4}))?                  # ISO 15924 script
    (?:-(?P<region>[a-z]{2}|[0-9]{3}))?         # ISO 3166-1 or UN M.49 region
    (?P<rest>
      (?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*  # variants
      (?:-[a-wyz0-9](?:-[a-z0-9]{2,8})+)*        # extensions
      (?:-x(?:-[a-z0-9]{1,8})+)?                 # private use
    )
    """,
    re.VERBOSE | re.ASCII,
)
_LANGUAGE_TAG_MAX = 64


def language_tag(value: str | None) -> str | None:
    """A BCP 47 language tag by syntax ('en', 'ko', 'de-AT', 'zh-Hant-TW'), in canonical case (language
    lower, script title, region upper, the rest lower); '_' is read as '-' ('ko_KR' → 'ko-KR'). The primary
    language must be a 2–3 letter ISO 639 code (no longer one is registered), so 'english' is refused;
    private-use-only and grandfathered tags are refused too. Anything else → None."""
    if not value:
        return None
    text = value.strip().replace("_", "-").lower()
    if len(text) > _LANGUAGE_TAG_MAX or not text.isascii():
        return None
    match = _LANGUAGE_TAG.fullmatch(text)
    if match is None:
        return None
    parts = [match.group("language")]
    if match.group("script"):
        parts.append(match.group("script").title())
    if match.group("region"):
        parts.append(match.group("region").upper())
    return "-".join(parts) + match.group("rest")


# EU usage differs from ISO for two countries
_EU_TO_ISO = {"EL": "GR", "UK": "GB"}
# codes CLDR lists that are not countries: ISO's exceptionally reserved ones, groupings and the user-assigned
# ranges (AA, QM–QZ, XA–XZ, ZZ); Kosovo's XK is kept, as the EU and CLDR use it as its country code
_NOT_COUNTRIES = frozenset({"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "FX", "IC", "SU", "TA", "UN"})


@functools.cache
def _countries() -> frozenset[str]:
    return frozenset(
        code
        for code in Locale.parse("en").territories
        if isinstance(code, str)
        and len(code) == 2
        and code.isalpha()
        and code not in _NOT_COUNTRIES
        and code != "AA"
        and not ("QM" <= code <= "QZ" or (code.startswith("X") and code != "XK") or code == "ZZ")
    )


def country_code(value: str | None) -> str | None:
    """An ISO 3166-1 alpha-2 code of a country that exists in CLDR's territory data ('de ' → 'DE'), with the
    EU's EL → GR and UK → GB; anything else ('XX', 'ZZ', 'EU', 'Greece') → None."""
    if not value:
        return None
    code = value.strip().upper()
    code = _EU_TO_ISO.get(code, code)
    return code if code in _countries() else None


_IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:~-]*")


def identifier(value: object, *, field: str, max_len: int, pattern: re.Pattern[str] | None = None) -> str:
    """An id as the contracts allow it: a string (or an int) matching `pattern` in full (by default a letter
    or digit, then letters, digits and '._:~-') of at most `max_len` characters. Anything else raises
    UnsafeValue naming `field`; an id is never silently "fixed", since a changed id is another record."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise UnsafeValue(f"an id must be a string, not {type(value).__name__}", field=field)
    if not value:
        raise UnsafeValue("the id is empty", field=field)
    if len(value) > max_len:
        raise UnsafeValue(f"the id is longer than {max_len} characters: {_preview(value)}", field=field)
    if not (pattern or _IDENTIFIER).fullmatch(value):
        raise UnsafeValue(f"the id holds characters an id may not: {_preview(value)}", field=field)
    return value


# ---------------------------------------------------------------------------------------------------- sites


def site_key(value: str | None) -> str | None:
    """What two websites must share to be one organisation's: the host without scheme, 'www.' and path."""
    normal = url(value)
    if normal is None:
        return None
    host = urlsplit(normal).hostname or ""
    return host.removeprefix("www.") or None


def check_payload(payload: object, *, rich: frozenset[str] = frozenset(), path: str = "") -> None:
    """The final gate for a whole mirror payload: every string is checked as plain text, except those at the
    dotted paths in `rich` (checked as the safe HTML subset); UnsafeValue names the field at fault."""
    if isinstance(payload, str):
        (check_rich if path in rich else check_plain)(payload, path or None)
    elif isinstance(payload, dict):
        for key, value in payload.items():
            check_payload(value, rich=rich, path=f"{path}.{key}" if path else str(key))
    elif isinstance(payload, list | tuple):
        for value in payload:
            check_payload(value, rich=rich, path=path)
