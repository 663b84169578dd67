"""Connector plugins, found by the entry point group `clusterbridge.connectors`.

The group is read once, on first use, into an immutable mapping: nothing registers connectors at run time.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from types import MappingProxyType
from typing import Any

from clusterbridge.abc import Connector
from clusterbridge.config import Settings
from clusterbridge.errors import ConfigurationError
from clusterbridge.mapping.vocabulary import Vocabulary
from clusterbridge.sides import Side

GROUP = "clusterbridge.connectors"


@cache
def registry() -> Mapping[str, EntryPoint]:
    """Installed connectors by name (read once)."""
    return MappingProxyType({ep.name: ep for ep in entry_points(group=GROUP)})


def load_connector(name: str, settings: Settings, *, side: Side, vocabulary: Vocabulary,
                   **overrides: Any) -> Connector:
    """Build the connector called `name` for `side` with its factory
    `create(settings, *, side, vocabulary, **overrides)`."""
    entry = registry().get(name)
    if entry is None:
        known = ", ".join(sorted(registry())) or "none"
        raise ConfigurationError(f"unknown connector {name!r} for side {side.name!r} (installed: {known})")
    factory = entry.load()
    connector = factory(settings, side=side, vocabulary=vocabulary, **overrides)
    if not isinstance(connector, Connector):
        raise ConfigurationError(f"connector {name!r} ({entry.value}) did not build a Connector")
    return connector


__all__ = ["GROUP", "load_connector", "registry"]
