"""Assembling the service from its settings: the sides, their connectors, the vocabularies, the translator and
the ledger, wired into a SyncEngine. The CLI, the daemon and the demo all start here (nothing imports back
from the CLI)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine

from clusterbridge.abc import Connector
from clusterbridge.config import Settings
from clusterbridge.connectors import load_connector
from clusterbridge.connectors.http import HttpObserver
from clusterbridge.mapping.vocabulary import Vocabulary
from clusterbridge.ops.progress import Progress
from clusterbridge.partners import Matcher
from clusterbridge.partners.service import Suggestions
from clusterbridge.sides import Bridge, load_bridge
from clusterbridge.store import db
from clusterbridge.store.ledger import Ledger
from clusterbridge.sync.engine import LockCheck, SyncEngine
from clusterbridge.translate import build_translation_service


def build_connectors(settings: Settings, bridge: Bridge, vocabulary: Vocabulary,
                     overrides: dict[str, dict[str, Any]] | None = None,
                     observer: HttpObserver | None = None,
                     stopping: Callable[[], bool] | None = None) -> dict[str, Connector]:
    """One connector per side, as configured (`overrides` by side name, for tests); HTTP connectors report
    their requests to `observer` (the daemon's metrics) and stop retrying once `stopping()` says so."""
    built: dict[str, Connector] = {}
    try:
        for side in bridge:
            extra = dict((overrides or {}).get(side.name, {}))
            if observer is not None:
                extra.setdefault("observer", observer)
            if stopping is not None:
                extra.setdefault("stopping", stopping)
            built[side.name] = load_connector(side.connector, settings, side=side, vocabulary=vocabulary, **extra)
    except BaseException:
        for connector in built.values():
            connector.close()
        raise
    return built


@contextmanager
def open_engine(
    settings: Settings,
    stop_requested: Callable[[], bool] | None = None,
    *,
    lock: LockCheck | None = None,
    progress: Progress | None = None,
    database: Engine | None = None,
    observer: HttpObserver | None = None,
) -> Iterator[SyncEngine]:
    """A ready SyncEngine on a migrated database, with its connectors, closed afterwards."""
    engine = database or db.make_engine(settings.database_url)
    try:
        db.require_migrated(engine)
        bridge = load_bridge(settings)
        vocabulary = Vocabulary.load(settings)
        connectors = build_connectors(settings, bridge, vocabulary, observer=observer, stopping=stop_requested)
        ledger = Ledger(engine)
        suggestions = None
        if settings.suggestions or settings.publish_suggestions:
            suggestions = Suggestions(ledger, bridge, Matcher.load(settings), vocabulary)
        try:
            yield SyncEngine(settings, ledger, bridge, connectors, vocabulary,
                             build_translation_service(settings, engine),
                             stop_requested=stop_requested or (lambda: False), lock=lock, progress=progress,
                             suggestions=suggestions, publish=settings.publish_suggestions)
        finally:
            for connector in connectors.values():
                connector.close()
    finally:
        if database is None:
            engine.dispose()
