"""Translation within one sync run: what it may cost, and what happens when the provider fails.

Only texts the cache does not hold reach the provider; those go out in requests of the provider's batch
size while a per-run character budget lasts; a circuit breaker stops calling after a few failed requests
in a row (or at once on a lasting failure such as refused credentials); a dry run only reads the cache.
A text left untranslated keeps its original and carries the reason, so its record can be marked
"translation pending" and rendered again on a later run, when the cache makes the finished texts free.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import structlog

from clusterbridge.abc import Translator
from clusterbridge.translate.cache import TranslationCache, text_hash
from clusterbridge.translate.providers import KeepOriginal, TranslationError

log = structlog.get_logger(__name__)

# Characters one run may hand to the provider. Steady runs send only new or edited texts (a few thousand
# characters); the cap bounds a first sync or a mass edit to about a euro a run at paid-API prices (DeepL
# and Papago bill per character), and a backlog drains over the following runs. 0 sends nothing
# (translation paused, cache still served).
DEFAULT_MAX_CHARS = 50_000
# Failed requests in a row after which the provider is left alone for the rest of the run.
DEFAULT_BREAKER_THRESHOLD = 3
# Texts a request carries when the provider does not say how many it takes.
_DEFAULT_BATCH = 50

_Key = tuple[str, str, str]  # source language, target language, text hash


class Pending(StrEnum):
    """Why a text kept its original in this run; each is worth another try on a later run."""

    BUDGET = "budget"
    BREAKER_OPEN = "breaker_open"
    PROVIDER_ERROR = "provider_error"
    DRY_RUN = "dry_run"


@dataclass(frozen=True)
class Outcome:
    """One text's result: its translation, or None and why it is pending.

    With the offline translator both are None: nothing is translated and nothing waits for a later run.
    """

    translation: str | None
    pending: Pending | None = None


@dataclass
class RunStats:
    """What translation cost in one run, for its log line and summary."""

    provider: str
    requests: int = 0  # requests handed to the provider (its internal retries not counted)
    failed_requests: int = 0
    chars_sent: int = 0  # characters of the texts in those requests, failed ones included
    cache_hits: int = 0  # texts served without a request: from the cache or translated earlier in the run
    translated: int = 0  # texts the provider translated in this run (now cached)
    pending: Counter[str] = field(default_factory=Counter)  # texts left in their original, by Pending reason
    breaker_open: bool = False
    last_error: str | None = None  # already free of credentials

    def as_dict(self) -> dict[str, object]:
        return {
            "provider": self.provider,
            "requests": self.requests,
            "failed_requests": self.failed_requests,
            "chars_sent": self.chars_sent,
            "cache_hits": self.cache_hits,
            "translated": self.translated,
            "pending": dict(sorted(self.pending.items())),
            "breaker_open": self.breaker_open,
            "last_error": self.last_error,
        }


class RunTranslator(Translator):
    """A provider seen through one run's budget and breaker. One run, one thread: build a fresh one per run.

    `translate` follows the Translator contract (None keeps the original); `outcomes` also says why.
    Provider failures never escape: they become pending texts.
    """

    def __init__(
        self,
        provider: Translator,
        cache: TranslationCache | None,
        *,
        dry_run: bool,
        max_chars: int = DEFAULT_MAX_CHARS,
        breaker_threshold: int = DEFAULT_BREAKER_THRESHOLD,
    ) -> None:
        self.provider = provider
        self.name = provider.name
        self.cache = cache
        self.dry_run = dry_run
        self.offline = isinstance(provider, KeepOriginal)
        self.chars_left = max_chars
        self.breaker_threshold = breaker_threshold
        batch = getattr(provider, "batch_size", None)
        self.batch_size = batch if isinstance(batch, int) and batch > 0 else _DEFAULT_BATCH
        self.stats = RunStats(provider.name)
        self._failures_in_row = 0
        self._budget_reached = False
        self._known: dict[_Key, str] = {}  # translations read or received in this run
        self._failed: set[_Key] = set()  # texts the provider failed on in this run: not sent again

    @property
    def breaker_open(self) -> bool:
        return self.stats.breaker_open

    def translate(self, texts: Sequence[str], source_lang: str, target_lang: str) -> list[str | None]:
        return [o.translation for o in self.outcomes(texts, source_lang, target_lang)]

    def outcomes(self, texts: Sequence[str], source_lang: str, target_lang: str) -> list[Outcome]:
        """One outcome per text, in order: cached and affordable texts translated, the rest pending."""
        if self.offline:
            return [Outcome(None) for _ in texts]
        keys = [(source_lang, target_lang, text_hash(t)) for t in texts]
        self._read_cache({k for k in keys if k not in self._known}, source_lang, target_lang)
        self.stats.cache_hits += sum(1 for k in keys if k in self._known)

        reasons: dict[_Key, Pending] = {}
        batch: list[str] = []
        for text, key in dict(zip(texts, keys, strict=True)).items():
            if key in self._known:
                continue
            reason = self._admit(text, key)
            if reason is not None:
                reasons[key] = reason
                continue
            batch.append(text)
            if len(batch) == self.batch_size:
                self._send(batch, source_lang, target_lang)
                batch = []
        if batch:
            self._send(batch, source_lang, target_lang)

        out: list[Outcome] = []
        for key in keys:
            if key in self._known:
                out.append(Outcome(self._known[key]))
                continue
            reason = reasons.get(key, Pending.PROVIDER_ERROR)  # not in reasons: sent, and it failed
            self.stats.pending[reason.value] += 1
            out.append(Outcome(None, reason))
        return out

    def _read_cache(self, keys: set[_Key], source_lang: str, target_lang: str) -> None:
        if self.cache is None or not keys:
            return
        found = self.cache.get_many(self.name, source_lang, target_lang, sorted(k[2] for k in keys))
        self._known.update({(source_lang, target_lang, h): t for h, t in found.items()})

    def _admit(self, text: str, key: _Key) -> Pending | None:
        """None when `text` may be sent now (its characters are then reserved), else why not."""
        if self.dry_run:
            return Pending.DRY_RUN
        if key in self._failed:
            return Pending.PROVIDER_ERROR
        if self.stats.breaker_open:
            return Pending.BREAKER_OPEN
        if len(text) > self.chars_left:
            if not self._budget_reached:
                self._budget_reached = True
                log.info("translation budget reached; the remaining texts wait for a later run",
                         provider=self.name, chars_left=self.chars_left, text_chars=len(text))
            return Pending.BUDGET
        self.chars_left -= len(text)
        return None

    def _send(self, batch: list[str], source_lang: str, target_lang: str) -> None:
        """One request: translations are cached and remembered; a failure counts towards the breaker."""
        keys = [(source_lang, target_lang, text_hash(t)) for t in batch]
        self.stats.requests += 1
        self.stats.chars_sent += sum(len(t) for t in batch)
        try:
            results = self.provider.translate(batch, source_lang, target_lang)
        except TranslationError as exc:
            self._failed.update(keys)
            self.stats.failed_requests += 1
            self.stats.last_error = str(exc)
            self._failures_in_row += 1
            if exc.lasting or self._failures_in_row >= self.breaker_threshold:
                self.stats.breaker_open = True
                log.warning("translation provider failing; no more requests this run",
                            provider=self.name, error=str(exc), failures_in_row=self._failures_in_row)
            else:
                log.warning("translation request failed; its texts keep their originals",
                            provider=self.name, error=str(exc))
            return
        self._failures_in_row = 0
        fresh: dict[str, str] = {}
        for key, result in zip(keys, results, strict=True):
            if result is None:
                self._failed.add(key)  # the provider answered without a text for it
            else:
                fresh[key[2]] = result
                self._known[key] = result
        if self.cache is not None:
            self.cache.put_many(self.name, source_lang, target_lang, fresh)
        self.stats.translated += len(fresh)


class TranslationService:
    """The process's translation set-up: one provider and its cache; `for_run` gives each run its limits."""

    def __init__(
        self,
        provider: Translator,
        cache: TranslationCache | None = None,
        *,
        max_chars: int = DEFAULT_MAX_CHARS,
        breaker_threshold: int = DEFAULT_BREAKER_THRESHOLD,
    ) -> None:
        if max_chars < 0:
            raise ValueError("max_chars must be 0 or more")
        if breaker_threshold < 1:
            raise ValueError("breaker_threshold must be 1 or more")
        self.provider = provider
        self.cache = cache
        self.max_chars = max_chars
        self.breaker_threshold = breaker_threshold

    @property
    def offline(self) -> bool:
        """True with CLUSTERBRIDGE_TRANSLATOR=none: texts keep their originals and nothing is ever pending."""
        return isinstance(self.provider, KeepOriginal)

    def for_run(self, *, dry_run: bool) -> RunTranslator:
        """A translator with a fresh budget and a closed breaker; with dry_run it only reads the cache."""
        return RunTranslator(
            self.provider,
            self.cache,
            dry_run=dry_run,
            max_chars=self.max_chars,
            breaker_threshold=self.breaker_threshold,
        )
