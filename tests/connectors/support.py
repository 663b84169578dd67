"""Building the two platform connectors for tests, with the default sides and the shipped vocabularies."""

from __future__ import annotations

from functools import cache
from typing import Any

from clusterbridge.config import Settings
from clusterbridge.connectors import eccp as eccp_plugin
from clusterbridge.connectors import kicox as kicox_plugin
from clusterbridge.connectors import load_connector as load_plugin
from clusterbridge.connectors.eccp import EccpConnector
from clusterbridge.connectors.kicox import KicoxConnector
from clusterbridge.mapping.vocabulary import Vocabulary
from clusterbridge.sides import Bridge, Side, load_bridge


@cache
def bridge() -> Bridge:
    return load_bridge(Settings(_env_file=None))  # type: ignore[call-arg]


@cache
def vocabulary() -> Vocabulary:
    return Vocabulary.load(Settings(_env_file=None))  # type: ignore[call-arg]


def side(name: str) -> Side:
    return bridge().side(name)


def create_eccp(settings: Settings, **overrides: Any) -> EccpConnector:
    """The ECCP connector serving the eu side."""
    return eccp_plugin.create(settings, side=side("eu"), vocabulary=vocabulary(), **overrides)


def create_kicox(settings: Settings, **overrides: Any) -> KicoxConnector:
    """The KICOX connector serving the kr side."""
    return kicox_plugin.create(settings, side=side("kr"), vocabulary=vocabulary(), **overrides)


def load_connector(name: str, settings: Settings, **overrides: Any) -> Any:
    """A connector through the entry-point registry, for the side its platform serves by default."""
    serves = {"eccp": "eu", "kicox": "kr"}.get(name, "eu")
    return load_plugin(name, settings, side=side(serves), vocabulary=vocabulary(), **overrides)
