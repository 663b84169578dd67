"""Properties of the cleaning functions over generated input: hostile markup, nested and repeated entity
encoding, surrogates, controls, bidi and invisible characters.

The example count is modest so the suite stays fast; CI raises it with CLUSTERBRIDGE_HYPOTHESIS_EXAMPLES.
Every run is derandomised (the same examples each time) and keeps no example database.
"""

from __future__ import annotations

import html
import os
import re
import unicodedata
from urllib.parse import urlsplit

import pytest
from babel import Locale
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clusterbridge.mapping import clean
from clusterbridge.mapping.clean import (
    ALLOWED_TAGS,
    LINK_REL,
    UnsafeValue,
    check_plain,
    check_rich,
    country_code,
    identifier,
    language_tag,
    plain_line,
    plain_text,
    rich_text,
    url,
    visible,
)

settings.register_profile(
    "clusterbridge",
    max_examples=int(os.environ.get("CLUSTERBRIDGE_HYPOTHESIS_EXAMPLES", "60")),
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("clusterbridge")

# ------------------------------------------------------------------------------------------------ strategies

# any code point, lone surrogates included (they are valid in JSON and reach us from both platforms)
any_char = st.characters(exclude_categories=())
FRAGMENTS = [
    "<", ">", "&", ";", "#", "x", "/", "!", "?", "=", '"', "'", " ", "\n", "\r\n", "\t", "a", "b", "p", "t", "l",
    "amp", "lt", "gt", "quot", "nbsp", "#x3c", "#60", "#x26", "#38", "#x61", "amp;", "lt;", "gt;", "&amp;", "&lt;",
    "&gt;", "&#x3c;", "&#60;", "&#0;", "&#x202e;", "&#xd800;", "&#x200b;", "&notin", "&copy", "script", "<script>",
    "</script>", "<style>", "<b>", "</b>", "<br>", "<br/>", "</p>", "<p>", "<li>", "<ul>", "<!--", "-->", "<?",
    "</", "<!", "<a href=", "javascript:", "JaVaScRiPt:", "data:text/html,", "vbscript:", "onerror=", "onclick=",
    "alert(1)", "<img src=x onerror=alert(1)>", '<a href="javascript:alert(1)">', '<a href="https://x.example">',
    "</a>", "<svg onload=alert(1)>", "<iframe src=//evil>", "\u202e", "\u2066", "\u200b", "\u200d", "\ufeff",
    "\u0301", "\u0308", "\ud800", "\udfff", "\x00", "\x07", "\x1b", "\x7f", "\x85", "\u2028", "\u2029", "\xa0",
    "\u3164", "\u115f", "\u037e", "\u212a", "\u1fef", "\ufdd0", "\uffff", "\ue000", "\U0010fffd", "가", "é", "…",
]  # fmt: skip
# what most values are made of: letters, digits, punctuation, Hangul, accents, '&' and line breaks
COMMON = st.characters(codec="utf-8", exclude_characters="<", categories=["L", "M", "N", "P", "Zs"]) | st.sampled_from(
    ["&", "\n", " ", "가", "é", "\u0301", ";", "#"]
)
TAGS = ["p", "b", "a", "script", "style", "li", "ul", "strong", "em", "img", "svg", "div", "iframe", "textarea"]
ATTRIBUTES = ["", ' href="javascript:alert(1)"', " onclick=alert(1)", ' href="https://example.org/x"', " src=x"]


def _encode(text: str, times: int) -> str:
    for _ in range(times):
        text = html.escape(text, quote=False)
    return text


fragments = st.lists(st.sampled_from(FRAGMENTS) | st.text(any_char, max_size=3), max_size=12).map("".join)
nested = st.recursive(
    fragments,
    lambda inner: (
        st.builds(
            lambda tag, attribute, body, times: _encode(f"<{tag}{attribute}>{body}</{tag}>", times),
            st.sampled_from(TAGS),
            st.sampled_from(ATTRIBUTES),
            inner,
            st.integers(0, 7),
        )
        | st.lists(inner, max_size=3).map("".join)
    ),
    max_leaves=8,
)
hostile = st.one_of(st.text(any_char, max_size=40), fragments, nested)
limits = st.none() | st.integers(1, 80)

TAG_OPEN = re.compile(r"<[A-Za-z/!?]")
BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
SCRIPT_URL = re.compile(r"""(?:href|src)\s*=\s*["']?\s*(?:javascript|data|vbscript):""", re.IGNORECASE)


def _clean_or_refused(function: object, value: str, max_len: int | None) -> str | None:
    """The cleaned value, or None when cleaning refused it for the one documented reason."""
    try:
        return function(value, max_len=max_len)  # type: ignore[operator, no-any-return]
    except UnsafeValue as exc:
        refusal = exc
    assert refusal.reason.startswith("starts with a script or data URL"), refusal
    return None


def _assert_characters(out: str, *, newlines: bool) -> None:
    out.encode("utf-8")
    assert not BIDI.search(out)
    for ch in out:
        category = unicodedata.category(ch)
        assert category not in ("Cf", "Cs", "Co") or ch == "\n"
        assert category != "Cc" or (newlines and ch == "\n")


# ------------------------------------------------------------------------------------------------ plain kinds


class TestPlainKinds:
    """For any text, plain_line and plain_text give text that is idempotent, holds no markup, no character
    reference, no control, bidi or format character, encodes as UTF-8, and is visible or empty."""

    @given(hostile, limits)
    def test_plain_line(self, value: str, max_len: int | None) -> None:
        out = _clean_or_refused(plain_line, value, max_len)
        if out is None:
            return
        assert plain_line(out, max_len=max_len) == out
        assert not TAG_OPEN.search(out)
        assert html.unescape(out) == out
        _assert_characters(out, newlines=False)
        assert out == " ".join(out.split())
        assert out == "" or visible(out)
        assert max_len is None or len(out) <= max_len
        assert check_plain(out) == out

    @given(hostile, limits)
    def test_plain_text(self, value: str, max_len: int | None) -> None:
        out = _clean_or_refused(plain_text, value, max_len)
        if out is None:
            return
        assert plain_text(out, max_len=max_len) == out
        assert not TAG_OPEN.search(out)
        assert html.unescape(out) == out
        _assert_characters(out, newlines=True)
        assert "\n\n\n" not in out
        assert all(line == " ".join(line.split()) for line in out.split("\n"))
        assert out == "" or visible(out)
        assert max_len is None or len(out) <= max_len
        assert check_plain(out) == out

    @given(st.text(COMMON, max_size=30) | st.lists(st.sampled_from(FRAGMENTS), max_size=6).map("".join))
    def test_fast_path_gives_the_slow_paths_answer(self, value: str) -> None:
        for tidy in (clean._tidy_line, clean._tidy_lines):
            if clean._common(value):
                assert tidy(value) == clean._plain_slow(value, tidy)
        if clean._common(value, markup=True):
            assert value.strip() == clean._rich_slow(value, None)


class TestDecoding:
    """Character references are decoded to a real fixpoint, whichever route the decoder takes."""

    @given(st.lists(st.sampled_from(["&", "#", "x", "61", "6d", "3c", ";", "a", "m", "p", "l", "t", "amp;"])))
    def test_stream_decoder_reaches_a_fixpoint(self, parts: list[str]) -> None:
        out = clean._decode_stream("".join(parts))
        assert html.unescape(out) == out

    @given(fragments)
    def test_decode_reaches_a_fixpoint(self, value: str) -> None:
        out = clean._decode(value)
        assert html.unescape(out) == out


# ------------------------------------------------------------------------------------------------ rich text

RICH_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)([^>]*)>")


