"""Saving a partnership's file: path checks, revisions, atomic writes and the record of each change,
on a copy of data/ in tmp_path."""

import errno
import os
import resource
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from conftest import CHECKOUT
from rdflib import Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDFS

from lodpub.editing.blocks import parse_turtle, read_blocks
from lodpub.editing.changes import CHANGES_LOG, Author
from lodpub.editing.save import StaleRevision, UnsafeName, load, partnership_file, revision_of, save
from lodpub.namespaces import PREFIXES

EDITOR = Author("Eva Nová", "eva.nova@kraj-lbc.cz")
PERSON = URIRef(PREFIXES["person"] + "pavel-novak")


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the checkout's data/ (never its files), in no git work tree unless a test makes one."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    copy = tmp_path / "data"
    shutil.copytree(CHECKOUT / "data", copy)
    return copy


def relabelled(text: str, label: str):
    """The graph of `text` with Pavel Novák's Czech label changed."""
    graph = read_blocks(text).graph()
    graph.set((PERSON, RDFS.label, Literal(label, lang="cs")))
    graph.add((PERSON, RDFS.label, Literal("Pavel Novák", lang="en")))
    return graph


def test_a_save_writes_the_graph_and_logs_the_change_outside_git(data: Path) -> None:
    text, revision = load(data, "bursa")
    graph = relabelled(text, "Pavel Novák (radní)")
    saved = save(data, "bursa", graph, revision, EDITOR, "Upřesnění jména")
    written = saved.path.read_bytes()
    assert saved.revision == revision_of(written) != revision
    assert isomorphic(parse_turtle(written.decode("utf-8")), graph)
    assert saved.recorded == "log"
    log = (data / "partnerships" / CHANGES_LOG).read_text(encoding="utf-8")
    assert '"author": "Eva Nová"' in log and '"message": "Upřesnění jména"' in log and saved.revision in log
    assert not [path for path in saved.path.parent.iterdir() if path.name.startswith(".")]


def test_the_second_of_two_saves_from_one_revision_is_refused_with_a_diff(data: Path) -> None:
    text, revision = load(data, "bursa")
    save(data, "bursa", relabelled(text, "První"), revision, EDITOR, "first")
    after_first = (data / "partnerships" / "bursa.ttl").read_bytes()
    with pytest.raises(StaleRevision) as refused:
        save(data, "bursa", relabelled(text, "Druhý"), revision, EDITOR, "second")
    assert refused.value.current == revision_of(after_first)
    assert '-    rdfs:label "První"@cs' in refused.value.diff and '+    rdfs:label "Druhý"@cs' in refused.value.diff
    assert (data / "partnerships" / "bursa.ttl").read_bytes() == after_first


def test_concurrent_saves_from_one_revision_write_once(data: Path) -> None:
    text, revision = load(data, "bursa")
    children = []
    for label in ("A", "B", "C"):
        pid = os.fork()
        if pid == 0:  # a separate process, as gunicorn's workers are
            try:
                save(data, "bursa", relabelled(text, label), revision, EDITOR, label)
                os._exit(0)
            except StaleRevision:
                os._exit(3)
            except BaseException:
                os._exit(1)
        children.append(pid)
    codes = sorted(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children)
    assert codes == [0, 3, 3]
    assert len((data / "partnerships" / CHANGES_LOG).read_text(encoding="utf-8").splitlines()) == 1


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "bursa\0", "bursa.ttl", "Bursa", "", ".", "a/b",
                                  "..", "bursa\n"])
def test_a_name_that_is_not_a_partnerships_is_refused_before_anything_is_touched(data: Path, name: str) -> None:
    before = sorted((path, path.stat().st_mtime_ns) for path in data.rglob("*"))
    with pytest.raises(UnsafeName):
        save(data, name, "", revision_of(b""), EDITOR, "x")
    with pytest.raises(UnsafeName):
        load(data, name)
    assert sorted((path, path.stat().st_mtime_ns) for path in data.rglob("*")) == before


def test_a_link_out_of_the_folder_is_refused(data: Path, tmp_path: Path) -> None:
    (tmp_path / "outside.ttl").write_text("", encoding="utf-8")
    (data / "partnerships" / "outside.ttl").symlink_to(tmp_path / "outside.ttl")
    with pytest.raises(UnsafeName):
        partnership_file(data, "outside")


def test_a_failing_check_writes_nothing(data: Path) -> None:
    text, revision = load(data, "bursa")

    def refuse(new_text: str) -> None:
        assert "Nový" in new_text
        raise ValueError("invalid")

    with pytest.raises(ValueError, match="invalid"):
        save(data, "bursa", relabelled(text, "Nový"), revision, EDITOR, "x", check=refuse)
    assert load(data, "bursa") == (text, revision)
    assert not (data / "partnerships" / CHANGES_LOG).exists()


