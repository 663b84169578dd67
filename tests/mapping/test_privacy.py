"""Rule 7 inside free text: e-mail addresses, phone numbers, resident registration numbers and the private
contact's name are withheld before a text crosses; the corpus in privacy_corpus.toml says exactly how."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from clusterbridge.mapping import privacy
from clusterbridge.mapping.privacy import (
    ORGANISATIONAL_MAILBOXES,
    PLACEHOLDER_EN,
    PLACEHOLDER_KO,
    Withheld,
    placeholder_for,
    withhold,
)
from clusterbridge.model import Contact
from clusterbridge.simulators.generate import generate_eccp, generate_kicox

CORPUS: list[dict[str, Any]] = tomllib.loads(
    (Path(__file__).parent / "privacy_corpus.toml").read_text(encoding="utf-8")
)["case"]

W = PLACEHOLDER_EN
SITE = "https://www.example.or.kr/en/index.html"


def _run(case: dict[str, Any], text: str | None = None) -> tuple[str, Withheld]:
    contact = Contact(**case["contact"]) if "contact" in case else None
    return withhold(
        case["text"] if text is None else text,
        contact=contact,
        website=case.get("website"),
        placeholder=placeholder_for(case.get("lang", "en")),
    )


class TestCorpus:
    """Every case of the corpus comes out exactly as written down, with exactly the counts written down."""

    def test_the_corpus_is_large_and_its_names_are_unique(self) -> None:
        ids = [case["id"] for case in CORPUS]
        assert len(ids) >= 40
        assert len(set(ids)) == len(ids)

    @pytest.mark.parametrize("case", CORPUS, ids=[case["id"] for case in CORPUS])
    def test_case(self, case: dict[str, Any]) -> None:
        text, counts = _run(case)
        assert text == case["expected"]
        assert counts == Withheld(**case["withheld"])

    @pytest.mark.parametrize("case", CORPUS, ids=[case["id"] for case in CORPUS])
    def test_running_again_withholds_nothing_more(self, case: dict[str, Any]) -> None:
        once, _ = _run(case)
        assert _run(case, once) == (once, Withheld())


class TestFastPath:
    """A text with no address marker, no long run of digits and no trace of the contact's name comes back as
    it was, without the phone-number library being asked."""

    @pytest.fixture
    def matcher_calls(self, monkeypatch: pytest.MonkeyPatch) -> list[str]:
        calls: list[str] = []
        real = privacy.PhoneNumberMatcher

        def counting(text: str, region: str, **kwargs: Any) -> Any:
            calls.append(region)
            return real(text, region, **kwargs)

        monkeypatch.setattr(privacy, "PhoneNumberMatcher", counting)
        return calls

    @pytest.mark.parametrize(
        "text",
        [
            "<p>Founded in 2004, <strong>Ansan Machinery Cluster</strong> has 153 members today.</p>",
            "반월시화 기계부품 미니클러스터는 2008년에 결성되었습니다.<br>회원사 87개사",
            "Partners for joint R&D projects in industrial robotics and 6G; KSIC 29172, NACE C28.",
        ],
    )
    def test_ordinary_text_is_returned_untouched(self, text: str, matcher_calls: list[str]) -> None:
        contact = Contact(name="홍길동", email="gdhong@example.or.kr", phone="031-000-1047", public=False)
        out, counts = withhold(text, contact=contact, website=SITE, placeholder=W)
        assert out is text
        assert counts == Withheld()
        assert matcher_calls == []

    def test_a_long_run_of_digits_is_looked_at(self, matcher_calls: list[str]) -> None:
        out, counts = withhold("Tel. 031 000 1047", contact=None, website=None, placeholder=W)
        assert (out, counts) == (f"Tel. {W}", Withheld(phones=1))
        assert matcher_calls[:1] == ["KR"]

    def test_empty_text(self) -> None:
        assert withhold("", contact=None, website=None, placeholder=W) == ("", Withheld())


class TestPublicContact:
    """A contact the source marks public keeps its own name, e-mail and phone (in any spelling of them);
    other people's data in the same text is still withheld."""

    TEXT = (
        "담당 홍길동 (031 000 1047, +82 31 000 1047, GDHong@Example.or.kr), "
        "사무국 김철수 010-1234-5678 kim@example.or.kr"
    )

    def test_own_data_stays_and_others_are_withheld(self) -> None:
        contact = Contact(name="홍길동", email="gdhong@example.or.kr", phone="031-000-1047", public=True)
        out, counts = withhold(self.TEXT, contact=contact, website=SITE, placeholder=PLACEHOLDER_KO)
        assert out == (
            "담당 홍길동 (031 000 1047, +82 31 000 1047, GDHong@Example.or.kr), "
            "사무국 김철수 [연락처 비공개] [연락처 비공개]"
        )
        assert counts == Withheld(emails=1, phones=1)

    def test_the_same_contact_not_public_is_withheld_everywhere(self) -> None:
        contact = Contact(name="홍길동", email="gdhong@example.or.kr", phone="031-000-1047", public=False)
        out, counts = withhold(self.TEXT, contact=contact, website=SITE, placeholder=PLACEHOLDER_KO)
        assert out == (
            "담당 [연락처 비공개] ([연락처 비공개], [연락처 비공개], [연락처 비공개]), "
            "사무국 김철수 [연락처 비공개] [연락처 비공개]"
        )
        assert counts == Withheld(emails=2, phones=3, names=1)

    def test_a_public_european_phone_in_another_format_stays(self) -> None:
        contact = Contact(name="Maria Rossi", email="m.rossi@example.it", phone="+39 06 1234 5678", public=True)
        text = "Maria Rossi: 06 1234 5678 or 0039 06 1234 5678; assistant 06 8765 4321."
        out, counts = withhold(text, contact=contact, website=None, placeholder=W)
        assert out == f"Maria Rossi: 06 1234 5678 or 0039 06 1234 5678; assistant {W}."
        assert counts == Withheld(phones=1)


