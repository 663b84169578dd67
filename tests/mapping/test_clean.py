"""Examples for each cleaning function's contract, and one test per hostile value found in the field.

Every example that cleans also checks idempotence: cleaning the output again changes nothing.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import time
from collections.abc import Callable

import pytest

from clusterbridge.mapping import clean
from clusterbridge.mapping.clean import (
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
    text_to_html,
    url,
    visible,
)

TAG_OPEN = re.compile(r"<[A-Za-z/!?]")


def _encode(text: str, times: int) -> str:
    for _ in range(times):
        text = html.escape(text, quote=False)
    return text


def _idempotent(function: Callable[..., str], value: str, **options: int) -> str:
    out = function(value, **options)
    assert function(out, **options) == out
    return out


class TestFieldFailures:
    """Each hostile value found in the field arrives harmless (or is refused), whatever kind of value."""

    def test_title_encoded_six_times_loses_its_script(self) -> None:
        title = _encode("<script>alert(1)</script> Six", 6)
        assert title.startswith("&amp;amp;amp;amp;amp;lt;script&amp;amp;")
        assert _idempotent(plain_line, title) == "Six"

    def test_cooperation_text_encoded_six_times_loses_its_script(self) -> None:
        text = "Partners wanted\n" + _encode("<script>alert(1)</script>", 6) + "\nfor joint R&D"
        assert _idempotent(plain_text, text) == "Partners wanted\n\nfor joint R&D"

    def test_city_encoded_three_times_is_not_a_script_tag(self) -> None:
        city = _encode("<script>alert(1)</script>Busan", 3)
        assert _idempotent(plain_line, city) == "Busan"

    def test_url_that_breaks_out_of_an_attribute_is_encoded(self) -> None:
        out = url('https://example.com/"><script>alert(1)</script>')
        assert out == "https://example.com/%22%3E%3Cscript%3Ealert(1)%3C/script%3E"
        assert url(out) == out

    def test_language_tag_holding_markup_is_refused(self) -> None:
        assert language_tag('"><img src=x onerror=alert(1)>') is None

    def test_id_holding_markup_is_refused(self) -> None:
        with pytest.raises(UnsafeValue) as caught:
            identifier("<script>alert(1)</script>", field="field_external_id", max_len=100)
        assert caught.value.field == "field_external_id"
        assert str(caught.value).startswith("field_external_id: ")

    @pytest.mark.parametrize("name", ["\u200b\u200b\u200b", "\u0301\u0302\u0303", "\u200b\u0301 \ufeff", "\u3164"])
    def test_invisible_names_become_empty(self, name: str) -> None:
        assert plain_line(name) == ""
        assert plain_text(name) == ""
        assert rich_text(f"<p>{name}</p>") == ""

    def test_lone_surrogates_never_break_hashing(self) -> None:
        hostile = json.loads('"before\\ud800middle\\udfffafter"')
        payload = {"line": plain_line(hostile), "text": plain_text(hostile), "rich": rich_text(f"<p>{hostile}</p>")}
        digest = hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode("utf-8")).hexdigest()
        assert len(digest) == 64
        assert payload == {"line": "beforemiddleafter", "text": "beforemiddleafter", "rich": "<p>beforemiddleafter</p>"}


class TestStillHandled:
    """What today's cleaning handles keeps being handled."""

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("<p>ok</p><script>alert('x')</script><SCRIPT SRC=//evil.example/x.js></SCRIPT>", "ok"),
            ('<a href="javascript:alert(document.domain)">members</a>', "members"),
            ('<style>body{background:url(javascript:alert(1))}</style><p style="color:red">text</p>', "text"),
            ("<!-- <script>alert(1)</script> -->visible", "visible"),
            ("a\x00b\x07c\x1bd\x7fe\u202eevil\u2066", "abcdeevil"),
            ("rtl\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069done", "rtldone"),
            ("non\ufdd0char\uffff\U0001fffe", "nonchar"),
            ("&lt;script&gt;alert(1)&lt;/script&gt;kept", "kept"),
        ],
    )
    def test_plain_line(self, value: str, expected: str) -> None:
        assert _idempotent(plain_line, value) == expected

    def test_hundred_kilobyte_field_is_cut(self) -> None:
        out = _idempotent(plain_line, "word " * 20_000, max_len=255)
        assert len(out) <= 255
        assert out.endswith("word…")

    def test_hundred_kilobyte_description_is_cut_without_a_broken_tag(self) -> None:
        value = "<p>" + " ".join(f"<strong>word{i}</strong>" for i in range(10_000)) + "</p>"
        out = _idempotent(rich_text, value, max_len=8000)
        assert len(out) <= 8000
        assert out.endswith("…</p>")
        check_rich(out)


