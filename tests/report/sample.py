"""A small hand-made report input whose every number can be worked out by hand (see the tests)."""

from __future__ import annotations

from datetime import UTC, datetime

from clusterbridge.report import ClusterRow, DirectionHealth, PairRow, ReportData

SINCE = datetime(2026, 5, 10, tzinfo=UTC)
NOW = datetime(2026, 5, 15, 12, 0, tzinfo=UTC)


def at(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    """A 2026 moment in UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


EU = (
    ClusterRow("eu:101", "Silicon Saxony", "DE", ("Digital", "Electronics"), True, at(3, 1), at(5, 2),
               mirrored=True, seeks_partners=True, target_countries=("KR",)),
    ClusterRow("eu:102", "BioValley France", "FR", ("Health",), True, at(5, 12), at(5, 12),
               seeks_partners=True, target_countries=("kr", "JP")),
    ClusterRow("eu:103", "Agri Hellas", "GR", ("Agri-food",), False, at(1, 10), at(5, 13), withdrawn=at(5, 13)),
    ClusterRow("eu:104", "Old Robotics", "IT", ("Digital",), False, at(1, 2), at(4, 1), withdrawn=at(4, 1)),
    ClusterRow("eu:105", "Madrid Digital Hub", "ES", ("Digital",), True, at(5, 11), at(5, 11), mirrored=True),
    ClusterRow("eu:106", "Nordic Energy", "SE", (), True, at(2, 1), at(2, 1), mirrored=True,
               seeks_partners=True, target_countries=("KR", "KR")),
)

KR = (
    ClusterRow("kr:201", "Changwon Machinery Mini-Cluster", "KR", ("Mobility-Transport-Automotive",), True,
               at(1, 5), at(3, 3), name_ko="창원 기계 미니클러스터", mirrored=True, seeks_partners=True,
               target_countries=("DE", "FR", "KR")),
    ClusterRow("kr:202", "Gumi Electronics Cluster", "KR", ("Electronics", "Digital"), True, at(5, 14), at(5, 14),
               name_ko="구미 전자 클러스터", seeks_partners=True, target_countries=("de", "IT")),
    ClusterRow("kr:203", "Ulsan Shipbuilding", "KR", ("Mobility-Transport-Automotive",), False, at(1, 1),
               at(5, 11), withdrawn=at(5, 11), name_ko="울산 조선", seeks_partners=True, target_countries=("DE",)),
)

PAIRS = (
    PairRow("eu:106", "Nordic Energy", "kr:201", "Changwon Machinery Mini-Cluster", 0.30,
            ("Both seek partners",), ("두 클러스터 모두 파트너를 찾음",), kr_name_ko="창원 기계 미니클러스터"),
    PairRow("eu:105", "Madrid Digital Hub", "kr:202", "Gumi Electronics Cluster", 0.55,
            ("Shared ecosystem: Digital",), ("공통 생태계: 디지털",), kr_name_ko="구미 전자 클러스터"),
    PairRow("eu:101", "Silicon Saxony", "kr:202", "Gumi Electronics Cluster", 0.91,
            ("Shared ecosystem: Electronics", "Gumi names Germany as a target"),
            ("공통 생태계: 전자", "구미가 독일을 협력 희망 국가로 지정"), kr_name_ko="구미 전자 클러스터"),
    PairRow("eu:102", "BioValley France", "kr:201", "Changwon Machinery Mini-Cluster", 0.55,
            ("Changwon names France as a target",), ("창원이 프랑스를 협력 희망 국가로 지정",)),
)

HEALTH = (
    DirectionHealth("eccp-to-kicox", at(5, 15, 11), "success", at(5, 15, 11), quarantined=0, held_deletions=0,
                    mirrors_live=3),
    DirectionHealth("kicox-to-eccp", at(5, 15, 11, 30), "partial", at(5, 13, 9, 15), quarantined=4,
                    held_deletions=2, mirrors_live=1),
)

LABELS_KO = {"Digital": "디지털", "Electronics": "전자", "Health": "보건·의료", "Agri-food": "농식품",
             "Mobility-Transport-Automotive": "모빌리티·운송·자동차"}


def sample() -> ReportData:
    """The hand-made report input."""
    return ReportData(generated_at=NOW, since=SINCE, eu=EU, kr=KR, pairs=PAIRS, health=HEALTH,
                      ecosystem_labels_ko=LABELS_KO, max_pairs=3)
