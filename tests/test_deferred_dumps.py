"""A server answers before its dumps exist (issue 21): `lodpub serve` publishes a release with only the
dumps a store loads, and writes the others while it answers (server/dump_completion.py); each dump is
listed and served only once it is written and checked, and answers 503 with Retry-After before.

In process (Flask's test client) on real releases of the mini dataset; the completion also in the
fresh process the server's master starts."""

import dataclasses
import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lodpub import create_app, dump_completion
from lodpub.build import build
from lodpub.cli_serving import _releases_table, serve_at_start
from lodpub.config import Settings, load_settings
from lodpub.dump_completion import complete_release, finish_interrupted_all, start_completion
from lodpub.dumps import SERVED_FIRST, deferred_dump_files
from lodpub.public_release import copy_folder, public_release
from lodpub.release_preparation import check_servable
from lodpub.store.checksums import DamagedFile
from lodpub.store.manifest import load_manifest
from lodpub.store.releases import release_problems

LOOPBACK = "http://127.0.0.1:5124/"
NOW = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)
DOCUMENT = "/doc/id/region/bursa.ttl"
DEFERRED = "partnerships.ttl"


def _serving(settings: Settings) -> Settings:
    return load_settings(ontology_dir=settings.ontology_dir, data_dir=settings.data_dir,
                         shapes_dir=settings.shapes_dir, output_dir=settings.output_dir, public_base=LOOPBACK)


def _files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if not path.name.startswith(".")}


@pytest.fixture
def deferred(mini_settings):
    """A release built as `lodpub serve` builds it, and its copy under LOOPBACK written as the
    server's master writes it: each with only the dumps a store loads."""
    release = build(mini_settings, now=NOW, defer_dumps=True)
    copy, _ = public_release(release.path, LOOPBACK, mini_settings.output_dir, defer=True)
    return release.path, copy


@pytest.fixture
def client(deferred, mini_settings):
    return create_app(_serving(mini_settings)).test_client()


def test_a_deferred_release_completes_to_the_release_a_build_writes_byte_for_byte(mini_settings, tmp_path):
    whole = build(dataclasses.replace(mini_settings, output_dir=tmp_path / "whole"), now=NOW)
    deferred = build(mini_settings, now=NOW, defer_dumps=True)
    manifest = load_manifest(deferred.path)
    assert [entry["name"] for entry in manifest["files"]] == list(SERVED_FIRST)
    assert manifest["pending"] == deferred_dump_files()
    assert release_problems(deferred.path) == []  # what it lists is whole and checked
    assert deferred.version == whole.version
    complete_release(deferred.path)
    assert _files(deferred.path) == _files(whole.path)


def test_a_deferred_copy_completes_to_the_copy_written_whole_byte_for_byte(mini_settings, tmp_path):
    copies = []
    for output, defer in ((tmp_path / "whole", False), (tmp_path / "deferred", True)):
        release = build(dataclasses.replace(mini_settings, output_dir=output), now=NOW)
        copy, _ = public_release(release.path, LOOPBACK, output, defer=defer)
        assert ("pending" in load_manifest(copy)) is defer
        complete_release(copy)
        copies.append(_files(copy))
    assert copies[0] == copies[1]


def test_a_document_is_answered_while_the_dumps_are_written_and_a_dump_answers_503_until_then(client, deferred):
    assert client.get(DOCUMENT).status_code == 200
    waiting = client.get(f"/dumps/{DEFERRED}")
    assert waiting.status_code == 503
    assert int(waiting.headers["Retry-After"]) > 0
    assert "still being written" in waiting.get_data(as_text=True)
    assert DEFERRED not in client.get("/dumps/").get_data(as_text=True)
    assert DEFERRED not in client.get("/dumps/SHA256SUMS").get_data(as_text=True)
    assert DEFERRED in client.get("/dumps/manifest.json").get_json()["pending"]
    assert client.get("/dumps/partnerships.nq").status_code == 200  # what the store loads


def test_once_written_a_dump_is_listed_and_matches_its_checksum(client, deferred):
    client.get(f"/dumps/{DEFERRED}")  # the worker learns the release as it was loaded
    complete_release(deferred[1])
    answer = client.get(f"/dumps/{DEFERRED}")
    assert answer.status_code == 200
    digest = hashlib.sha256(answer.data).hexdigest()
    manifest = client.get("/dumps/manifest.json").get_json()
    assert "pending" not in manifest
    assert {entry["name"]: entry["sha256"] for entry in manifest["files"]}[DEFERRED] == digest
    assert f"{digest}  {DEFERRED}\n" in client.get("/dumps/SHA256SUMS").get_data(as_text=True)
    assert DEFERRED in client.get("/dumps/").get_data(as_text=True)