class TestPlainLine:
    """plain_line: one line of text, no markup, NFC, whitespace collapsed, cut at a word boundary."""

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("  Busan   Machinery\tCluster \n", "Busan Machinery Cluster"),
            ("<b>Bold</b> <i>name</i>", "Bold name"),
            ("<p>first</p><p>second</p>", "first second"),
            ("line<br>break", "line break"),
            ("Cafe\u0301", "Café"),
            ("AT&amp;T &amp; partners", "AT&T & partners"),
            ("경기 \u200b기계\u00a0클러스터", "경기 기계 클러스터"),
            ("", ""),
        ],
    )
    def test_examples(self, value: str, expected: str) -> None:
        assert _idempotent(plain_line, value) == expected

    def test_none_is_empty(self) -> None:
        assert plain_line(None) == ""

    def test_cut_at_a_word_boundary(self) -> None:
        assert _idempotent(plain_line, "alpha beta gamma", max_len=12) == "alpha beta…"
        assert _idempotent(plain_line, "short", max_len=12) == "short"
        assert len(plain_line("x" * 50, max_len=10)) == 10

    def test_max_len_must_be_positive(self) -> None:
        with pytest.raises(ValueError, match="max_len"):
            plain_line("long enough", max_len=0)

    def test_common_values_take_the_fast_path(self) -> None:
        assert clean._common("Stuttgart Automotive Cluster 12")
        assert clean._common("경기 기계 미니클러스터")
        assert clean._common("R&D for <10 staff".replace("<", "under "))
        assert not clean._common("R&amp;D")
        assert not clean._common("e\u0301")


class TestPlainText:
    """plain_text: like plain_line, but line breaks and paragraphs are kept, at most one blank line."""

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("줄 하나<br>줄 둘<BR/>줄 셋\r\n줄 넷<script>x()</script>", "줄 하나\n줄 둘\n줄 셋\n줄 넷"),
            ("<p>a</p><ul><li>x</li><li>y</li></ul><p>b</p>", "a\n\nx\ny\n\nb"),
            ("one\n\n\n\n\ntwo", "one\n\ntwo"),
            ("  spaced   out  \n  next\u2028line", "spaced out\nnext\nline"),
            ("para\u2029graph", "para\n\ngraph"),
        ],
    )
    def test_examples(self, value: str, expected: str) -> None:
        assert _idempotent(plain_text, value) == expected

    def test_cut_keeps_lines(self) -> None:
        out = _idempotent(plain_text, "first line\nsecond line here", max_len=20)
        assert out == "first line\nsecond…"


class TestLiteralText:
    """Plain kinds keep harmless characters: a '<' that opens no tag, a '&' that starts no reference, a
    scheme named inside a sentence. A value that starts with a script or data URL is refused."""

    @pytest.mark.parametrize(
        "value", ["R&D for <10 staff", "a < b and c > d", "5 <= 6", "Learn javascript: the basics", "Data: 3/4 done"]
    )
    def test_kept_as_written(self, value: str) -> None:
        assert _idempotent(plain_line, value) == value
        assert _idempotent(plain_text, value) == value

    def test_an_unterminated_tag_is_dropped_as_a_browser_drops_it(self) -> None:
        assert plain_line("cluster <img src=x onerror=alert(1)") == "cluster"
        assert plain_line("a </") == "a /"

    @pytest.mark.parametrize(
        "value", ["javascript:alert(1)", " JaVaScRiPt : alert(1)", "vbscript:msgbox", "data:text/html,<b>x</b>"]
    )
    def test_script_url_values_are_refused(self, value: str) -> None:
        with pytest.raises(UnsafeValue, match="starts with a script or data URL") as caught:
            plain_line(value, field="title")
        assert caught.value.field == "title"

    def test_a_cut_does_not_hide_a_script_url(self) -> None:
        with pytest.raises(UnsafeValue, match="script or data URL"):
            plain_line("javascript:alert(1)", max_len=5)

    def test_obfuscated_script_url_is_refused_after_decoding(self) -> None:
        with pytest.raises(UnsafeValue, match="script or data URL"):
            plain_line("jav&#x61;script:alert(1)")


