"""Personal data in free text (rule 7): a non-public contact's name, e-mail or phone written into a text is
withheld before the text crosses. Counts of what was withheld are kept for the ledger's audit."""

from __future__ import annotations

from dataclasses import dataclass

from clusterbridge.model import Contact

PLACEHOLDERS = {"ko": "[연락처 비공개]", "en": "[contact withheld]"}


@dataclass(frozen=True)
class Withheld:
    """How many personal data items a text lost (never the values)."""

    emails: int = 0
    phones: int = 0
    national_ids: int = 0
    names: int = 0

    def total(self) -> int:
        return self.emails + self.phones + self.national_ids + self.names

    def __add__(self, other: Withheld) -> Withheld:
        return Withheld(self.emails + other.emails, self.phones + other.phones,
                        self.national_ids + other.national_ids, self.names + other.names)

    def as_dict(self) -> dict[str, int]:
        return {"emails": self.emails, "phones": self.phones, "national_ids": self.national_ids, "names": self.names}


def placeholder_for(lang: str) -> str:
    return PLACEHOLDERS.get(lang.split("-")[0].lower(), PLACEHOLDERS["en"])


def withhold(text: str, *, contact: Contact | None, website: str | None, placeholder: str) -> tuple[str, Withheld]:
    """The text with the non-public contact's e-mail, phone and name replaced by `placeholder`."""
    del website
    if contact is None or contact.public:
        return text, Withheld()
    counts = {"emails": 0, "phones": 0, "names": 0}
    for key, value in (("emails", contact.email), ("phones", contact.phone), ("names", contact.name)):
        if value and len(value.strip()) >= 2 and value.strip() in text:
            counts[key] += text.count(value.strip())
            text = text.replace(value.strip(), placeholder)
    return text, Withheld(emails=counts["emails"], phones=counts["phones"], names=counts["names"])
