"""Each reader in their own language, and no personal data through free text (rules 7 and 8), end to end.

A LibreTranslate-shaped provider is faked with respx in the test process (it "translates" by tagging the text
with the target language); the simulators stay real servers on loopback.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
import respx
import sqlalchemy as sa
from pydantic import SecretStr

from clusterbridge.store import db
from clusterbridge.store.tables import links
from tests.e2e.harness import Bridge
from tests.e2e.test_sync import live_korean, published_european

pytestmark = pytest.mark.slow
PROVIDER = "http://translate.test"


class FakeProvider:
    """A provider that "translates" by tagging each text with the target language, speaking the documented API
    of LibreTranslate (POST /translate {q, source, target}), DeepL (POST /v2/translate {text, target_lang}) or
    Papago (POST /nmt/v1/translation, a form with source, target, text: one text a request)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.calls = 0
        self.down = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            return httpx.Response(503, headers={"Retry-After": "0"}, json={"error": "maintenance"})
        self.calls += 1
        if self.kind == "papago":
            form = dict(parse_qsl(request.content.decode()))
            text = f"[{form['target'].split('-')[0]}] {form['text']}"
            return httpx.Response(200, json={"message": {"result": {"translatedText": text}}})
        body = json.loads(request.content)
        if self.kind == "deepl":
            target = body["target_lang"].split("-")[0].lower()
            return httpx.Response(200, json={"translations": [{"text": f"[{target}] {t}"} for t in body["text"]]})
        texts = body["q"] if isinstance(body["q"], list) else [body["q"]]
        out = [f"[{body['target']}] {t}" for t in texts]
        return httpx.Response(200, json={"translatedText": out if isinstance(body["q"], list) else out[0]})


PROVIDERS = {
    "libretranslate": ({"libretranslate_url": PROVIDER}, "/translate"),
    "deepl": ({"deepl_api_key": SecretStr("k"), "deepl_base_url": PROVIDER}, "/v2/translate"),
    "papago": ({"papago_client_id": "id", "papago_client_secret": SecretStr("s"), "papago_base_url": PROVIDER},
               "/nmt/v1/translation"),
}


@pytest.fixture(params=sorted(PROVIDERS))
def provider(bridge: Bridge, request: pytest.FixtureRequest) -> Iterator[FakeProvider]:
    kind: str = request.param
    fake = FakeProvider(kind)
    values, path = PROVIDERS[kind]
    bridge.settings = bridge.settings.model_copy(update={"translator": kind, **values})
    with respx.mock(assert_all_called=False) as router:
        router.post(f"{PROVIDER}{path}").mock(side_effect=fake)
        router.route(host="127.0.0.1").pass_through()
        yield fake


