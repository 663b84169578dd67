"""Settings: the environment names of DESIGN.md, plus per-deployment files found by one rule.

Defaults of `connectors/*.toml` and the data of `mappings/` ship inside the package (a wheel carries them
under `clusterbridge/_defaults/`); in a source checkout they are read from the top-level folders.
`CLUSTERBRIDGE_CONFIG_DIR` may point at a folder whose files override them, file by file.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from clusterbridge.errors import ConfigurationError

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parents[1]


class Settings(BaseSettings):
    """Everything the environment (or a `.env` file) can set. Secrets are SecretStr: never printed."""

    model_config = SettingsConfigDict(env_prefix="CLUSTERBRIDGE_", env_file=".env", extra="ignore")

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

    # which connector serves each side (connectors/sides.toml names the default)
    eu_connector: str | None = None
    kr_connector: str | None = None

    # scheduling (daemon)
    sync_interval_minutes: float = Field(default=15, gt=0)
    full_reconcile_hours: float = Field(default=24, gt=0)

    # the daemon's /healthz, /readyz and /metrics
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=9464, ge=0, le=65535)
    # /readyz turns 503 once a direction has been failing longer than this
    ready_max_failing_minutes: float = Field(default=60, gt=0)

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


def load_settings() -> Settings:
    """Read the environment once, turning a bad value into a ConfigurationError that names it."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"CLUSTERBRIDGE_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in exc.errors()
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


def default_dir(kind: Literal["connectors", "mappings", "migrations"]) -> Path:
    """The shipped folder of `kind`: inside an installed wheel, else the source checkout's."""
    packaged = _PACKAGE / "_defaults" / kind
    if packaged.is_dir():
        return packaged
    checkout = _CHECKOUT / kind
    if checkout.is_dir():
        return checkout
    raise ConfigurationError(f"the {kind}/ folder is missing from this installation ({packaged})")


def find_file(kind: Literal["connectors", "mappings"], name: str, settings: Settings | None = None) -> Path:
    """`name` from CLUSTERBRIDGE_CONFIG_DIR (as `<dir>/<kind>/<name>` or `<dir>/<name>`), else the default."""
    override_root = settings.config_dir if settings is not None else None
    if override_root is not None:
        for candidate in (override_root / kind / name, override_root / name):
            if candidate.is_file():
                return candidate
    path = default_dir(kind) / name
    if not path.is_file():
        raise ConfigurationError(f"{kind}/{name} not found (looked in {override_root or '-'} and {path.parent})")
    return path


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path}: not valid TOML: {exc}") from exc


class HttpSettings(BaseModel):
    """Settings every HTTP connector shares; each connector extends it with its own paths and limits."""

    model_config = ConfigDict(extra="forbid")

    base_url: str
    rate_limit: float = Field(gt=0, description="requests per second the client never exceeds")
    timeout: float = Field(default=20.0, gt=0, description="seconds for any one request")
    connect_timeout: float = Field(default=5.0, gt=0)
    max_attempts: int = Field(default=6, ge=1)
    max_retry_seconds: float = Field(default=120.0, gt=0, description="total time spent retrying one call")
    backoff_initial: float = Field(default=0.5, gt=0)
    backoff_max: float = Field(default=30.0, gt=0)


T = TypeVar("T", bound=HttpSettings)


def connector_settings(
    name: str, model: type[T], settings: Settings, overrides: dict[str, Any] | None = None
) -> T:
    """Build a connector's settings from `connectors/<name>.toml`, the environment's base URL and
    `overrides`, naming the file and field on error."""
    path = find_file("connectors", f"{name}.toml", settings)
    data = read_toml(path)
    env_url = getattr(settings, f"{name}_base_url", None)
    if env_url:
        data["base_url"] = env_url
    data.update(overrides or {})
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigurationError(f"{path}: {problems}") from exc
