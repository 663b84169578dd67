"""Translators built from Settings: the provider CLUSTERBRIDGE_TRANSLATOR names, alone, cached, or as the
per-run service the sync uses."""

from __future__ import annotations

import httpx
from sqlalchemy import Engine

from clusterbridge.abc import Translator
from clusterbridge.config import Settings
from clusterbridge.errors import ConfigurationError
from clusterbridge.translate.cache import CachedTranslator, TranslationCache
from clusterbridge.translate.providers import DeepLTranslator, KeepOriginal, LibreTranslateTranslator, PapagoTranslator
from clusterbridge.translate.run import TranslationService


def make_provider(settings: Settings) -> Translator:
    """The bare provider, with a ConfigurationError naming each missing or malformed variable."""
    if settings.translator == "none":
        return KeepOriginal()
    if settings.translator == "deepl":
        if settings.deepl_api_key is None:
            raise ConfigurationError("CLUSTERBRIDGE_TRANSLATOR=deepl needs CLUSTERBRIDGE_DEEPL_API_KEY")
        return DeepLTranslator(settings.deepl_api_key.get_secret_value(), settings.deepl_base_url)
    if settings.translator == "libretranslate":
        url = (settings.libretranslate_url or "").strip()
        if not url:
            raise ConfigurationError(
                "CLUSTERBRIDGE_TRANSLATOR=libretranslate needs CLUSTERBRIDGE_LIBRETRANSLATE_URL "
                "(the server's address, e.g. http://127.0.0.1:5000)"
            )
        try:
            scheme = httpx.URL(url).scheme
        except httpx.InvalidURL:
            scheme = ""
        if scheme not in ("http", "https"):
            raise ConfigurationError("CLUSTERBRIDGE_LIBRETRANSLATE_URL must be an http:// or https:// address")
        key = settings.libretranslate_api_key
        return LibreTranslateTranslator(url, key.get_secret_value() if key is not None else None)
    if not settings.papago_client_id or settings.papago_client_secret is None:
        raise ConfigurationError(
            "CLUSTERBRIDGE_TRANSLATOR=papago needs CLUSTERBRIDGE_PAPAGO_CLIENT_ID and "
            "CLUSTERBRIDGE_PAPAGO_CLIENT_SECRET"
        )
    return PapagoTranslator(
        settings.papago_client_id, settings.papago_client_secret.get_secret_value(), settings.papago_base_url
    )


def make_translator(settings: Settings, cache: TranslationCache | Engine | None = None) -> Translator:
    """The provider wrapped in the cache when one is given, without run limits (for one-off callers;
    the sync uses build_translation_service)."""
    provider = make_provider(settings)
    if cache is None or isinstance(provider, KeepOriginal):
        return provider
    return CachedTranslator(provider, cache if isinstance(cache, TranslationCache) else TranslationCache(cache))


def build_translation_service(settings: Settings, engine: Engine | None) -> TranslationService:
    """The per-process service: the configured provider, the ledger's cache when an engine is given (without
    one nothing is remembered between runs) and CLUSTERBRIDGE_TRANSLATE_MAX_CHARS per run."""
    provider = make_provider(settings)
    cache = TranslationCache(engine) if engine is not None else None
    return TranslationService(provider, cache, max_chars=settings.translate_max_chars)
