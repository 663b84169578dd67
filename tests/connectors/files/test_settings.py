"""The file exchange's settings: the shipped per-side tables, an operator's copy laid over them key by key,
and errors that say what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from clusterbridge.connectors import load_connector
from clusterbridge.connectors.files import FilesConnector
from clusterbridge.connectors.files.settings import load_files_settings
from clusterbridge.errors import ConfigurationError
from tests.connectors.support import side, vocabulary

from .support import make, settings


class TestShippedSettings:
    """`connectors/files.toml` describes both sides with the documented defaults."""

    def test_each_side_has_its_table_with_the_platform_connectors_id_prefix(self) -> None:
        eu = load_files_settings(settings(), "eu")
        kr = load_files_settings(settings(), "kr")
        assert (eu.id_prefix, eu.export.format, eu.import_.format) == ("eccp:", "csv", "csv")
        assert (kr.id_prefix, kr.export.format, kr.import_.format) == ("", "xlsx", "xlsx")
        assert kr.import_.layout[0] == "external_id"
        assert kr.manifest_path.name == "foreign-clusters.xlsx.manifest.json"

    def test_the_entry_point_builds_the_files_connector_for_a_side(self, kr_folder: Path) -> None:
        connector = load_connector("files", settings(), side=side("kr"), vocabulary=vocabulary(),
                                   folder=str(kr_folder), observer=object())
        assert isinstance(connector, FilesConnector)
        assert connector.side.name == "kr"
        assert connector.external_id("KC-1") == "KC-1"


class TestOperatorCopy:
    """A copy under CLUSTERBRIDGE_CONFIG_DIR holds only what it changes; the rest stays as shipped."""

    def test_a_copy_changes_one_sides_folder_and_keeps_every_other_key(self, tmp_path: Path) -> None:
        config = tmp_path / "config" / "connectors"
        config.mkdir(parents=True)
        (config / "files.toml").write_text(
            '[kr]\nfolder = "/srv/kr-exchange"\n[kr.export.columns]\nid = "클러스터ID"\n')
        loaded = load_files_settings(settings(config_dir=config.parent), "kr")
        assert loaded.folder == Path("/srv/kr-exchange")
        assert loaded.export.header("id") == "클러스터ID"
        assert loaded.export.header("name") == "name"
        assert loaded.export.file == "clusters.xlsx"
        assert load_files_settings(settings(config_dir=config.parent), "eu").folder == Path("exchange/eu")

    def test_a_copy_directly_in_the_config_dir_counts_too(self, tmp_path: Path) -> None:
        (tmp_path / "files.toml").write_text('[eu]\npage_size = 7\n')
        assert load_files_settings(settings(config_dir=tmp_path), "eu").page_size == 7


class TestErrors:
    """Bad settings are ConfigurationErrors naming the side and the key."""

    def test_a_missing_folder_says_how_to_set_it(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigurationError, match=r"folder of side 'kr'.*does not exist.*\[kr\]"):
            make("kr", tmp_path / "nowhere")

    @pytest.mark.parametrize(
        ("overrides", "named"),
        [
            ({"export": {"file": "clusters.txt"}}, "export.file"),
            ({"export": {"columns": {"nmae": "Name"}}}, "unknown column"),
            ({"export": {"columns": {"name": "id"}}}, "share the header"),
            ({"export": {"time_zone": "Mars/Olympus"}}, "unknown time zone"),
            ({"import": {"file": "../x.csv"}}, "import.file"),
            ({"import": {"columns": {"external_id": ""}}}, "external_id cannot be left out"),
            ({"import": {"file": "clusters.xlsx"}}, "different names"),
            ({"speed": 3}, "speed"),
        ],
    )
    def test_each_bad_key_is_named(self, kr_folder: Path, overrides: dict[str, object], named: str) -> None:
        with pytest.raises(ConfigurationError, match=r"\[kr\].*" + named):
            make("kr", kr_folder, **overrides)

    def test_a_side_without_a_table_is_refused(self) -> None:
        with pytest.raises(ConfigurationError, match=r"no \[mars\] table"):
            load_files_settings(settings(), "mars")