def test_a_dump_left_half_written_by_a_killed_completion_is_not_served_and_the_next_rewrites_it(client, deferred):
    copy = deferred[1]
    (copy / DEFERRED).write_bytes(b"@prefix half: <")  # killed while writing it
    assert client.get(f"/dumps/{DEFERRED}").status_code == 503
    assert release_problems(copy) == []
    complete_release(copy)
    answer = client.get(f"/dumps/{DEFERRED}")
    assert answer.status_code == 200 and not answer.data.startswith(b"@prefix half:")


def test_dumps_written_from_a_damaged_dump_are_never_listed(client, deferred):
    copy = deferred[1]
    data = bytearray((copy / "partnerships.nq").read_bytes())
    data[10] ^= 1
    (copy / "partnerships.nq").write_bytes(bytes(data))
    with pytest.raises(DamagedFile):
        complete_release(copy)
    assert DEFERRED in load_manifest(copy)["pending"]
    assert client.get(f"/dumps/{DEFERRED}").status_code == 503


def test_a_dump_that_could_not_be_written_answers_why_and_the_next_completion_tries_again(client, deferred,
                                                                                           mini_settings):
    release, copy = deferred
    nquads = copy / "partnerships.nq"
    written = nquads.read_bytes()
    nquads.write_bytes(written.replace(b"Bursa", b"Bursy", 1))
    dump_completion.complete_logged([copy], 1)  # as the master's completion runs: it logs, and exits 0
    answer = client.get(f"/dumps/{DEFERRED}")
    assert answer.status_code == 503 and int(answer.headers["Retry-After"]) >= 3600
    text = answer.get_data(as_text=True)
    assert "could not be written" in text and "partnerships.nq" in text and "still being written" not in text
    dump_completion.complete_logged([release], 1)
    assert "dumps not written" not in _releases_table(mini_settings.output_dir)  # the release itself was whole
    nquads.write_bytes(written)  # repaired: the next start's completion writes them
    complete_release(copy)
    assert client.get(f"/dumps/{DEFERRED}").status_code == 200


def test_lodpub_releases_says_why_a_release_s_dumps_were_not_written(deferred, mini_settings):
    release = deferred[0]
    (release / DEFERRED).mkdir()  # in the way of the dump: it cannot be written
    dump_completion.complete_logged([release], 1)
    table = _releases_table(mini_settings.output_dir)
    assert "dumps not written" in table and "Is a directory" in table
    (release / DEFERRED).rmdir()
    complete_release(release)
    assert "dumps" not in _releases_table(mini_settings.output_dir)


def test_a_completion_killed_between_its_two_renames_is_finished_before_the_release_is_read(deferred, mini_settings,
                                                                                           monkeypatch):
    release = deferred[0]
    with monkeypatch.context() as killed:  # killed once both files were prepared, before either rename
        killed.setattr(dump_completion, "finish_interrupted", lambda folder: None)
        complete_release(release)
    assert release_problems(release) == [] and load_manifest(release)["pending"]
    (release / ".SHA256SUMS.next").rename(release / "SHA256SUMS")  # the first rename, then killed
    assert release_problems(release) != []
    finish_interrupted_all(mini_settings.output_dir)
    assert release_problems(release) == []
    assert "pending" not in load_manifest(release)


def test_a_manifest_prepared_without_its_checksums_is_dropped_and_the_release_stays_pending(deferred, mini_settings):
    release = deferred[0]
    (release / ".manifest.json.next").write_bytes(b'{"half": ')  # killed before SHA256SUMS was prepared
    finish_interrupted_all(mini_settings.output_dir)
    assert not (release / ".manifest.json.next").exists()
    assert release_problems(release) == [] and load_manifest(release)["pending"]


def test_the_master_completes_the_copy_and_the_release_in_a_process_of_its_own(deferred):
    release, copy = deferred
    start_completion([copy, release], 1).wait(120)
    for folder in (copy, release):
        manifest = load_manifest(folder)
        assert "pending" not in manifest and release_problems(folder) == []
        assert {entry["name"] for entry in manifest["files"]} >= set(deferred_dump_files())
    assert start_completion([copy, release], 1) is None  # nothing left to do


def test_lodpub_releases_says_which_release_has_dumps_still_being_written(deferred, mini_settings):
    assert "dumps being written" in _releases_table(mini_settings.output_dir)
    complete_release(deferred[0])
    assert "dumps being written" not in _releases_table(mini_settings.output_dir)


def test_a_starting_server_writes_its_copy_and_leaves_the_dumps_of_both_for_after_its_workers_start(mini_settings):
    release = build(mini_settings, now=NOW, defer_dumps=True)
    settings = _serving(mini_settings)
    serve_at_start(settings, chosen=release.version)

    pending = check_servable(settings)

    copy = copy_folder(settings.output_dir, LOOPBACK) / release.version
    assert pending == [copy, release.path]  # the copy first: it is what is served
    assert all(load_manifest(folder)["pending"] == deferred_dump_files() for folder in pending)
    assert [path.name for path in copy.glob("*.gz")] == [] and not (release.path / "partnerships.nt").exists()
