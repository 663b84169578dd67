"""The ECCP simulator: Drupal JSON:API over node--cluster_organisation with OAuth2 client credentials,
as `contracts/eccp.openapi.yaml` describes it, habits included (page cap 50, shared `changed` seconds,
unpublished profiles still listed, 403 on natives, 409 on duplicate mirrors, 422 with source.pointer).
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import re
import secrets
import uuid as uuidlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit

from clusterbridge.simulators.base import (
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

MEDIA_TYPE = "application/vnd.api+json"
RESOURCE_TYPE = "node--cluster_organisation"
COLLECTION = "/jsonapi/node/cluster_organisation"
NATIVE_ORIGIN = "eccp"
PAGE_LIMIT = 50
JSONAPI_META = {"version": "1.0", "meta": {"links": {"self": {"href": "http://jsonapi.org/format/1.0/"}}}}

# Every attribute of ClusterAttributes, in the contract's order, with what an unset one serialises as.
ATTRIBUTE_DEFAULTS: dict[str, Any] = {
    "drupal_internal__nid": None,
    "title": "",
    "field_acronym": None,
    "status": True,
    "created": None,
    "changed": None,
    "langcode": "en",
    "field_description": None,
    "field_website": None,
    "field_country": "",
    "field_nuts_region": None,
    "field_region_name": None,
    "field_city": None,
    "field_year_established": None,
    "field_members_sme": None,
    "field_members_large": None,
    "field_members_research": None,
    "field_members_other": None,
    "field_ecosystems": [],
    "field_sectors": [],
    "field_technologies": [],
    "field_nace_codes": [],
    "field_esca_label": None,
    "field_cooperation_interest": None,
    "field_contact": None,
    "field_origin": NATIVE_ORIGIN,
    "field_external_id": None,
    "field_source_changed": None,
    "field_original_language": None,
}
READ_ONLY = frozenset({"drupal_internal__nid", "created", "changed"})
REQUIRED = ("title", "field_country", "field_origin")

SORTABLE = frozenset({"changed", "created", "drupal_internal__nid", "title", "field_origin", "field_external_id"})
FILTERABLE = frozenset(
    {"changed", "created", "drupal_internal__nid", "status", "field_origin", "field_external_id", "field_country"}
)
NUMERIC = frozenset({"changed", "created", "drupal_internal__nid"})
OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "<>": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}
_FILTER_KEY = re.compile(r"^filter\[([^\]]+)\]((?:\[[^\]]+\])*)$")


def iso_seconds(timestamp: int) -> str:
    """Unix seconds → '2026-10-15T09:30:00+00:00', as Drupal serialises `changed`."""
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def parse_timestamp(value: Any) -> int:
    """An ISO 8601 string (naive means UTC) or unix seconds → unix seconds."""
    if isinstance(value, bool):
        raise ValueError("not a timestamp")
    if isinstance(value, int | float):
        return int(value)
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


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


# -- attribute validation: (sub-pointer, message) pairs, "" being the attribute itself ------------------

Problems = list[tuple[str, str]]
Check = Callable[[Any], Problems]


def _text(*, nullable: bool = True, min_len: int = 0, max_len: int | None = None, pattern: str | None = None) -> Check:
    def check(value: Any) -> Problems:
        if value is None:
            return [] if nullable else [("", "This value should not be null.")]
        if not isinstance(value, str):
            return [("", "This value should be of the correct primitive type (string).")]
        if len(value) < min_len:
            return [("", "This value should not be blank." if min_len == 1 else f"at least {min_len} characters")]
        if max_len is not None and len(value) > max_len:
            return [("", f"This value is too long. It should have {max_len} characters or less.")]
        if pattern is not None and not re.fullmatch(pattern, value):
            return [("", f"This value is not valid (expected {pattern}).")]
        return []

    return check


def _integer(*, minimum: int) -> Check:
    def check(value: Any) -> Problems:
        if value is None:
            return []
        if isinstance(value, bool) or not isinstance(value, int):
            return [("", "This value should be of the correct primitive type (integer).")]
        if value < minimum:
            return [("", f"This value should be {minimum} or more.")]
        return []

    return check


def _boolean(value: Any) -> Problems:
    return [] if isinstance(value, bool) else [("", "This value should be of the correct primitive type (boolean).")]


def _terms(value: Any) -> Problems:
    if not isinstance(value, list):
        return [("", "This value should be a list of terms.")]
    return [(f"/{i}", "A term should be a string.") for i, term in enumerate(value) if not isinstance(term, str)]


def _enum(*options: str | None) -> Check:
    def check(value: Any) -> Problems:
        return [] if value in options else [("", f"The value you selected is not a valid choice: {value!r}.")]

    return check


def _datetime(value: Any) -> Problems:
    if value is None:
        return []
    try:
        if not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is None:
            raise ValueError
    except ValueError:
        return [("", "This value should be an ISO 8601 date-time with an offset.")]
    return []


def _http_uri(value: Any) -> Problems:
    if isinstance(value, str):
        split = urlsplit(value)
        if split.scheme in {"http", "https"} and split.netloc:
            return []
    return [("", "The URL must be an absolute http or https URL.")]


def _email(value: Any) -> Problems:
    if isinstance(value, str) and (value == "" or re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value)):
        return []
    return [("", "This value is not a valid email address.")]


def _compound(properties: Mapping[str, Check], *, required: tuple[str, ...] = ()) -> Check:
    """A nullable object field whose listed properties are checked (others are ignored, as Drupal does)."""

    def check(value: Any) -> Problems:
        if value is None:
            return []
        if not isinstance(value, dict):
            return [("", "This value should be an object.")]
        problems: Problems = [(f"/{name}", "This value should not be null.") for name in required if name not in value]
        for name, sub_check in properties.items():
            if name in value:
                problems += [(f"/{name}{sub}", message) for sub, message in sub_check(value[name])]
        return problems

    return check


def _list_of(item: Check) -> Check:
    def check(value: Any) -> Problems:
        if not isinstance(value, list):
            return [("", "This value should be a list.")]
        return [(f"/{i}{sub}", message) for i, element in enumerate(value) for sub, message in item(element)]

    return check


_STRING = _text(nullable=False)
_COUNTRY = _text(nullable=False, pattern=r"[A-Z]{2}")
_COUNT = _integer(minimum=0)
CHECKS: dict[str, Check] = {
    "title": _text(nullable=False, min_len=1, max_len=255),
    "field_acronym": _text(max_len=64),
    "status": _boolean,
    "langcode": _STRING,
    "field_description": _compound(
        {"value": _STRING, "format": _enum("basic_html", "plain_text")}, required=("value",)
    ),
    "field_website": _compound({"uri": _http_uri, "title": _text()}, required=("uri",)),
    "field_country": _COUNTRY,
    "field_nuts_region": _text(),
    "field_region_name": _text(),
    "field_city": _text(),
    "field_year_established": _integer(minimum=1900),
    "field_members_sme": _COUNT,
    "field_members_large": _COUNT,
    "field_members_research": _COUNT,
    "field_members_other": _COUNT,
    "field_ecosystems": _terms,
    "field_sectors": _terms,
    "field_technologies": _terms,
    "field_nace_codes": _terms,
    "field_esca_label": _enum("gold", "silver", "bronze", None),
    "field_cooperation_interest": _compound(
        {"seeking": _STRING, "offering": _STRING, "target_countries": _list_of(_COUNTRY)}
    ),
    "field_contact": _compound({"name": _STRING, "email": _email, "phone": _STRING, "public": _boolean}),
    "field_origin": _text(nullable=False, min_len=1),
    "field_external_id": _text(),
    "field_source_changed": _datetime,
    "field_original_language": _text(),
}


def validate_attributes(attributes: Mapping[str, Any], *, partial: bool) -> Problems:
    """Problems of a create (partial=False) or update body's attributes, as (pointer, message)."""
    problems: Problems = []
    for name, value in attributes.items():
        pointer = f"/data/attributes/{name}"
        if name in READ_ONLY:
            problems.append((pointer, f"The current user is not allowed to set the read-only field {name}."))
            continue
        check = CHECKS.get(name)
        if check is None:
            problems.append((pointer, f"The attribute {name} does not exist on the {RESOURCE_TYPE} resource type."))
            continue
        problems += [(pointer + sub, message) for sub, message in check(value)]
    if not partial:
        problems += [
            (f"/data/attributes/{name}", "This value should not be null.")
            for name in REQUIRED
            if name not in attributes
        ]
    return problems


