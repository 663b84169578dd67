"""The KICOX connector: the data.go.kr-style read service (natives) and the partner ingest API (mirrors).

Wire knowledge lives in `models.py`; this module knows the conversation. `classify_result` is the one place
that decides what a gateway or envelope result code means, `_classify_read` and `_classify_ingest` the one
place per service that decides what an HTTP answer means.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote, unquote, urlencode

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
from clusterbridge.connectors.http import HttpObserver, ResilientClient, transient
from clusterbridge.connectors.kicox.models import (
    BatchResult,
    Envelope,
    ForeignCluster,
    ForeignList,
    KicoxCluster,
    format_kst,
    parse_envelope,
    parse_iso,
    updated_seconds,
)
from clusterbridge.connectors.kicox.normalise import normalise
from clusterbridge.connectors.kicox.shape import shape
from clusterbridge.connectors.paging import KeysetWindow
from clusterbridge.errors import ConfigurationError, PlatformError, QuotaExhausted, RecordRefused, RetryableError
from clusterbridge.mapping import fields
from clusterbridge.mapping.vocabulary import Vocabulary
from clusterbridge.model import Cluster, RenderedCluster
from clusterbridge.sides import Side

PLATFORM = "kicox"
log = structlog.get_logger(__name__)

_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
# clstrId as the contract allows it (contracts/kicox.openapi.yaml): the ledger keys records by it
CLSTR_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_FIELD_MESSAGE = re.compile(r"^\s*([A-Za-z_][\w.\[\]]*)\s*:\s*(.+)$", re.DOTALL)


class KicoxSettings(HttpSettings):
    """`connectors/kicox.toml`, the environment's base URL and overrides; every key is commented there."""

    list_path: str = "/openapi/service/ClusterInfoService/getClusterList"
    batch_path: str = "/api/v1/foreign-clusters/batch"
    foreign_path: str = "/api/v1/foreign-clusters"
    num_of_rows: int = Field(default=500, ge=1, le=1000)
    foreign_rows: int = Field(default=500, ge=1, le=500)
    batch_size: int = Field(default=100, ge=1, le=100)
    src_sys_cd: str = "ECCP"
    cursor_overlap_seconds: float = Field(default=300.0, ge=0)
    unknown_error_retries: int = Field(default=2, ge=0)
    concurrency: int = Field(default=2, ge=1, le=16)


def decoded_service_key(key: str) -> str:
    """data.go.kr hands out an "encoded" key (percent-escaped) and a "decoded" one (with + / =); either may be
    configured. The decoded form is what gets encoded, exactly once, into the query."""
    key = key.strip()
    return unquote(key) if _PERCENT_ESCAPE.search(key) else key


# --- classification: the one place that says what an answer means -----------------------------------------

_RETRY_CODES = {
    "01": "APPLICATION_ERROR",
    "02": "DB_ERROR",
    "04": "HTTP_ERROR",
    "05": "SERVICETIME_OUT",
}
_CONFIG_CODES = {
    "20": "SERVICE_ACCESS_DENIED_ERROR: the key is not approved for this service; apply for it on the portal",
    "21": "TEMPORARILY_DISABLE_THE_SERVICEKEY_ERROR: the key is suspended; ask the portal to re-enable it",
    "30": "SERVICE_KEY_IS_NOT_REGISTERED_ERROR: check CLUSTERBRIDGE_KICOX_SERVICE_KEY (paste the key as issued)",
    "31": "DEADLINE_HAS_EXPIRED_ERROR: the key's period of use is over; renew the application",
    "32": "UNREGISTERED_IP_ERROR: register this server's IP address for the key",
    "33": "UNSIGNED_CALL_ERROR: the call must be signed as the key's terms require",
}
_BUG_CODES = {
    "10": "INVALID_REQUEST_PARAMETER_ERROR",
    "11": "NO_MANDATORY_REQUEST_PARAMETERS_ERROR",
    "12": "NO_OPENAPI_SERVICE_ERROR",
}
NODATA = "03"
_ACTIONS: dict[str, Literal["created", "updated", "unchanged"]] = {
    "created": "created",
    "updated": "updated",
    "unchanged": "unchanged",
}


class _UnknownGatewayError(RetryableError):
    """Gateway code 99: retried, but only `unknown_error_retries` times per call."""


