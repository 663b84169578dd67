"""Free-text translation: the providers, their cache, and the factories."""

from __future__ import annotations

from clusterbridge.translate.cache import CachedTranslator, TranslationCache, text_hash
from clusterbridge.translate.factory import make_provider, make_translator
from clusterbridge.translate.providers import (
    DeepLTranslator,
    KeepOriginal,
    LibreTranslateTranslator,
    PapagoTranslator,
    TranslationError,
)

__all__ = [
    "CachedTranslator",
    "DeepLTranslator",
    "KeepOriginal",
    "LibreTranslateTranslator",
    "PapagoTranslator",
    "TranslationCache",
    "TranslationError",
    "build_translator",
    "make_provider",
    "make_translator",
    "text_hash",
]

# the name the CLI uses
build_translator = make_translator
