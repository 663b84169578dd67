"""The KICOX simulator: the data.go.kr-style open-data read service and the partner ingest API, as
`contracts/kicox.openapi.yaml` describes them, habits included (string values, single-item objects, empty
`items`, gateway errors as XML in HTTP 200, a service key encoded exactly once, KST timestamps, quota).
"""

from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta, timezone
from typing import Any, ClassVar
from urllib.parse import unquote, unquote_plus

from clusterbridge.simulators.base import (
    BASE_FAULTS,
    JSON,
    AdminError,
    Clock,
    FaultSpec,
    Request,
    Response,
    Simulator,
    admin_body,
    load_default_seed,
)

KST = timezone(timedelta(hours=9), "KST")
KST_FORMAT = "%Y%m%d%H%M%S"
READ_PATH = "/openapi/service/ClusterInfoService/getClusterList"
FOREIGN_PATH = "/api/v1/foreign-clusters"
MAX_ROWS = 1000
DEFAULT_ROWS = 10
MAX_FOREIGN_ROWS = 500
DEFAULT_FOREIGN_ROWS = 100
MAX_BATCH = 100
MAX_BATCH_BYTES = 2 * 1024 * 1024
JSON_TYPE = "application/json;charset=UTF-8"
XML_TYPE = "application/xml;charset=UTF-8"

GATEWAY_REASONS = {
    "01": "APPLICATION_ERROR",
    "02": "DB_ERROR",
    "03": "NODATA_ERROR",
    "04": "HTTP_ERROR",
    "05": "SERVICETIME_OUT",
    "10": "INVALID_REQUEST_PARAMETER_ERROR",
    "11": "NO_MANDATORY_REQUEST_PARAMETERS_ERROR",
    "12": "NO_OPENAPI_SERVICE_ERROR",
    "20": "SERVICE_ACCESS_DENIED_ERROR",
    "21": "TEMPORARILY_DISABLE_THE_SERVICEKEY_ERROR",
    "22": "LIMITED_NUMBER_OF_SERVICE_REQUESTS_EXCEEDS_ERROR",
    "30": "SERVICE_KEY_IS_NOT_REGISTERED_ERROR",
    "31": "DEADLINE_HAS_EXPIRED_ERROR",
    "32": "UNREGISTERED_IP_ERROR",
    "33": "UNSIGNED_CALL_ERROR",
    "99": "UNKNOWN_ERROR",
}
RETRYABLE_GATEWAY_CODES = ("01", "02", "04", "05")

# The fields of KoreanCluster, in the contract's order (the order the service lists them in).
KOREAN_FIELDS = (
    "clstrId", "clstrNm", "clstrEngNm", "cmplxNm", "ctprvnNm", "signguNm", "rdnmadr", "indutyNm", "ksicCd",
    "mberCo", "smeCo", "rsrchInsttCo", "estblYear", "hmpgUrl", "intrcn", "cprtnIntrstCn", "cprtnNatnCd",
    "chargerNm", "chargerTelno", "chargerEmail", "chargerOthbcAt", "updtDt", "useAt",
)  # fmt: skip

# ISO 3166-1 alpha-2, officially assigned codes. EU usage (EL for Greece, UK) is not ISO and is refused.
_ISO_CODES = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT
    BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH
    ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT
    HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS
    LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI
    NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG
    SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG
    UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
