"""No silent SQLite in a container: with CLUSTERBRIDGE_REQUIRE_DATABASE_URL on (the image sets it), a ledger
that would be lost with the container is refused with exit 2 and one line saying what to set."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from clusterbridge.cli import main
from clusterbridge.config import Settings, check_ledger_location
from clusterbridge.errors import ConfigurationError

# /proc/self/mountinfo of a container: an overlay root, a named volume at /data (with a space in a second
# one's path), a tmpfs at /tmp, and the files Docker bind-mounts into /etc
MOUNTINFO = "\n".join([
    "1091 1003 0:62 / / rw,relatime master:451 - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w",
    "1092 1091 0:65 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw",
    "1101 1091 8:1 /var/lib/docker/volumes/ledger/_data /data rw,relatime - ext4 /dev/sda1 rw",
    "1102 1091 8:1 /var/lib/docker/volumes/other/_data /srv/my\\040ledger rw,relatime - ext4 /dev/sda1 rw",
    "1103 1091 0:70 / /tmp rw,nosuid,nodev - tmpfs tmpfs rw",
    "1104 1091 8:1 /var/lib/docker/containers/abc/hosts /etc/hosts rw,relatime - ext4 /dev/sda1 rw",
])


def _settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> Settings:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in list(Settings.model_fields):
        monkeypatch.delenv(f"CLUSTERBRIDGE_{name.upper()}", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(f"CLUSTERBRIDGE_{name}", value)
    return Settings()


class TestWhenRequired:
    """With the flag on, only PostgreSQL or a SQLite file on a mounted, lasting volume is accepted."""

    def test_an_unset_database_url_is_refused_naming_what_to_set(self, monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
        settings = _settings(monkeypatch, tmp_path, REQUIRE_DATABASE_URL="1")
        with pytest.raises(ConfigurationError, match="CLUSTERBRIDGE_DATABASE_URL is not set") as caught:
            check_ledger_location(settings, MOUNTINFO)
        assert "\n" not in str(caught.value)
        assert "postgresql" in str(caught.value).lower()

    def test_postgresql_is_accepted(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        settings = _settings(monkeypatch, tmp_path, REQUIRE_DATABASE_URL="1",
                             DATABASE_URL="postgresql://clusterbridge@postgres:5432/clusterbridge")
        check_ledger_location(settings, MOUNTINFO)

    def test_sqlite_on_a_mounted_volume_is_accepted(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        for url in ("sqlite:////data/clusterbridge.db", "sqlite:////data/ledgers/eu.db",
                    "sqlite:////srv/my ledger/clusterbridge.db"):
            settings = _settings(monkeypatch, tmp_path, REQUIRE_DATABASE_URL="1", DATABASE_URL=url)
            check_ledger_location(settings, MOUNTINFO)

    @pytest.mark.parametrize("url", [
        "sqlite:////home/clusterbridge/clusterbridge.db",  # the container's own file system
        "sqlite:////database/clusterbridge.db",  # /data is a volume, /database is not
        "sqlite:///clusterbridge.db",  # the default, set explicitly, relative to a working dir on the root
    ])
    def test_sqlite_in_the_containers_file_system_is_refused(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                             url: str) -> None:
        settings = _settings(monkeypatch, tmp_path, REQUIRE_DATABASE_URL="1", DATABASE_URL=url)
        monkeypatch.chdir("/")
        with pytest.raises(ConfigurationError, match=r"container.s own file system.*mount a volume"):
            check_ledger_location(settings, MOUNTINFO)

    def test_sqlite_on_a_tmpfs_is_refused(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        settings = _settings(monkeypatch, tmp_path, REQUIRE_DATABASE_URL="1", DATABASE_URL="sqlite:////tmp/cb.db")
        with pytest.raises(ConfigurationError, match="in memory"):
            check_ledger_location(settings, MOUNTINFO)

    def test_an_in_memory_database_is_refused(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        for url in ("sqlite://", "sqlite:///:memory:"):
            settings = _settings(monkeypatch, tmp_path, REQUIRE_DATABASE_URL="1", DATABASE_URL=url)
            with pytest.raises(ConfigurationError, match="in-memory"):
                check_ledger_location(settings, MOUNTINFO)

    @pytest.mark.skipif(not Path("/proc/self/mountinfo").exists(), reason="Linux tells mounts in /proc")
    def test_reads_this_machines_mounts_by_default(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        settings = _settings(monkeypatch, tmp_path, REQUIRE_DATABASE_URL="1",
                             DATABASE_URL="sqlite:////clusterbridge-nowhere.db")
        with pytest.raises(ConfigurationError, match="container's own file system"):
            check_ledger_location(settings)

    def test_a_url_in_the_env_file_counts_as_set(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        _settings(monkeypatch, tmp_path, REQUIRE_DATABASE_URL="1")
        (tmp_path / ".env").write_text("CLUSTERBRIDGE_DATABASE_URL=postgresql://cb@db/cb\n", encoding="utf-8")
        settings = Settings()
        assert settings.database_url == "postgresql://cb@db/cb"
        check_ledger_location(settings, MOUNTINFO)


class TestWhenNotRequired:
    """Outside the image the embedded SQLite default stays the zero-setup choice."""

    def test_the_default_sqlite_file_is_fine(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        check_ledger_location(_settings(monkeypatch, tmp_path), MOUNTINFO)

    def test_the_flag_off_spelt_out_is_fine(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        check_ledger_location(_settings(monkeypatch, tmp_path, REQUIRE_DATABASE_URL="0"), MOUNTINFO)


class TestCommandLine:
    """The CLI checks before any command that opens the ledger, and lets the simulators and the demo run."""

    def test_a_ledger_command_exits_2_with_one_line(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        _settings(monkeypatch, tmp_path, REQUIRE_DATABASE_URL="1")
        result = CliRunner().invoke(main, ["status"])
        assert result.exit_code == 2
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith("configuration error: CLUSTERBRIDGE_DATABASE_URL is not set")
        assert not (tmp_path / "clusterbridge.db").exists()

    @pytest.mark.parametrize("command", [["db", "upgrade"], ["daemon"], ["sync", "--dry-run"]])
    def test_every_ledger_command_is_guarded(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                             command: list[str]) -> None:
        _settings(monkeypatch, tmp_path, REQUIRE_DATABASE_URL="1")
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 2
        assert "CLUSTERBRIDGE_DATABASE_URL is not set" in result.stderr
        assert not (tmp_path / "clusterbridge.db").exists()

    @pytest.mark.parametrize("command", ["simulate", "demo"])
    def test_commands_without_the_ledger_still_run(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                   command: str) -> None:
        _settings(monkeypatch, tmp_path, REQUIRE_DATABASE_URL="1")
        result = CliRunner().invoke(main, [command, "--help"])
        assert result.exit_code == 0, result.output
        assert "Usage:" in result.output
