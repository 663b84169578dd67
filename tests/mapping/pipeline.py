"""The normalise → render → shape pipeline of the two platform connectors, as one object for the mapping tests:
what the engine does to a record between the wire and the other platform, without servers."""

from __future__ import annotations

from typing import Any

from clusterbridge.abc import Translator
from clusterbridge.config import Settings
from clusterbridge.connectors.eccp.models import EccpCluster
from clusterbridge.connectors.eccp.normalise import normalise as normalise_eccp
from clusterbridge.connectors.eccp.shape import shape as shape_eccp
from clusterbridge.connectors.kicox.models import KicoxCluster
from clusterbridge.connectors.kicox.normalise import normalise as normalise_kicox
from clusterbridge.connectors.kicox.shape import shape as shape_kicox
from clusterbridge.mapping.linkage import Match, match_natives
from clusterbridge.mapping.vocabulary import Vocabulary
from clusterbridge.model import Cluster, RenderedCluster
from clusterbridge.render import Renderer
from clusterbridge.sides import load_bridge


class Pipeline:
    """ECCP (side eu) and KICOX (side kr) records through the shared model to each other's mirror payloads."""

    def __init__(self, vocabulary: Vocabulary, settings: Settings, translator: Translator | None = None) -> None:
        self.vocabulary = vocabulary
        self.bridge = load_bridge(settings)
        self.renderer = Renderer(vocabulary, translator, translating=translator is not None)

    @classmethod
    def load(cls, settings: Settings, translator: Translator | None = None) -> Pipeline:
        return cls(Vocabulary.load(settings), settings, translator)

    def __getattr__(self, name: str) -> Any:
        # the vocabulary's look-ups (data, romaniser, region, ksic_for_nace …)
        return getattr(self.vocabulary, name)

    def from_eccp(self, record: EccpCluster) -> Cluster:
        return normalise_eccp(record, "eu", self.vocabulary)

    def from_kicox(self, record: KicoxCluster) -> Cluster:
        return normalise_kicox(record, "kr", self.vocabulary)

    def external_id(self, cluster: Cluster) -> str:
        return f"eccp:{cluster.source_id}" if cluster.source == "eu" else cluster.source_id

    def rendered(self, cluster: Cluster) -> RenderedCluster:
        reader = self.bridge.other(self.bridge.side(cluster.source))
        return self.renderer.render(cluster, reader, self.external_id(cluster)).record

    def to_eccp_mirror(self, cluster: Cluster) -> dict[str, Any]:
        return shape_eccp(self.rendered(cluster), partner_code="kicox")

    def to_kicox_mirror(self, cluster: Cluster) -> dict[str, Any]:
        return shape_kicox(self.rendered(cluster), src_sys_cd="ECCP")

    def match_natives(self, homes: list[Cluster], profiles: list[Cluster],
                      threshold: float | None = None) -> list[Match]:
        return match_natives(homes, profiles, self.vocabulary.data.links, threshold)