"""
ISO_COUNTRIES = frozenset(_ISO_CODES.split())


def _json(
    status: int, payload: Any, content_type: str = "application/json", headers: dict[str, str] | None = None
) -> Response:
    """A JSON answer. A lone surrogate the site holds (put there through /_admin, as hostile-input tests do) goes
    out as a JSON escape ("\\ud800" is valid JSON, never valid UTF-8), as a platform that stores such text writes
    it, instead of failing to encode."""
    try:
        return Response.json(status, payload, content_type, headers)
    except UnicodeEncodeError:
        body = json.dumps(payload, separators=(",", ":")).encode("ascii")
        return Response(status, body, content_type, dict(headers or {}))


# -- ForeignCluster validation: an error message per problem, "field: reason" --------------------------

_TEXT_LIMITS: dict[str, tuple[int, int | None]] = {
    "extrlId": (1, 100),
    "clstrEngNm": (1, 300),
    "clstrNm": (0, 300),
    "acrnm": (0, 64),
    "natnNm": (0, None),
    "rgnNm": (0, None),
    "ctyNm": (0, None),
    "indutyNm": (0, None),
    "ksicCd": (0, None),
    "ecsysNm": (0, None),
    "hmpgUrl": (0, 500),
    "intrcn": (0, 8000),
    "intrcnLang": (0, None),
    "cprtnIntrstCn": (0, None),
    "cprtnNatnCd": (0, None),
    "chargerNm": (0, None),
    "chargerEmail": (0, None),
    "chargerTelno": (0, None),
}
_INTEGERS: dict[str, int | None] = {"mberCo": 0, "smeCo": 0, "rsrchInsttCo": 0, "estblYear": None}
# The fields of ForeignCluster, in the contract's order: a stored item keeps these and nothing else.
FOREIGN_FIELDS = (
    "extrlId", "srcSysCd", "clstrEngNm", "clstrNm", "acrnm", "natnCd", "natnNm", "rgnNm", "ctyNm", "indutyNm",
    "ksicCd", "ecsysNm", "mberCo", "smeCo", "rsrchInsttCo", "estblYear", "hmpgUrl", "intrcn", "intrcnLang",
    "cprtnIntrstCn", "cprtnNatnCd", "qlityLblNm", "chargerNm", "chargerEmail", "chargerTelno", "srcUpdtDt",
)  # fmt: skip
_REQUIRED = ("extrlId", "srcSysCd", "clstrEngNm", "natnCd", "srcUpdtDt")
_UNSAFE_HTML = re.compile(r"<\s*(script|style)\b|\bon[a-z]+\s*=|javascript\s*:", re.IGNORECASE)


def validate_foreign(item: Mapping[str, Any]) -> list[str]:
    """What is wrong with one batch item, as 'field: reason' messages (empty when it can be stored)."""
    problems = [f"{name}: required" for name in _REQUIRED if name not in item]
    for name, (low, high) in _TEXT_LIMITS.items():
        value = item.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            problems.append(f"{name}: must be a string")
        elif len(value) < low:
            problems.append(f"{name}: must not be empty")
        elif high is not None and len(value) > high:
            problems.append(f"{name}: longer than {high} characters")
    for name, minimum in _INTEGERS.items():
        value = item.get(name)
        if value is None and name not in item:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{name}: must be an integer")
        elif minimum is not None and value < minimum:
            problems.append(f"{name}: must be {minimum} or more")
    if "srcSysCd" in item and item["srcSysCd"] != "ECCP":
        problems.append("srcSysCd: must be ECCP")
    country = item.get("natnCd")
    if "natnCd" in item and not (isinstance(country, str) and re.fullmatch(r"[A-Z]{2}", country)):
        problems.append("natnCd: must be two capital letters")
    elif isinstance(country, str) and country not in ISO_COUNTRIES:
        problems.append("natnCd: unknown country code")
    if item.get("qlityLblNm", "") not in {"", "gold", "silver", "bronze"}:
        problems.append("qlityLblNm: must be one of '', gold, silver, bronze")
    if "srcUpdtDt" in item and not _is_aware_datetime(item["srcUpdtDt"]):
        problems.append("srcUpdtDt: must be an ISO 8601 date-time with an offset")
    intrcn = item.get("intrcn")
    if isinstance(intrcn, str) and _UNSAFE_HTML.search(intrcn):
        problems.append("intrcn: unsafe HTML (script, style, event handler or javascript: link)")
    return problems


def _is_aware_datetime(value: Any) -> bool:
    try:
        return isinstance(value, str) and datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def kst_stamp(timestamp: float) -> str:
    """Unix seconds → 'yyyyMMddHHmmss' in Korea Standard Time."""
    return datetime.fromtimestamp(timestamp, KST).strftime(KST_FORMAT)


def _as_string(value: Any) -> str:
    return "" if value is None else str(value)


class GatewayError(Exception):
    """A data.go.kr gateway error: HTTP 200, XML, whatever type was asked for."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    def response(self) -> Response:
        root = ET.Element("OpenAPI_ServiceResponse")
        header = ET.SubElement(root, "cmmMsgHeader")
        ET.SubElement(header, "errMsg").text = "SERVICE ERROR"
        ET.SubElement(header, "returnAuthMsg").text = GATEWAY_REASONS[self.code]
        ET.SubElement(header, "returnReasonCode").text = self.code
        return Response(200, _xml_bytes(root), "text/xml;charset=UTF-8")


