"""The ECCP connector plugin (entry point `clusterbridge.connectors: eccp`)."""

from __future__ import annotations

from clusterbridge.connectors.eccp.connector import EccpConnector, EccpSettings, create

__all__ = ["EccpConnector", "EccpSettings", "create"]
