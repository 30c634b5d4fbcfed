"""Review, then publish, without the web (editing/publishing.py): the difference between the data files
and the served release, the changes recorded since, building and serving a release, rolling back, the
lock; on a copy of data/ and a temporary output folder."""

import dataclasses
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import CHECKOUT

from lodpub.build import ValidationFailed, build
from lodpub.config import Settings
from lodpub.editing.changes import Author
from lodpub.editing.publishing import (
    NothingToPublish,
    PublishBusy,
    pending_changes,
    publish,
    publishing_lock,
    roll_back,
    validation_now,
)
from lodpub.editing.save import load, save
from lodpub.namespaces import PREFIXES
from lodpub.store.releases import SERVED, pointed_version
from lodpub.store.served_release import read_record
from lodpub.switching import SwitchRefused, switch_served

EDITOR = Author("Eva Nová", "eva.nova@kraj-lbc.cz")
EVENT = PREFIXES["ev"] + "bursa-2012-05-visit"
# A visit added to Bursa's file, as the editor's form would write it.
NEW_EVENT = """
ev:bursa-2012-05-visit
    a rp:Visit ;
    dcterms:type evk:visit ;
    rp:partnership ptn:bursa ;
    time:hasTime t:2011-11-01 ;
    prov:atLocation reg:liberec-region ;
    rp:delegation dlg:bursa-2011 ;
    rdfs:label "Další návštěva z Bursy"@cs{english} ;
    dcterms:description "Delegace z Bursy přijela znovu."@cs , "The delegation from Bursa came again."@en .
"""
ENGLISH = ' , "Another visit from Bursa"@en'


def served_settings(tmp_path: Path) -> Settings:
    """Settings of a copy of data/ (in no git work tree) and an output folder serving a release of it."""
    data = shutil.copytree(CHECKOUT / "data", tmp_path / "data")
    settings = dataclasses.replace(Settings(), data_dir=data, output_dir=tmp_path / "dist")
    switch_served(settings, build(settings).version, "reload")
    return settings


def add_event(data: Path, english: bool = True) -> None:
    """Save Bursa's file with the new visit (without its English label unless `english`)."""
    text, revision = load(data, "bursa")
    save(data, "bursa", text + NEW_EVENT.format(english=ENGLISH if english else ""), revision, EDITOR, "Nová návštěva")


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    return served_settings(tmp_path)


def served(settings: Settings) -> str:
    return pointed_version(settings.output_dir, SERVED)


def test_nothing_is_pending_when_the_files_say_what_the_release_says(settings: Settings) -> None:
    pending = pending_changes(settings, served(settings))
    assert pending.is_empty and not pending.resources and not pending.recorded
    assert pending.turtle("added", settings.base_iri) == ""
    with pytest.raises(NothingToPublish):
        publish(settings, served(settings))


def test_a_saved_event_is_pending_in_words_triples_and_the_record(settings: Settings) -> None:
    add_event(settings.data_dir)
    pending = pending_changes(settings, served(settings))
    assert [(change.iri, change.kind) for change in pending.resources] == [(EVENT, "added")]
    assert len(pending.diff.added) == 10 and not pending.diff.removed
    assert "Another visit from Bursa" in {str(label) for label in pending.labels.objects()}
    turtle = pending.turtle("added", settings.base_iri)
    assert "ev:bursa-2012-05-visit a rp:Visit" in turtle and "@prefix ev:" in turtle
    [recorded] = pending.recorded
    assert (recorded.author, recorded.message, recorded.files) == ("Eva Nová", "Nová návštěva", ("bursa.ttl",))
    assert validation_now(settings).conforms


def test_publishing_builds_and_serves_a_release_and_rolling_back_serves_the_one_before(settings: Settings) -> None:
    before = served(settings)
    add_event(settings.data_dir)
    published = publish(settings, before)
    assert served(settings) == published.release.version == read_record(settings.output_dir).serving
    assert published.switched.pid is None  # no server runs from this folder
    assert pending_changes(settings, served(settings)).is_empty
    switched = roll_back(settings)
    assert switched.version == before == served(settings)
    assert read_record(settings.output_dir).rolled_back_from == (published.release.version,)
    assert [change.kind for change in pending_changes(settings, before).resources] == ["added"]  # files unchanged


def test_invalid_data_are_not_published(settings: Settings) -> None:
    before = served(settings)
    add_event(settings.data_dir, english=False)
    assert not validation_now(settings).conforms
    releases = sorted((settings.output_dir / "releases").iterdir())
    with pytest.raises(ValidationFailed):
        publish(settings, before)
    assert served(settings) == before and sorted((settings.output_dir / "releases").iterdir()) == releases


def test_one_publish_at_a_time(settings: Settings) -> None:
    add_event(settings.data_dir)
    with publishing_lock(settings.output_dir):
        with pytest.raises(PublishBusy):
            publish(settings, served(settings))
        with pytest.raises(PublishBusy):
            roll_back(settings)
    assert publish(settings, served(settings)).release.version == served(settings)


def test_there_is_nothing_to_roll_back_to_before_the_first_release(settings: Settings) -> None:
    with pytest.raises(SwitchRefused, match="there is no older release"):
        roll_back(settings)


def test_changes_committed_to_git_are_read_from_its_log(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    for args in (("init", "--quiet"), ("add", "."), ("-c", "user.name=x", "-c", "user.email=x@x", "commit", "--quiet",
                                                        "-m", "before")):
        subprocess.run(["git", "-C", str(settings.data_dir), *args], check=True, capture_output=True)
    add_event(settings.data_dir)
    recorded, committed_before = pending_changes(settings, served(settings)).recorded  # newest first
    assert committed_before.message == "before"  # committed after the release was built: not yet published
    assert (recorded.author, recorded.message, recorded.files) == ("Eva Nová", "Nová návštěva", ("bursa.ttl",))
    shown = subprocess.run(["git", "-C", str(settings.data_dir), "show", recorded.reference], capture_output=True,
                           text=True, check=True).stdout
    assert "+ev:bursa-2012-05-visit" in shown