class IngestError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}

    def response(self) -> Response:
        body = {"errorCode": self.code, "errorMessage": self.message}
        return _json(self.status, body, JSON_TYPE, self.headers)


def _xml_bytes(root: ET.Element) -> bytes:
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' + body


class KicoxSimulator(Simulator):
    """KICOX: Korean clusters read through the open-data service, European mirrors written through ingest."""

    platform: ClassVar[str] = "kicox"
    default_port: ClassVar[int] = 8082
    fault_keys: ClassVar[frozenset[str]] = Simulator.fault_keys | {"gateway", "gateway99", "xml", "quota"}

    def __init__(
        self,
        seed: Mapping[str, Any] | None = None,
        faults: FaultSpec | None = None,
        *,
        service_key: str = "demo/key+with=chars",
        api_key: str = "demo-api-key",
        daily_quota: int | None = None,
        string_counts: bool = True,
        clock: Clock | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.service_key = service_key
        self.api_key = api_key
        # numOfRows/pageNo/totalCount as strings, as data.go.kr writes them; False gives the contract's integers
        self.string_counts = string_counts
        self._daily_quota = daily_quota
        self._quota_used = 0
        self._quota_day: date | None = None
        self._clusters: dict[str, dict[str, str]] = {}
        self._foreign: dict[str, JSON] = {}
        self._next_foreign = 1
        self._empty_listing = False
        self._extra_items: list[Any] = []  # raw elements added to the first page of the listing (hostile input)
        self._refused: frozenset[str] = frozenset()
        super().__init__(faults, clock=clock, log=log)
        self.load(load_default_seed(self.platform) if seed is None else seed)

    # -- in-process state --------------------------------------------------------------------------------

    def load(self, seed: Mapping[str, Any]) -> None:
        """Add the clusters (and optionally stored foreign clusters) of a seed document."""
        for cluster in seed.get("clusters", []):
            self._put_cluster(str(cluster["clstrId"]), cluster)
        with self._lock:
            for item in seed.get("foreign", []):
                self._store_foreign(dict(item))

    def clusters(self) -> list[JSON]:
        """Every Korean cluster (withdrawn ones too), in listing order."""
        with self._lock:
            return [dict(c) for c in sorted(self._clusters.values(), key=_listing_key)]

    def foreign(self) -> list[JSON]:
        """Every stored foreign cluster with its frgnClstrId and updtDt, by extrlId."""
        with self._lock:
            return [dict(self._foreign[k]) for k in sorted(self._foreign)]

    @property
    def daily_quota(self) -> int | None:
        return self._daily_quota

    def set_quota(self, daily_quota: int | None, *, reset_used: bool = True) -> None:
        with self._lock:
            self._daily_quota = daily_quota
            if reset_used:
                self._quota_used = 0

    def quota_state(self) -> JSON:
        with self._lock:
            return {"daily_quota": self._daily_quota, "used": self._quota_used}

    def set_faults(self, spec: FaultSpec) -> None:
        super().set_faults(spec)
        if spec.quota is not None:
            self.set_quota(spec.quota, reset_used=False)

    def _put_cluster(self, clstr_id: str, fields: Mapping[str, Any], *, replace: bool = True) -> JSON:
        with self._lock:
            base = {} if replace else dict(self._clusters.get(clstr_id, {}))
            base.update({k: _as_string(v) for k, v in fields.items()})
            base["clstrId"] = clstr_id
            base.setdefault("useAt", "Y")
            if not base.get("updtDt"):
                base["updtDt"] = kst_stamp(self.now())
            ordered = {k: base[k] for k in KOREAN_FIELDS if k in base}
            ordered.update({k: v for k, v in base.items() if k not in ordered})
            self._clusters[clstr_id] = ordered
            return dict(ordered)

    def _store_foreign(self, item: JSON) -> tuple[str, JSON]:
        """Upsert one valid item: (created|updated|unchanged, the stored item)."""
        extrl_id = item["extrlId"]
        stored = self._foreign.get(extrl_id)
        new = {k: item[k] for k in FOREIGN_FIELDS if k in item}
        if stored is not None:
            current = {k: v for k, v in stored.items() if k not in {"frgnClstrId", "updtDt"}}
            if current == new:
                return "unchanged", stored
            status, frgn_id = "updated", stored["frgnClstrId"]
        else:
            status, frgn_id = "created", f"FC-{self._next_foreign:06d}"
            self._next_foreign += 1
        stamp = datetime.fromtimestamp(int(self.now()), KST).isoformat(timespec="seconds")
        self._foreign[extrl_id] = {**new, "frgnClstrId": frgn_id, "updtDt": stamp}
        return status, self._foreign[extrl_id]

    # -- faults ------------------------------------------------------------------------------------------

    def _fault_scope(self, request: Request) -> frozenset[str]:
        if request.path == READ_PATH:
            extra = {"gateway", "gateway99", "xml"} if _wants_json(request) else {"gateway", "gateway99"}
            return BASE_FAULTS | extra
        return BASE_FAULTS

    def _extra_fault(self, kind: str, request: Request) -> Response:
        if kind == "gateway":
            return GatewayError(self.random_choice(RETRYABLE_GATEWAY_CODES)).response()
        if kind == "gateway99":
            return GatewayError("99").response()
        try:
            return self._read(request, force_xml=True)  # "xml": type=json not honoured
        except GatewayError as error:
            return error.response()

    def _too_many(self, request: Request, retry_after: int) -> Response:
        headers = {"Retry-After": str(retry_after)}
        if request.path.startswith(FOREIGN_PATH):
            return IngestError(429, "E429", "too many requests", headers).response()
        return Response(429, b"<html><body><h1>429 Too Many Requests</h1></body></html>", "text/html", headers)

    def _unavailable(self, request: Request, retry_after: int) -> Response:
        headers = {"Retry-After": str(retry_after)}
        if request.path.startswith(FOREIGN_PATH):
            return IngestError(503, "E503", "service under maintenance", headers).response()
        return Response(503, b"<html><body><h1>503 Service Unavailable</h1></body></html>", "text/html", headers)

    # -- the API -----------------------------------------------------------------------------------------

    def _api(self, request: Request) -> Response:
        try:
            if request.path == READ_PATH:
                return self._read(request)
            if request.path.startswith("/openapi/"):
                raise GatewayError("12")
            if request.path == FOREIGN_PATH or request.path.startswith(FOREIGN_PATH + "/"):
                return self._ingest(request)
            raise IngestError(404, "E404", f"no such path {request.path}")
        except GatewayError as error:
            return error.response()
        except IngestError as error:
            return error.response()

    def _check_service_key(self, request: Request) -> None:
        """The key must arrive URL-encoded exactly once: decoded once it must equal the issued key."""
        for part in request.raw_query.split("&"):
            name, sep, raw = part.partition("=")
            if sep and name == "serviceKey":
                if unquote_plus(raw) == self.service_key:
                    return
                break
        raise GatewayError("30")

    def _spend_quota(self) -> None:
        today = datetime.fromtimestamp(self.now(), KST).date()
        with self._lock:
            if self._quota_day != today:  # the daily quota renews at midnight KST
                self._quota_day, self._quota_used = today, 0
            self._quota_used += 1
            if self._daily_quota is not None and self._quota_used > self._daily_quota:
                raise GatewayError("22")

    def _read(self, request: Request, *, force_xml: bool = False) -> Response:
        if request.method != "GET":
            raise GatewayError("12")
        self._check_service_key(request)
        self._spend_quota()
        params = request.query()
        rows = min(_positive(params.get("numOfRows"), DEFAULT_ROWS, GatewayError("10")), MAX_ROWS)
        page_no = _positive(params.get("pageNo"), 1, GatewayError("10"))
        since = params.get("modDtFrom", "")
        if since and not _is_kst_stamp(since):
            raise GatewayError("10")
        with self._lock:
            matching = sorted(
                (c for c in self._clusters.values() if not since or c.get("updtDt", "") >= since), key=_listing_key
            )
            if self._empty_listing:
                matching = []
            page: list[Any] = [dict(c) for c in matching[(page_no - 1) * rows : page_no * rows]]
            total = len(matching)
            if page_no == 1 and self._extra_items:
                page += copy.deepcopy(self._extra_items)
        if _wants_json(request) and not force_xml:
            return self._json_envelope(page, rows, page_no, total)
        return self._xml_envelope(page, rows, page_no, total)

    def _count(self, value: int) -> str | int:
        return str(value) if self.string_counts else value

    def _json_envelope(self, page: list[Any], rows: int, page_no: int, total: int) -> Response:
        items: Any = "" if not page else {"item": page[0] if len(page) == 1 else page}
        envelope = {
            "response": {
                "header": {"resultCode": "00", "resultMsg": "NORMAL SERVICE."},
                "body": {
                    "items": items,
                    "numOfRows": self._count(rows),
                    "pageNo": self._count(page_no),
                    "totalCount": self._count(total),
                },
            }
        }
        return _json(200, envelope, JSON_TYPE)

    def _xml_envelope(self, page: list[Any], rows: int, page_no: int, total: int) -> Response:
        root = ET.Element("response")
        header = ET.SubElement(root, "header")
        ET.SubElement(header, "resultCode").text = "00"
        ET.SubElement(header, "resultMsg").text = "NORMAL SERVICE."
        body = ET.SubElement(root, "body")
        items = ET.SubElement(body, "items")
        for cluster in page:
            item = ET.SubElement(items, "item")
            if not isinstance(cluster, dict):
                item.text = json.dumps(cluster)  # a hostile element injected by a test, as text
                continue
            for name, value in cluster.items():
                ET.SubElement(item, name).text = value if isinstance(value, str) else json.dumps(value)
        for name, value in (("numOfRows", rows), ("pageNo", page_no), ("totalCount", total)):
            ET.SubElement(body, name).text = str(value)
        return Response(200, _xml_bytes(root), XML_TYPE)

    # -- partner ingest ----------------------------------------------------------------------------------

    def _ingest(self, request: Request) -> Response:
        if request.path == f"{FOREIGN_PATH}/batch" and len(request.body) > MAX_BATCH_BYTES:
            raise IngestError(413, "E413", "request body over 2 MiB")
        if request.headers.get("X-API-Key") != self.api_key:
            raise IngestError(401, "E401", "missing or unknown X-API-Key")
        if request.path == f"{FOREIGN_PATH}/batch":
            if request.method != "POST":
                raise IngestError(405, "E405", "use POST", {"Allow": "POST"})
            return self._batch(request)
        if request.path == FOREIGN_PATH:
            if request.method != "GET":
                raise IngestError(405, "E405", "use GET", {"Allow": "GET"})
            return self._foreign_list(request)
        extrl_id = unquote(request.path.removeprefix(FOREIGN_PATH + "/"))
        if request.method != "DELETE":
            raise IngestError(405, "E405", "use DELETE", {"Allow": "DELETE"})
        with self._lock:
            if self._foreign.pop(extrl_id, None) is None:
                raise IngestError(404, "E404", "foreign cluster not stored")
        return Response.empty(204)

    def _batch(self, request: Request) -> Response:
        try:
            body = request.json()
        except ValueError:
            raise IngestError(400, "E400", "the body is not JSON") from None
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
            raise IngestError(400, "E400", f"items must be a list of 1 to {MAX_BATCH} foreign clusters")
        results: list[JSON] = []
        with self._lock:
            for item in items:
                if not isinstance(item, dict):
                    results.append(_item_error("", ["item: must be an object"]))
                    continue
                problems = validate_foreign(item)
                if _as_string(item.get("extrlId")) in self._refused:
                    problems.append("clstrEngNm: refused by the platform's moderation")
                if problems:
                    results.append(_item_error(_as_string(item.get("extrlId")), problems))
                    continue
                status, stored = self._store_foreign(item)
                results.append({"extrlId": stored["extrlId"], "status": status, "frgnClstrId": stored["frgnClstrId"]})
        return _json(200, {"results": results}, JSON_TYPE)

    def _foreign_list(self, request: Request) -> Response:
        params = request.query()
        bad = IngestError(400, "E400", "pageNo and numOfRows must be positive integers")
        page_no = _positive(params.get("pageNo"), 1, bad)
        rows = min(_positive(params.get("numOfRows"), DEFAULT_FOREIGN_ROWS, bad), MAX_FOREIGN_ROWS)
        source = params.get("srcSysCd")
        with self._lock:
            matching = [self._foreign[k] for k in sorted(self._foreign)]
            if source:
                matching = [f for f in matching if f.get("srcSysCd") == source]
            page = [dict(f) for f in matching[(page_no - 1) * rows : page_no * rows]]
        body = {"items": page, "totalCount": len(matching), "pageNo": page_no, "numOfRows": rows}
        return _json(200, body, JSON_TYPE)

    # -- admin -------------------------------------------------------------------------------------------

    def _admin(self, request: Request, parts: list[str]) -> Response:
        match (request.method, parts):
            case ("GET", ["clusters"]):
                return _json(200, {"clusters": self.clusters()})
            case ("GET", ["clusters", clstr_id]):
                with self._lock:
                    found = self._clusters.get(clstr_id)
                if found is None:
                    raise AdminError(404, f"no cluster {clstr_id}")
                return _json(200, dict(found))
            case ("PUT", ["clusters", clstr_id]):
                return _json(200, self._put_cluster(clstr_id, admin_body(request)))
            case ("PATCH", ["clusters", clstr_id]):
                return self._admin_edit_cluster(clstr_id, admin_body(request))
            case ("POST", ["clusters", clstr_id, "withdraw"]):
                return self._admin_edit_cluster(clstr_id, {"useAt": "N"})
            case ("DELETE", ["clusters", clstr_id]):
                with self._lock:
                    if self._clusters.pop(clstr_id, None) is None:
                        raise AdminError(404, f"no cluster {clstr_id}")
                return Response.empty(204)
            case ("GET", ["foreign"]):
                return _json(200, {"items": self.foreign()})
            case ("PATCH", ["foreign", extrl_id]):
                return self._admin_edit_foreign(extrl_id, admin_body(request))
            case ("DELETE", ["foreign", extrl_id]):
                with self._lock:
                    if self._foreign.pop(extrl_id, None) is None:
                        raise AdminError(404, f"no foreign cluster {extrl_id}")
                return Response.empty(204)
            case ("POST", ["listing"]):
                body = admin_body(request)
                extra = body.get("extra") or []
                self._empty_listing = bool(body.get("empty", False))
                self._extra_items = list(extra) if isinstance(extra, list) else [extra]
                return _json(200, {"empty": self._empty_listing, "extra": self._extra_items})
            case ("GET", ["listing"]):
                return _json(200, {"empty": self._empty_listing, "extra": self._extra_items})
            case ("POST", ["refuse"]):
                self._refused = frozenset(str(x) for x in admin_body(request).get("extrl_ids") or [])
                return _json(200, {"extrl_ids": sorted(self._refused)})
            case ("GET", ["quota"]):
                return _json(200, self.quota_state())
            case ("POST", ["quota"]):
                body = admin_body(request)
                quota = body.get("daily_quota", self._daily_quota)
                if quota is not None and (isinstance(quota, bool) or not isinstance(quota, int) or quota < 0):
                    raise AdminError(400, "daily_quota must be a non-negative integer or null")
                self.set_quota(quota, reset_used=bool(body.get("reset_used", False)))
                return _json(200, self.quota_state())
        raise AdminError(404, f"no admin route {request.method} {request.path}")

    def _admin_edit_cluster(self, clstr_id: str, fields: JSON) -> Response:
        """An edit on the Korean site: fields change and updtDt moves to now (unless given)."""
        with self._lock:
            if clstr_id not in self._clusters:
                raise AdminError(404, f"no cluster {clstr_id}")
            fields.setdefault("updtDt", kst_stamp(self.now()))
            return _json(200, self._put_cluster(clstr_id, fields, replace=False))

    def _admin_edit_foreign(self, extrl_id: str, fields: JSON) -> Response:
        """Someone on the Korean site tampers with a mirror."""
        with self._lock:
            stored = self._foreign.get(extrl_id)
            if stored is None:
                raise AdminError(404, f"no foreign cluster {extrl_id}")
            stored.update({k: v for k, v in fields.items() if k not in {"extrlId", "frgnClstrId"}})
            if "updtDt" not in fields:
                stored["updtDt"] = datetime.fromtimestamp(int(self.now()), KST).isoformat(timespec="seconds")
            return _json(200, dict(stored))


def _item_error(extrl_id: str, problems: list[str]) -> JSON:
    return {"extrlId": extrl_id, "status": "error", "errorCode": "E422", "errorMessage": "; ".join(problems)}


def _listing_key(cluster: Mapping[str, str]) -> tuple[str, str]:
    return cluster.get("updtDt", ""), cluster.get("clstrId", "")


def _wants_json(request: Request) -> bool:
    params = request.query()
    return (params.get("type") or params.get("_type") or "").lower() == "json"


def _positive(raw: str | None, default: int, error: Exception) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise error from None
    if value < 1:
        raise error
    return value


def _is_kst_stamp(value: str) -> bool:
    if not re.fullmatch(r"[0-9]{14}", value):
        return False
    try:
        datetime.strptime(value, KST_FORMAT)
    except ValueError:
        return False
    return True
