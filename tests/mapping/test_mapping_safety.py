"""Privacy and safety: private contacts never cross, hostile text arrives harmless, limits hold."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

import pytest

from clusterbridge.connectors.kicox.models import ForeignCluster
from clusterbridge.mapping.clean import plain_line, plain_text, rich_text, url
from tests.mapping.mapping_samples import eccp, kicox
from tests.mapping.pipeline import Pipeline as Mapper

HOSTILE = {
    "script": "<p>ok</p><script>alert('x')</script><SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "event handler": (
        '<p onclick="steal()">click</p><img src=x onerror="alert(1)">'
        '<a href="https://x.example" onmouseover="alert(1)">x</a>'
    ),
    "javascript link": '<a href="javascript:alert(document.domain)">members</a><a href=" JaVaScRiPt:alert(1)">y</a>',
    "data link": '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">z</a>',
    "style": '<style>body{background:url(javascript:alert(1))}</style><p style="color:red">text</p>',
    "iframe": '<iframe src="https://evil.example"></iframe><object data="x"></object>',
    "comment": "<!-- <script>alert(1)</script> -->visible",
    "control characters": "a\x00b\x07c\x1bd\x7fe\u202eevil\u2066",
    "entity script": "&lt;script&gt;alert(1)&lt;/script&gt;",
}
FORBIDDEN = ("<script", "onclick", "onerror", "onmouseover", "javascript:", "<iframe", "<style", "data:text", "\u202e")


def _dump(payload: dict[str, Any]) -> str:
    text = json.dumps(payload, ensure_ascii=False)
    text.encode("utf-8")  # lone surrogates would make this raise
    return text


def _assert_safe(payload: dict[str, Any]) -> None:
    text = _dump(payload)
    lowered = text.lower()
    for bad in FORBIDDEN:
        assert bad not in lowered, bad
    for value in _strings(payload):
        assert not any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\n\t" for ch in value), value


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


class TestPrivacy:
    """Rule 7: contacts cross only when the source marks them public."""

    def test_private_kicox_contact_appears_nowhere(self, mapper: Mapper) -> None:
        rec = kicox(intrcn="문의: 홍길동 (gdhong@example.or.kr, 031-000-1047)", cprtnIntrstCn="홍길동에게 연락")
        text = _dump(mapper.to_eccp_mirror(mapper.from_kicox(rec)))
        for secret in ("홍길동", "gdhong@example.or.kr", "031-000-1047"):
            assert secret not in text

    def test_public_kicox_contact_crosses(self, mapper: Mapper) -> None:
        payload = mapper.to_eccp_mirror(mapper.from_kicox(kicox(chargerOthbcAt="Y")))
        assert payload["field_contact"] == {
            "name": "홍길동",
            "email": "gdhong@example.or.kr",
            "phone": "031-000-1047",
            "public": True,
        }

    def test_private_eccp_contact_appears_nowhere(self, mapper: Mapper) -> None:
        rec = eccp(
            {
                "field_description": {
                    "value": (
                        '<p>Ask Tobias Engel: <a href="mailto:tobias.engel@example.eu">mail</a> +49 79 000 1408</p>'
                    ),
                    "format": "basic_html",
                }
            }
        )
        text = _dump(mapper.to_kicox_mirror(mapper.from_eccp(rec)))
        for secret in ("Tobias Engel", "tobias.engel@example.eu", "+49 79 000 1408"):
            assert secret not in text

    def test_public_eccp_contact_crosses(self, mapper: Mapper) -> None:
        contact = {"name": "Tobias Engel", "email": "t@example.eu", "phone": "+49 1", "public": True}
        payload = mapper.to_kicox_mirror(mapper.from_eccp(eccp({"field_contact": contact})))
        assert (payload["chargerNm"], payload["chargerEmail"], payload["chargerTelno"]) == (
            "Tobias Engel",
            "t@example.eu",
            "+49 1",
        )


class TestHostileText:
    @pytest.mark.parametrize("hostile", list(HOSTILE.values()), ids=list(HOSTILE))
    def test_eccp_description_is_safe_on_kicox(self, mapper: Mapper, hostile: str) -> None:
        rec = eccp({"field_description": {"value": hostile, "format": "basic_html"}, "title": "T" + hostile[:40]})
        payload = mapper.to_kicox_mirror(mapper.from_eccp(rec))
        _assert_safe(payload)
        ForeignCluster.model_validate(payload)

    @pytest.mark.parametrize("hostile", list(HOSTILE.values()), ids=list(HOSTILE))
    def test_kicox_text_is_safe_on_eccp(self, mapper: Mapper, hostile: str) -> None:
        rec = kicox(intrcn=hostile, cprtnIntrstCn=hostile, clstrEngNm="X " + hostile[:60])
        _assert_safe(mapper.to_eccp_mirror(mapper.from_kicox(rec)))

    def test_kicox_markup_never_survives_as_markup(self, mapper: Mapper) -> None:
        rec = kicox(intrcn="<b>굵게</b> & <i>기울임</i><br>다음 줄\r\n<img src=x onerror=alert(1)>마지막")
        value = mapper.to_eccp_mirror(mapper.from_kicox(rec))["field_description"]["value"]
        assert value.endswith("<p>굵게 &amp; 기울임<br>다음 줄<br>마지막</p>")
        assert "<b>" not in value
        assert "<img" not in value

    def test_links_keep_href_and_get_rel(self) -> None:
        cleaned = rich_text('<p>See <a href="https://x.example/a" target="_blank" class="c">this</a></p>')
        assert cleaned == '<p>See <a href="https://x.example/a" rel="noopener noreferrer nofollow">this</a></p>'

    def test_allowed_subset_is_kept(self) -> None:
        html = "<p><strong>a</strong> <em>b</em></p><ul><li>c</li></ul><ol><li>d</li></ol><br>"
        assert rich_text(html) == html

    def test_plain_text_of_html(self) -> None:
        assert plain_text("줄 하나<br>줄 둘<BR/>줄 셋\r\n줄 넷<script>x()</script>") == "줄 하나\n줄 둘\n줄 셋\n줄 넷"


class TestLoneSurrogates:
    """Invalid UTF-16 halves cannot be encoded as UTF-8; the wire models refuse them and every text helper
    drops them, so no payload ever fails to serialise."""

    def test_text_helpers_drop_them(self) -> None:
        hostile = "before\ud800middle\udfffafter"
        for result in (plain_line(hostile), plain_text(hostile), rich_text(f"<p>{hostile}</p>")):
            result.encode("utf-8")
            assert "beforemiddleafter" in result

    def test_wire_models_refuse_them(self) -> None:
        with pytest.raises(ValueError, match="unicode"):
            kicox(intrcn="x\ud800")


class TestLimits:
    def test_oversized_introduction_is_cut_to_8000(self, mapper: Mapper) -> None:
        words = " ".join(f"<strong>word{i}</strong>" for i in range(3000))
        rec = eccp({"field_description": {"value": f"<p>{words}</p>", "format": "basic_html"}})
        payload = mapper.to_kicox_mirror(mapper.from_eccp(rec))
        assert len(payload["intrcn"]) <= 8000
        assert payload["intrcn"].endswith("</p>")
        ForeignCluster.model_validate(payload)

    def test_oversized_names_are_cut(self, mapper: Mapper) -> None:
        c = mapper.from_eccp(eccp()).model_copy(update={"name_en": "Cluster " * 100})
        assert len(mapper.to_kicox_mirror(c)["clstrEngNm"]) <= 300
        k = mapper.from_kicox(kicox(clstrEngNm="Cluster " * 100))
        assert len(mapper.to_eccp_mirror(k)["title"]) <= 255

    def test_cuts_fall_at_a_word_boundary(self) -> None:
        assert plain_line("alpha beta gamma", max_len=12) == "alpha beta…"
        assert plain_line("short", max_len=12) == "short"
        assert len(plain_line("x" * 50, max_len=10)) == 10


class TestUrls:
    @pytest.mark.parametrize(
        ("raw", "normal"),
        [
            ("www.Example.OR.kr", "http://www.example.or.kr"),
            ("  https://WWW.Example.com/Path?q=1  ", "https://www.example.com/Path?q=1"),
            ("HTTP://example.com", "http://example.com"),
            ("example.com:8080/x", "http://example.com:8080/x"),
            ("https://user:pw@example.com/", "https://example.com/"),
            ("javascript:alert(1)", None),
            ("ftp://example.com", None),
            ("mailto:a@example.com", None),
            ("", None),
            (" ", None),
            ("http://", None),
        ],
    )
    def test_normalise(self, raw: str, normal: str | None) -> None:
        assert url(raw) == normal

    def test_only_http_websites_cross(self, mapper: Mapper) -> None:
        assert mapper.to_eccp_mirror(mapper.from_kicox(kicox(hmpgUrl="javascript:alert(1)")))["field_website"] is None
        rec = eccp({"field_website": {"uri": "ftp://files.example.eu"}})
        assert mapper.to_kicox_mirror(mapper.from_eccp(rec))["hmpgUrl"] == ""
