"""Rendering a shared-model cluster for the readers of one side (language, codes, labels, privacy)."""

from __future__ import annotations

from clusterbridge.render.renderer import Renderer, Rendering

__all__ = ["Renderer", "Rendering"]
