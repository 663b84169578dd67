"""Mappings between the platforms: normalising records into the shared model and rendering mirrors."""

from __future__ import annotations

from clusterbridge.mapping.linkage import Match
from clusterbridge.mapping.mapper import Mapper

__all__ = ["Mapper", "Match"]
