"""The ECCP connector: Drupal JSON:API with OAuth2 client credentials, synchronous httpx.

Wire knowledge lives in `models.py`; this module knows the conversation: the token, paging, and what each
status code means for each operation (`_classify` is the one place that decides ok / retry / fatal /
record-level).
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
import structlog
from pydantic import Field, SecretStr, ValidationError

from clusterbridge.abc import (
    JSON,
    Connector,
    MirrorRecord,
    MirrorWrite,
    NativePage,
    NativeRecord,
    RecordProblem,
    WriteResult,
)
from clusterbridge.config import HttpSettings, Settings, connector_settings
from clusterbridge.connectors.eccp.models import (
    MEDIA_TYPE,
    RESOURCE_TYPE,
    EccpCluster,
    ErrorDocument,
    ListDocument,
    ResourceDocument,
    TokenResponse,
    changed_seconds,
)
from clusterbridge.connectors.eccp.normalise import normalise
from clusterbridge.connectors.eccp.shape import shape
from clusterbridge.connectors.http import HttpObserver, OutcomeUnknown, ResilientClient, transient
from clusterbridge.connectors.paging import KeysetWindow
from clusterbridge.errors import ConfigurationError, PlatformError, RecordRefused, RetryableError
from clusterbridge.mapping import fields
from clusterbridge.mapping.vocabulary import Vocabulary
from clusterbridge.model import Cluster, RenderedCluster
from clusterbridge.sides import Side

PLATFORM = "eccp"
log = structlog.get_logger(__name__)

_WRITE_HEADERS = {"Content-Type": MEDIA_TYPE, "Accept": MEDIA_TYPE}
_SORT = "changed,drupal_internal__nid"
# resource ids as the contract allows them (UUIDs on the real site: at most 64 safe characters); anything else
# cannot be a native the ledger may key, mirror or match
_RESOURCE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~-]{0,63}$")


class EccpSettings(HttpSettings):
    """`connectors/eccp.toml`, the environment's base URL and overrides; every key is commented there."""

    token_path: str = "/oauth/token"  # noqa: S105 - a URL path, not a secret
    collection_path: str = "/jsonapi/node/cluster_organisation"
    scope: str | None = None
    page_limit: int = Field(default=50, ge=1, le=50)
    native_origin: str = Field(default="eccp", min_length=1)
    partner_code: str = Field(default="kicox", min_length=1)
    cursor_overlap_seconds: float = Field(default=300.0, ge=0)
    same_second_rewind: int = Field(default=10, ge=0)
    token_refresh_margin: float = Field(default=30.0, ge=0)
    write_batch: int = Field(default=20, ge=1, le=500)
    concurrency: int = Field(default=4, ge=1, le=32)


class ClientCredentialsAuth(httpx.Auth):
    """OAuth2 client credentials with a cached token, refreshed shortly before it expires, and one
    transparent re-fetch and replay when the server answers 401 (the token expired early)."""

    requires_response_body = True

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: SecretStr,
        scope: str | None = None,
        refresh_margin: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._token_url = token_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._scope = scope
        self._margin = refresh_margin
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._cached()
        if token is None:
            token = self._store((yield self._token_request()))
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            # a 401 means the request was refused, so replaying it (even a POST) is safe
            self._forget(token)
            token = self._store((yield self._token_request()))
            request.headers["Authorization"] = f"Bearer {token}"
            yield request

    def _cached(self) -> str | None:
        with self._lock:
            if self._token is not None and self._clock() < self._expires_at:
                return self._token
            return None

    def _forget(self, token: str) -> None:
        with self._lock:
            if self._token == token:
                self._token = None

    def _token_request(self) -> httpx.Request:
        form = {
            "grant_type": "client_credentials",
            "client_id": self._client_id,
            "client_secret": self._client_secret.get_secret_value(),
        }
        if self._scope:
            form["scope"] = self._scope
        return httpx.Request("POST", self._token_url, data=form, headers={"Accept": "application/json"})

    def _store(self, response: httpx.Response) -> str:
        status = response.status_code
        if status in (400, 401, 403):
            raise ConfigurationError(
                f"ECCP refused the client credentials (HTTP {status} from the token endpoint): check "
                "CLUSTERBRIDGE_ECCP_CLIENT_ID and CLUSTERBRIDGE_ECCP_CLIENT_SECRET"
            )
        if status == 429 or status >= 500:
            raise transient(PLATFORM, response, "from the token endpoint")
        if status != 200:
            raise PlatformError(PLATFORM, f"token endpoint answered HTTP {status}")
        try:
            token = TokenResponse.model_validate_json(response.content)
        except ValidationError as exc:
            raise RetryableError(PLATFORM, "garbled token response") from exc
        lifetime = token.expires_in
        # refresh `margin` seconds early; a very short-lived token is refreshed at half its life
        early = self._margin if lifetime > 2 * self._margin else lifetime / 2
        with self._lock:
            self._token = token.access_token
            self._expires_at = self._clock() + lifetime - early
        return token.access_token


