"""The KICOX connector plugin (entry point `clusterbridge.connectors: kicox`)."""

from __future__ import annotations

from clusterbridge.connectors.kicox.connector import KicoxConnector, KicoxSettings, create

__all__ = ["KicoxConnector", "KicoxSettings", "create"]
