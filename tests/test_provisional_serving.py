"""`lodpub serve --data` of a dataset it does not validate answers from its sources as Oxigraph loads them
(the provisional release), says so, withholds what only the release can say, and switches to the release
once it is built and proven (server/provisional_serving.py). In process on the zoo (a dataset not ours,
of its own base), with real builds and stores; `lodpub serve` itself in tests/test_any_dataset.py."""

import contextlib
import dataclasses
import logging
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from conftest import CHECKOUT, free_port, wait_until_released, wait_until_up
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS

import lodpub.store
from lodpub import create_app
from lodpub.config import load_settings
from lodpub.provisional_serving import complete, forget_failed_build, start_provisionally, stopped_status
from lodpub.store import provisional_in_force
from lodpub.store.provisional import provisional_folder
from lodpub.store.releases import CURRENT, SERVED, pointed_version, release_problems

ZOO = CHECKOUT / "tests" / "fixtures" / "zoo" / "zoo.ttl"
LOOPBACK = "http://127.0.0.1:5124/"


@pytest.fixture(autouse=True)
def _no_provisional_left(monkeypatch):
    """Each test's provisional release is forgotten after it (the module holds it for the workers)."""
    monkeypatch.setattr(lodpub.store, "_provisional", None)


def _zoo(tmp_path: Path, extra: str = ""):
    data = tmp_path / "zoo.ttl"
    data.write_text(ZOO.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return load_settings(data_dir=data, output_dir=tmp_path / "dist", base_iri="http://example.org/zoo/",
                         shapes_dir=tmp_path / "no-shapes", public_base=LOOPBACK, documents_ahead=False)


def test_the_provisional_release_answers_from_the_sources_and_withholds_what_the_release_says(tmp_path):
    settings = _zoo(tmp_path)
    assert start_provisionally(settings)
    client = create_app(settings).test_client()
    version = client.get("/health").get_json()["version"]
    assert version.startswith("provisional-")
    document = Graph().parse(data=client.get("/doc/animal/leo", headers={"Accept": "text/turtle"}).text, format="turtle")
    assert (URIRef(LOOPBACK + "animal/leo"), RDFS.label, Literal("Leo")) in document
    # No dump, VoID or changelog is claimed before it is written: 503 and when to ask again.
    for path in ("/dumps/partnerships.nq", "/.well-known/void", "/changes", f"/doc/{'id/dataset/partnerships'}"):
        answer = client.get(path, headers={"Accept": "text/turtle"})
        assert answer.status_code == 503 and int(answer.headers["Retry-After"]) > 0, path
    manifest = client.get("/dumps/manifest.json").get_json()
    assert manifest["version"] == version and manifest["files"] == [] and "partnerships.nq" in manifest["pending"]
    assert pointed_version(settings.output_dir, CURRENT) is None  # nothing is published yet
    sitemap = client.get("/sitemap.xml").text  # every page it lists answers 200
    assert f"<loc>{LOOPBACK}</loc>" in sitemap and "/.well-known/void" not in sitemap and "/changes<" not in sitemap


def test_once_built_and_proven_the_release_is_served_and_the_provisional_one_is_not(tmp_path, caplog):
    settings = _zoo(tmp_path)
    assert start_provisionally(settings)
    with caplog.at_level(logging.WARNING):
        assert complete(settings, master=None)
    assert "held the same quads as the release" in caplog.text
    assert provisional_in_force() is None and not (provisional_folder(settings.output_dir) / "serving").exists()
    released = pointed_version(settings.output_dir, CURRENT)
    assert pointed_version(settings.output_dir, SERVED) == released
    client = create_app(settings).test_client()
    assert client.get("/health").get_json()["version"] == released
    assert client.get("/.well-known/void", headers={"Accept": "text/turtle"}).status_code == 200
    assert "/.well-known/void" in client.get("/sitemap.xml").text
    # The dumps a store loads before the switch, the others after it, each once written and checked.
    assert client.get("/dumps/partnerships.nq").status_code == 200
    assert client.get("/dumps/partnerships.ttl.gz").status_code == 200


def test_a_provisional_store_that_did_not_hold_the_release_is_reported_loudly_and_the_release_served(tmp_path, caplog):
    # The one thing known to differ: a literal holding `<` and the base, which the provisional store moves.
    settings = _zoo(tmp_path, '\n<http://example.org/zoo/animal/leo> <http://example.org/zoo/note> '
                              '"see <http://example.org/zoo/animal/kim>" .\n')
    assert start_provisionally(settings)
    with caplog.at_level(logging.WARNING):
        assert complete(settings, master=None)
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert any("did NOT hold the same quads" in message for message in errors)
    assert provisional_in_force() is None
    assert pointed_version(settings.output_dir, SERVED) == pointed_version(settings.output_dir, CURRENT)
    note = create_app(settings).test_client().get("/doc/animal/leo", headers={"Accept": "text/turtle"}).text
    assert "see <http://example.org/zoo/animal/kim>" in note  # the release's, as written


@pytest.mark.parametrize("broken_text", [
    'rdfs:label .',  # a syntax error to both parsers
    'rdfs:label "Kim" ; rdfs:seeAlso <<( <leo> a <Lion> )>> .',  # a triple term: Oxigraph reads it, rdflib not
    # The same without `<<` (before, served, then the build's traceback, and served on unbuilt), and a base
    # direction (before, built without it)
    'rdfs:label "Kim" {| rdfs:comment "named" |} .',
    'rdfs:label "Kim" ~ <naming> .',
    'rdfs:label "Kim"@en--ltr .',
])
def test_a_file_the_build_refuses_is_refused_by_serve_as_by_build(tmp_path, broken_text):
    broken = tmp_path / "zoo.ttl"
    broken.write_text(ZOO.read_text(encoding="utf-8").replace('rdfs:label "Kim" .', broken_text), encoding="utf-8")
    common = ["--data", str(broken), "--base-iri", "http://example.org/zoo/"]
    built = subprocess.run([sys.executable, "-m", "lodpub.cli", "build", *common, "--output", str(tmp_path / "b")],
                           cwd=CHECKOUT, capture_output=True, text=True, timeout=120)
    served = subprocess.run([sys.executable, "-m", "lodpub.cli", "serve", *common, "--output", str(tmp_path / "s"),
                             "--port", "1"], cwd=CHECKOUT, capture_output=True, text=True, timeout=120)
    assert served.returncode == built.returncode != 0
    assert served.stderr == built.stderr and "zoo.ttl" in served.stderr
    assert not (tmp_path / "s" / ".provisional").exists()


@pytest.mark.served
def test_a_build_that_fails_once_the_provisional_release_is_served_stops_the_server_with_the_build_s_status(tmp_path):
    # What the build may still meet: here a folder it cannot write into (a disk full, a file changed meanwhile).
    output = tmp_path / "dist"
    output.mkdir()
    (output / "releases").write_text("not a folder", encoding="utf-8")
    shutil.copy(ZOO, tmp_path / "zoo.ttl")
    process, base = _serve(tmp_path / "zoo.ttl", output, tmp_path / "serve.log")
    try:  # (it may stop before a request reaches it: its log says it served)
        assert process.wait(timeout=120) == 2  # EXIT_ERROR, as `lodpub build` exits (not 0: the server did not end well)
    finally:
        process.kill()
    log = (tmp_path / "serve.log").read_text()
    assert "Serving the provisional release" in log and "Listening at" in log
    assert "build failed, nothing was published" in log and "cannot be built (see above): the server stops" in log
    with pytest.raises(requests.ConnectionError):
        requests.get(base + "health", timeout=10)


def test_a_failed_build_is_the_exit_status_of_the_master_it_stopped_only(tmp_path):
    settings = _zoo(tmp_path)
    assert start_provisionally(settings)
    (settings.output_dir / "releases").write_text("not a folder", encoding="utf-8")  # the build cannot publish
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as master:
        assert not complete(settings, master=master.pid)
        assert master.wait(timeout=30) == -signal.SIGTERM
    assert stopped_status(settings.output_dir) is None  # another process's failure
    # A master of the same pid (a container's, at its next start) forgets it before it serves.
    (provisional_folder(settings.output_dir) / "build-failed").write_text(str(os.getpid()), encoding="utf-8")
    assert stopped_status(settings.output_dir) == 2
    forget_failed_build(settings.output_dir)
    assert stopped_status(settings.output_dir) is None


def test_a_provisional_folder_left_by_a_stopped_server_is_replaced_at_the_next_start(tmp_path):
    settings = _zoo(tmp_path)
    stale = provisional_folder(settings.output_dir)
    stale.mkdir(parents=True)
    (stale / "manifest.json").write_text("{half written", encoding="utf-8")
    assert start_provisionally(settings)
    assert create_app(settings).test_client().get("/health").get_json()["version"].startswith("provisional-")
    shutil.rmtree(settings.output_dir)


def _serve(data: Path, output: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    with open(log, "w") as log_file:
        process = subprocess.Popen([sys.executable, "-m", "lodpub.cli", "serve", "--data", str(data), "--output",
                                    str(output), "--port", str(port), "--workers", "1"],
                                   cwd=CHECKOUT, stdout=log_file, stderr=subprocess.STDOUT)
    return process, f"http://127.0.0.1:{port}/"


def _descendants(pid: int) -> list[int]:
    """The processes `pid` started, and theirs (the build's pool), parents first."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):
            continue
    return _descendants_in(pid, parents)


def _kill_tree(process: subprocess.Popen) -> None:
    """Kill `process` and every process it started, as a container's end would. Each is stopped first,
    until none is left to stop: a process started between a listing and the kill would escape it (the
    build's pool did, in CI, and held the build's lock)."""
    stopped = {process.pid}
    process.send_signal(signal.SIGSTOP)
    while new := [pid for pid in _descendants(process.pid) if pid not in stopped]:
        for pid in new:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
        stopped.update(new)
    for pid in stopped:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(timeout=30)


def _descendants_in(pid: int, parents: dict[int, int]) -> list[int]:
    children = [child for child, parent in parents.items() if parent == pid]
    return [descendant for child in children for descendant in (child, *_descendants_in(child, parents))]


@pytest.mark.served
def test_a_server_killed_while_it_builds_the_release_loses_nothing_and_the_next_start_serves_the_release(tmp_path):
    subprocess.run([sys.executable, str(CHECKOUT / "bench" / "generate.py"), "--agreements", "1000", "--out",
                    str(tmp_path / "data")], check=True, capture_output=True, timeout=120)
    output = tmp_path / "dist"
    process, base = _serve(tmp_path / "data", output, tmp_path / "first.log")
    try:
        wait_until_up(base + "health", process, tmp_path / "first.log")
        assert requests.get(base + "health", timeout=30).json()["version"].startswith("provisional-")
    finally:  # killed, the process building the release (a session of its own) with it
        _kill_tree(process)
    process, base = _serve(tmp_path / "data", output, tmp_path / "second.log")
    try:
        wait_until_up(base + "health", process, tmp_path / "second.log")
        wait_until_released(base, process, tmp_path / "second.log")
        # Killed before its release was published, the server serves the sources provisionally again and then
        # the release; killed after (a loaded machine's race), it serves the release published, as any start.
        log = (tmp_path / "second.log").read_text()
        assert "held the same quads as the release" in log or f"Serving release {pointed_version(output, CURRENT)}" in log
        served = pointed_version(output, SERVED)
        assert requests.get(base + "health", timeout=30).json()["version"] == served
        assert release_problems(output / "releases" / served) == []
        assert requests.get(base + "dumps/partnerships.nq", timeout=30).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.served
def test_reload_is_refused_while_the_provisional_release_is_served(tmp_path, run_lodpub):
    subprocess.run([sys.executable, str(CHECKOUT / "bench" / "generate.py"), "--agreements", "1000", "--out",
                    str(tmp_path / "data")], check=True, capture_output=True, timeout=120)
    output = tmp_path / "dist"
    older = run_lodpub("build", "--data", str(tmp_path / "data"), "--output", str(output))
    assert older.returncode == 0, older.stderr
    older_version = pointed_version(output, CURRENT)
    region = tmp_path / "data" / "liberec-region.ttl"
    region.write_text(region.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    process, base = _serve(tmp_path / "data", output, tmp_path / "serve.log")
    try:
        wait_until_up(base + "health", process, tmp_path / "serve.log")
        assert requests.get(base + "health", timeout=30).json()["version"].startswith("provisional-")
        refused = run_lodpub("reload", "--output", str(output))
        assert refused.returncode != 0 and "serves the provisional release" in refused.stderr
        wait_until_released(base, process, tmp_path / "serve.log")
        assert pointed_version(output, SERVED) == pointed_version(output, CURRENT) != older_version
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_release_that_cannot_be_served_leaves_the_provisional_release_served_and_says_why(tmp_path, caplog):
    settings = _zoo(tmp_path)
    assert start_provisionally(settings)
    (settings.output_dir / "at").write_text("a file where the copies under the public base go", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        assert not complete(settings, master=None)
    assert "the provisional release is still served" in caplog.text
    assert provisional_in_force() is not None
    assert create_app(settings).test_client().get("/health").get_json()["version"].startswith("provisional-")


def test_a_dataset_too_large_for_memory_is_built_first_as_before(tmp_path):
    settings = dataclasses.replace(_zoo(tmp_path), memory_store_max_triples=10)
    assert not start_provisionally(settings)
    assert provisional_in_force() is None and not provisional_folder(settings.output_dir).exists()
