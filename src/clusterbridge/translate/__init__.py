"""Free-text translation: the Translator implementations, their cache and the factory the service uses."""

from __future__ import annotations

from sqlalchemy import Engine

from clusterbridge.abc import Translator
from clusterbridge.config import Settings
from clusterbridge.errors import ConfigurationError
from clusterbridge.translate.cache import CachedTranslator, TranslationCache, text_hash
from clusterbridge.translate.providers import DeepLTranslator, KeepOriginal, PapagoTranslator, TranslationError

__all__ = [
    "CachedTranslator",
    "DeepLTranslator",
    "KeepOriginal",
    "PapagoTranslator",
    "TranslationCache",
    "TranslationError",
    "build_translator",
    "make_translator",
    "text_hash",
]


def make_translator(settings: Settings, cache: TranslationCache | Engine | None = None) -> Translator:
    """The translator CLUSTERBRIDGE_TRANSLATOR names, wrapped in the cache when one is given."""
    provider: Translator
    if settings.translator == "none":
        return KeepOriginal()
    if settings.translator == "deepl":
        if settings.deepl_api_key is None:
            raise ConfigurationError("CLUSTERBRIDGE_TRANSLATOR=deepl needs CLUSTERBRIDGE_DEEPL_API_KEY")
        provider = DeepLTranslator(settings.deepl_api_key.get_secret_value(), settings.deepl_base_url)
    else:
        if not settings.papago_client_id or settings.papago_client_secret is None:
            raise ConfigurationError(
                "CLUSTERBRIDGE_TRANSLATOR=papago needs CLUSTERBRIDGE_PAPAGO_CLIENT_ID and "
                "CLUSTERBRIDGE_PAPAGO_CLIENT_SECRET"
            )
        provider = PapagoTranslator(
            settings.papago_client_id, settings.papago_client_secret.get_secret_value(), settings.papago_base_url
        )
    if cache is None:
        return provider
    return CachedTranslator(provider, cache if isinstance(cache, TranslationCache) else TranslationCache(cache))


# the name the CLI uses
build_translator = make_translator
