"""Free-text translation: the providers, their cache, the per-run layer the sync uses and the factories."""

from __future__ import annotations

from clusterbridge.translate.cache import CachedTranslator, TranslationCache, text_hash
from clusterbridge.translate.factory import build_translation_service, make_provider, make_translator
from clusterbridge.translate.providers import (
    DeepLTranslator,
    KeepOriginal,
    LibreTranslateTranslator,
    PapagoTranslator,
    TranslationError,
)
from clusterbridge.translate.run import Outcome, Pending, RunStats, RunTranslator, TranslationService

__all__ = [
    "CachedTranslator",
    "DeepLTranslator",
    "KeepOriginal",
    "LibreTranslateTranslator",
    "Outcome",
    "PapagoTranslator",
    "Pending",
    "RunStats",
    "RunTranslator",
    "TranslationCache",
    "TranslationError",
    "TranslationService",
    "build_translation_service",
    "build_translator",
    "make_provider",
    "make_translator",
    "text_hash",
]

# the name the CLI uses
build_translator = make_translator
