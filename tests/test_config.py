"""Settings: defaults, then environment variables, then explicit overrides."""

import subprocess
import sys
from pathlib import Path

import pytest

from lodpub.config import OUR_ONTOLOGY_DIR, Settings, describe_settings, load_settings

CHECKOUT_DIR = Path(__file__).resolve().parent.parent


def test_defaults_point_into_the_project_folder_which_is_the_current_one(monkeypatch):
    monkeypatch.chdir(CHECKOUT_DIR)
    settings = load_settings()

    assert settings.base_iri == "https://data.kraj-lbc.cz/partnerships/"
    assert settings.project_dir == CHECKOUT_DIR
    assert settings.ontology_dir == CHECKOUT_DIR / "ontology"
    assert settings.data_dir == CHECKOUT_DIR / "data"
    assert settings.shapes_dir == CHECKOUT_DIR / "shapes"
    assert settings.output_dir == CHECKOUT_DIR / "dist"


def test_a_project_folder_without_an_ontology_is_described_with_ours(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    elsewhere = load_settings(project_dir=str(tmp_path / "project"))

    assert load_settings().project_dir == tmp_path
    assert elsewhere.data_dir == tmp_path / "project" / "data" and elsewhere.output_dir == tmp_path / "project" / "dist"
    assert elsewhere.ontology_dir == OUR_ONTOLOGY_DIR and (OUR_ONTOLOGY_DIR / "partnerships.ttl").is_file()
    (tmp_path / "project" / "ontology").mkdir(parents=True)
    assert load_settings(project_dir=str(tmp_path / "project")).ontology_dir == tmp_path / "project" / "ontology"


def test_environment_overrides_defaults_and_paths_become_paths(monkeypatch):
    monkeypatch.chdir(CHECKOUT_DIR)
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


@pytest.mark.parametrize(("given", "meant"), [("off", False), ("0", False), ("No", False), ("on", True), ("TRUE", True)])
def test_a_switch_is_read_from_the_words_an_operator_writes(monkeypatch, given, meant):
    monkeypatch.setenv("LODPUB_DOCUMENTS_AHEAD", given)

    assert load_settings().documents_ahead is meant


def test_a_switch_that_is_neither_on_nor_off_is_refused_with_its_name(monkeypatch):
    monkeypatch.setenv("LODPUB_DOCUMENTS_AHEAD", "sometimes")

    with pytest.raises(ValueError, match="LODPUB_DOCUMENTS_AHEAD is a switch"):
        load_settings()


@pytest.mark.parametrize("base_iri", ["https://example.org/lod", "https://example.org/lod#"])
def test_base_iri_must_end_with_a_slash(base_iri):
    with pytest.raises(ValueError, match="must end with '/'"):
        load_settings(base_iri=base_iri)


def test_a_negative_recycle_work_ratio_is_refused():
    with pytest.raises(ValueError, match="recycle_work_ratio cannot be negative"):
        load_settings(recycle_work_ratio="-1")


def test_unknown_setting_is_refused():
    with pytest.raises(TypeError, match="base_uri"):
        load_settings(base_uri="https://example.org/")


def test_settings_are_frozen():
    with pytest.raises(AttributeError):
        load_settings().base_iri = "https://example.org/"  # type: ignore[misc]


def test_every_setting_is_described_with_its_own_environment_variable():
    described = describe_settings()

    assert [info.name for info in described][:6] == [
        "base_iri", "project_dir", "ontology_dir", "data_dir", "shapes_dir", "output_dir",
    ]
    assert all(info.env == "LODPUB_" + info.name.upper() for info in described)
    assert all(info.help for info in described)
    in_project = {"project_dir": Path("."), "ontology_dir": None, "data_dir": None, "shapes_dir": None, "output_dir": None}
    assert {info.name: info.default for info in described} == vars(Settings()) | in_project


def test_every_setting_is_documented_in_the_operators_guide():
    guide = (Path(__file__).resolve().parent.parent / "docs" / "operators.md").read_text(encoding="utf-8")
    for info in describe_settings():
        assert f"`{info.env}`" in guide, info.env


def test_reading_a_setting_or_the_command_line_imports_no_web_framework():
    """`lodpub validate` and `build`, and whoever reads a setting, do without Flask and werkzeug."""
    check = ("import sys, lodpub.config, lodpub.cli; "
             "print(sorted(name for name in ('flask', 'werkzeug') if name in sys.modules))")
    result = subprocess.run([sys.executable, "-c", check], cwd=CHECKOUT_DIR, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
