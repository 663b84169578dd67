"""The translation cache: what a paid provider returned, keyed by provider, languages and the text's
sha256, in the ledger's `translation_cache` table, so the same text is never paid for twice."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from sqlalchemy import Engine, and_, insert, select
from sqlalchemy.exc import IntegrityError

from clusterbridge.abc import Translator
from clusterbridge.store.tables import translation_cache


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class TranslationCache:
    """Reads and writes cached translations with SQLAlchemy Core on the given Engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get_many(self, provider: str, source_lang: str, target_lang: str, hashes: Sequence[str]) -> dict[str, str]:
        if not hashes:
            return {}
        t = translation_cache.c
        found: dict[str, str] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(hashes), 500):  # stay under SQLite's bound-parameter limit
                chunk = list(hashes[start : start + 500])
                rows = conn.execute(
                    select(t.text_hash, t.translation).where(
                        and_(t.provider == provider, t.source_lang == source_lang, t.target_lang == target_lang),
                        t.text_hash.in_(chunk),
                    )
                )
                found.update({row.text_hash: row.translation for row in rows})
        return found

    def put(self, provider: str, source_lang: str, target_lang: str, hash_: str, translation: str) -> None:
        self.put_many(provider, source_lang, target_lang, {hash_: translation})

    def put_many(self, provider: str, source_lang: str, target_lang: str, translations: Mapping[str, str]) -> None:
        """Store translations by text hash in one transaction; rows another run stored first are kept."""
        now = datetime.now(UTC)
        rows = [
            {
                "provider": provider,
                "source_lang": source_lang,
                "target_lang": target_lang,
                "text_hash": hash_,
                "translation": translation,
                "created_at": now,
            }
            for hash_, translation in translations.items()
        ]
        if not rows:
            return
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(translation_cache), rows)
        except IntegrityError:
            if len(rows) == 1:
                return  # a concurrent run stored the same text first: its translation serves as well
            for hash_, translation in translations.items():  # some were stored meanwhile: keep theirs
                self.put_many(provider, source_lang, target_lang, {hash_: translation})


class CachedTranslator(Translator):
    """Wraps a provider: cached texts cost nothing, the rest go to the provider in one call and are kept."""

    def __init__(self, inner: Translator, cache: TranslationCache) -> None:
        self.inner = inner
        self.cache = cache
        self.name = inner.name

    def translate(self, texts: Sequence[str], source_lang: str, target_lang: str) -> list[str | None]:
        hashes = [text_hash(t) for t in texts]
        known = self.cache.get_many(self.name, source_lang, target_lang, sorted(set(hashes)))
        missing = list(dict.fromkeys(t for t, h in zip(texts, hashes, strict=True) if h not in known))
        if missing:
            results = self.inner.translate(missing, source_lang, target_lang)
            fresh = {text_hash(t): r for t, r in zip(missing, results, strict=True) if r is not None}
            self.cache.put_many(self.name, source_lang, target_lang, fresh)
            known.update(fresh)
        return [known.get(h) for h in hashes]
