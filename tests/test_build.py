"""Releases: the dumps, the manifest and checksums, and publishing them all or nothing."""

import dataclasses
import gzip
import hashlib
import json
import os
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rdflib import Dataset, Graph
from rdflib.compare import isomorphic

from lodpub.build import ValidationFailed, build
from lodpub.dataset import load_dataset
from lodpub.dumps import write_dumps

DUMPS = {
    "partnerships.ttl": "turtle",
    "partnerships.nt": "nt",
    "partnerships.jsonld": "json-ld",
    "partnerships.rdf": "xml",
    "partnerships.nq": "nquads",
    "partnerships.trig": "trig",
}
NAMED_GRAPH_DUMPS = {"partnerships.nq", "partnerships.trig"}
ALL_DUMPS = {*DUMPS, *(f"{name}.gz" for name in DUMPS)}
NOW = datetime(2026, 11, 27, 19, 5, 12, tzinfo=UTC)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file below `directory` (following `current`) with its bytes."""
    return {str(path.relative_to(directory)): path.read_bytes() for path in sorted(directory.rglob("*")) if path.is_file()}


def break_the_data(mini: Path) -> None:
    """Remove an agreement's title: a Violation of shp:Record-title."""
    bursa = mini / "data" / "partnerships" / "bursa.ttl"
    bursa.write_text(
        bursa.read_text(encoding="utf-8").replace('dcterms:title "Dohoda o spolupráci"@cs , "Cooperation agreement"@en ;', ""),
        encoding="utf-8",
    )


@pytest.fixture
def release(mini_settings):
    return build(mini_settings, now=NOW)


def test_release_holds_every_dump_gzipped_and_plain_with_manifest_and_checksums(release, mini_settings):
    assert release.path == mini_settings.output_dir / "releases" / release.version
    assert {path.name for path in release.path.iterdir()} == ALL_DUMPS | {"void.ttl", "changes.ttl", "shapes.ttl", "manifest.json", "SHA256SUMS"}
    assert release.manifest == json.loads((release.path / "manifest.json").read_text(encoding="utf-8"))


def test_version_is_build_time_and_hash_of_the_sorted_nquads(release):
    nquads = (release.path / "partnerships.nq").read_bytes()

    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{8}", release.version)
    assert release.version == "20261127T190512Z-" + sha256(nquads)[:8]
    assert nquads.splitlines() == sorted(nquads.splitlines())


def test_manifest_describes_the_bytes_on_disk(release, mini_settings):
    manifest = release.manifest

    assert manifest["version"] == release.version
    assert manifest["built_at"] == "2026-11-27T19:05:12Z"
    assert manifest["base_iri"] == mini_settings.base_iri
    assert manifest["triples"] == len(load_dataset(mini_settings).union())
    assert {entry["name"] for entry in manifest["files"]} == ALL_DUMPS
    for entry in manifest["files"]:
        data = (release.path / entry["name"]).read_bytes()
        assert (entry["bytes"], entry["sha256"]) == (len(data), sha256(data)), entry["name"]
    assert {entry["name"]: entry["media_type"] for entry in manifest["files"]}["partnerships.ttl"] == "text/turtle"


def test_sha256sums_lists_every_file_in_sha256sum_format(release):
    lines = (release.path / "SHA256SUMS").read_text().splitlines()

    listed = dict(reversed(line.split("  ", 1)) for line in lines)
    assert set(listed) == ALL_DUMPS | {"void.ttl", "changes.ttl", "shapes.ttl", "manifest.json"}
    for name, digest in listed.items():
        assert digest == sha256((release.path / name).read_bytes()), name


@pytest.mark.parametrize("name", sorted(DUMPS))
@pytest.mark.parametrize("compressed", [False, True])
def test_every_dump_reparses_to_the_dataset(release, mini_settings, name, compressed):
    data = (release.path / (name + ".gz" if compressed else name)).read_bytes()
    if compressed:
        data = gzip.decompress(data)
    loaded = load_dataset(mini_settings)

    if name in NAMED_GRAPH_DUMPS:
        parsed = Dataset().parse(data=data, format=DUMPS[name])
        parsed_graphs = {graph.identifier: graph for graph in parsed.graphs() if len(graph)}
        expected_graphs = {graph.identifier: graph for graph in loaded.dataset.graphs() if len(graph)}
        assert set(parsed_graphs) == set(expected_graphs)
        for identifier, graph in expected_graphs.items():
            assert isomorphic(parsed_graphs[identifier], graph), identifier
    else:
        parsed = Graph().parse(data=data, format=DUMPS[name])
        assert isomorphic(parsed, loaded.union())