class TestOrganisationalAddresses:
    """Generic mailboxes on the cluster's own website domain, subdomains included, may cross; the same
    mailbox on any other domain, a personal mailbox on the own domain, or any mailbox without a known website
    is withheld."""

    @pytest.mark.parametrize(
        "address", ["info@example.or.kr", "Secretariat@Example.or.kr", "office@mail.example.or.kr"]
    )
    def test_generic_mailbox_on_own_domain_stays(self, address: str) -> None:
        text = f"Write to {address}."
        assert withhold(text, contact=None, website=SITE, placeholder=W) == (text, Withheld())

    @pytest.mark.parametrize(
        "address",
        [
            "info@other.or.kr",  # a different domain
            "info@notexample.or.kr",  # ends like the own domain, but is not it
            "info@example.or.kr.evil.example",  # starts like it
            "gdhong@example.or.kr",  # a person on the own domain
            "info@or.kr",  # the own domain's parent
        ],
    )
    def test_other_addresses_are_withheld(self, address: str) -> None:
        out, counts = withhold(f"Write to {address}.", contact=None, website=SITE, placeholder=W)
        assert (out, counts) == (f"Write to {W}.", Withheld(emails=1))

    def test_without_a_website_every_mailbox_is_withheld(self) -> None:
        out, counts = withhold("info@example.or.kr", contact=None, website=None, placeholder=W)
        assert (out, counts) == (W, Withheld(emails=1))

    def test_an_obfuscated_generic_mailbox_on_own_domain_stays(self) -> None:
        text = "contact (at) example (dot) or (dot) kr"
        assert withhold(text, contact=None, website="example.or.kr", placeholder=W) == (text, Withheld())

    def test_the_list_is_of_mailboxes_not_people(self) -> None:
        assert {"info", "contact", "office", "secretariat"} <= ORGANISATIONAL_MAILBOXES
        assert all(name == name.lower() and "." not in name for name in ORGANISATIONAL_MAILBOXES)


class TestHtml:
    """In the safe HTML subset only text and link targets change: tags, entities and untouched text keep
    their exact bytes, and a link whose target holds personal data loses the link, not its text."""

    HTML = (
        '<p>Contact <strong>Hong Gil-dong</strong>: <a href="mailto:gdhong@example.kr">gdhong@example.kr</a>, '
        '<a href="tel:+82-10-1234-5678">call</a>.</p>'
        '<ul><li>Office: <a href="https://www.example.kr/contact?id=0101234567">site</a> &amp; 02&nbsp;123&nbsp;4567'
        "</li><li>Tom &amp; Jerry&#39;s <em>2024</em> &lt;at&gt; home</li>"
        '<li><a href="mailto:info@example.kr">info@example.kr</a></li></ul>'
    )
    EXPECTED = (
        f"<p>Contact <strong>{W}</strong>: {W}, call.</p>"
        f'<ul><li>Office: <a href="https://www.example.kr/contact?id=0101234567">site</a> &amp; {W}'
        "</li><li>Tom &amp; Jerry&#39;s <em>2024</em> &lt;at&gt; home</li>"
        '<li><a href="mailto:info@example.kr">info@example.kr</a></li></ul>'
    )
    CONTACT = Contact(name="홍길동", public=False)

    def test_markup_survives_and_data_is_withheld(self) -> None:
        out, counts = withhold(self.HTML, contact=self.CONTACT, website="https://www.example.kr", placeholder=W)
        assert out == self.EXPECTED
        # the address counts twice (link target and text); the tel: target once
        assert counts == Withheld(emails=2, phones=2, names=1)

    def test_html_is_idempotent(self) -> None:
        out, _ = withhold(self.HTML, contact=self.CONTACT, website="https://www.example.kr", placeholder=W)
        assert withhold(out, contact=self.CONTACT, website="https://www.example.kr", placeholder=W) == (
            out,
            Withheld(),
        )

    def test_an_entity_cannot_hide_an_address(self) -> None:
        out, counts = withhold("<p>kim&#64;example.kr</p>", contact=None, website=None, placeholder=W)
        assert (out, counts) == (f"<p>{W}</p>", Withheld(emails=1))

    def test_text_with_markup_characters_is_escaped_again(self) -> None:
        out, counts = withhold(
            "<p>R&amp;D lead: kim@example.kr &lt;team&gt;</p>", contact=None, website=None, placeholder=W
        )
        assert (out, counts) == (f"<p>R&amp;D lead: {W} &lt;team&gt;</p>", Withheld(emails=1))


