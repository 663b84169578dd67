"""KICOX open-data record → the shared `Cluster`: Hangul names with their romanisation (the cluster's own
English name first, rule 8), regions and industry labels from the mappings, codes as KSIC."""

from __future__ import annotations

import re
from datetime import UTC

from clusterbridge.connectors.kicox.models import KicoxCluster
from clusterbridge.mapping import fields
from clusterbridge.mapping.clean import plain_line, plain_text, url
from clusterbridge.mapping.codes import unique
from clusterbridge.mapping.vocabulary import Vocabulary
from clusterbridge.model import Cluster, Cooperation, Members, Text


def normalise(rec: KicoxCluster, side: str, vocabulary: Vocabulary) -> Cluster:
    """The shared model of one Korean cluster; ValueError naming the field when it cannot be read."""
    v = vocabulary
    hangul = fields.visible_name(rec.clstrNm, "clstrNm")
    romanised = v.romaniser.name(hangul)
    own = plain_line(rec.clstrEngNm or "", field="clstrEngNm")
    names = {"ko": hangul, "ko-Latn": romanised}
    if own:
        names["en"] = own
    region = v.region(rec.ctprvnNm)
    region_names = {"ko": region.name_ko, "en": region.name_en} if region else v.place(rec.ctprvnNm)
    labels_ko = [x for x in (plain_line(x, field="indutyNm") for x in re.split(r"[,;/]", rec.indutyNm or "")) if x]
    known = [label for x in labels_ko if (label := v.industry_label(x)) is not None]
    labels_en = [label.label_en if (label := v.industry_label(x)) else v.romaniser.term(x) for x in labels_ko]
    ksic = v.ksic_codes(x for x in (rec.ksicCd or "").split(",") if x.strip())
    basis = ksic or [code for label in known for code in label.ksic]
    ecosystems = unique(e for label in known for e in label.ecosystems) or v.ecosystems_for_ksic(basis)
    intro = plain_text(rec.intrcn or "", field="intrcn")
    complex_ko = plain_line(rec.cmplxNm or "", field="cmplxNm")
    return Cluster(
        source=side,
        source_id=rec.clstrId,
        source_changed=rec.updtDt.astimezone(UTC),
        live=rec.useAt == "Y",
        lang="ko",
        names=names,
        name_en=own or romanised,
        name_en_origin="own" if own else "romanised",
        country="KR",
        region_code=region.iso_code if region else None,
        region=region_names,
        city=v.place(rec.signguNm),
        address=plain_line(rec.rdnmadr or "", field="rdnmadr") or None,
        industrial_complex={"ko": complex_ko, "en": v.romaniser.name(complex_ko)} if complex_ko else {},
        website=url(rec.hmpgUrl),
        year_established=rec.estblYear,
        members=Members(total=rec.mberCo, sme=rec.smeCo, research=rec.rsrchInsttCo, other=_rest(rec)),
        ecosystems=tuple(ecosystems),
        industry_labels={"ko": tuple(labels_ko), "en": tuple(labels_en)} if labels_ko else {},
        ksic_codes=tuple(ksic),
        description=Text(text=intro, lang="ko") if intro else None,
        cooperation=Cooperation(
            seeking=fields.text(rec.cprtnIntrstCn, "ko", "cprtnIntrstCn"),
            target_countries=fields.countries((rec.cprtnNatnCd or "").split(",")),
        ),
        contact=fields.contact(rec.chargerNm, rec.chargerEmail, rec.chargerTelno, rec.chargerOthbcAt == "Y",
                               ("chargerNm", "chargerEmail", "chargerTelno")),
    )


def _rest(rec: KicoxCluster) -> int | None:
    """Members neither SME nor research, when the three counts are given and consistent."""
    if rec.mberCo is None or rec.smeCo is None or rec.rsrchInsttCo is None:
        return None
    rest = rec.mberCo - rec.smeCo - rec.rsrchInsttCo
    return rest if rest >= 0 else None
