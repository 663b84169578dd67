"""Settings: what a bad value says, where secrets may come from, unknown variables, and override files that merge
with the shipped defaults key by key."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from structlog.testing import capture_logs

from clusterbridge.config import (
    FILE_SETTINGS,
    Settings,
    connector_settings,
    default_dir,
    load_settings,
    load_toml,
    merge_tables,
    unknown_variables,
    warn_unknown_variables,
)
from clusterbridge.connectors.eccp.connector import EccpSettings
from clusterbridge.errors import ConfigurationError
from clusterbridge.mapping.data import load_data
from clusterbridge.sides import load_bridge

Env = Callable[..., None]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Env:
    """A clean CLUSTERBRIDGE_* environment in an empty working directory (no stray .env); call it to set
    variables by their full names."""
    for name in list(os.environ):
        if name.upper().startswith("CLUSTERBRIDGE_"):
            monkeypatch.delenv(name)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)

    def set_(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_


def config_error() -> str:
    """The message load_settings gives for the environment as the test set it."""
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    return str(caught.value)


class TestBaseUrls:
    """A malformed or unsupported base URL is a configuration error at start-up that names the variable."""

    @pytest.mark.parametrize(
        ("value", "says"),
        [
            ("htp://eccp.example.eu", "scheme must be http or https, not 'htp'"),
            ("ftp://eccp.example.eu", "scheme must be http or https, not 'ftp'"),
            ("localhost:8081", "has no scheme: write it as http://localhost:8081"),
            ("http://eccp example.eu", "contains blanks"),
            ("http://", "names no host"),
            ("http://eccp.example.eu:99999", "not a URL"),
            ("https://eccp.example.eu/?a=1", "no query"),
        ],
    )
    def test_bad_url_names_the_variable_and_the_problem(self, env: Env, value: str, says: str) -> None:
        env(CLUSTERBRIDGE_ECCP_BASE_URL=value)
        message = config_error()
        assert "CLUSTERBRIDGE_ECCP_BASE_URL" in message
        assert says in message

    def test_each_url_setting_is_checked(self, env: Env) -> None:
        env(CLUSTERBRIDGE_KICOX_BASE_URL="kicox.example.kr", CLUSTERBRIDGE_DEEPL_BASE_URL="htp://x",
            CLUSTERBRIDGE_PAPAGO_BASE_URL="gopher://x")
        message = config_error()
        for name in ("KICOX_BASE_URL", "DEEPL_BASE_URL", "PAPAGO_BASE_URL"):
            assert f"CLUSTERBRIDGE_{name}" in message

    def test_credentials_in_a_url_are_refused_without_being_shown(self, env: Env) -> None:
        env(CLUSTERBRIDGE_ECCP_BASE_URL="https://client:hunter2@eccp.example.eu")
        message = config_error()
        assert "user name or password" in message
        assert "hunter2" not in message

    def test_good_url_is_kept_without_surrounding_blanks(self, env: Env) -> None:
        env(CLUSTERBRIDGE_ECCP_BASE_URL="  https://eccp.example.eu/base/  ", CLUSTERBRIDGE_KICOX_BASE_URL="")
        settings = load_settings()
        assert settings.eccp_base_url == "https://eccp.example.eu/base/"
        assert settings.kicox_base_url is None  # blank: the connector file's base_url applies

    def test_bad_url_in_a_connector_file_names_that_file(self, env: Env, tmp_path: Path) -> None:
        override = tmp_path / "config" / "connectors" / "eccp.toml"
        override.parent.mkdir(parents=True)
        override.write_text('base_url = "localhost:8081"\n')
        settings = Settings(_env_file=None, config_dir=tmp_path / "config")  # type: ignore[call-arg]
        expected = re.escape(f"{override}: base_url: 'localhost:8081' has no scheme")
        with pytest.raises(ConfigurationError, match=expected):
            connector_settings("eccp", EccpSettings, settings)


class TestNumbers:
    """Numbers are finite and within sane bounds; a bad one names its variable."""

    @pytest.mark.parametrize("value", ["inf", "-inf", "nan", "-1", "0", "0.01", "10081"])
    def test_sync_interval_out_of_bounds(self, env: Env, value: str) -> None:
        env(CLUSTERBRIDGE_SYNC_INTERVAL_MINUTES=value)
        assert "CLUSTERBRIDGE_SYNC_INTERVAL_MINUTES" in config_error()

    @pytest.mark.parametrize("value", ["0.1", "10080"])
    def test_sync_interval_bounds_themselves_are_allowed(self, env: Env, value: str) -> None:
        env(CLUSTERBRIDGE_SYNC_INTERVAL_MINUTES=value)
        assert load_settings().sync_interval_minutes == float(value)

    @pytest.mark.parametrize(
        "name", ["FULL_RECONCILE_HOURS", "READY_MAX_FAILING_MINUTES", "LISTING_MIN_RATIO", "DELETE_MAX_SHARE",
                 "UPDATE_BUDGET_SHARE"])
    @pytest.mark.parametrize("value", ["inf", "nan"])
    def test_infinity_and_nan_are_refused_everywhere(self, env: Env, name: str, value: str) -> None:
        env(**{f"CLUSTERBRIDGE_{name}": value})
        assert f"CLUSTERBRIDGE_{name}" in config_error()

    def test_infinite_rate_in_a_connector_file_names_the_file(self, tmp_path: Path) -> None:
        (tmp_path / "eccp.toml").write_text("rate_limit = inf\nmax_retry_seconds = nan\n")
        settings = Settings(_env_file=None, config_dir=tmp_path)  # type: ignore[call-arg]
        with pytest.raises(ConfigurationError) as caught:
            connector_settings("eccp", EccpSettings, settings)
        assert f"{tmp_path / 'eccp.toml'}: rate_limit" in str(caught.value)
        assert "max_retry_seconds" in str(caught.value)


class TestConfigDir:
    """CLUSTERBRIDGE_CONFIG_DIR must be a folder that exists."""

    def test_missing_folder_is_named(self, env: Env, tmp_path: Path) -> None:
        env(CLUSTERBRIDGE_CONFIG_DIR=str(tmp_path / "nowhere"))
        message = config_error()
        assert "CLUSTERBRIDGE_CONFIG_DIR" in message
        assert "no such folder" in message

    def test_a_file_is_not_a_folder(self, env: Env, tmp_path: Path) -> None:
        (tmp_path / "file").write_text("")
        env(CLUSTERBRIDGE_CONFIG_DIR=str(tmp_path / "file"))
        assert "is not a folder" in config_error()


class TestSecretFiles:
    """Secrets (and the database URL) may come from files named by *_FILE variables or found in
    CLUSTERBRIDGE_SECRETS_DIR; a setting given twice, or a file that cannot be read, is a configuration error."""

    def test_file_variable_is_read_without_its_trailing_newline(self, env: Env, tmp_path: Path) -> None:
        secret = tmp_path / "secret"
        secret.write_text(" s3cr3t with blanks \n")
        env(CLUSTERBRIDGE_ECCP_CLIENT_SECRET_FILE=str(secret))
        value = load_settings().eccp_client_secret
        assert value is not None
        assert value.get_secret_value() == " s3cr3t with blanks "

    def test_secrets_folder_files_are_named_like_the_variables(self, env: Env, tmp_path: Path) -> None:
        folder = tmp_path / "secrets"
        folder.mkdir()
        (folder / "CLUSTERBRIDGE_KICOX_API_KEY").write_text("api-key\r\n")
        (folder / "clusterbridge_database_url").write_text("sqlite:///from-a-file.db\n")
        (folder / "unrelated").write_text("ignored")
        (folder / "..data").mkdir()  # what Kubernetes mounts beside the files
        env(CLUSTERBRIDGE_SECRETS_DIR=str(folder))
        settings = load_settings()
        assert settings.kicox_api_key == SecretStr("api-key")
        assert settings.database_url == "sqlite:///from-a-file.db"

    def test_the_environment_and_a_file_at_once_are_refused(self, env: Env, tmp_path: Path) -> None:
        (tmp_path / "secret").write_text("from-file")
        env(CLUSTERBRIDGE_ECCP_CLIENT_SECRET="from-env", CLUSTERBRIDGE_ECCP_CLIENT_SECRET_FILE=str(tmp_path / "secret"))
        message = config_error()
        assert "CLUSTERBRIDGE_ECCP_CLIENT_SECRET is given more than once" in message
        assert "CLUSTERBRIDGE_ECCP_CLIENT_SECRET_FILE" in message
        assert "from-env" not in message
        assert "from-file" not in message

    def test_a_file_variable_and_the_secrets_folder_at_once_are_refused(self, env: Env, tmp_path: Path) -> None:
        folder = tmp_path / "secrets"
        folder.mkdir()
        (folder / "CLUSTERBRIDGE_KICOX_SERVICE_KEY").write_text("a")
        (tmp_path / "key").write_text("b")
        env(CLUSTERBRIDGE_SECRETS_DIR=str(folder), CLUSTERBRIDGE_KICOX_SERVICE_KEY_FILE=str(tmp_path / "key"))
        assert str(folder / "CLUSTERBRIDGE_KICOX_SERVICE_KEY") in config_error()

    def test_missing_file_is_named(self, env: Env, tmp_path: Path) -> None:
        env(CLUSTERBRIDGE_KICOX_SERVICE_KEY_FILE=str(tmp_path / "absent"))
        assert config_error() == f"CLUSTERBRIDGE_KICOX_SERVICE_KEY_FILE: {tmp_path / 'absent'}: no such file"

    def test_a_folder_in_place_of_the_file_is_named(self, env: Env, tmp_path: Path) -> None:
        env(CLUSTERBRIDGE_KICOX_SERVICE_KEY_FILE=str(tmp_path))
        assert config_error().startswith(f"CLUSTERBRIDGE_KICOX_SERVICE_KEY_FILE: {tmp_path} cannot be read")

    def test_empty_file_is_refused(self, env: Env, tmp_path: Path) -> None:
        (tmp_path / "empty").write_text("\n")
        env(CLUSTERBRIDGE_KICOX_API_KEY_FILE=str(tmp_path / "empty"))
        assert config_error().endswith("is empty")

    def test_missing_secrets_folder_is_named(self, env: Env, tmp_path: Path) -> None:
        env(CLUSTERBRIDGE_SECRETS_DIR=str(tmp_path / "nowhere"))
        assert config_error() == f"CLUSTERBRIDGE_SECRETS_DIR: {tmp_path / 'nowhere'}: no such folder"

    def test_a_file_variable_may_come_from_the_env_file(self, env: Env, tmp_path: Path) -> None:
        (tmp_path / "secret").write_text("from-file\n")
        Path(".env").write_text(f"CLUSTERBRIDGE_ECCP_CLIENT_SECRET_FILE={tmp_path / 'secret'}\n")
        assert load_settings().eccp_client_secret == SecretStr("from-file")

    def test_every_secret_setting_may_come_from_a_file(self) -> None:
        secrets = {name for name, field in Settings.model_fields.items() if "SecretStr" in str(field.annotation)}
        assert secrets <= set(FILE_SETTINGS)
        assert "database_url" in FILE_SETTINGS


class TestUnknownVariables:
    """An unknown CLUSTERBRIDGE_* variable is reported by name with the closest known one."""

    def test_typo_gets_the_closest_name(self) -> None:
        found = unknown_variables({"CLUSTERBRIDGE_DATABSE_URL": "x", "CLUSTERBRIDGE_DATABASE_URL": "y"}, None)
        assert [(u.name, u.suggestion) for u in found] == [("CLUSTERBRIDGE_DATABSE_URL", "CLUSTERBRIDGE_DATABASE_URL")]
        assert "did you mean CLUSTERBRIDGE_DATABASE_URL?" in str(found[0])

    def test_nothing_close_gets_no_suggestion(self) -> None:
        found = unknown_variables({"CLUSTERBRIDGE_QQQ": "x"}, None)
        assert [(u.name, u.suggestion) for u in found] == [("CLUSTERBRIDGE_QQQ", None)]

    def test_known_names_are_not_reported(self) -> None:
        environ = {"CLUSTERBRIDGE_TEST_POSTGRES_URL": "x", "CLUSTERBRIDGE_REQUIRE_BROWSER": "1",
                   "CLUSTERBRIDGE_REQUIRE_POSTGRES": "1", "CLUSTERBRIDGE_ECCP_CLIENT_SECRET_FILE": "/x",
                   "CLUSTERBRIDGE_SECRETS_DIR": "/x", "clusterbridge_log_level": "info", "OTHER_DATABSE_URL": "x"}
        assert unknown_variables(environ, None) == []

    def test_the_env_file_is_read_too(self, env: Env) -> None:
        Path(".env").write_text("CLUSTERBRIDGE_ECCP_CLIENT_SECRT=x\n")
        found = unknown_variables({}, Path(".env"))
        assert [(u.name, u.suggestion) for u in found] == [
            ("CLUSTERBRIDGE_ECCP_CLIENT_SECRT", "CLUSTERBRIDGE_ECCP_CLIENT_SECRET")]

    def test_a_warning_is_logged_for_each(self, env: Env) -> None:
        env(CLUSTERBRIDGE_LOG_LEVL="debug")
        with capture_logs() as logs:
            warn_unknown_variables()
        assert [(e["log_level"], e["variable"], e["did_you_mean"]) for e in logs] == [
            ("warning", "CLUSTERBRIDGE_LOG_LEVL", "CLUSTERBRIDGE_LOG_LEVEL")]


class TestOverrideFiles:
    """A TOML settings file under CLUSTERBRIDGE_CONFIG_DIR overrides the shipped default key by key; a CSV
    mapping replaces it whole."""

    @staticmethod
    def settings(config: Path) -> Settings:
        return Settings(_env_file=None, config_dir=config)  # type: ignore[call-arg]

    def test_connector_file_keeps_the_defaults_it_does_not_name(self, tmp_path: Path) -> None:
        (tmp_path / "connectors").mkdir()
        (tmp_path / "connectors" / "eccp.toml").write_text("page_limit = 10\n")
        config = connector_settings("eccp", EccpSettings, self.settings(tmp_path))
        default = load_toml("connectors", "eccp.toml").data
        assert config.page_limit == 10
        assert (config.base_url, config.token_path, config.rate_limit) == (
            default["base_url"], default["token_path"], default["rate_limit"])

    def test_sides_file_overrides_one_key_of_one_side(self, tmp_path: Path) -> None:
        (tmp_path / "sides.toml").write_text('[kr]\ntitle = "KICOX (staging)"\n')
        bridge = load_bridge(self.settings(tmp_path))
        assert bridge.second.title == "KICOX (staging)"
        kr = bridge.second
        assert (kr.platform, kr.connector, kr.language, kr.home_countries) == ("kicox", "kicox", "ko", ("KR",))
        assert bridge.first.platform == "eccp"

    def test_links_file_merges_with_the_default(self, tmp_path: Path) -> None:
        (tmp_path / "mappings").mkdir()
        (tmp_path / "mappings" / "links.toml").write_text("[matching]\nname_threshold = 0.75\n")
        source = load_toml("mappings", "links.toml", self.settings(tmp_path))
        assert source.override == tmp_path / "mappings" / "links.toml"
        assert source.default == default_dir("mappings") / "links.toml"
        assert load_data(self.settings(tmp_path)).links.name_threshold == 0.75

    def test_error_in_an_override_names_the_override(self, tmp_path: Path) -> None:
        (tmp_path / "eccp.toml").write_text('page_limit = "many"\n')
        with pytest.raises(ConfigurationError, match=re.escape(f"{tmp_path / 'eccp.toml'}: page_limit")):
            connector_settings("eccp", EccpSettings, self.settings(tmp_path))

    def test_an_override_without_a_default_is_read_alone(self, tmp_path: Path) -> None:
        (tmp_path / "connectors").mkdir()
        (tmp_path / "connectors" / "partner_weights.toml").write_text("sector = 2.0\n")
        source = load_toml("connectors", "partner_weights.toml", self.settings(tmp_path))
        assert (source.data, source.default) == ({"sector": 2.0}, None)

    def test_neither_file_is_a_configuration_error(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigurationError, match=r"connectors/nothing\.toml not found"):
            load_toml("connectors", "nothing.toml", self.settings(tmp_path))

    def test_csv_override_replaces_the_whole_file(self, tmp_path: Path) -> None:
        (tmp_path / "glossary.csv").write_text("# one term only\nko,en\n반월,Banwol\n", encoding="utf-8")
        assert load_data(self.settings(tmp_path)).glossary == {"반월": "Banwol"}


class TestMergeTables:
    """The merge rule itself: tables merge at any depth, every other value replaces."""

    def test_nested_tables_merge_and_arrays_replace(self) -> None:
        base: dict[str, Any] = {"a": 1, "t": {"x": 1, "deep": {"p": 1, "q": 2}}, "list": [1, 2], "keep": "k"}
        override: dict[str, Any] = {"a": 2, "t": {"deep": {"q": 3}, "y": 2}, "list": [3]}
        assert merge_tables(base, override) == {
            "a": 2, "t": {"x": 1, "y": 2, "deep": {"p": 1, "q": 3}}, "list": [3], "keep": "k"}
        assert base["t"]["deep"] == {"p": 1, "q": 2}  # the default is left as it was

    def test_a_table_may_replace_a_value_and_back(self) -> None:
        assert merge_tables({"a": 1, "b": {"x": 1}}, {"a": {"x": 1}, "b": 2}) == {"a": {"x": 1}, "b": 2}