def test_gzip_files_are_reproducible(release):
    # Level 6, not gzip.compress's 9: five times faster on the large dumps for files 2.5 % larger (issue 21).
    for name in DUMPS:
        plain = (release.path / name).read_bytes()
        assert (release.path / f"{name}.gz").read_bytes() == gzip.compress(plain, compresslevel=6, mtime=0)


def test_current_is_a_relative_symlink_to_the_new_release(release, mini_settings):
    current = mini_settings.output_dir / "current"

    assert current.is_symlink()
    assert os.readlink(current) == f"releases/{release.version}"
    assert current.resolve() == release.path.resolve()
    assert not list((mini_settings.output_dir / "releases").glob(".tmp-*"))


def test_a_new_release_moves_current_and_keeps_the_old_one(release, mini_settings):
    newer = build(mini_settings, now=NOW.replace(year=2027))

    assert os.readlink(mini_settings.output_dir / "current") == f"releases/{newer.version}"
    assert release.path.is_dir()
    assert newer.version.split("-")[1] == release.version.split("-")[1]  # same data, same hash


def test_failed_validation_writes_nothing_and_leaves_current_alone(release, mini_settings, mini):
    before = snapshot(mini_settings.output_dir)
    current_before = os.readlink(mini_settings.output_dir / "current")
    break_the_data(mini)

    with pytest.raises(ValidationFailed) as caught:
        build(mini_settings, now=NOW.replace(year=2027))

    assert caught.value.report.counts()["Violation"] == 1
    assert os.readlink(mini_settings.output_dir / "current") == current_before
    assert snapshot(mini_settings.output_dir) == before
    assert [path.name for path in (mini_settings.output_dir / "releases").iterdir()] == [release.version]


def test_failed_validation_on_a_first_build_creates_no_output(mini_settings, mini):
    break_the_data(mini)

    with pytest.raises(ValidationFailed):
        build(mini_settings)

    assert not mini_settings.output_dir.exists()


