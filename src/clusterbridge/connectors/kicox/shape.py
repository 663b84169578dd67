"""A rendered cluster → a foreign-cluster item of the KICOX partner ingest API.

The contract has no field for sectors, technologies or possible partners, so they close the introduction
under their Korean headings; a machine-translated introduction keeps its original after it while the 8,000
characters of `intrcn` allow, and `intrcnLang` names the language shown first.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from pydantic import ValidationError

from clusterbridge.abc import JSON
from clusterbridge.connectors.kicox.models import ForeignCluster
from clusterbridge.mapping.clean import check_payload, plain_line, rich_text, text_to_html
from clusterbridge.mapping.codes import unique
from clusterbridge.model import RenderedCluster, RenderedText

NAME_MAX = 300
ACRONYM_MAX = 64
URL_MAX = 500
INTRO_MAX = 8000
# sections the ingest API has no field for: they close the introduction
INTRO_SECTIONS = ("name_original", "industrial_complex", "sectors", "technologies", "partners")


def shape(r: RenderedCluster, *, src_sys_cd: str) -> JSON:
    """The ForeignCluster item; ValueError naming the field when the record cannot be shown on KICOX."""
    name = plain_line(r.name, max_len=NAME_MAX)
    if not name:
        raise ValueError("clstrEngNm: the cluster has no name to show")
    contact = r.contact if r.contact is not None and r.contact.public else None
    intro, intro_lang = _introduction(r)
    payload: dict[str, Any] = {
        "extrlId": r.external_id,
        "srcSysCd": src_sys_cd,
        "clstrEngNm": name,
        "clstrNm": plain_line(r.name_local, max_len=NAME_MAX) if r.name_local != r.name else "",
        "acrnm": r.acronym if len(r.acronym) <= ACRONYM_MAX else "",
        "natnCd": r.country,
        "natnNm": r.country_name,
        "rgnNm": _region(r),
        "ctyNm": r.city,
        "indutyNm": "; ".join(unique(r.industries)),
        "ksicCd": ",".join(r.codes),
        "ecsysNm": "; ".join(r.ecosystems),
        "mberCo": r.members.total,
        "smeCo": r.members.sme,
        "rsrchInsttCo": r.members.research,
        "estblYear": r.year_established,
        "hmpgUrl": r.website if r.website and len(r.website) <= URL_MAX else "",
        "intrcn": intro,
        "intrcnLang": intro_lang,
        "cprtnIntrstCn": "\n".join(
            f"{text.label}: {text.with_original()}" if text.label else text.with_original()
            for text in (r.seeking, r.offering)
            if text is not None
        ),
        "cprtnNatnCd": ",".join(r.target_countries),
        "qlityLblNm": r.quality_label or "",
        "chargerNm": contact.name or "" if contact else "",
        "chargerEmail": contact.email or "" if contact else "",
        "chargerTelno": contact.phone or "" if contact else "",
        "srcUpdtDt": r.source_changed.astimezone(UTC).isoformat(),
    }
    check_payload(payload, rich=frozenset({"intrcn"}))  # nothing unsafe reaches the site, whatever a record held
    try:
        ForeignCluster.model_validate(payload)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ValueError(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}") from None
    return payload


def _region(r: RenderedCluster) -> str:
    if r.region and r.region_code:
        return f"{r.region} ({r.region_code})"
    return r.region or r.region_code


def _html(text: RenderedText) -> str:
    return rich_text(text.text) if text.format == "html" else text_to_html(text.text)


def _introduction(r: RenderedCluster) -> tuple[str, str]:
    """The intrcn HTML and the language it opens in: the introduction (with its original when it fits), then
    the sections the contract has no field for."""
    extra = "".join(
        text_to_html(f"{s.heading}: {'; '.join(s.lines)}") for s in r.sections if s.key in INTRO_SECTIONS
    )
    d = r.description
    if d is None:
        return (rich_text(extra, max_len=INTRO_MAX), r.reader_lang) if extra else ("", "")
    body = _html(d)
    if d.machine_translated and d.original:
        original = rich_text(d.original) if "<" in d.original else text_to_html(d.original)
        with_original = body + text_to_html(f"[{d.note}] {d.original_heading}:") + original
        fits = len(with_original) + len(extra) <= INTRO_MAX
        body = with_original if fits else body + text_to_html(f"[{d.note}]")
    return rich_text(body + extra, max_len=INTRO_MAX), d.lang