def classify_result(code: str, message: str) -> bool:
    """Judge a resultCode (JSON envelope) or returnReasonCode (XML gateway error): True for records,
    False for an empty result (03); raises for everything else."""
    code = code.strip()
    if code == "00":
        return True
    if code == NODATA:
        return False
    detail = f"gateway code {code} {message}".strip()
    if code in _RETRY_CODES:
        raise RetryableError(PLATFORM, f"{detail} ({_RETRY_CODES[code]})")
    if code == "22":
        raise QuotaExhausted(
            PLATFORM, "gateway code 22: the daily call quota is spent until midnight KST; the run resumes later"
        )
    if code in _CONFIG_CODES:
        raise ConfigurationError(f"KICOX open-data service refused the key: gateway code {code} {_CONFIG_CODES[code]}")
    if code in _BUG_CODES:
        raise PlatformError(PLATFORM, f"{detail} ({_BUG_CODES[code]}): the request is malformed, a connector bug")
    if code == "99":
        raise _UnknownGatewayError(PLATFORM, f"{detail} (UNKNOWN_ERROR)")
    raise PlatformError(PLATFORM, f"unknown {detail}")


class _ReadClassifier:
    """Judges one read-service call's answers; counts code 99 across the call's attempts."""

    def __init__(self, unknown_retries: int) -> None:
        self._unknown_left = unknown_retries

    def __call__(self, response: httpx.Response) -> Envelope | None:
        status = response.status_code
        if status == 429 or status >= 500:
            raise transient(PLATFORM, response, "from the open-data service")
        if status != 200:
            raise PlatformError(PLATFORM, f"open-data service answered HTTP {status}")
        try:
            envelope = parse_envelope(response.content)
        except ValueError as exc:
            raise RetryableError(PLATFORM, f"unreadable open-data answer: {exc}") from exc
        try:
            has_records = classify_result(envelope.header.resultCode, envelope.header.resultMsg)
        except _UnknownGatewayError as exc:
            if self._unknown_left <= 0:
                raise PlatformError(PLATFORM, f"{exc} kept coming back") from exc
            self._unknown_left -= 1
            raise
        return envelope if has_records else None


@dataclass(frozen=True)
class Reply:
    """An ingest-API answer the classifier let through: 2xx, or 404 / 413 that the operation decides on."""

    status: int
    body: Any


# what a write may be refused with that concerns its items (or a connection the server left in a bad state):
# the batch is narrowed down to the items at fault, which fail alone and are retried on the next run
_BATCH_REFUSALS = frozenset({400, 405, 406, 411, 412, 413, 414, 415, 422, 501})


def _classify_ingest(response: httpx.Response) -> Reply:
    """The one place that decides what an ingest-API answer means. Every ingest call is idempotent (upsert by
    extrlId, listing, delete), so garbled bodies and gateway faults are simply retried."""
    status = response.status_code
    where = f"{response.request.method} {response.request.url.path}"
    writing = response.request.method != "GET"
    if writing and status in _BATCH_REFUSALS:
        return Reply(status, None)
    if status == 429 or status >= 500:
        raise transient(PLATFORM, response, where)
    if status in (401, 403):
        raise ConfigurationError(f"KICOX ingest API refused the key (HTTP {status}): check CLUSTERBRIDGE_KICOX_API_KEY")
    if status == 404:
        return Reply(status, None)
    if not 200 <= status < 300:
        raise PlatformError(PLATFORM, f"{where}: HTTP {status}: {response.text[:200]}")
    if not response.content.strip():
        return Reply(status, None)
    try:
        return Reply(status, response.json())
    except ValueError as exc:
        raise RetryableError(PLATFORM, f"{where}: garbled body") from exc


def _problem_from_message(source_id: str, message: str, code: str | None) -> RecordProblem:
    """'natnCd: unknown country code' → field natnCd, reason the whole message."""
    match = _FIELD_MESSAGE.match(message)
    field = match.group(1) if match else None
    reason = f"{code}: {message}" if code else message
    return RecordProblem(source_id=source_id, reason=reason, field=field, retryable=False)


