"""Settings: the environment names of DESIGN.md, plus per-deployment files found by one rule.

Where a setting comes from: the environment or a `.env` file; a secret (and the database URL, which may hold a
password) may instead come from a file, named by `CLUSTERBRIDGE_<NAME>_FILE` or found in the folder
`CLUSTERBRIDGE_SECRETS_DIR` under the variable's own name, as Docker and Kubernetes mount secrets (one trailing
newline is dropped). A setting given by two of these sources is a configuration error, as is a file that
cannot be read. An unknown `CLUSTERBRIDGE_*` variable is not an error, but it is reported by name with the
closest known one (`unknown_variables`), because a typo would otherwise pass unseen.

Defaults of `connectors/*.toml` and the data of `mappings/` ship inside the package (a wheel carries them
under `clusterbridge/_defaults/`); in a source checkout they are read from the top-level folders.
`CLUSTERBRIDGE_CONFIG_DIR` may point at a folder whose files override them: a TOML settings file there is
merged over the default key by key (nested tables too; an array replaces the default's whole), a CSV mapping
replaces the default file whole.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

import structlog
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from clusterbridge.errors import ConfigurationError

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parents[1]
PREFIX = "CLUSTERBRIDGE_"
log = structlog.get_logger(__name__)

# settings that may come from a file: every secret, the client ids that travel with them, and the database
# URL (it may carry a password)
FILE_SETTINGS = (
    "database_url",
    "eccp_client_id",
    "eccp_client_secret",
    "kicox_service_key",
    "kicox_api_key",
    "deepl_api_key",
    "papago_client_id",
    "papago_client_secret",
    "libretranslate_api_key",
)
# variables the test suite reads; known, so never reported as typos
TEST_VARIABLES = frozenset({"CLUSTERBRIDGE_TEST_POSTGRES_URL"})
TEST_PREFIXES = ("CLUSTERBRIDGE_REQUIRE_",)

WEEK_MINUTES = 7 * 24 * 60
YEAR_HOURS = 365 * 24


def variable(field: str) -> str:
    """The environment variable of a setting (`eccp_base_url` → `CLUSTERBRIDGE_ECCP_BASE_URL`)."""
    return f"{PREFIX}{field.upper()}"


def check_http_url(value: str) -> str:
    """`value` as an absolute http(s) URL with a host, stripped of surrounding blanks; ValueError saying what is
    wrong otherwise. A URL with a user name or password is refused: credentials have their own variables."""
    url = value.strip()
    shown = repr(url) if "@" not in url else "(a URL with credentials, not shown)"
    if not url:
        raise ValueError("is empty")
    if any(ch.isspace() for ch in url):
        raise ValueError(f"{shown} contains blanks")
    if "://" not in url:
        raise ValueError(f"{shown} has no scheme: write it as http://{url} or https://{url}")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{shown} is not a URL ({exc})") from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(f"{shown}: the scheme must be http or https, not {parts.scheme!r}")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not carry a user name or password (credentials have their own variables)")
    if not parts.hostname:
        raise ValueError(f"{shown} names no host")
    if port == 0:
        raise ValueError(f"{shown}: port 0 cannot be reached")
    if parts.query or parts.fragment:
        raise ValueError(f"{shown}: a base URL carries no query or fragment")
    return url


def _readable_dir(path: Path) -> Path:
    """`path` when it is a folder this user may read; ValueError saying what it is otherwise."""
    path = path.expanduser()
    if not path.exists():
        raise ValueError(f"{path}: no such folder")
    if not path.is_dir():
        raise ValueError(f"{path} is not a folder")
    if not os.access(path, os.R_OK | os.X_OK):
        raise ValueError(f"{path}: this user may not read that folder")
    return path


def _error_text(err: Mapping[str, Any]) -> str:
    # pydantic prefixes the message of a ValueError raised in a validator; the variable name says enough
    return str(err["msg"]).removeprefix("Value error, ")


class Settings(BaseSettings):
    """Everything the environment (or a `.env` file, or a secret file) can set. Secrets are SecretStr: never
    printed. Numbers are finite and bounded to what makes sense (no infinite or NaN interval)."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, env_file=".env", extra="ignore", allow_inf_nan=False)

    database_url: str = "sqlite:///clusterbridge.db"
    eccp_base_url: str | None = None
    eccp_client_id: str | None = None
    eccp_client_secret: SecretStr | None = None
    kicox_base_url: str | None = None
    kicox_service_key: SecretStr | None = None
    kicox_api_key: SecretStr | None = None
    log_format: Literal["console", "json"] = "console"
    log_level: Literal["debug", "info", "warning", "error", "critical"] = "info"
    config_dir: Path | None = None
    # the container image sets this: a ledger that would vanish with the container is refused
    # (see `check_ledger_location`)
    require_database_url: bool = False

    # partner suggestions: keep the partner_suggestions table current after each run that changed a native, and
    # (off by default) show each mirror's top three possible partners on the platform where it is shown
    suggestions: bool = True
    publish_suggestions: bool = False
    # a folder of secret files named like the variables (read by _SecretFiles below, kept here to be known)
    secrets_dir: Path | None = None

    # which connector serves each side (connectors/sides.toml names the default)
    eu_connector: str | None = None
    kr_connector: str | None = None

    # scheduling (daemon): at least every week, at most every six seconds
    sync_interval_minutes: float = Field(default=15, ge=0.1, le=WEEK_MINUTES)
    full_reconcile_hours: float = Field(default=24, ge=0.1, le=YEAR_HOURS)

    # the daemon's /healthz, /readyz and /metrics
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=9464, ge=0, le=65535)
    # /readyz turns 503 once a direction has been failing longer than this
    ready_max_failing_minutes: float = Field(default=60, ge=0.1, le=30 * 24 * 60)

    # guard rails
    listing_min_ratio: float = Field(default=0.8, ge=0, le=1)
    delete_max_count: int = Field(default=10, ge=0)
    delete_max_share: float = Field(default=0.05, ge=0, le=1)
    update_budget_count: int = Field(default=50, ge=0)
    update_budget_share: float = Field(default=0.2, ge=0, le=1)

    # free-text translation: "none" keeps the original text with its language tag; "libretranslate" is a
    # server the operator runs, so no text leaves their machines
    translator: Literal["none", "deepl", "papago", "libretranslate"] = "none"
    deepl_api_key: SecretStr | None = None
    deepl_base_url: str = "https://api-free.deepl.com"
    papago_client_id: str | None = None
    papago_client_secret: SecretStr | None = None
    papago_base_url: str = "https://papago.apigw.ntruss.com"
    libretranslate_url: str | None = None
    libretranslate_api_key: SecretStr | None = None
    # characters one sync run may send to the provider (cached texts are free); the rest keep their
    # originals and are translated on later runs. 0 sends nothing: translation pauses, the cache still serves
    translate_max_chars: int = Field(default=50_000, ge=0)

    @field_validator("log_format", "log_level", mode="before")
    @classmethod
    def _lower_case(cls, value: object) -> object:
        # operators write INFO, Info or info alike
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("eccp_base_url", "kicox_base_url", "config_dir", "secrets_dir", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # an empty variable is no setting (an empty base URL leaves the connector file's, as it always has)
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("eccp_base_url", "kicox_base_url", "deepl_base_url", "papago_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        return None if value is None else check_http_url(value)

    @field_validator("config_dir", "secrets_dir")
    @classmethod
    def _folder(cls, value: Path | None) -> Path | None:
        return None if value is None else _readable_dir(value)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # pydantic's own secrets_dir source is replaced by _SecretFiles, which also reads *_FILE variables
        return init_settings, env_settings, dotenv_settings, _SecretFiles(settings_cls, init_settings, env_settings,
                                                                          dotenv_settings)


class _SecretFiles(PydanticBaseSettingsSource):
    """Secrets read from files: `CLUSTERBRIDGE_<NAME>_FILE`, or `<CLUSTERBRIDGE_SECRETS_DIR>/CLUSTERBRIDGE_<NAME>`
    (the name in any letter case). Sees what the other sources were given, to refuse a setting given twice."""

    def __init__(self, settings_cls: type[BaseSettings], init: PydanticBaseSettingsSource,
                 env: PydanticBaseSettingsSource, dotenv: PydanticBaseSettingsSource) -> None:
        super().__init__(settings_cls)
        self._init = init.init_kwargs if isinstance(init, InitSettingsSource) else {}
        # keys are lower-case (settings are case-insensitive); the environment wins over .env, as for values
        self._vars: dict[str, str | None] = {}
        for source in (dotenv, env):
            if isinstance(source, EnvSettingsSource):
                self._vars.update(source.env_vars)

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # everything happens in __call__, which sees all fields at once

    def __call__(self) -> dict[str, Any]:
        folder = self._init.get("secrets_dir") or self._vars.get("clusterbridge_secrets_dir")
        in_folder = _secret_folder(Path(folder)) if folder else {}
        found: dict[str, Any] = {}
        for field in FILE_SETTINGS:
            if field in self._init:
                continue  # given in code (tests): that is the value
            name = variable(field)
            named = self._vars.get(f"{name}_FILE".lower())
            sources = [s for s, present in ((name, name.lower() in self._vars), (f"{name}_FILE", named is not None),
                                            (str(in_folder.get(name)), name in in_folder)) if present]
            if len(sources) > 1:
                raise ConfigurationError(f"{name} is given more than once ({', '.join(sources)}): keep one of them")
            if named is not None:
                found[field] = _read_secret(Path(named), f"{name}_FILE")
            elif name in in_folder:
                found[field] = _read_secret(in_folder[name], f"{PREFIX}SECRETS_DIR")
        return found


def _secret_folder(folder: Path) -> dict[str, Path]:
    """The files of the secrets folder by upper-cased name (entries that are not files are ignored)."""
    try:
        checked = _readable_dir(folder)
        entries = [p for p in checked.iterdir() if p.is_file()]
    except (ValueError, OSError) as exc:
        raise ConfigurationError(f"{PREFIX}SECRETS_DIR: {exc}") from exc
    files: dict[str, Path] = {}
    for path in sorted(entries):
        key = path.name.upper()
        if key in files:
            raise ConfigurationError(f"{PREFIX}SECRETS_DIR: {files[key].name} and {path.name} name the same setting")
        files[key] = path
    return files


def _read_secret(path: Path, source: str) -> str:
    """The file's text without its trailing newline; a ConfigurationError naming the file and where it was
    named when it cannot be read or is empty."""
    try:
        text = path.expanduser().read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigurationError(f"{source}: {path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise ConfigurationError(f"{source}: {path} cannot be read ({reason})") from exc
    value = text.rstrip("\r\n")
    if not value.strip():
        raise ConfigurationError(f"{source}: {path} is empty")
    return value


def load_settings() -> Settings:
    """Read the environment once, turning a bad value into a ConfigurationError that names its variable."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{variable('_'.join(str(p) for p in err['loc']))}: {_error_text(err)}" for err in exc.errors()
        )
        raise ConfigurationError(f"invalid configuration: {problems}") from exc


# where a SQLite ledger would be lost with its container: the container's own root file system, or memory
_EPHEMERAL_FS = frozenset({"tmpfs", "ramfs"})
_PERSISTENT_HINT = "a PostgreSQL URL, or a SQLite file on a mounted volume such as sqlite:////data/clusterbridge.db"


def check_ledger_location(settings: Settings, mountinfo: str | None = None) -> None:
    """Refuse a ledger that would be lost with its container, when CLUSTERBRIDGE_REQUIRE_DATABASE_URL is on.

    The image turns it on, because a forgotten CLUSTERBRIDGE_DATABASE_URL would otherwise sync happily into a
    SQLite file inside the container and lose the ledger (links, cursors, quarantine) at the next deploy, after
    which every mirror would be created again. PostgreSQL is always accepted; SQLite only in a file on a mounted
    volume, told from `/proc/self/mountinfo` (`mountinfo` replaces it in tests). Raises ConfigurationError
    with one line that says what to set.
    """
    if not settings.require_database_url:
        return
    try:
        url = make_url(settings.database_url)
    except ArgumentError:
        return  # not a URL at all: the engine says so when it is opened
    if url.get_backend_name() != "sqlite":
        return
    if "database_url" not in settings.model_fields_set:
        raise ConfigurationError(
            "CLUSTERBRIDGE_DATABASE_URL is not set, and this container requires it (CLUSTERBRIDGE_REQUIRE_DATABASE_URL"
            f"=1): the default SQLite ledger would be lost with the container; set it to {_PERSISTENT_HINT}"
        )
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        raise ConfigurationError(
            "CLUSTERBRIDGE_DATABASE_URL is an in-memory SQLite database, lost at every exit; "
            f"set it to {_PERSISTENT_HINT}"
        )
    if mountinfo is None:
        try:
            mountinfo = Path("/proc/self/mountinfo").read_text(encoding="utf-8")
        except OSError:
            return  # no way to tell where the file lives: an explicit path is taken as the operator's choice
    path = Path(database.removeprefix("file:").split("?", 1)[0]).resolve()
    mount = _mount_of(path, mountinfo)
    if mount is None or mount[0] == Path("/") or mount[1] in _EPHEMERAL_FS:
        in_memory = mount is not None and mount[1] in _EPHEMERAL_FS
        where = "in memory (tmpfs)" if in_memory else "in the container's own file system"
        raise ConfigurationError(
            f"the SQLite ledger {path} lies {where} and would be lost with the container; mount a volume at "
            f"{path.parent} or set CLUSTERBRIDGE_DATABASE_URL to {_PERSISTENT_HINT}"
        )


def _mount_of(path: Path, mountinfo: str) -> tuple[Path, str] | None:
    """The mount point holding `path` and its file-system type, from the text of /proc/self/mountinfo (the
    deepest mount point wins; of two at one place, the later line, which is the one on top)."""
    best: tuple[Path, str] | None = None
    for line in mountinfo.splitlines():
        fields = line.split(" ")
        if "-" not in fields[6:]:
            continue
        separator = fields.index("-", 6)
        if len(fields) <= separator + 1:
            continue
        point = Path(_unescape(fields[4]))
        if path.is_relative_to(point) and (best is None or len(point.parts) >= len(best[0].parts)):
            best = (point, fields[separator + 1])
    return best


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash in paths as octal escapes (\\040 for a space)."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)
def known_variables() -> frozenset[str]:
    """Every CLUSTERBRIDGE_* name the service (or its test suite) reads."""
    names = {variable(f) for f in Settings.model_fields}
    names.update(f"{variable(f)}_FILE" for f in FILE_SETTINGS)
    return frozenset(names | TEST_VARIABLES)


@dataclass(frozen=True)
class UnknownVariable:
    """A CLUSTERBRIDGE_* variable nothing reads, and the known name it most resembles (None when none does)."""

    name: str
    suggestion: str | None

    def __str__(self) -> str:
        hint = f" (did you mean {self.suggestion}?)" if self.suggestion else ""
        return f"{self.name} is not a clusterbridge setting and is ignored{hint}"


def unknown_variables(
    environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
) -> list[UnknownVariable]:
    """The CLUSTERBRIDGE_* names of the environment and the `.env` file that no setting reads."""
    names: set[str] = {k.upper() for k in (os.environ if environ is None else environ)}
    if env_file is not None:
        names.update(k.upper() for k in DotEnvSettingsSource(Settings, env_file=env_file).env_vars)
    known = known_variables()
    unknown = sorted(n for n in names if n.startswith(PREFIX) and n not in known and not n.startswith(TEST_PREFIXES))
    return [UnknownVariable(n, next(iter(difflib.get_close_matches(n, known, n=1, cutoff=0.75)), None))
            for n in unknown]


def warn_unknown_variables(found: Iterable[UnknownVariable] | None = None) -> None:
    """One structlog warning per unknown variable (call it once logging is configured)."""
    for unknown in unknown_variables() if found is None else found:
        log.warning("config.unknown_variable", variable=unknown.name, did_you_mean=unknown.suggestion,
                    note="ignored: no setting has this name")


# --- per-deployment files -------------------------------------------------------------------------------

Kind = Literal["connectors", "mappings"]


def default_dir(kind: Literal["connectors", "mappings", "migrations"]) -> Path:
    """The shipped folder of `kind`: inside an installed wheel, else the source checkout's."""
    packaged = _PACKAGE / "_defaults" / kind
    if packaged.is_dir():
        return packaged
    checkout = _CHECKOUT / kind
    if checkout.is_dir():
        return checkout
    raise ConfigurationError(f"the {kind}/ folder is missing from this installation ({packaged})")


def _override(kind: Kind, name: str, settings: Settings | None) -> Path | None:
    """`<config dir>/<kind>/<name>` or `<config dir>/<name>`, when there is one."""
    root = settings.config_dir if settings is not None else None
    if root is None:
        return None
    for candidate in (root / kind / name, root / name):
        if candidate.is_file():
            if not os.access(candidate, os.R_OK):
                raise ConfigurationError(f"{variable('config_dir')}: {candidate}: this user may not read it")
            return candidate
    return None


def find_file(kind: Kind, name: str, settings: Settings | None = None) -> Path:
    """The whole file `name`: from CLUSTERBRIDGE_CONFIG_DIR (as `<dir>/<kind>/<name>` or `<dir>/<name>`), else
    the default. CSV mappings are read this way; TOML settings files merge with `load_toml` instead."""
    override = _override(kind, name, settings)
    if override is not None:
        return override
    path = default_dir(kind) / name
    if not path.is_file():
        root = settings.config_dir if settings is not None else None
        raise ConfigurationError(f"{kind}/{name} not found (looked in {root or '-'} and {path.parent})")
    return path


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigurationError(f"{path} cannot be read ({exc.strerror or type(exc).__name__})") from exc


def merge_tables(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`override`'s keys over `base`'s: tables merge key by key, at any depth; any other value (arrays too)
    replaces the base's."""
    merged = dict(base)
    for key, value in override.items():
        below = merged.get(key)
        merged[key] = merge_tables(below, value) if isinstance(below, dict) and isinstance(value, dict) else value
    return merged


@dataclass(frozen=True)
class TomlFile:
    """A TOML settings file as the service reads it: the shipped default with the override's keys merged in."""

    data: dict[str, Any]
    default: Path | None
    override: Path | None

    @property
    def where(self) -> str:
        """The files it was read from, for messages."""
        return " over ".join(str(p) for p in (self.override, self.default) if p is not None)

    def origin(self, key: str) -> str:
        """The file a top-level key was read from (the override when it sets the key)."""
        if self.override is not None and key in read_toml(self.override):
            return str(self.override)
        return str(self.default or self.override)


def load_toml(kind: Kind, name: str, settings: Settings | None = None) -> TomlFile:
    """The TOML settings file `name` of `kind`: the default merged with the override of CLUSTERBRIDGE_CONFIG_DIR
    (either may be absent, not both)."""
    default = default_dir(kind) / name
    base = default if default.is_file() else None
    override = _override(kind, name, settings)
    if base is None and override is None:
        root = settings.config_dir if settings is not None else None
        raise ConfigurationError(f"{kind}/{name} not found (looked in {root or '-'} and {default.parent})")
    data = read_toml(base) if base is not None else {}
    if override is not None:
        data = merge_tables(data, read_toml(override))
    return TomlFile(data, base, override)


class HttpSettings(BaseModel):
    """Settings every HTTP connector shares; each connector extends it with its own paths and limits. Every
    number is finite."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    base_url: str
    rate_limit: float = Field(ge=0.01, description="requests per second the client never exceeds")
    timeout: float = Field(default=20.0, gt=0, description="seconds for any one request")
    connect_timeout: float = Field(default=5.0, gt=0)
    max_attempts: int = Field(default=6, ge=1)
    max_retry_seconds: float = Field(default=120.0, gt=0, description="total time spent retrying one call")
    backoff_initial: float = Field(default=0.5, gt=0)
    backoff_max: float = Field(default=30.0, gt=0)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return check_http_url(value)


T = TypeVar("T", bound=HttpSettings)


def connector_settings(
    name: str, model: type[T], settings: Settings, overrides: dict[str, Any] | None = None
) -> T:
    """Build a connector's settings from `connectors/<name>.toml` (default merged with override), the
    environment's base URL and `overrides`, naming the file (or variable) and field on error."""
    source = load_toml("connectors", f"{name}.toml", settings)
    data = dict(source.data)
    env_url = getattr(settings, f"{name}_base_url", None)
    if env_url:
        data["base_url"] = env_url
    data.update(overrides or {})
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = str(err["loc"][0]) if err["loc"] else ""
            where = (variable(f"{name}_base_url") if key == "base_url" and env_url
                     else "overrides" if key in (overrides or {}) else source.origin(key))
            problems.append(f"{where}: {'.'.join(str(p) for p in err['loc'])}: {_error_text(err)}")
        raise ConfigurationError("; ".join(problems)) from exc
