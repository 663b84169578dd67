"""Content hashes of mirror payloads: how "unchanged costs no write" (rule 4) and drift detection work.

The same function hashes what we render and what a target lists back, so a mirror somebody edited on the
target shows up as a different hash. Empty values are dropped (a platform may answer null or "" for an
attribute we never sent) and so are attributes only the platform sets.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from clusterbridge.store.ledger import canonical_json

# attributes the target sets itself; never part of what we compare
SERVER_KEYS = {
    "eccp": frozenset({"drupal_internal__nid", "created", "changed", "langcode"}),
    "kicox": frozenset({"frgnClstrId", "updtDt"}),
}


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _clean(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _clean(v) for k, v in value.items() if not _is_empty(v)}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def content(payload: Mapping[str, Any], target: str) -> dict[str, Any]:
    """The comparable part of a mirror payload."""
    skip = SERVER_KEYS.get(target, frozenset())
    return {k: _clean(v) for k, v in payload.items() if k not in skip and not _is_empty(v)}


def content_hash(payload: Mapping[str, Any], target: str) -> str:
    return hashlib.sha256(canonical_json(content(payload, target)).encode()).hexdigest()