class KicoxConnector(Connector):
    """Native Korean clusters out, the other side's mirrors (foreign clusters) in.

    A mirror's `mirror_id` is its extrlId: the key the ingest API upserts and deletes by.
    """

    name = PLATFORM
    server_keys = frozenset({"frgnClstrId", "updtDt"})

    def __init__(
        self,
        settings: KicoxSettings,
        service_key: SecretStr,
        api_key: SecretStr,
        *,
        side: Side,
        vocabulary: Vocabulary,
        transport: httpx.BaseTransport | None = None,
        observer: HttpObserver | None = None,
        stopping: Callable[[], bool] | None = None,
    ) -> None:
        self.settings = settings
        self.side = side
        self.vocabulary = vocabulary
        self.write_batch = settings.batch_size
        self.concurrency = settings.concurrency
        self._service_key = decoded_service_key(service_key.get_secret_value())
        self._api_headers = {"X-API-Key": api_key.get_secret_value(), "Accept": "application/json"}
        self.http = ResilientClient(
            PLATFORM,
            settings,
            transport=transport,
            secrets=(service_key.get_secret_value(), self._service_key, quote(self._service_key, safe="")),
            observer=observer,
            stopping=stopping,
        )

    # --- natives (open-data read service) ----------------------------------------------------------------

    def _list_url(self, params: dict[str, str | int]) -> str:
        # built by hand so that the key is percent-encoded exactly once ('+' '/' '=' → %2B %2F %3D)
        query = f"serviceKey={quote(self._service_key, safe='')}&{urlencode(params)}"
        return f"{self.settings.list_path}?{query}"

    def _read(self, params: dict[str, str | int]) -> Envelope | None:
        judge = _ReadClassifier(self.settings.unknown_error_retries)
        return self.http.call("GET", self._list_url(params), judge)

    def iter_natives(self, since: datetime | None = None) -> Iterator[NativePage]:
        s = self.settings
        floor: int | None = None
        if since is not None:
            if since.tzinfo is None:
                raise ValueError("since must be timezone-aware")
            floor = math.floor(since.timestamp() - s.cursor_overlap_seconds)
        # rewind 0: the offset moves in whole pages (pageNo)
        window = KeysetWindow(floor, s.num_of_rows)
        total: int | None = None
        first = True
        while True:
            page_no = window.offset // s.num_of_rows + 1
            params: dict[str, str | int] = {"pageNo": page_no, "numOfRows": s.num_of_rows, "type": "json"}
            if window.floor is not None:
                params["modDtFrom"] = format_kst(datetime.fromtimestamp(window.floor, UTC))
            envelope = self._read(params)
            items = envelope.body.items if envelope is not None else []
            count = envelope.body.totalCount if envelope is not None else 0
            if first and since is None:
                total = count
            first = False
            page = NativePage(reported_total=total)
            rows = [(_clstr_id(raw), updated_seconds(raw)) for raw in items]
            twice = {key for key, n in Counter(key for key, _ in rows if key).items() if n > 1}
            for raw, (key, second) in zip(items, rows, strict=True):
                if key and not window.fresh(key, second):
                    continue
                self._take(raw, key, key in twice, page)
            log.info("kicox.natives.page", page=page_no, records=len(page.records), problems=len(page.problems))
            yield page
            read = (page_no - 1) * s.num_of_rows + len(items)
            more = read < count if count is not None else len(items) == s.num_of_rows
            if not window.advance(rows, more):
                return

    @staticmethod
    def _take(raw: Any, key: str, duplicate: bool, page: NativePage) -> None:
        """One listing element into the page: a record or a problem."""
        if not isinstance(raw, dict):
            page.problems.append(RecordProblem(None, f"a listing item is {type(raw).__name__}, not a record", raw=raw))
            return
        if not key or not CLSTR_ID.match(key):
            page.problems.append(RecordProblem(None, "clstrId: missing, longer than 64 characters or not of the "
                                               "characters the contract allows", "clstrId", raw))
            return
        if duplicate:
            page.problems.append(RecordProblem(key, "clstrId: two different records carry this id in one listing",
                                               "clstrId", raw))
            return
        try:
            record = KicoxCluster.model_validate(raw)
        except ValidationError as exc:
            if not fields.unicode_error(exc):
                page.problems.append(_read_problem(key, raw, exc))
                return
            try:  # a lone surrogate somewhere: dropped, as the text cleaning would drop it
                record = KicoxCluster.model_validate(fields.without_surrogates(raw))
            except ValidationError as again:
                page.problems.append(_read_problem(key, raw, again))
                return
        page.records.append(NativeRecord(key, record.updtDt, record))

    def normalise(self, record: NativeRecord) -> Cluster:
        wire = record.wire
        if not isinstance(wire, KicoxCluster):  # a raw item, as kept in the quarantine: read it again
            page = NativePage()
            self._take(wire, _clstr_id(wire), False, page)
            if page.problems or not page.records:
                problem = page.problems[0] if page.problems else None
                reason = problem.reason if problem else "not a cluster record"
                raise ValueError(f"{problem.field}: {reason}" if problem and problem.field else reason)
            wire = page.records[0].wire
        return normalise(wire, self.side.name, self.vocabulary)

    def external_id(self, native_id: str) -> str:
        return native_id

    def shape(self, record: RenderedCluster) -> JSON:
        return shape(record, src_sys_cd=self.settings.src_sys_cd)

    # --- mirrors (partner ingest API) --------------------------------------------------------------------

    def _ingest(self, method: str, url: str, *, params: dict[str, str | int] | None = None, json: Any = None) -> Reply:
        return self.http.call(method, url, _classify_ingest, params=params, json=json, headers=self._api_headers)

    def iter_mirrors(self) -> Iterator[list[MirrorRecord]]:
        s = self.settings
        page_no = 1
        while True:
            params: dict[str, str | int] = {"srcSysCd": s.src_sys_cd, "pageNo": page_no, "numOfRows": s.foreign_rows}
            reply = self._ingest("GET", s.foreign_path, params=params)
            try:
                listing = ForeignList.model_validate(reply.body)
            except ValidationError as exc:
                raise RetryableError(PLATFORM, f"GET {s.foreign_path}: not a listing") from exc
            yield [self._mirror(item) for item in listing.items
                   if isinstance(item, dict) and str(item.get("extrlId", "")).strip()]
            if not listing.items or page_no * s.foreign_rows >= listing.totalCount:
                return
            page_no += 1

    @staticmethod
    def _mirror(item: JSON) -> MirrorRecord:
        extrl_id = str(item["extrlId"])
        return MirrorRecord(
            mirror_id=extrl_id, external_id=extrl_id, payload=item, changed=parse_iso(item.get("updtDt"))
        )

    def find_mirror(self, external_id: str) -> MirrorRecord | None:
        for page in self.iter_mirrors():
            for mirror in page:
                if mirror.external_id == external_id:
                    return mirror
        return None

    def write(self, writes: Sequence[MirrorWrite]) -> list[WriteResult]:
        results: list[WriteResult | None] = [None] * len(writes)
        ready: list[tuple[int, JSON]] = []
        for index, write in enumerate(writes):
            item = {**write.payload, "extrlId": write.external_id, "srcSysCd": self.settings.src_sys_cd}
            try:
                # strict before sending: a bad item is quarantined here instead of failing in the batch
                model = ForeignCluster.model_validate(item)
            except ValidationError as exc:
                first = exc.errors()[0]
                problem = RecordProblem(
                    source_id=write.external_id,
                    reason=first["msg"],
                    field=".".join(str(p) for p in first["loc"]) or None,
                    retryable=False,
                )
                results[index] = WriteResult(write.external_id, "failed", write.mirror_id, problem)
                continue
            ready.append((index, model.model_dump(mode="json", exclude_none=True, exclude={"frgnClstrId", "updtDt"})))
        size = self.settings.batch_size
        for start in range(0, len(ready), size):
            self._upsert(ready[start : start + size], writes, results)
        done = [r for r in results if r is not None]
        if len(done) != len(writes):  # every path above fills its slot; this guards the invariant
            raise PlatformError(PLATFORM, "internal error: a write was left without a result")
        return done

    def _upsert(
        self, chunk: list[tuple[int, JSON]], writes: Sequence[MirrorWrite], out: list[WriteResult | None]
    ) -> None:
        """POST one batch (idempotent by extrlId, so retried freely) and map its item results back."""
        reply = self._ingest("POST", self.settings.batch_path, json={"items": [item for _, item in chunk]})
        if reply.status in _BATCH_REFUSALS:
            # a refused batch is narrowed down by halves to the item(s) it cannot take; the others go through
            if len(chunk) > 1:
                half = len(chunk) // 2
                self._upsert(chunk[:half], writes, out)
                self._upsert(chunk[half:], writes, out)
                return
            index = chunk[0][0]
            reason = ("item too large for the ingest API (HTTP 413)" if reply.status == 413
                      else f"the ingest API refused the item (HTTP {reply.status})")
            problem = RecordProblem(writes[index].external_id, reason, None, None, True)
            out[index] = WriteResult(writes[index].external_id, "failed", writes[index].mirror_id, problem)
            return
        if reply.status == 404:
            raise ConfigurationError(f"KICOX ingest API has no {self.settings.batch_path}: check batch_path")
        try:
            batch = BatchResult.model_validate(reply.body)
        except ValidationError as exc:
            raise PlatformError(PLATFORM, f"POST {self.settings.batch_path}: answer is not a batch result") from exc
        waiting: dict[str, deque[int]] = defaultdict(deque)
        for index, item in chunk:
            waiting[str(item["extrlId"])].append(index)
        for result in batch.results:
            queue = waiting.get(result.extrlId)
            if not queue:
                log.warning("kicox.batch.extra_result", extrl_id=result.extrlId, status=result.status)
                continue
            index = queue.popleft()
            external_id = writes[index].external_id
            action = _ACTIONS.get(result.status)
            if action is not None:
                out[index] = WriteResult(external_id, action, external_id)
            else:
                message = result.errorMessage or f"status {result.status}"
                problem = _problem_from_message(external_id, message, result.errorCode)
                out[index] = WriteResult(external_id, "failed", writes[index].mirror_id, problem)
        for queue in waiting.values():
            for index in queue:
                external_id = writes[index].external_id
                problem = RecordProblem(external_id, "the batch answer held no result for this item", None, None, True)
                out[index] = WriteResult(external_id, "failed", writes[index].mirror_id, problem)

    def delete(self, external_id: str, mirror_id: str | None) -> None:
        url = f"{self.settings.foreign_path.rstrip('/')}/{quote(mirror_id or external_id, safe='')}"
        reply = self._ingest("DELETE", url)  # 2xx deleted, 404 already gone: both are done
        if reply.status >= 400 and reply.status != 404:
            raise RecordRefused(f"KICOX refused the deletion (HTTP {reply.status})")

    def close(self) -> None:
        self.http.close()


