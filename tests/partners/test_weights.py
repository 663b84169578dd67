"""The partner weights are data: shipped in mappings/, overridable, and refused with the key when wrong."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from clusterbridge.config import Settings, default_dir
from clusterbridge.errors import ConfigurationError
from clusterbridge.mapping.data import load_data
from clusterbridge.partners import Matcher, load_weights, parse_weights
from tests.partners.pairs import battery_eu, battery_kr

SHIPPED = (default_dir("mappings") / "partner_weights.toml").read_text(encoding="utf-8")


def _settings(config_dir: Path | None = None) -> Settings:
    return Settings(_env_file=None, config_dir=config_dir)  # type: ignore[call-arg]


def _override(tmp_path: Path, text: str) -> Settings:
    folder = tmp_path / "mappings"
    folder.mkdir(exist_ok=True)
    (folder / "partner_weights.toml").write_text(text, encoding="utf-8")
    return _settings(tmp_path)


def _set(text: str, key: str, value: str) -> str:
    """The weights file with one `key = …` line given a new value."""
    changed, count = re.subn(rf"(?m)^{re.escape(key)} = .*$", f"{key} = {value}", text)
    assert count == 1, key
    return changed


class TestShippedWeights:
    """The shipped file loads and says why its numbers are what they are."""

    def test_loads(self) -> None:
        weights = load_weights(_settings())
        assert weights.signals.total > 0
        assert 0 <= weights.countries.one_sided <= 1
        assert weights.texts.floor < weights.texts.full

    def test_has_a_header_naming_source_and_rationale(self) -> None:
        header = SHIPPED.split("[signals]")[0]
        assert "Source and rationale" in header
        assert "administrative arrangement" in header


class TestOverride:
    """CLUSTERBRIDGE_CONFIG_DIR replaces the shipped weights."""

    def test_override_changes_the_scores(self, tmp_path: Path) -> None:
        settings = _override(tmp_path, _set(SHIPPED, "members", "0"))
        data = load_data(_settings())
        ecosystems_ko = {e.name: e.label_ko for e in data.ecosystems}
        shipped = Matcher(load_weights(_settings()), data.crosswalk, ecosystems_ko).score(battery_eu(), battery_kr())
        overridden = Matcher.load(settings).score(battery_eu(), battery_kr())
        assert shipped is not None
        assert overridden is not None
        assert "members" in {r.signal for r in shipped.reasons}
        assert "members" not in {r.signal for r in overridden.reasons}

    def test_override_may_sit_at_the_top_of_the_folder(self, tmp_path: Path) -> None:
        (tmp_path / "partner_weights.toml").write_text(_set(SHIPPED, "one_sided", "0.5"), encoding="utf-8")
        assert load_weights(_settings(tmp_path)).countries.one_sided == 0.5


BAD = {
    "negative weight": (lambda t: _set(t, "industries", "-0.1"), "signals.industries"),
    "text for a number": (lambda t: _set(t, "floor", '"forty"'), "texts.floor"),
    "share above one": (lambda t: _set(t, "one_sided", "1.5"), "countries.one_sided"),
    "misspelt key": (lambda t: t.replace("ecosystems = ", "ecosytems = "), "signals.ecosytems"),
    "floor above full": (lambda t: _set(t, "floor", "90"), "texts: floor (90.0) must be below full"),
    "all weights zero": (
        lambda t: re.sub(r"(?m)^(industries|countries|ecosystems|texts|members) = .*$", r"\1 = 0", t),
        "signals: at least one signal weight must be above 0",
    ),
    "not TOML": (lambda t: t + "\n[signals\n", "not valid TOML"),
}


class TestBadWeights:
    """A wrong weights file is a ConfigurationError naming the file and the key (the CLI exits 2)."""

    @pytest.mark.parametrize("case", list(BAD))
    def test_is_refused_naming_the_key(self, tmp_path: Path, case: str) -> None:
        edit, expected = BAD[case]
        settings = _override(tmp_path, edit(SHIPPED))
        with pytest.raises(ConfigurationError) as caught:
            load_weights(settings)
        message = str(caught.value)
        assert expected in message
        assert "partner_weights.toml" in message


class TestOverrides:
    """An override in CLUSTERBRIDGE_CONFIG_DIR holds only what it changes (merged key by key); the weights as a
    whole must still name every key."""

    def test_an_override_of_one_key_changes_only_that_key(self, tmp_path: Path) -> None:
        settings = _override(tmp_path, "[signals]\nindustries = 0.5\n")
        weights = load_weights(settings)
        shipped = load_weights(None)
        assert weights.signals.industries == 0.5
        assert weights.signals.countries == shipped.signals.countries
        assert weights.texts == shipped.texts

    def test_a_weights_document_missing_a_key_is_refused_naming_it(self) -> None:
        import tomllib

        doc = tomllib.loads(re.sub(r"(?m)^sme_heavy = .*$", "", SHIPPED))
        with pytest.raises(ConfigurationError, match=r"members\.sme_heavy"):
            parse_weights(doc, "partner_weights.toml")