class TestResidentRegistrationNumbers:
    """The check digit decides for numbers issued before October 2020; for a birth date from 2020-10-01 on
    (random digits, no check digit) the date alone does; an impossible or future date never is one."""

    @pytest.mark.parametrize(
        ("number", "is_one"),
        [
            ("800101-1234560", True),  # check digit right
            ("800101-1234561", False),  # check digit wrong
            ("200930-3123456", False),  # born before the change, check digit wrong
            ("201001-3123456", True),  # born on the day of the change: no check digit
            ("900101-5123452", True),  # a foreign resident's number, their own check rule
            ("800230-1234560", False),  # 30 February
            ("991231-3123456", False),  # 2099: not born yet
        ],
    )
    def test_number(self, number: str, is_one: bool) -> None:
        out, counts = withhold(f"No. {number}", contact=None, website=None, placeholder=W)
        assert counts.national_ids == (1 if is_one else 0)
        assert out == (f"No. {W}" if is_one else f"No. {number}")


class TestGeneratedProfiles:
    """On the synthetic profiles (the platforms' own shape), free texts lose nothing; written into them, the
    record's private contact is withheld in full and a public one is left alone."""

    @staticmethod
    def _samples() -> list[tuple[str, str, Contact, str | None]]:
        samples = []
        for record in generate_eccp(150, seed=7):
            a = record["attributes"]
            person = a["field_contact"]
            contact = Contact(
                name=person["name"], email=person["email"], phone=person["phone"], public=person["public"]
            )
            website = (a["field_website"] or {}).get("uri")
            samples.append((a["field_description"]["value"], "en", contact, website))
        for r in generate_kicox(150, seed=7):
            contact = Contact(
                name=r["chargerNm"], email=r["chargerEmail"], phone=r["chargerTelno"], public=r["chargerOthbcAt"] == "Y"
            )
            samples.append((r["intrcn"], "ko", contact, r["hmpgUrl"] or None))
        return samples

    def test_texts_as_generated_lose_nothing(self) -> None:
        for text, lang, contact, website in self._samples():
            assert withhold(text, contact=contact, website=website, placeholder=placeholder_for(lang)) == (
                text,
                Withheld(),
            )

    def test_contact_written_into_the_text(self) -> None:
        for text, lang, contact, website in self._samples():
            assert contact.name
            assert contact.phone
            assert contact.email
            written = f"{text} {contact.name} {contact.phone} {contact.email}"
            placeholder = placeholder_for(lang)
            out, counts = withhold(written, contact=contact, website=website, placeholder=placeholder)
            if contact.public:
                assert (out, counts) == (written, Withheld())
            else:
                assert out == f"{text} {placeholder} {placeholder} {placeholder}"
                assert counts == Withheld(emails=1, phones=1, names=1)


class TestWithheld:
    """The counts add up, and what the ledger stores of them is numbers only."""

    def test_add_and_total(self) -> None:
        total = Withheld(emails=1, phones=2) + Withheld(phones=1, national_ids=1, names=4)
        assert total == Withheld(emails=1, phones=3, national_ids=1, names=4)
        assert total.total() == 9

    def test_as_dict(self) -> None:
        assert Withheld(names=2).as_dict() == {"emails": 0, "phones": 0, "national_ids": 0, "names": 2}


class TestPlaceholder:
    """The placeholder speaks the reader's language: Korean for any Korean tag, English otherwise."""

    @pytest.mark.parametrize(
        ("lang", "expected"),
        [("ko", PLACEHOLDER_KO), ("ko-KR", PLACEHOLDER_KO), ("KO_kr", PLACEHOLDER_KO), ("ko-Latn", PLACEHOLDER_KO),
         ("en", PLACEHOLDER_EN), ("de-AT", PLACEHOLDER_EN), ("kok", PLACEHOLDER_EN), ("", PLACEHOLDER_EN)],
    )  # fmt: skip
    def test_placeholder_for(self, lang: str, expected: str) -> None:
        assert placeholder_for(lang) == expected