@dataclass(frozen=True)
class Reply:
    """A response the classifier let through: 2xx, or a record-level refusal (403, 404, 409, 422)."""

    status: int
    body: JSON

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def errors(self) -> ErrorDocument:
        try:
            return ErrorDocument.model_validate(self.body)
        except ValidationError:
            return ErrorDocument()

    def problem(self, external_id: str) -> RecordProblem:
        first = self.errors().errors[0] if self.errors().errors else None
        reason = first.reason if first is not None else f"HTTP {self.status}"
        if self.status == 403:
            reason = f"forbidden: not this partner's mirror ({reason})"
        field = first.field if first is not None else None
        return RecordProblem(source_id=external_id, reason=reason, field=field, retryable=False)


_RECORD_LEVEL = frozenset({403, 404, 409, 422})
# what a write may be refused with that concerns that one record (or a connection the server left in a bad
# state): it fails the record, which is retried on the next run, and never the whole direction
_WRITE_REFUSALS = frozenset({400, 405, 406, 410, 411, 412, 413, 414, 415, 501})
_REFUSED = frozenset({429, 503})  # the server did not apply the request: safe to send again
_GATEWAY = frozenset({500, 502, 504})  # the server may have applied it


def _classify(response: httpx.Response) -> Reply:
    """The one place that decides what an ECCP response means: return it (ok or record-level), raise
    RetryableError (passing fault), OutcomeUnknown (a create that may have landed) or PlatformError."""
    status = response.status_code
    method = response.request.method
    where = f"{method} {response.request.url.path}"
    creating = method == "POST"
    if status in _REFUSED:
        raise transient(PLATFORM, response, where)
    if status in _GATEWAY:
        if creating:
            raise OutcomeUnknown(PLATFORM, f"{where}: HTTP {status}, the create may have landed")
        raise transient(PLATFORM, response, where)
    if status == 401:
        raise PlatformError(PLATFORM, f"{where}: HTTP 401 even with a fresh token")
    body: JSON = {}
    if response.content.strip():
        try:
            parsed = response.json()
        except ValueError as exc:
            if creating and 200 <= status < 300:
                raise OutcomeUnknown(PLATFORM, f"{where}: garbled answer to a create") from exc
            if 200 <= status < 300:
                raise RetryableError(PLATFORM, f"{where}: garbled body") from exc
            parsed = {}
        body = parsed if isinstance(parsed, dict) else {}
    if 200 <= status < 300 or status in _RECORD_LEVEL or (method != "GET" and status in _WRITE_REFUSALS):
        return Reply(status, body)
    detail = Reply(status, body).problem("-").reason
    raise PlatformError(PLATFORM, f"{where}: HTTP {status}: {detail}")


def _diff(payload: JSON, previous: JSON | None, *, clear_missing: bool = True) -> JSON:
    """Attributes that differ from `previous` (all when None). With `clear_missing`, a key that was written
    before but is no longer rendered is cleared (None): a contact that turned private must leave (rule 7).
    Against a profile read from the site, which also holds read-only keys, nothing is cleared."""
    if previous is None:
        return dict(payload)
    changed = {k: v for k, v in payload.items() if k not in previous or previous[k] != v}
    if clear_missing:
        changed.update({k: None for k in previous if k not in payload and previous[k] is not None})
    return changed