class TestRichText:
    """For any input, rich_text gives idempotent HTML with only the allowed tags, links only to http(s)
    with rel set, no event handler, no script or data URL, no bidi override, encodable as UTF-8."""

    @given(hostile, limits)
    def test_rich_text(self, value: str, max_len: int | None) -> None:
        out = rich_text(value, max_len=max_len)
        assert rich_text(out, max_len=max_len) == out
        out.encode("utf-8")
        assert not BIDI.search(out)
        for closing, name, attributes in RICH_TAG.findall(out):
            assert name in ALLOWED_TAGS
            assert not EVENT_HANDLER.search(attributes)
            assert not SCRIPT_URL.search(attributes)
            if name == "a" and not closing:
                assert f'rel="{LINK_REL}"' in attributes
                href = re.search(r'href="([^"]*)"', attributes)
                assert href is None or urlsplit(html.unescape(href.group(1))).scheme in ("http", "https")
        assert max_len is None or len(out) <= max_len
        assert check_rich(out) == out


# ------------------------------------------------------------------------------------------------ urls

URL_PARTS = [
    "http://", "https://", "HTTP://", "javascript:", "jav&#x61;script:", "java\tscript:", "data:", "//", "www.",
    "example", ".kr", ".com", ":8080", ":80", "/", "?", "#", "@", "user:pw@", '"', "'", "<", ">", "\\", " ", "%",
    "%41", "%zz", "&", "=", "한국", "é", "\u202e", "\x00", "\ud800", "\n", "script", "alert(1)", "[::1]", "127.0.0.1",
]  # fmt: skip
urlish = st.one_of(
    st.lists(st.sampled_from(URL_PARTS) | st.text(any_char, max_size=2), max_size=10).map("".join),
    st.text(any_char, max_size=30),
)
BREAKOUT = re.compile(r"[\s\"'<>\\`]")


