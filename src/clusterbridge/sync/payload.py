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


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _clean(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _clean(v) for k, v in value.items() if not _is_empty(v)}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def content(payload: Mapping[str, Any], server_keys: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The comparable part of a mirror payload: without the attributes the target sets itself (the target
    connector's `server_keys`) and without empty values."""
    return {k: _clean(v) for k, v in payload.items() if k not in server_keys and not _is_empty(v)}


def content_hash(payload: Mapping[str, Any], server_keys: frozenset[str] = frozenset()) -> str:
    return hashlib.sha256(canonical_json(content(payload, server_keys)).encode()).hexdigest()