class TestDecoding:
    """References are decoded to a fixpoint, not for a fixed number of passes, and in linear time."""

    def test_decoding_does_not_stop_after_a_pass_count(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(clean, "_QUICK_PASSES", 0)  # the linear decoder alone
        assert plain_line(_encode("<script>alert(1)</script> Six", 6)) == "Six"

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("&am&#x70;;lt;", "<"),
            ("&&#x61;mp;lt;", "<"),
            ("&notin;x&notinx", "∉x¬inx"),
            ("&#0000065;&#x3c", "A<"),
            ("R&D", "R&D"),
        ],
    )
    def test_stream_decoder(self, value: str, expected: str) -> None:
        assert clean._decode_stream(value) == expected

    def test_references_split_by_a_tag_or_an_invisible_character(self) -> None:
        assert plain_line("&<b></b>lt;script&gt;alert(1)&lt;/script&gt;ok") == "ok"
        assert plain_line("&l\u200bt;script&gt;x&lt;/script&gt;ok") == "ok"

    def test_deep_nesting_is_decoded(self) -> None:
        value = "a" + "&&#x61;mp;" * 5000 + "lt;script&gt;x&lt;/script&gt;b"
        out = plain_line(value)
        assert out == "a" + "&" * 4999 + "b"


class TestRichText:
    """rich_text keeps the KICOX subset (p, br, ul, ol, li, strong, em, a[href]) and nothing else."""

    def test_allowed_subset_is_kept(self) -> None:
        value = "<p><strong>a</strong> <em>b</em></p><ul><li>c</li></ul><ol><li>d</li></ol><br>"
        assert _idempotent(rich_text, value) == value

    def test_links_get_rel_and_a_clean_url(self) -> None:
        out = _idempotent(rich_text, '<p>See <a href="https://X.example/a b" target="_blank" class="c">this</a></p>')
        assert out == f'<p>See <a href="https://x.example/a%20b" rel="{LINK_REL}">this</a></p>'

    @pytest.mark.parametrize(
        "href", ["javascript:alert(1)", " JaVaScRiPt:alert(1)", "jav&#x61;script:alert(1)", "data:text/html,x", "/rel"]
    )
    def test_links_other_than_http_lose_their_target(self, href: str) -> None:
        out = _idempotent(rich_text, f'<a href="{href}">x</a>')
        assert out == f'<a rel="{LINK_REL}">x</a>'

    def test_event_handlers_styles_and_unknown_tags_go(self) -> None:
        value = '<p onclick="steal()" style="color:red">click</p><img src=x onerror="alert(1)"><iframe src=x>i</iframe>'
        assert _idempotent(rich_text, value) == "<p>click</p>"

    def test_markup_hidden_behind_references_is_sanitised(self) -> None:
        value = "<p>" + _encode("<script>alert(1)</script>", 4) + "kept</p>"
        assert _idempotent(rich_text, value) == "<p>kept</p>"

    def test_one_level_of_encoding_is_shown_as_text(self) -> None:
        assert _idempotent(rich_text, "<p>&lt;b&gt; &amp; R&amp;D</p>") == "<p>&lt;b&gt; &amp; R&amp;D</p>"

    @pytest.mark.parametrize("limit", [12, 25, 40, 60])
    def test_cut_never_leaves_a_broken_tag(self, limit: int) -> None:
        value = '<ul><li>alpha beta</li><li><a href="https://x.example">gamma delta</a> epsilon</li></ul>'
        out = _idempotent(rich_text, value, max_len=limit)
        assert len(out) <= limit
        check_rich(out)
        assert out.count("<") == out.count(">")


class TestTextToHtml:
    """Plain text renders as escaped basic HTML: paragraphs, <br>, no markup of the source."""

    def test_paragraphs_and_breaks(self) -> None:
        out = text_to_html("<b>굵게</b> & <i>기울임</i><br>다음 줄\r\n\r\n마지막 < 끝")
        assert out == "<p>굵게 &amp; 기울임<br>다음 줄</p><p>마지막 &lt; 끝</p>"
        assert rich_text(out) == out