def plain(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


class TestTranslatedMirrors:
    """With a translator, each platform shows the other side's clusters in its readers' language, originals kept."""

    def test_kicox_shows_european_clusters_in_korean_and_eccp_korean_clusters_in_english(
            self, bridge: Bridge, provider: FakeProvider) -> None:
        assert bridge.sync(full=True).exit_code == 0
        european = published_european(bridge)
        for item in bridge.kicox_mirrors():
            source = european[item["extrlId"].removeprefix("eccp:")]
            assert item["clstrNm"], item["extrlId"]  # a Korean rendering of the name
            if (source.get("field_description") or {}).get("value"):
                assert item["intrcnLang"] == "ko"
                assert plain(item["intrcn"]).lstrip().startswith("[ko]")
                assert "원문" in item["intrcn"]  # the original follows where the field's length allows
            if source.get("field_sectors"):
                assert "분야" in item["intrcn"]
            coop = source.get("field_cooperation_interest") or {}
            if coop.get("seeking"):
                assert "협력 희망 분야: [ko]" in item["cprtnIntrstCn"]
        korean = live_korean(bridge)
        for mirror in bridge.eccp_mirrors():
            attrs = mirror["attributes"]
            source = korean[attrs["field_external_id"]]
            if source.get("intrcn", "").strip():
                value = attrs["field_description"]["value"]
                assert "[en]" in value
                assert "Original (Korean)" in value
                assert attrs["langcode"] == "en"
            assert attrs["field_original_language"] == "ko"
            if source.get("cprtnIntrstCn", "").strip():
                assert attrs["field_cooperation_interest"]["seeking"].startswith("[en] ")

    def test_a_second_run_sends_no_text_to_the_provider(self, bridge: Bridge, provider: FakeProvider) -> None:
        assert bridge.sync(full=True).exit_code == 0
        assert provider.calls > 0
        calls = provider.calls
        assert bridge.sync(full=True).exit_code == 0
        assert provider.calls == calls

    def test_texts_left_untranslated_while_the_provider_is_down_are_translated_when_it_answers(
            self, bridge: Bridge, provider: FakeProvider) -> None:
        provider.down = True
        assert bridge.sync(full=True).exit_code == 0  # originals, tagged with their language
        untranslated = {f["extrlId"]: f for f in bridge.kicox_mirrors()}
        assert all(not f["clstrNm"].startswith("[ko]") for f in untranslated.values())
        waiting = {k for k, f in untranslated.items() if not f["clstrNm"]}
        assert waiting
        provider.down = False
        again = bridge.sync()  # incremental: nothing changed at the source, the pending records are re-rendered
        e2k = next(d for d in again.directions if d.direction == "eu-to-kr")
        assert e2k.retried > 0
        assert e2k.updated >= e2k.retried  # not held back by the update budget: a translation is no source change
        now = {f["extrlId"]: f for f in bridge.kicox_mirrors()}
        assert all(now[k]["clstrNm"].startswith("[ko] ") for k in waiting)

    def test_a_dry_run_never_calls_the_provider(self, bridge: Bridge, provider: FakeProvider) -> None:
        bridge.sync(full=True, dry_run=True)
        assert provider.calls == 0


class TestUntranslatedMirrors:
    """Without a translator, texts cross in their own language and every language tag says which."""

    def test_language_tags_tell_the_truth(self, bridge: Bridge) -> None:
        assert bridge.sync(full=True).exit_code == 0
        european = published_european(bridge)
        for item in bridge.kicox_mirrors():
            source = european[item["extrlId"].removeprefix("eccp:")]
            if item["intrcn"] and (source.get("field_description") or {}).get("value"):
                assert item["intrcnLang"] == (source.get("langcode") or "en")
        korean = live_korean(bridge)
        for mirror in bridge.eccp_mirrors():
            attrs = mirror["attributes"]
            if korean[attrs["field_external_id"]].get("intrcn", "").strip():
                assert attrs["langcode"] == "ko"


class TestPersonalDataInFreeText:
    """No e-mail, phone number or non-public name from free text reaches the other side; the ledger counts it."""

    SENTENCE = ("문의: 홍길동 팀장 (031 000 1047, GDHONG@EXAMPLE.OR.KR), 또는 사무국 김철수 010-1234-5678 "
                "kim@example.kr")

    def test_the_field_test_sentence_crosses_without_its_personal_data(self, bridge: Bridge) -> None:
        bridge.admin(bridge.kicox, "PUT", "/clusters/KC-PRIVATE", {
            "clstrId": "KC-PRIVATE", "clstrNm": "개인정보 시험 클러스터", "ctprvnNm": "경기도", "useAt": "Y",
            "intrcn": self.SENTENCE, "cprtnIntrstCn": "연락: kim (at) example.kr 또는 +82 10 9876 5432",
            "chargerNm": "홍길동", "chargerEmail": "gdhong@example.or.kr", "chargerTelno": "031-000-1047",
            "chargerOthbcAt": "N", "updtDt": "20261101120000"})
        assert bridge.sync(full=True).exit_code == 0
        mirror = next(r["attributes"] for r in bridge.eccp_mirrors()
                      if r["attributes"]["field_external_id"] == "KC-PRIVATE")
        shown = json.dumps(mirror, ensure_ascii=False).lower()
        for leaked in ("홍길동", "gdhong", "031 000 1047", "010-1234-5678", "kim@example.kr", "9876", "kim (at)"):
            assert leaked.lower() not in shown, leaked
        assert "[연락처 비공개]" in mirror["field_description"]["value"]
        engine = db.make_engine(bridge.settings.database_url)
        try:
            with engine.connect() as conn:
                withheld = conn.execute(sa.select(links.c.withheld).where(links.c.native_id == "KC-PRIVATE")).scalar()
        finally:
            engine.dispose()
        counts: dict[str, Any] = json.loads(withheld)
        assert counts["emails"] >= 2
        assert counts["phones"] >= 2
        assert counts["names"] >= 1
