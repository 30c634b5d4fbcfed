"""Validation before a save: the whole dataset with the change applied, each problem at its field."""

import shutil
from pathlib import Path

import pytest
from conftest import CHECKOUT
from rdflib import URIRef

from lodpub.config import Settings
from lodpub.editing.changes import Author
from lodpub.editing.save import UnsafeName, load, save
from lodpub.editing.validation import Invalid, checker, validate_change
from lodpub.namespaces import PREFIXES
from lodpub.validate import load_shapes

PERSON = URIRef(PREFIXES["person"] + "pavel-novak")
CZECH_LABEL = 'rdfs:label "Pavel Novák"@cs , "Pavel Novák"@en'


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for a copy of the checkout's data/ (never its files), with its shapes."""
    shutil.copytree(CHECKOUT / "data", tmp_path / "data")
    return Settings(project_dir=tmp_path, shapes_dir=CHECKOUT / "shapes")


@pytest.fixture(scope="module")
def shapes() -> object:
    """The project's shapes, loaded once."""
    return load_shapes(Settings())


def test_the_files_as_they_are_have_no_violation(settings: Settings, shapes) -> None:
    text, _ = load(settings.data_dir, "bursa")
    assert [p for p in validate_change(settings, "bursa", text, shapes=shapes) if p.severity == "Violation"] == []


@pytest.mark.parametrize("lang, words", [("cs", "Chybí český popisek"), ("en", "Czech label")])
def test_a_missing_label_is_a_violation_at_its_subject_and_path_in_the_editors_language(
        settings: Settings, shapes, lang: str, words: str) -> None:
    text, _ = load(settings.data_dir, "bursa")
    changed = text.replace(CZECH_LABEL, 'rdfs:label "Pavel Novák"@en')
    violations = [p for p in validate_change(settings, "bursa", changed, lang, shapes) if p.severity == "Violation"]
    assert [(p.focus_node, p.path) for p in violations] == [(PERSON, "(rdfs:label|skos:prefLabel)")]
    assert words in violations[0].message


def test_a_link_to_nothing_is_found_with_the_whole_dataset(settings: Settings, shapes) -> None:
    text, _ = load(settings.data_dir, "bursa")
    changed = text.replace("rp:partner reg:liberec-region , reg:bursa", "rp:partner reg:liberec-region , reg:nowhere")
    violations = [p for p in validate_change(settings, "bursa", changed, "en", shapes) if p.severity == "Violation"]
    assert any("reg:nowhere" in p.message for p in violations)


def test_a_save_that_fails_validation_writes_nothing(settings: Settings, shapes) -> None:
    text, revision = load(settings.data_dir, "bursa")
    changed = text.replace(CZECH_LABEL, 'rdfs:label "Pavel Novák"@en')
    with pytest.raises(Invalid) as refused:
        save(settings.data_dir, "bursa", changed, revision, Author("Eva", "eva@example.org"), "x",
             check=checker(settings, "bursa", "cs", shapes))
    assert [p.focus_node for p in refused.value.problems] == [PERSON]
    assert load(settings.data_dir, "bursa") == (text, revision)
    assert not (settings.data_dir / "partnerships" / "changes.log").exists()


def test_an_unsafe_name_is_refused_before_validation(settings: Settings) -> None:
    with pytest.raises(UnsafeName):
        validate_change(settings, "../../etc/passwd", "")