class TestUrl:
    """url() gives an http(s) URL with a real host, or None."""

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("www.Example.OR.kr", "http://www.example.or.kr"),
            ("  https://WWW.Example.com/Path?q=1  ", "https://www.example.com/Path?q=1"),
            ("HTTP://example.com", "http://example.com"),
            ("example.com:8080/x", "http://example.com:8080/x"),
            ("https://user:pw@example.com:443/", "https://example.com/"),
            ("//cdn.example.org/a", "http://cdn.example.org/a"),
            ("http://한국.kr/경로?q=값", "http://xn--3e0b707e.kr/%EA%B2%BD%EB%A1%9C?q=%EA%B0%92"),
            ("https://example.com/a'b\\c`d", "https://example.com/a%27b%5Cc%60d"),
            ("https://example.com/%zz%41", "https://example.com/%25zz%41"),
            ("http://8.8.8.8/x", "http://8.8.8.8/x"),
        ],
    )
    def test_normalised(self, raw: str, expected: str) -> None:
        assert url(raw) == expected
        assert url(expected) == expected

    @pytest.mark.parametrize(
        "raw",
        [
            "javascript:alert(1)",
            "jav&#x61;script:alert(1)",
            "java\tscript:alert(1)",
            "java\nscript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "data:text/html;base64,PHNjcmlwdD4=",
            "vbscript:msgbox",
            "ftp://example.com",
            "mailto:a@example.com",
            "https://example.com\\@evil.com",
            'https://exa"mple.com/',
            "http://localhost/",
            "http://127.0.0.1/",
            "http://[::1]/",
            "http://",
            "https:example.com",
            "",
            " ",
            None,
        ],
    )
    def test_refused(self, raw: str | None) -> None:
        assert url(raw) is None

    def test_too_long_is_refused(self) -> None:
        assert url("https://example.com/" + "a" * 500) is None
        assert url("https://example.com/" + "a" * 500, max_len=600) is not None


class TestLanguageTag:
    """language_tag() accepts BCP 47 tags by syntax, in canonical case, and nothing else."""

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [("en", "en"), ("KO", "ko"), ("de-at", "de-AT"), ("zh-hant-tw", "zh-Hant-TW"), ("ko_KR", "ko-KR"),
         ("es-419", "es-419"), ("ko-Latn", "ko-Latn"), (" en-US-x-Twain ", "en-US-x-twain")],
    )  # fmt: skip
    def test_accepted(self, raw: str, expected: str) -> None:
        assert language_tag(raw) == expected
        assert language_tag(expected) == expected

    @pytest.mark.parametrize("raw", ["english", "x-private", "i-klingon", "e", "en--us", "en-", "한국어", "", None])
    def test_refused(self, raw: str | None) -> None:
        assert language_tag(raw) is None


class TestCountryCode:
    """country_code() gives an ISO 3166-1 alpha-2 code that exists, with the EU's EL and UK mapped."""

    @pytest.mark.parametrize(("raw", "expected"), [("de ", "DE"), ("EL", "GR"), ("uk", "GB"), ("KR", "KR")])
    def test_accepted(self, raw: str, expected: str) -> None:
        assert country_code(raw) == expected

    @pytest.mark.parametrize("raw", ["XX", "ZZ", "EU", "QO", "Greece", "D", "DEU", "", None])
    def test_refused(self, raw: str | None) -> None:
        assert country_code(raw) is None


class TestIdentifier:
    """identifier() passes ids the contracts allow unchanged and refuses the rest, naming the field."""

    @pytest.mark.parametrize("raw", ["KC-100001", "eccp:3f1c2a4e-0d1b-4c5e-9f00-000000000001", "a.b_c~d"])
    def test_accepted(self, raw: str) -> None:
        assert identifier(raw, field="extrlId", max_len=100) == raw

    def test_integers_are_ids(self) -> None:
        assert identifier(100_004, field="nid", max_len=10) == "100004"

    @pytest.mark.parametrize(
        ("raw", "reason"),
        [("", "empty"), ("a" * 11, "longer than 10"), (" KC-1", "characters"), ("KC-1\n", "characters"),
         ("-KC", "characters"), (None, "string"), (True, "string")],
    )  # fmt: skip
    def test_refused_never_fixed(self, raw: object, reason: str) -> None:
        with pytest.raises(UnsafeValue, match=reason) as caught:
            identifier(raw, field="clstrId", max_len=10)
        assert caught.value.field == "clstrId"

    def test_custom_pattern(self) -> None:
        assert identifier("29172", field="ksicCd", max_len=5, pattern=re.compile(r"[0-9]{5}")) == "29172"
        with pytest.raises(UnsafeValue):
            identifier("C29", field="ksicCd", max_len=5, pattern=re.compile(r"[0-9]{5}"))


