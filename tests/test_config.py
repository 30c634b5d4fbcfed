"""Settings: defaults, then environment variables, then explicit overrides."""

import subprocess
import sys
from pathlib import Path

import pytest

from server.config import CHECKOUT_DIR, Settings, describe_settings, load_settings


def test_defaults_point_into_the_checkout():
    settings = load_settings()

    assert settings.base_iri == "https://data.kraj-lbc.cz/partnerships/"
    assert settings.ontology_dir == CHECKOUT_DIR / "ontology"
    assert settings.data_dir == CHECKOUT_DIR / "data"
    assert settings.shapes_dir == CHECKOUT_DIR / "shapes"
    assert settings.output_dir == CHECKOUT_DIR / "dist"
    assert (CHECKOUT_DIR / "server" / "config.py").is_file()


def test_environment_overrides_defaults_and_paths_become_paths(monkeypatch):
    monkeypatch.setenv("LODPUB_BASE_IRI", "http://localhost:8080/lod/")
    monkeypatch.setenv("LODPUB_DATA_DIR", "/srv/data")

    settings = load_settings()

    assert settings.base_iri == "http://localhost:8080/lod/"
    assert settings.data_dir == Path("/srv/data")
    assert settings.shapes_dir == CHECKOUT_DIR / "shapes"


def test_explicit_overrides_beat_environment_and_none_means_not_given(monkeypatch):
    monkeypatch.setenv("LODPUB_OUTPUT_DIR", "/from/env")
    monkeypatch.setenv("LODPUB_SHAPES_DIR", "/shapes/from/env")

    settings = load_settings(output_dir="/from/option", shapes_dir=None)

    assert settings.output_dir == Path("/from/option")
    assert settings.shapes_dir == Path("/shapes/from/env")


def test_an_empty_environment_variable_counts_as_unset(monkeypatch):
    monkeypatch.setenv("LODPUB_BASE_IRI", "")

    assert load_settings().base_iri == "https://data.kraj-lbc.cz/partnerships/"


@pytest.mark.parametrize("base_iri", ["https://example.org/lod", "https://example.org/lod#"])
def test_base_iri_must_end_with_a_slash(base_iri):
    with pytest.raises(ValueError, match="must end with '/'"):
        load_settings(base_iri=base_iri)


def test_unknown_setting_is_refused():
    with pytest.raises(TypeError, match="base_uri"):
        load_settings(base_uri="https://example.org/")


def test_settings_are_frozen():
    with pytest.raises(AttributeError):
        load_settings().base_iri = "https://example.org/"  # type: ignore[misc]


def test_every_setting_is_described_with_its_own_environment_variable():
    described = describe_settings()

    assert [info.name for info in described][:5] == [
        "base_iri", "ontology_dir", "data_dir", "shapes_dir", "output_dir",
    ]
    assert all(info.env == "LODPUB_" + info.name.upper() for info in described)
    assert all(info.help for info in described)
    assert {info.name: info.default for info in described} == vars(Settings())


def test_every_setting_is_documented_in_the_readme():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for info in describe_settings():
        assert f"`{info.env}`" in readme, info.env


def test_reading_a_setting_or_the_command_line_imports_no_web_framework():
    """`lodpub validate` and `build`, and whoever reads a setting, do without Flask and werkzeug."""
    check = ("import sys, server.config, server.cli; "
             "print(sorted(name for name in ('flask', 'werkzeug') if name in sys.modules))")
    result = subprocess.run([sys.executable, "-c", check], cwd=CHECKOUT_DIR, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
