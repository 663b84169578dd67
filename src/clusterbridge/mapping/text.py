"""Making text safe to cross: control characters, HTML, URLs and length limits (rule 8)."""

from __future__ import annotations

import html
import re
import unicodedata
from urllib.parse import urlsplit, urlunsplit

import nh3

# The subset KICOX's contract allows in intrcn; links get rel and only http(s) targets.
ALLOWED_TAGS = frozenset({"p", "br", "ul", "ol", "li", "strong", "em", "a"})
ALLOWED_ATTRIBUTES = {"a": {"href"}}
LINK_REL = "noopener noreferrer nofollow"
URL_SCHEMES = frozenset({"http", "https"})

# bidi overrides and isolates can disguise text; the other format characters (ZWJ in emoji…) are harmless
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_BLOCK_END = re.compile(r"(?i)<\s*(br\s*/?|/\s*(p|li|div|h[1-6]|tr|ul|ol))\s*>")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")


def clean_text(text: str) -> str:
    """Remove control characters (keeping newlines and tabs), lone surrogates, noncharacters and bidi
    overrides; normalise line ends to '\\n' and the text to NFC."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    kept = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in "\n\t":
            kept.append(ch)
        elif cat in ("Cc", "Cs", "Co") or ch in _BIDI or (ord(ch) & 0xFFFE) == 0xFFFE:
            continue
        else:
            kept.append(ch)
    return unicodedata.normalize("NFC", "".join(kept))


def one_line(text: str) -> str:
    """A name or label: clean, whitespace collapsed to single spaces."""
    return " ".join(clean_text(text).split())


def truncate(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary with an ellipsis when it had to be cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" \n\t,;:") + "…"


def sanitize_html(value: str) -> str:
    """HTML reduced to the safe subset: no script/style content, no event handlers, only http(s) links."""
    cleaned = nh3.clean(
        clean_text(value),
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )
    return cleaned.strip()


def sanitize_html_limited(value: str, limit: int) -> str:
    """Sanitised HTML of at most `limit` characters: the text is cut at a word boundary and sanitised
    again, so a cut never leaves a broken tag behind."""
    cleaned = sanitize_html(value)
    budget = limit
    while len(cleaned) > limit:
        budget = min(budget - 16, int(budget * 0.95))
        cleaned = sanitize_html(truncate(cleaned, budget))
    return cleaned


def html_to_text(value: str) -> str:
    """Plain text of an HTML fragment or of text holding <br> breaks; hostile markup and its content go.

    Repeated until stable, so markup hidden behind entities (&lt;script&gt;) is removed as well."""
    text = clean_text(value)
    for _ in range(3):
        before = text
        text = _BLOCK_END.sub("\n", text)
        stripped = html.unescape(nh3.clean(text, tags=set(), strip_comments=True))
        lines = [" ".join(line.split()) for line in clean_text(stripped).split("\n")]
        text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
        if text == before:
            break
    return text


def plain_line(value: str) -> str:
    """A name or label from a source: markup removed, one line."""
    return one_line(html_to_text(value))


def text_to_html(text: str) -> str:
    """Plain text as escaped basic HTML: paragraphs at blank lines, <br> at single line breaks."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", clean_text(text)) if p.strip()]
    return "".join(
        "<p>" + "<br>".join(html.escape(line.strip(), quote=False) for line in p.split("\n")) + "</p>"
        for p in paragraphs
    )


def normalise_url(raw: str | None) -> str | None:
    """A website URL as it may cross: whitespace removed, http:// added when no scheme is given, host in
    lower case, no credentials; None for anything but an http(s) URL with a host."""
    if raw is None:
        return None
    value = "".join(clean_text(raw).split())
    if not value:
        return None
    scheme = _SCHEME.match(value)
    if scheme is None or re.match(r"^[^:/]+:\d", value):  # 'www.x.kr:8080' is a host and port
        value = "http://" + value.lstrip("/")
    try:
        parts = urlsplit(value)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in URL_SCHEMES or not host or not re.fullmatch(r"[\w.-]+", host):
        return None
    netloc = host.lower() + (f":{port}" if port else "")
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, parts.query, parts.fragment))


def site_key(url: str | None) -> str | None:
    """What two websites must share to be one organisation's: the host without scheme, 'www.' and path."""
    normal = normalise_url(url)
    if normal is None:
        return None
    host = urlsplit(normal).hostname or ""
    return host.removeprefix("www.") or None