class TestVisible:
    """visible() is true when at least one character shows."""

    @pytest.mark.parametrize("value", ["a", " x ", "가", "…", "\u0301a"])
    def test_visible(self, value: str) -> None:
        assert visible(value)

    @pytest.mark.parametrize("value", ["", " \t\n", "\u200b\u200d\ufeff", "\u0301\u20dd", "\u3164\u115f", "\ue000"])
    def test_invisible(self, value: str) -> None:
        assert not visible(value)


class TestGate:
    """check_plain and check_rich refuse what must never cross, naming the field."""

    @pytest.mark.parametrize(
        "value",
        ["<script>x</script>", "a</b", "<!-- c", "&lt;script&gt;", "tab\there", "rtl\u202eltr", "zw\u200bsp", "\ud800",
         "javascript:alert(1)", "\ufdd0"],
    )  # fmt: skip
    def test_plain_refuses(self, value: str) -> None:
        with pytest.raises(UnsafeValue) as caught:
            check_plain(value, "field_city")
        assert caught.value.field == "field_city"

    def test_plain_passes_clean_text(self) -> None:
        assert check_plain("R&D for <10 staff\nsecond line") == "R&D for <10 staff\nsecond line"

    @pytest.mark.parametrize(
        "value",
        ["<script>x</script>", "<p onclick=\"x\">a</p>", '<a href="javascript:alert(1)">x</a>',
         '<a href="data:text/html,x">x</a>', '<a href="https://x.example" target="_blank">x</a>', "<img src=x>",
         "a < b", "<p>&amp;lt;script&amp;gt;</p>", "<p>\u202e</p>"],
    )  # fmt: skip
    def test_rich_refuses(self, value: str) -> None:
        with pytest.raises(UnsafeValue) as caught:
            check_rich(value, "intrcn")
        assert caught.value.field == "intrcn"

    def test_rich_passes_the_subset(self) -> None:
        value = f'<p>a &amp; b<br><a href="https://x.example/?a=1&amp;b=2" rel="{LINK_REL}">x</a></p>'
        assert check_rich(value) == value

    def test_every_cleaned_output_passes_its_gate(self) -> None:
        hostile = _encode('<a href="javascript:alert(1)" onclick=x>\u202ey</a>', 2)
        assert check_plain(plain_line(hostile)) == plain_line(hostile)
        assert check_rich(rich_text(hostile)) == rich_text(hostile)

    def test_a_string_seen_passing_is_not_checked_again(self, monkeypatch: pytest.MonkeyPatch) -> None:
        checked: list[str] = []
        real = clean._check_chars
        monkeypatch.setattr(clean, "_check_chars", lambda value, field: (checked.append(value), real(value, field)))
        value = f"<p>remembered {time.monotonic_ns()}</p>"
        assert check_rich(value) == check_rich(value) == value
        assert checked == [value]
        with pytest.raises(UnsafeValue):  # what passed the rich gate is no pass for the plain one
            check_plain(value)
        refused = f"<p onclick=x>{time.monotonic_ns()}</p>"
        for _ in range(2):  # what was refused is refused again
            with pytest.raises(UnsafeValue):
                check_rich(refused)

    def test_what_the_gates_remember_is_bounded(self) -> None:
        passed = clean._Passed(budget=1000)
        for i in range(500):
            passed.add(f"value {i:03d}")  # 9 characters each
        assert 0 < len(passed) <= 1000 // 9
        assert "value 499" in passed
        assert "value 000" not in passed
        passed.add("x" * 11)  # over a hundredth of the budget: checked each time, never kept
        assert "x" * 11 not in passed


class TestUnsafeValue:
    """UnsafeValue is a ValueError that carries the field and the reason."""

    def test_carries_field_and_reason(self) -> None:
        error = UnsafeValue("holds markup", field="title")
        assert isinstance(error, ValueError)
        assert (error.field, error.reason, str(error)) == ("title", "holds markup", "title: holds markup")

    def test_for_field_names_the_field_later(self) -> None:
        error = UnsafeValue("holds markup").for_field("clstrEngNm")
        assert (error.field, str(error)) == ("clstrEngNm", "clstrEngNm: holds markup")