class EccpConnector(Connector):
    """Native ECCP profiles out, the other side's mirrors in."""

    name = PLATFORM
    server_keys = frozenset({"drupal_internal__nid", "created", "changed", "langcode"})

    def __init__(
        self,
        settings: EccpSettings,
        client_id: str,
        client_secret: SecretStr,
        *,
        side: Side,
        vocabulary: Vocabulary,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        observer: HttpObserver | None = None,
        stopping: Callable[[], bool] | None = None,
    ) -> None:
        self.settings = settings
        self.side = side
        self.vocabulary = vocabulary
        self.write_batch = settings.write_batch
        self.concurrency = settings.concurrency
        token_url = settings.base_url.rstrip("/") + "/" + settings.token_path.lstrip("/")
        self.auth = ClientCredentialsAuth(
            token_url, client_id, client_secret, settings.scope, settings.token_refresh_margin, clock
        )
        self.http = ResilientClient(
            PLATFORM,
            settings,
            transport=transport,
            auth=self.auth,
            headers={"Accept": MEDIA_TYPE},
            secrets=(client_secret.get_secret_value(),),
            observer=observer,
            stopping=stopping,
        )

    # --- reading ---------------------------------------------------------------------------------------

    def _get(self, url: str, params: dict[str, str | int]) -> Reply:
        return self.http.call("GET", url, _classify, params=params)

    def _pages(self, origin: str, since: datetime | None) -> Iterator[tuple[list[Any], int | None]]:
        """Keyset pages (fresh raw resources, meta.count of the first page) of one origin's profiles."""
        s = self.settings
        floor: int | None = None
        if since is not None:
            if since.tzinfo is None:
                raise ValueError("since must be timezone-aware")
            floor = math.floor(since.timestamp() - s.cursor_overlap_seconds)
        # a rewind of more than a quarter page would make crowded seconds slow to step through
        window = KeysetWindow(floor, s.page_limit, rewind=min(s.same_second_rewind, s.page_limit // 4))
        while True:
            params: dict[str, str | int] = {
                "filter[field_origin]": origin,
                "sort": _SORT,
                "page[limit]": s.page_limit,
            }
            if window.floor is not None:
                params["filter[changed][condition][path]"] = "changed"
                params["filter[changed][condition][operator]"] = ">="
                params["filter[changed][condition][value]"] = window.floor
            if window.offset:
                params["page[offset]"] = window.offset
            reply = self._get(s.collection_path, params)
            if not reply.ok:
                raise PlatformError(PLATFORM, f"GET {s.collection_path}: HTTP {reply.status} on a listing")
            try:
                doc = ListDocument.model_validate(reply.body)
            except ValidationError as exc:
                raise RetryableError(PLATFORM, f"GET {s.collection_path}: not a listing document") from exc
            rows = [(str(raw.get("id", "")) if isinstance(raw, dict) else "", changed_seconds(raw)) for raw in doc.data]
            # an element that is not a resource has no key to de-duplicate by: it is passed on to be reported
            fresh = [raw for raw, (key, second) in zip(doc.data, rows, strict=True)
                     if not isinstance(raw, dict) or not key or window.fresh(key, second)]
            yield fresh, doc.meta.count
            if not window.advance(rows, more=doc.links.next is not None):
                return

    def iter_natives(self, since: datetime | None = None) -> Iterator[NativePage]:
        native = self.settings.native_origin
        total: int | None = None
        first = True
        for raws, count in self._pages(native, since):
            if first and since is None:
                total = count
            first = False
            page = NativePage(reported_total=total)
            for raw in raws:
                self._read(raw, native, page)
            log.info("eccp.natives.page", records=len(page.records), problems=len(page.problems))
            yield page

    @staticmethod
    def _read(raw: Any, native: str, page: NativePage) -> None:
        """One listing element into the page: a record, a problem, or nothing (a mirror, rule 2)."""
        if not isinstance(raw, dict):
            page.problems.append(RecordProblem(None, f"a listing element is {type(raw).__name__}, not a resource",
                                               raw=raw))
            return
        uuid = raw.get("id")
        if not isinstance(uuid, str) or not _RESOURCE_ID.match(uuid):
            page.problems.append(RecordProblem(None, "id: missing, longer than 64 characters or not of the "
                                               "characters the contract allows", "id", raw))
            return
        attributes = raw.get("attributes")
        if not isinstance(attributes, dict):
            page.problems.append(RecordProblem(uuid, "attributes: not an object", "attributes", raw))
            return
        if attributes.get("field_origin") != native:
            return  # rule 2: a mirror is never a native, whatever the filter let through
        try:
            record = EccpCluster.model_validate(raw)
        except ValidationError as exc:
            if not fields.unicode_error(exc):
                page.problems.append(_read_problem(raw, exc))
                return
            try:  # a lone surrogate somewhere: dropped, as the text cleaning would drop it
                record = EccpCluster.model_validate(fields.without_surrogates(raw))
            except ValidationError as again:
                page.problems.append(_read_problem(raw, again))
                return
        page.records.append(NativeRecord(uuid, record.attributes.changed, record))

    def normalise(self, record: NativeRecord) -> Cluster:
        wire = record.wire
        if not isinstance(wire, EccpCluster):  # a raw resource, as kept in the quarantine: read it again
            page = NativePage()
            self._read(wire, self.settings.native_origin, page)
            if page.problems or not page.records:
                problem = page.problems[0] if page.problems else None
                reason = problem.reason if problem else "not a native profile of this site"
                raise ValueError(f"{problem.field}: {reason}" if problem and problem.field else reason)
            wire = page.records[0].wire
        return normalise(wire, self.side.name, self.vocabulary)

    def external_id(self, native_id: str) -> str:
        return f"{PLATFORM}:{native_id}"

    def shape(self, record: RenderedCluster) -> JSON:
        return shape(record, partner_code=self.settings.partner_code)

    def iter_mirrors(self) -> Iterator[list[MirrorRecord]]:
        for raws, _count in self._pages(self.settings.partner_code, None):
            yield [m for m in (self._mirror(raw) for raw in raws) if m is not None]

    def _mirror(self, raw: Any) -> MirrorRecord | None:
        if not isinstance(raw, dict):
            return None
        attributes = raw.get("attributes")
        if not isinstance(attributes, dict) or attributes.get("field_origin") != self.settings.partner_code:
            return None
        changed: datetime | None = None
        stamp = changed_seconds(raw)
        if stamp is not None:
            changed = datetime.fromisoformat(attributes["changed"])
        return MirrorRecord(
            mirror_id=str(raw.get("id", "")),
            external_id=str(attributes.get("field_external_id") or ""),
            payload=attributes,
            changed=changed,
        )

    def find_mirror(self, external_id: str) -> MirrorRecord | None:
        params: dict[str, str | int] = {
            "filter[field_origin]": self.settings.partner_code,
            "filter[field_external_id]": external_id,
            "sort": _SORT,
            "page[limit]": self.settings.page_limit,
        }
        reply = self._get(self.settings.collection_path, params)
        try:
            doc = ListDocument.model_validate(reply.body)
        except ValidationError as exc:
            raise RetryableError(PLATFORM, "find_mirror: not a listing document") from exc
        for raw in doc.data:
            mirror = self._mirror(raw)
            if mirror is not None and mirror.external_id == external_id:
                return mirror
        return None

    # --- writing ---------------------------------------------------------------------------------------

    def _attributes(self, write: MirrorWrite) -> JSON:
        """The full attribute set of a mirror: the payload, marked as this partner's, keyed by the source id."""
        return {
            **write.payload,
            "field_origin": self.settings.partner_code,
            "field_external_id": write.external_id,
        }

    def _item_url(self, mirror_id: str) -> str:
        return f"{self.settings.collection_path.rstrip('/')}/{quote(mirror_id, safe='')}"

    def _post(self, attributes: JSON) -> Reply:
        body = {"data": {"type": RESOURCE_TYPE, "attributes": attributes}}
        return self.http.call(
            "POST", self.settings.collection_path, _classify, replay="if_unsent", json=body, headers=_WRITE_HEADERS
        )

    def _patch(self, mirror_id: str, attributes: JSON) -> Reply:
        body = {"data": {"type": RESOURCE_TYPE, "id": mirror_id, "attributes": attributes}}
        return self.http.call("PATCH", self._item_url(mirror_id), _classify, json=body, headers=_WRITE_HEADERS)

    def write(self, writes: Sequence[MirrorWrite]) -> list[WriteResult]:
        return [self._create(w) if w.mirror_id is None else self._update(w, w.mirror_id) for w in writes]

    def _update(self, write: MirrorWrite, mirror_id: str) -> WriteResult:
        changes = _diff(self._attributes(write), None if write.previous is None else self._attributes_of(write))
        if not changes:
            return WriteResult(write.external_id, "unchanged", mirror_id)
        reply = self._patch(mirror_id, changes)
        if reply.ok:
            return WriteResult(write.external_id, "updated", mirror_id)
        if reply.status == 404:
            log.info("eccp.mirror.gone", mirror_id=mirror_id)
            return self._create(write)  # deleted on the site: put it back (rule 1)
        return self._failed(write, reply)

    def _attributes_of(self, write: MirrorWrite) -> JSON:
        previous = write.previous or {}
        return {**previous, "field_origin": self.settings.partner_code, "field_external_id": write.external_id}

    def _create(self, write: MirrorWrite) -> WriteResult:
        attributes = self._attributes(write)
        for _ in range(self.settings.max_attempts):
            try:
                reply = self._post(attributes)
            except OutcomeUnknown as exc:
                # the create may have landed: look before sending it again (never a blind re-send)
                log.warning("eccp.create.unknown", cause=str(exc))
                reply = None
            if reply is not None and reply.ok:
                try:
                    return WriteResult(
                        write.external_id, "created", ResourceDocument.model_validate(reply.body).data.id
                    )
                except ValidationError:
                    reply = None  # it landed, but the answer does not say as what: look it up
            if reply is not None and reply.status == 409:
                errors = reply.errors().errors
                existing = errors[0].meta.get("id") if errors and errors[0].meta else None
                if isinstance(existing, str) and existing:
                    return self._adopt(write, existing, None)
                reply = None
            if reply is not None:
                return self._failed(write, reply)
            found = self.find_mirror(write.external_id)
            if found is not None:
                return self._adopt(write, found.mirror_id, found.payload)
        raise PlatformError(
            PLATFORM, f"POST {self.settings.collection_path}: create of {write.external_id} stayed unresolved"
        )

    def _adopt(self, write: MirrorWrite, mirror_id: str, current: JSON | None) -> WriteResult:
        """Bring an existing mirror (same external id) to the payload; `current` is what the site holds, when
        known, so that only differing attributes are sent."""
        changes = _diff(self._attributes(write), current, clear_missing=False)
        if changes:
            reply = self._patch(mirror_id, changes)
            if reply.status == 404:
                return self._create(write)  # deleted in between: create it after all
            if not reply.ok:
                return self._failed(write, reply)
        return WriteResult(write.external_id, "adopted", mirror_id)

    @staticmethod
    def _failed(write: MirrorWrite, reply: Reply) -> WriteResult:
        return WriteResult(write.external_id, "failed", write.mirror_id, reply.problem(write.external_id))

    def delete(self, external_id: str, mirror_id: str | None) -> None:
        if mirror_id is None:
            found = self.find_mirror(external_id)
            if found is None:
                return  # never written, or already gone
            mirror_id = found.mirror_id
        reply = self.http.call("DELETE", self._item_url(mirror_id), _classify)
        if reply.ok or reply.status == 404:
            return
        problem = reply.problem(mirror_id)
        raise RecordRefused(f"ECCP refused the deletion (HTTP {reply.status}): {problem.reason}", problem.field)

    def close(self) -> None:
        self.http.close()


def _read_problem(raw: JSON, exc: ValidationError) -> RecordProblem:
    first = exc.errors()[0]
    loc = [str(p) for p in first["loc"]]
    if loc and loc[0] == "attributes":
        loc = loc[1:]
    return RecordProblem(
        source_id=str(raw.get("id", "?")),
        reason=f"{first['msg']} ({exc.error_count()} problem(s))" if exc.error_count() > 1 else first["msg"],
        field=".".join(loc) or None,
        raw=raw,
    )


def create(settings: Settings, *, side: Side, vocabulary: Vocabulary, **overrides: Any) -> EccpConnector:
    """Build the ECCP connector from `connectors/eccp.toml`, the environment and `overrides`.

    `transport=` (an httpx.BaseTransport) replaces the network, for tests; `clock=` the token clock;
    `observer=` an HttpObserver (metrics); any other override is an EccpSettings key. A missing credential is
    a ConfigurationError naming its variable.
    """
    transport = overrides.pop("transport", None)
    clock = overrides.pop("clock", time.monotonic)
    observer = overrides.pop("observer", None)
    stopping = overrides.pop("stopping", None)
    if transport is not None and not isinstance(transport, httpx.BaseTransport):
        raise ConfigurationError("eccp: transport must be an httpx.BaseTransport")
    config = connector_settings(PLATFORM, EccpSettings, settings, overrides)
    if not settings.eccp_client_id:
        raise ConfigurationError("CLUSTERBRIDGE_ECCP_CLIENT_ID is not set: the ECCP OAuth2 client id is required")
    secret = settings.eccp_client_secret
    if secret is None or not secret.get_secret_value():
        raise ConfigurationError(
            "CLUSTERBRIDGE_ECCP_CLIENT_SECRET is not set: the ECCP OAuth2 client secret is required"
        )
    return EccpConnector(config, settings.eccp_client_id, secret, side=side, vocabulary=vocabulary,
                         transport=transport, clock=clock, observer=observer,
                         stopping=stopping)