def test_text_that_is_not_turtle_is_refused(data: Path) -> None:
    text, revision = load(data, "bursa")
    with pytest.raises(Exception):  # noqa: B017 (rdflib's parser raises its own kinds)
        save(data, "bursa", text + "\nbroken", revision, EDITOR, "x")
    assert load(data, "bursa") == (text, revision)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder")
def test_a_folder_that_cannot_be_written_leaves_the_old_file_intact(data: Path) -> None:
    text, revision = load(data, "bursa")
    folder = data / "partnerships"
    folder.chmod(0o555)  # the temporary file cannot be made: a real failing file system operation
    try:
        with pytest.raises(PermissionError):
            save(data, "bursa", relabelled(text, "Nový"), revision, EDITOR, "x")
    finally:
        folder.chmod(0o755)
    assert load(data, "bursa") == (text, revision)
    assert sorted(path.name for path in folder.iterdir()) == sorted(path.name for path in
                                                                   (CHECKOUT / "data" / "partnerships").iterdir())


def test_a_failed_rename_removes_the_temporary_file_and_keeps_the_old(data: Path) -> None:
    text, revision = load(data, "bursa")
    target = data / "partnerships" / "bursa.ttl"
    shutil.copy(target, data / "bursa.copy")
    target.unlink()
    target.mkdir()  # os.replace of a file over a folder fails (IsADirectoryError), after the write
    (target / "keep").write_text("x", encoding="utf-8")
    with pytest.raises(OSError):
        save(data, "bursa", relabelled(text, "Nový"), revision, EDITOR, "x")
    assert (target / "keep").read_text(encoding="utf-8") == "x"
    assert not [path for path in target.parent.iterdir() if path.name.startswith(".bursa")]


def git(repository: Path, *args: str) -> str:
    """Run git in `repository` and return its output."""
    environment = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(["git", "-C", str(repository), *args], check=True, capture_output=True, text=True,
                          env=environment).stdout


def test_in_a_git_work_tree_a_save_is_a_commit_of_that_file_by_its_author(data: Path) -> None:
    git(data, "init", "-q")
    git(data, "-c", "user.name=Setup", "-c", "user.email=setup@example.org", "add", ".")
    git(data, "-c", "user.name=Setup", "-c", "user.email=setup@example.org", "commit", "-qm", "data")
    (data / "countries.ttl").write_text("# unrelated work in progress\n", encoding="utf-8")
    text, revision = load(data, "bursa")
    saved = save(data, "bursa", relabelled(text, "Nový"), revision, EDITOR, "Oprava jména")
    assert saved.recorded == "git"
    assert git(data, "log", "-1", "--format=%an <%ae>|%s").strip() == "Eva Nová <eva.nova@kraj-lbc.cz>|Oprava jména"
    assert git(data, "show", "--name-only", "--format=", "HEAD").split() == ["partnerships/bursa.ttl"]
    assert git(data, "status", "--porcelain").split() == ["M", "countries.ttl"]
    assert not (data / "partnerships" / CHANGES_LOG).exists()


@pytest.mark.parametrize("name, email", [("", "a@b"), ("Eva <x>", "a@b"), ("Eva", "a@b\n")])
def test_an_author_git_would_misread_is_refused(name: str, email: str) -> None:
    with pytest.raises(ValueError):
        Author(name, email)


def test_a_write_that_fails_half_way_leaves_the_old_file_intact(data: Path) -> None:
    text, revision = load(data, "bursa")
    limits = resource.getrlimit(resource.RLIMIT_FSIZE)
    signal_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1000, limits[1]))  # the kernel refuses more: EFBIG, even to root
    try:
        with pytest.raises(OSError) as failed:
            save(data, "bursa", relabelled(text, "Nový"), revision, EDITOR, "x")
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, limits)
        signal.signal(signal.SIGXFSZ, signal_handler)
    assert failed.value.errno == errno.EFBIG
    assert load(data, "bursa") == (text, revision)
    assert not [path for path in (data / "partnerships").iterdir() if path.name.startswith(".")]


def test_a_save_that_changes_nothing_writes_and_records_nothing(data: Path) -> None:
    text, revision = load(data, "bursa")
    before = (data / "partnerships" / "bursa.ttl").stat().st_ino
    saved = save(data, "bursa", read_blocks(text).graph(), revision, EDITOR, "nothing")
    assert (saved.recorded, saved.revision) == ("unchanged", revision)
    assert (data / "partnerships" / "bursa.ttl").stat().st_ino == before
    assert not (data / "partnerships" / CHANGES_LOG).exists()