def _clstr_id(raw: Any) -> str:
    value = raw.get("clstrId") if isinstance(raw, dict) else None
    return value.strip() if isinstance(value, str) else ""


def _read_problem(key: str, raw: JSON, exc: ValidationError) -> RecordProblem:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or None
    reason = first["msg"] if exc.error_count() == 1 else f"{first['msg']} ({exc.error_count()} problem(s))"
    return RecordProblem(source_id=key or "?", reason=reason, field=field, raw=raw)


def _secret(value: SecretStr | None, env: str, what: str) -> SecretStr:
    if value is None or not value.get_secret_value().strip():
        raise ConfigurationError(f"{env} is not set: {what} is required")
    return value


def create(settings: Settings, *, side: Side, vocabulary: Vocabulary, **overrides: Any) -> KicoxConnector:
    """Build the KICOX connector from `connectors/kicox.toml`, the environment and `overrides`.

    `transport=` (an httpx.BaseTransport) replaces the network, for tests; `observer=` an HttpObserver
    (metrics); any other override is a KicoxSettings key. A missing key is a ConfigurationError naming its variable.
    """
    transport = overrides.pop("transport", None)
    observer = overrides.pop("observer", None)
    stopping = overrides.pop("stopping", None)
    if transport is not None and not isinstance(transport, httpx.BaseTransport):
        raise ConfigurationError("kicox: transport must be an httpx.BaseTransport")
    config = connector_settings(PLATFORM, KicoxSettings, settings, overrides)
    service_key = _secret(settings.kicox_service_key, "CLUSTERBRIDGE_KICOX_SERVICE_KEY", "the open-data service key")
    api_key = _secret(settings.kicox_api_key, "CLUSTERBRIDGE_KICOX_API_KEY", "the partner ingest API key")
    return KicoxConnector(config, service_key, api_key, side=side, vocabulary=vocabulary, transport=transport,
                          observer=observer, stopping=stopping)