class JsonApiError(Exception):
    """An error answer in the JSON:API errors format."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        pointer: str | None = None,
        meta: JSON | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.errors = [_error(status, detail, pointer, meta)]
        self.headers = headers or {}

    @classmethod
    def many(cls, status: int, problems: Problems) -> JsonApiError:
        error = cls(status, problems[0][1], pointer=problems[0][0])
        error.errors = [_error(status, message, pointer, None) for pointer, message in problems]
        return error

    def response(self) -> Response:
        return _json(self.status, {"jsonapi": JSONAPI_META, "errors": self.errors}, MEDIA_TYPE, self.headers)


def _error(status: int, detail: str, pointer: str | None, meta: JSON | None) -> JSON:
    error: JSON = {"status": str(status), "title": HTTPStatus(status).phrase, "detail": detail}
    if pointer is not None:
        error["source"] = {"pointer": pointer}
    if meta is not None:
        error["meta"] = meta
    return error


@dataclass
class _Record:
    id: str
    nid: int
    created: int
    changed: int
    attributes: dict[str, Any]  # everything but nid, created and changed

    @property
    def origin(self) -> Any:
        return self.attributes.get("field_origin", NATIVE_ORIGIN)

    def value(self, name: str) -> Any:
        if name == "drupal_internal__nid":
            return self.nid
        if name in {"created", "changed"}:
            return self.created if name == "created" else self.changed
        return self.attributes.get(name, ATTRIBUTE_DEFAULTS.get(name))

    def serialise(self) -> JSON:
        attributes = {name: self.attributes.get(name, default) for name, default in ATTRIBUTE_DEFAULTS.items()}
        attributes.update(
            drupal_internal__nid=self.nid, created=iso_seconds(self.created), changed=iso_seconds(self.changed)
        )
        # attributes an editor (admin) added beyond the contract still show, as extra fields do on Drupal
        attributes.update({k: v for k, v in self.attributes.items() if k not in attributes})
        return {"type": RESOURCE_TYPE, "id": self.id, "attributes": attributes}


@dataclass
class _ListingSwitch:
    """Listing habits a test turns on: dropped pages, a wrong count, raw elements at the start of every listing
    not bounded by `changed` (how hostile input reaches a client: they fill pages and count like records), and a
    record edited right after a given page is served (an edit while a client pages)."""

    drop_pages: frozenset[int] = frozenset()
    count_offset: int = 0
    extra: tuple[Any, ...] = ()
    touch_after_page: int | None = None
    touch: str | None = None


class EccpSimulator(Simulator):
    """ECCP's cluster directory: natives (field_origin "eccp") and partner mirrors, one content type."""

    platform: ClassVar[str] = "eccp"
    default_port: ClassVar[int] = 8081

    def __init__(
        self,
        seed: Mapping[str, Any] | None = None,
        faults: FaultSpec | None = None,
        *,
        client_id: str = "demo-client",
        client_secret: str = "demo-secret",  # noqa: S107 - the simulator's published demo credential
        partner_code: str = "kicox",
        token_ttl: int = 300,
        clock: Clock | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(faults, clock=clock, log=log)
        self.client_id = client_id
        self.client_secret = client_secret
        self.partner_code = partner_code
        self.token_ttl = token_ttl
        self._records: dict[str, _Record] = {}
        self._tokens: dict[str, float] = {}
        self._next_nid = 1
        self._listing = _ListingSwitch()
        self._refused: frozenset[str] = frozenset()
        self.load(load_default_seed(self.platform) if seed is None else seed)

    # -- in-process state --------------------------------------------------------------------------------

    def load(self, seed: Mapping[str, Any]) -> None:
        """Add the records of a seed document ({"data": [{"id", "attributes"}]}), keeping their nid/changed."""
        now = int(self.now())
        with self._lock:
            for resource in seed.get("data", []):
                attributes = dict(resource.get("attributes") or {})
                nid = attributes.pop("drupal_internal__nid", None)
                changed = parse_timestamp(attributes.pop("changed", now))
                created = parse_timestamp(attributes.pop("created", changed))
                nid = int(nid) if nid is not None else self._next_nid
                record = _Record(str(resource.get("id") or uuidlib.uuid4()), nid, created, changed, attributes)
                self._records[record.id] = record
                self._next_nid = max(self._next_nid, nid + 1)

    def records(self) -> list[JSON]:
        """Every resource (natives, mirrors, unpublished), as the API serialises it, by nid."""
        with self._lock:
            return [r.serialise() for r in sorted(self._records.values(), key=lambda r: r.nid)]

    def record(self, uuid: str) -> JSON | None:
        with self._lock:
            found = self._records.get(uuid)
            return found.serialise() if found else None

    def expire_tokens(self) -> None:
        """Every issued token stops working (the client must fetch a new one)."""
        with self._lock:
            self._tokens.clear()

    def _new_record(self, attributes: dict[str, Any], uuid: str | None = None) -> _Record:
        now = int(self.now())
        record = _Record(uuid or str(uuidlib.uuid4()), self._next_nid, now, now, attributes)
        self._next_nid += 1
        self._records[record.id] = record
        return record

    def _find_mirror(self, origin: Any, external_id: Any) -> _Record | None:
        for record in self._records.values():
            if record.origin == origin and record.attributes.get("field_external_id") == external_id:
                return record
        return None

    # -- faults ------------------------------------------------------------------------------------------

    def _fault_scope(self, request: Request) -> frozenset[str]:
        # the token endpoint only goes down for deployments; every other fault is the API's
        if request.path == "/oauth/token":
            return frozenset({"error503"})
        return super()._fault_scope(request)

    def _is_write(self, request: Request) -> bool:
        return request.path != "/oauth/token" and super()._is_write(request)

    def _too_many(self, request: Request, retry_after: int) -> Response:
        return JsonApiError(429, "Too many requests: slow down.", headers={"Retry-After": str(retry_after)}).response()

    def _unavailable(self, request: Request, retry_after: int) -> Response:
        return JsonApiError(503, "The site is under maintenance.", headers={"Retry-After": str(retry_after)}).response()

    # -- the API -----------------------------------------------------------------------------------------

    def _api(self, request: Request) -> Response:
        try:
            return self._route(request)
        except JsonApiError as error:
            return error.response()

    def _route(self, request: Request) -> Response:
        if request.path == "/oauth/token":
            if request.method != "POST":
                raise JsonApiError(405, "Use POST.", headers={"Allow": "POST"})
            return self._token(request)
        if not request.path.startswith("/jsonapi/"):
            raise JsonApiError(404, f"No route found for {request.path}.")
        self._authorise(request)
        parts = request.segments()
        if parts[:3] != ["jsonapi", "node", "cluster_organisation"] or len(parts) > 4:
            raise JsonApiError(404, f"No route found for {request.path}.")
        if len(parts) == 3:
            if request.method == "GET":
                return self._list(request)
            if request.method == "POST":
                return self._create(request)
            raise JsonApiError(405, "Method not allowed.", headers={"Allow": "GET, POST"})
        uuid = parts[3]
        if request.method == "GET":
            return self._document(200, self._get(uuid))
        if request.method == "PATCH":
            return self._patch(request, uuid)
        if request.method == "DELETE":
            return self._delete(uuid)
        raise JsonApiError(405, "Method not allowed.", headers={"Allow": "GET, PATCH, DELETE"})

    def _token(self, request: Request) -> Response:
        form = dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "basic":
            try:
                client_id, _, client_secret = base64.b64decode(credentials).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                client_id = client_secret = None
        if form.get("grant_type") != "client_credentials":
            return _json(400, {"error": "unsupported_grant_type", "error_description": "Use client_credentials."})
        if client_id != self.client_id or client_secret != self.client_secret:
            return _json(401, {"error": "invalid_client", "error_description": "Client authentication failed."})
        token = secrets.token_urlsafe(32)
        now = self.now()
        with self._lock:
            self._tokens = {t: expiry for t, expiry in self._tokens.items() if expiry > now}
            self._tokens[token] = now + self.token_ttl
        return _json(
            200,
            {"access_token": token, "token_type": "Bearer", "expires_in": self.token_ttl},
            headers={"Cache-Control": "no-store"},
        )

    def _authorise(self, request: Request) -> None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise JsonApiError(401, "No authentication credentials provided.", headers={"WWW-Authenticate": "Bearer"})
        with self._lock:
            expiry = self._tokens.get(token.strip())
        if expiry is None or expiry <= self.now():
            raise JsonApiError(
                401,
                "The access token is invalid or has expired.",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )

    def _get(self, uuid: str) -> _Record:
        found = self._records.get(uuid)
        if found is None:
            raise JsonApiError(404, f"The {RESOURCE_TYPE} resource {uuid} does not exist.")
        return found

    def _document(self, status: int, record: _Record) -> Response:
        resource = record.serialise()
        href = f"{self.url}{COLLECTION}/{record.id}"
        resource["links"] = {"self": {"href": href}}
        document = {"jsonapi": JSONAPI_META, "data": resource, "links": {"self": {"href": href}}}
        headers = {"Location": href} if status == 201 else None
        return _json(status, document, MEDIA_TYPE, headers)

    # -- listing -----------------------------------------------------------------------------------------

    def _list(self, request: Request) -> Response:
        pairs = request.query_pairs()
        params = dict(pairs)
        tests = _filters(pairs)
        sort_keys = _sort(params.get("sort"))
        offset = _integer_param(params, "page[offset]", 0, minimum=0)
        limit = min(_integer_param(params, "page[limit]", PAGE_LIMIT, minimum=1), PAGE_LIMIT)
        with self._lock:
            rows = [r for r in self._records.values() if all(test(r) for test in tests)]
            for name, descending in reversed(sort_keys):  # stable sorts, last key first
                rows.sort(key=_sort_key(name), reverse=descending)
            # raw elements open a listing that is not bounded by `changed` (they have no time to be bounded by),
            # filling its pages like records and counted like them
            listing: list[Any] = [*self._listing.extra, *rows] if not _bounds_changed(pairs) else list(rows)
            total = len(listing)
            page = listing[offset : offset + limit]
            page_no = offset // limit + 1
            if page_no in self._listing.drop_pages:
                page = []  # the truncation switch: this page silently loses its records
            data: list[Any] = [r.serialise() if isinstance(r, _Record) else copy.deepcopy(r) for r in page]
            count = total + self._listing.count_offset
            touch = self._listing.touch
            if self._listing.touch_after_page == page_no and touch in self._records:
                self._records[touch].changed = int(self.now())
                self._listing = replace(self._listing, touch_after_page=None)
        for resource in data:
            if isinstance(resource, dict) and "id" in resource and "links" not in resource:
                resource["links"] = {"self": {"href": f"{self.url}{COLLECTION}/{resource['id']}"}}
        links: JSON = {
            "self": {"href": self.url + request.path + (f"?{request.raw_query}" if request.raw_query else "")}
        }
        if offset + limit < total:
            following = [(k, v) for k, v in pairs if k not in {"page[offset]", "page[limit]"}]
            following += [("page[offset]", str(offset + limit)), ("page[limit]", str(limit))]
            links["next"] = {"href": f"{self.url}{request.path}?{urlencode(following)}"}
        document = {"jsonapi": JSONAPI_META, "data": data, "links": links, "meta": {"count": count}}
        return _json(200, document, MEDIA_TYPE)

    # -- writes ------------------------------------------------------------------------------------------

    def _body(self, request: Request) -> tuple[JSON, JSON]:
        """(data, attributes) of a write body, after the media type and shape checks."""
        if request.media_type != MEDIA_TYPE:
            raise JsonApiError(415, f"The request's Content-Type must be {MEDIA_TYPE}.")
        try:
            document = request.json()
        except ValueError:
            raise JsonApiError(400, "The request body is not valid JSON.") from None
        data = document.get("data") if isinstance(document, dict) else None
        if not isinstance(data, dict):
            raise JsonApiError(400, "The request body must be a JSON:API document with a data object.")
        if data.get("type") != RESOURCE_TYPE:
            raise JsonApiError(422, f"The resource type must be {RESOURCE_TYPE}.", pointer="/data/type")
        attributes = data.get("attributes", {})
        if not isinstance(attributes, dict):
            raise JsonApiError(422, "attributes must be an object.", pointer="/data/attributes")
        return data, attributes

    def _check_origin(self, attributes: JSON) -> None:
        origin = attributes.get("field_origin", self.partner_code)
        if isinstance(origin, str) and origin != self.partner_code:
            raise JsonApiError(
                403,
                f"A partner may only write profiles whose field_origin is {self.partner_code!r}.",
                pointer="/data/attributes/field_origin",
            )

    def _create(self, request: Request) -> Response:
        data, attributes = self._body(request)
        self._check_origin(attributes)
        problems = validate_attributes(attributes, partial=False)
        client_id = data.get("id")
        if client_id is not None and not _is_uuid(client_id):
            problems.append(("/data/id", "The id must be a UUID."))
        if attributes.get("field_external_id") in self._refused:
            problems.append(("/data/attributes/title", "This profile is refused by the site's moderation."))
        if problems:
            raise JsonApiError.many(422, problems)
        with self._lock:
            external_id = attributes.get("field_external_id")
            existing = self._records.get(client_id) if client_id else None
            if existing is None and external_id is not None:
                existing = self._find_mirror(attributes["field_origin"], external_id)
            if existing is not None:
                raise JsonApiError(
                    409,
                    f"A profile with field_origin {attributes['field_origin']!r} and field_external_id "
                    f"{external_id!r} already exists.",
                    pointer="/data/attributes/field_external_id",
                    meta={"id": existing.id},
                )
            record = self._new_record(dict(attributes), client_id)
            return self._document(201, record)

    def _patch(self, request: Request, uuid: str) -> Response:
        data, attributes = self._body(request)
        with self._lock:
            record = self._get(uuid)
            if record.origin != self.partner_code:
                raise JsonApiError(403, "Native profiles are not writable by partners.")
            self._check_origin(attributes)
            problems = validate_attributes(attributes, partial=True)
            if record.attributes.get("field_external_id") in self._refused:
                problems.append(("/data/attributes/title", "This profile is refused by the site's moderation."))
            if data.get("id") != uuid:
                problems.append(("/data/id", "The id must be the id of the resource in the URL."))
            if problems:
                raise JsonApiError.many(422, problems)
            external_id = attributes.get("field_external_id", record.attributes.get("field_external_id"))
            clash = self._find_mirror(self.partner_code, external_id) if external_id is not None else None
            if clash is not None and clash.id != uuid:
                raise JsonApiError(
                    409,
                    f"Another profile already has field_external_id {external_id!r}.",
                    pointer="/data/attributes/field_external_id",
                    meta={"id": clash.id},
                )
            record.attributes.update(attributes)
            # Drupal stamps the request second: a write in the same second as the last leaves it unchanged
            record.changed = int(self.now())
            return self._document(200, record)

    def _delete(self, uuid: str) -> Response:
        with self._lock:
            record = self._get(uuid)
            if record.origin != self.partner_code:
                raise JsonApiError(403, "Native profiles are not deletable by partners.")
            del self._records[uuid]
        return Response.empty(204)

    # -- admin -------------------------------------------------------------------------------------------

    def _admin(self, request: Request, parts: list[str]) -> Response:
        match (request.method, parts):
            case ("GET", ["records"]):
                return _json(200, {"data": self.records()})
            case ("GET", ["records", uuid]):
                found = self.record(uuid)
                if found is None:
                    raise AdminError(404, f"no record {uuid}")
                return _json(200, {"data": found})
            case ("PUT", ["records", uuid]):
                return self._admin_put(uuid, _admin_attributes(request))
            case ("PATCH", ["records", uuid]):
                return self._admin_edit(uuid, _admin_attributes(request))
            case ("DELETE", ["records", uuid]):
                with self._lock:
                    if self._records.pop(uuid, None) is None:
                        raise AdminError(404, f"no record {uuid}")
                return Response.empty(204)
            case ("POST", ["records", uuid, "unpublish" | "publish" as action]):
                return self._admin_edit(uuid, {"status": action == "publish"})
            case ("POST", ["refuse"]):
                body = admin_body(request)
                self._refused = frozenset(str(x) for x in body.get("external_ids") or [])
                return _json(200, {"external_ids": sorted(self._refused)})
            case ("POST", ["listing"]):
                body = admin_body(request)
                extra = body.get("extra") or []
                touch = body.get("touch_after_page")
                try:
                    self._listing = _ListingSwitch(
                        frozenset(int(p) for p in body.get("drop_pages") or []), int(body.get("count_offset") or 0),
                        tuple(extra) if isinstance(extra, list) else (extra,),
                        int(touch["page"]) if isinstance(touch, dict) else None,
                        str(touch["uuid"]) if isinstance(touch, dict) else None,
                    )
                except (TypeError, ValueError, KeyError):
                    raise AdminError(400, "drop_pages must be page numbers, count_offset an integer, extra a list "
                                          "and touch_after_page {page, uuid}") from None
                return _json(200, self._listing_state())
            case ("GET", ["listing"]):
                return _json(200, self._listing_state())
            case ("POST", ["tokens", "expire"]):
                self.expire_tokens()
                return _json(200, {"expired": True})
        raise AdminError(404, f"no admin route {request.method} {request.path}")

    def _listing_state(self) -> JSON:
        return {"drop_pages": sorted(self._listing.drop_pages), "count_offset": self._listing.count_offset,
                "extra": list(self._listing.extra), "touch_after_page": self._listing.touch_after_page}

    def _admin_put(self, uuid: str, attributes: JSON) -> Response:
        """Create or replace a profile as an editor would (no validation: bad records are allowed on purpose)."""
        attributes.setdefault("field_origin", NATIVE_ORIGIN)
        attributes.pop("drupal_internal__nid", None)
        created = attributes.pop("created", None)
        changed = attributes.pop("changed", None)
        with self._lock:
            existing = self._records.get(uuid)
            if existing is None:
                record = self._new_record(attributes, uuid)
                status = 201
            else:
                existing.attributes = attributes
                existing.changed = int(self.now())
                record, status = existing, 200
            if created is not None:
                record.created = _admin_timestamp(created)
            if changed is not None:
                record.changed = _admin_timestamp(changed)
            return _json(status, {"data": record.serialise()})

    def _admin_edit(self, uuid: str, attributes: JSON) -> Response:
        """Edit any profile (a native, or a mirror tampered with on the site), bumping `changed`."""
        changed = attributes.pop("changed", None)
        attributes.pop("drupal_internal__nid", None)
        attributes.pop("created", None)
        with self._lock:
            record = self._records.get(uuid)
            if record is None:
                raise AdminError(404, f"no record {uuid}")
            record.attributes.update(attributes)
            record.changed = _admin_timestamp(changed) if changed is not None else int(self.now())
            return _json(200, {"data": record.serialise()})


def _admin_attributes(request: Request) -> JSON:
    attributes = admin_body(request).get("attributes")
    if not isinstance(attributes, dict):
        raise AdminError(400, 'the body must be {"attributes": {...}}')
    return attributes


def _admin_timestamp(value: Any) -> int:
    try:
        return parse_timestamp(value)
    except (TypeError, ValueError):
        raise AdminError(400, f"not a timestamp: {value!r}") from None


def _is_uuid(value: Any) -> bool:
    try:
        uuidlib.UUID(str(value))
    except ValueError:
        return False
    return isinstance(value, str)


def _integer_param(params: Mapping[str, str], name: str, default: int, *, minimum: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise JsonApiError(400, f"{name} must be an integer.") from None
    if value < minimum:
        raise JsonApiError(400, f"{name} must be {minimum} or more.")
    return value


def _sort(raw: str | None) -> list[tuple[str, bool]]:
    if not raw:
        return [("drupal_internal__nid", False)]
    keys = []
    for part in raw.split(","):
        name = part.strip().removeprefix("-")
        if name not in SORTABLE:
            raise JsonApiError(400, f"Sorting by {name!r} is not supported.")
        keys.append((name, part.strip().startswith("-")))
    return keys


def _sort_key(name: str) -> Callable[[_Record], tuple[bool, Any]]:
    def key(record: _Record) -> tuple[bool, Any]:
        value = record.value(name)
        return (value is None, value if value is not None else 0)

    return key


def _filters(pairs: list[tuple[str, str]]) -> list[Callable[[_Record], bool]]:
    """Drupal's filter syntax: filter[field]=v, filter[field][value]=v and the condition form
    filter[label][condition][path|operator|value]."""
    groups: dict[str, dict[str, str]] = {}
    for key, value in pairs:
        if not key.startswith("filter["):
            continue
        match = _FILTER_KEY.match(key)
        if match is None:
            raise JsonApiError(400, f"Malformed filter parameter {key}.")
        label, rest = match.groups()
        groups.setdefault(label, {})[rest] = value
    tests: list[Callable[[_Record], bool]] = []
    for label, parts in groups.items():
        if "[condition][path]" in parts:
            path = parts["[condition][path]"]
            operator = parts.get("[condition][operator]", "=")
            raw = parts.get("[condition][value]")
        else:
            path, operator = label, parts.get("[operator]", "=")
            raw = parts.get("", parts.get("[value]"))
        if path not in FILTERABLE:
            raise JsonApiError(400, f"Filtering on {path!r} is not supported.")
        if operator not in OPERATORS:
            raise JsonApiError(400, f"The filter operator {operator!r} is not supported.")
        if raw is None:
            raise JsonApiError(400, f"The filter {label} has no value.")
        tests.append(_filter_test(path, OPERATORS[operator], _filter_value(path, raw)))
    return tests


def _bounds_changed(pairs: list[tuple[str, str]]) -> bool:
    """True when the query filters on `changed` (filter[changed]… or a condition whose path is changed)."""
    for key, value in pairs:
        if key.startswith("filter[changed]"):
            return True
        if key.startswith("filter[") and key.endswith("[condition][path]") and value == "changed":
            return True
    return False


def _filter_value(path: str, raw: str) -> Any:
    if path in NUMERIC:
        try:
            return int(raw)
        except ValueError:
            raise JsonApiError(400, f"The filter on {path} needs an integer (unix seconds).") from None
    if path == "status":
        return raw.lower() in {"1", "true"}
    return raw


def _filter_test(path: str, compare: Callable[[Any, Any], bool], expected: Any) -> Callable[[_Record], bool]:
    def test(record: _Record) -> bool:
        actual = record.value(path)
        if actual is None:
            return False
        try:
            return compare(actual, expected)
        except TypeError:
            return False

    return test