class TestUrls:
    """url() gives None or an ASCII http(s) URL with a host, that re-parses alike, is idempotent and holds
    no character that breaks out of an attribute or a text field."""

    @given(urlish, st.integers(20, 500))
    def test_url(self, value: str, max_len: int) -> None:
        out = url(value, max_len=max_len)
        if out is None:
            return
        parts = urlsplit(out)
        assert parts.scheme in ("http", "https")
        assert parts.hostname
        assert not parts.username
        assert out.isascii()
        assert not BREAKOUT.search(out)
        assert len(out) <= max_len
        assert url(out, max_len=max_len) == out


# ------------------------------------------------------------------------------------------------ codes

SUBTAG = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")
LANGUAGE_PARTS = [
    "en", "ko", "zh", "de", "-", "_", "Hant", "hant", "TW", "at", "419", "x", "1996", "u", "ca", "buddhist",
    '"><img src=x onerror=alert(1)>', " ", "english", "i", "klingon", "yue",
]  # fmt: skip


class TestCodes:
    """language_tag, country_code and identifier accept only what they promise."""

    @given(st.text(any_char, max_size=20) | st.lists(st.sampled_from(LANGUAGE_PARTS), max_size=6).map("".join))
    def test_language_tag(self, value: str) -> None:
        out = language_tag(value)
        if out is None:
            return
        assert SUBTAG.fullmatch(out)
        assert out.isascii()
        assert language_tag(out) == out
        assert out.split("-")[0] == out.split("-")[0].lower()

    def test_country_code_accepts_only_existing_countries(self) -> None:
        territories = set(Locale.parse("en").territories)
        letters = [chr(c) for c in range(ord("A"), ord("Z") + 1)]
        accepted = {code for a in letters for b in letters if (code := country_code(a + b)) is not None}
        assert accepted <= territories
        assert not accepted & {"ZZ", "EU", "EZ", "UN", "QO", "XA", "XB", "EL", "UK"}
        assert {"DE", "KR", "GR", "GB", "FR"} <= accepted
        assert len(accepted) > 240

    @given(st.text(any_char, max_size=8))
    def test_country_code_on_any_text(self, value: str) -> None:
        out = country_code(value)
        assert out is None or (len(out) == 2 and out.isupper() and country_code(out) == out)

    @given(st.one_of(st.text(any_char, max_size=12), st.text("abcXYZ019._:~-/<> ", max_size=12)), st.integers(1, 10))
    def test_identifier(self, value: str, max_len: int) -> None:
        try:
            out = identifier(value, field="extrlId", max_len=max_len)
        except UnsafeValue as exc:
            refusal = exc
        else:
            assert out == value
            assert 1 <= len(out) <= max_len
            assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._:~-]*", out)
            return
        assert refusal.field == "extrlId"


class TestLimits:
    """Input beyond MAX_INPUT is refused with UnsafeValue, never cleaned for minutes."""

    @pytest.mark.parametrize("function", [plain_line, plain_text, rich_text])
    def test_absurdly_long_input_is_refused(self, function: object) -> None:
        with pytest.raises(UnsafeValue, match="longer than"):
            function("x" * (clean.MAX_INPUT + 1))  # type: ignore[operator]