def test_failure_while_publishing_removes_the_new_release(release, mini_settings, monkeypatch):
    before = snapshot(mini_settings.output_dir)

    def failing_replace(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        build(mini_settings, now=NOW.replace(year=2027))

    assert snapshot(mini_settings.output_dir) == before
    assert [path.name for path in (mini_settings.output_dir / "releases").iterdir()] == [release.version]
    assert sorted(path.name for path in mini_settings.output_dir.iterdir()) == ["current", "releases"]


def test_release_under_another_base_iri_has_none_of_the_canonical_iris(mini_settings):
    release = build(dataclasses.replace(mini_settings, base_iri="http://localhost:8080/lod/"), now=NOW)

    ntriples = (release.path / "partnerships.nt").read_text(encoding="utf-8")
    assert "<http://localhost:8080/lod/id/agreement/bursa-2015>" in ntriples
    assert "<https://data.kraj-lbc.cz/partnerships/" not in ntriples
    assert release.manifest["base_iri"] == "http://localhost:8080/lod/"


def test_version_hash_does_not_depend_on_the_process(run_lodpub, mini_options, tmp_path):
    versions = []
    for seed in ("1", "2"):
        output = tmp_path / f"dist-{seed}"
        result = run_lodpub("build", *mini_options, "--output", str(output), PYTHONHASHSEED=seed)
        assert result.returncode == 0, result.stderr
        versions.append(os.readlink(output / "current"))

    assert versions[0].split("-")[1] == versions[1].split("-")[1]


def test_building_the_same_data_twice_in_one_second_republishes_the_same_release(release, mini_settings):
    before = snapshot(release.path)
    again = build(mini_settings, now=NOW)

    assert again.version == release.version and again.path == release.path
    assert snapshot(release.path) == before
    assert os.readlink(mini_settings.output_dir / "current") == f"releases/{release.version}"


def test_a_catalogue_record_that_nkod_would_reject_is_not_published(project_settings, tmp_path):
    """data/catalogue/ is edited by hand too: a dataset without its Czech title (which NKOD
    requires) stops the build, and nothing is written."""
    import shutil

    project = tmp_path / "project"
    for part in ("ontology", "data", "shapes"):
        shutil.copytree(getattr(project_settings, f"{part}_dir"), project / part)
    catalogue = project / "data" / "catalogue" / "lkod.ttl"
    catalogue.write_text(catalogue.read_text(encoding="utf-8").replace(
        'dcterms:title "Mezinárodní partnerství Libereckého kraje"@cs ,', "dcterms:title"), encoding="utf-8")
    settings = dataclasses.replace(project_settings, ontology_dir=project / "ontology", data_dir=project / "data",
                                   shapes_dir=project / "shapes", output_dir=tmp_path / "dist")

    with pytest.raises(ValidationFailed) as caught:
        build(settings)

    violations = caught.value.report.violations
    assert caught.value.where.startswith("the catalogue record")  # what `lodpub build` says failed
    assert violations and {str(v.focus_node) for v in violations} == {project_settings.base_iri + "id/dataset/partnerships"}
    assert all("dcterms:title" in (v.result_path or "") for v in violations), [v.result_path for v in violations]
    assert not settings.output_dir.exists()


def test_what_a_killed_build_left_behind_is_removed_by_the_next_build(release, mini_settings):
    """A build killed while writing leaves its temporary folder (named with its pid); the next build
    removes it, but not the folder of a build that is still running."""
    releases = mini_settings.output_dir / "releases"
    dead = subprocess.Popen(["true"])
    dead.wait()
    killed = releases / f".tmp-{dead.pid}-abc"
    running = releases / f".tmp-{os.getpid()}-def"
    half_deleted = releases / ".deleting-20200101T000000Z-00000000"
    for folder in (killed, running, half_deleted):
        folder.mkdir()
        (folder / "partnerships.ttl").write_bytes(b"half")

    build(mini_settings, now=NOW.replace(year=2027))

    assert not killed.exists() and not half_deleted.exists() and running.is_dir()


def test_dumps_written_by_a_pool_are_those_one_process_writes(mini_settings, tmp_path):
    loaded = load_dataset(mini_settings)
    folders = {jobs: tmp_path / f"jobs-{jobs}" for jobs in (1, 2)}
    written = {}
    for jobs, folder in folders.items():
        folder.mkdir()
        written[jobs] = write_dumps(folder, loaded, loaded.triple_lines(), jobs=jobs)

    assert set(written[2]) == ALL_DUMPS
    assert written[1] == written[2]
    assert all((folders[1] / name).read_bytes() == (folders[2] / name).read_bytes() for name in ALL_DUMPS)


# --- two builds into one output folder ------------------------------------------------------------

import contextlib  # noqa: E402
import fcntl  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402

from conftest import CHECKOUT  # noqa: E402

from lodpub.release_folder import BUILD_LOCK, build_lock  # noqa: E402
from lodpub.store.releases import list_releases, release_problems  # noqa: E402


@contextlib.contextmanager
def holding_the_lock(output: Path):
    """Hold output/.build.lock as a running build does: locked, with this process's pid in it."""
    output.mkdir(parents=True, exist_ok=True)
    with open(output / BUILD_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        yield


def start_build(options: list[str], output: Path, **popen_options) -> subprocess.Popen:
    """`python3 -m lodpub.cli build` into `output`, as a process of its own."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("LODPUB_")}
    return subprocess.Popen([sys.executable, "-m", "lodpub.cli", "build", *options, "--output", str(output)],
                            cwd=CHECKOUT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **popen_options)


def _as_in_the_foreground() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, set())


def _signal_state(pid: int) -> str:
    """The blocked, ignored and caught signal masks of process `pid`, from /proc."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError as error:
        return str(error)
    return ", ".join(line for line in lines if line.startswith(("SigBlk", "SigIgn", "SigCgt", "State")))


def assert_published_whole(output: Path, stdout: str) -> None:
    """The release a build printed is complete, and the folder holds nothing half written."""
    version = stdout.splitlines()[0].split()[1]
    assert release_problems(output / "releases" / version) == []
    assert [path.name for path in (output / "releases").iterdir() if path.name.startswith(".")] == []
    assert not (output / BUILD_LOCK).exists()


def test_two_builds_into_one_folder_run_one_after_the_other(mini_options, tmp_path):
    """Two builds that overlapped removed each other's half-written release folders ("Directory not
    empty", exit 2) although both data were good. Now the later one waits, saying for whom."""
    output = tmp_path / "dist"
    with holding_the_lock(output):  # so that both surely start while a build runs
        builds = [start_build(mini_options, output) for _ in range(2)]
        waiting = [process.stderr.readline() for process in builds]
    outcomes = [process.communicate(timeout=120) for process in builds]

    assert waiting == [f"lodpub: waiting for the build running in {output} (pid {os.getpid()})\n"] * 2
    for process, (stdout, stderr) in zip(builds, outcomes, strict=True):
        assert (process.returncode, stderr) == (0, ""), stderr
        assert_published_whole(output, stdout)
    latest = max(stdout.splitlines()[0].split()[1] for stdout, _ in outcomes)
    assert os.readlink(output / "current") == f"releases/{latest}"


@pytest.mark.long
def test_builds_started_together_into_one_folder_all_publish_a_whole_release(mini_options, tmp_path):
    """The race itself, as it happens: without the lock, about one round in ten failed."""
    output = tmp_path / "dist"
    for round_ in range(20):
        builds = [start_build([*mini_options, "--keep", "1"], output) for _ in range(2)]
        outcomes = [process.communicate(timeout=120) for process in builds]
        for process, (_, stderr) in zip(builds, outcomes, strict=True):
            assert process.returncode == 0, f"round {round_}: {stderr}"
            assert stderr in ("", *(f"lodpub: waiting for the build running in {output} (pid {other.pid})\n"
                                    for other in builds if other is not process)), f"round {round_}: {stderr}"
        # The later release is current, and the earlier one was pruned (--keep 1) by the later build.
        stdout = max((stdout for stdout, _ in outcomes), key=lambda stdout: stdout.split()[1])
        assert_published_whole(output, stdout)
        assert [release.version for release in list_releases(output)] == [stdout.split()[1]]


def test_a_build_stopped_while_it_waits_says_so_in_one_line(mini_options, tmp_path):
    output = tmp_path / "dist"
    with holding_the_lock(output):
        # Started as a shell starts a command in the foreground: Ctrl-C neither ignored nor blocked, whatever
        # this test process inherited or was left with (it failed in CI, in the full run only: to be found).
        waiting = start_build(mini_options, output, preexec_fn=_as_in_the_foreground)
        assert waiting.stderr.readline().startswith("lodpub: waiting for the build running in ")
        waiting.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            _, stderr = waiting.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            state = _signal_state(waiting.pid)
            waiting.kill()
            pytest.fail(f"the build went on waiting after Ctrl-C; its signals: {state}; "
                        f"this process's: {_signal_state(os.getpid())}")

    assert waiting.returncode == 2
    assert stderr == (f"lodpub: build failed, nothing was published (there is no release yet): stopped waiting for "
                      f"the build running in {output} (pid {os.getpid()})\n")


def test_a_build_that_waited_for_one_that_left_nothing_makes_the_folder_again(tmp_path):
    """The first build made the folder and failed: it removed the folder and its lock while the
    second waited on that lock; the second must lock a new one, not run unlocked."""
    output = tmp_path / "dist"
    messages, seen = [], []
    waits = threading.Event()

    def second_build():
        def on_wait(message):
            messages.append(message)
            waits.set()

        with build_lock(output, on_wait):
            seen.append(((output / BUILD_LOCK).read_text(), output.is_dir()))

    with build_lock(output, messages.append):
        second = threading.Thread(target=second_build)
        second.start()
        assert waits.wait(30)
    second.join(30)

    assert messages == [f"waiting for the build running in {output} (pid {os.getpid()})"]
    assert seen == [(f"{os.getpid()}\n", True)]
    assert not output.exists()


def test_the_triples_the_data_holds_are_found_among_the_lines_of_their_subjects_only():
    from rdflib import Literal, URIRef

    from lodpub.build import held_by_data
    from lodpub.store.sparql_store import StoredForm

    lines = sorted([  # subjects that begin one another, a literal the store keeps by its value
        b'<http://a/x> <http://p/> "1" <http://g/> .\n',
        b'<http://a/x> <http://p/> "2020-01-01T00:00:00+00:00"^^<http://www.w3.org/2001/XMLSchema#dateTime> <http://g/> .\n',
        b'<http://a/x2> <http://p/> "2" <http://g/> .\n',
        b'<http://a/x/y> <http://p/> "3" <http://g/> .\n',
        b'<http://a/w> <http://p/> <http://a/x> <http://g/> .\n',
    ])
    described = Graph()
    for subject, value in (("x", Literal("1")), ("x", Literal("2")), ("x2", Literal("2")), ("x/y", Literal("4")),
                           ("x", Literal("2020-01-01T00:00:00Z", datatype=URIRef("http://www.w3.org/2001/XMLSchema#dateTime"))),
                           ("w", URIRef("http://a/x")), ("v", Literal("1"))):
        described.add((URIRef(f"http://a/{subject}"), URIRef("http://p/"), value))

    held = held_by_data(lines, described, StoredForm())

    assert sorted(str(triple.subject.value) + " " + str(triple.object.value) for triple in held) == [
        "http://a/w http://a/x", "http://a/x 1", "http://a/x 2020-01-01T00:00:00Z", "http://a/x2 2"]
