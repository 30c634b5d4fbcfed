"""The server's memory allocator (allocator.py, LODPUB_ALLOCATOR): the setting, and real servers whose
master and workers (and the query runners they fork) run with the system's malloc by default, and with
jemalloc preloaded where `auto` finds it installed (the system's malloc where it does not)."""

import ctypes.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from conftest import require
from served import CHECKOUT, running_server, workers_of

from lodpub.allocator import AllocatorMissing, preloaded, start_with_allocator
from lodpub.config import Settings

MISSING_LIBRARY = "/nonexistent/libjemalloc.so.2"


def test_the_allocator_is_jemalloc_where_installed_by_default_and_an_unknown_one_is_refused_by_name():
    assert Settings().allocator == "auto"
    with pytest.raises(ValueError, match="allocator must be 'auto', 'system' or 'jemalloc', not 'tcmalloc'"):
        Settings(allocator="tcmalloc")


def test_jemalloc_is_known_preloaded_only_by_the_environment_it_was_started_with():
    assert preloaded({"LD_PRELOAD": "libjemalloc.so.2"})
    assert preloaded({"LD_PRELOAD": "/opt/je/libje.so /usr/lib/libfoo.so"}, library="/opt/je/libje.so")
    assert not preloaded({"LD_PRELOAD": "libfoo.so"})
    assert not preloaded({})


def test_auto_runs_on_with_the_system_malloc_where_jemalloc_is_missing_and_jemalloc_refuses():
    # Neither call starts this process again: the library they name does not exist.
    assert start_with_allocator("auto", MISSING_LIBRARY) == "system"
    assert start_with_allocator("system") == "system"
    with pytest.raises(AllocatorMissing, match=f"jemalloc is not installed at {MISSING_LIBRARY}"):
        start_with_allocator("jemalloc", MISSING_LIBRARY)


def test_serve_with_jemalloc_asked_for_and_missing_says_so_and_starts_nothing(tmp_path):
    environment = {name: value for name, value in os.environ.items() if not name.startswith("LODPUB_")}
    environment |= {"LODPUB_ALLOCATOR": "jemalloc", "LODPUB_JEMALLOC_LIBRARY": MISSING_LIBRARY,
                    "LODPUB_OUTPUT_DIR": str(tmp_path / "dist")}
    finished = subprocess.run([sys.executable, "-m", "lodpub.cli", "serve", "--port", "1"], cwd=CHECKOUT,
                              env=environment, capture_output=True, text=True, timeout=60)
    assert finished.returncode != 0
    assert f"LODPUB_ALLOCATOR=jemalloc, but jemalloc is not installed at {MISSING_LIBRARY}" in finished.stderr
    assert not (tmp_path / "dist").exists()


def _maps_jemalloc(pid: int) -> bool:
    return "libjemalloc" in Path(f"/proc/{pid}/maps").read_text()


def _threads(pid: int) -> set[str]:
    return {(task / "comm").read_text().strip() for task in Path(f"/proc/{pid}/task").iterdir()}


def _health(server: str) -> dict:
    return requests.get(server + "health", timeout=10).json()


@pytest.mark.served
def test_a_server_on_auto_runs_every_process_with_jemalloc_where_it_is_installed(project_release, tmp_path):
    require(ctypes.util.find_library("jemalloc") is not None, "jemalloc (Debian: libjemalloc2)")
    with running_server(project_release.path.parent.parent, tmp_path, allocator="auto") as server:
        # A query that is not bounded by its form runs in a query runner forked from a worker.
        answer = requests.get(server + "sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
                              headers={"Accept": "application/sparql-results+json"}, timeout=30)
        assert answer.status_code == 200
        assert int(answer.json()["results"]["bindings"][0]["n"]["value"]) > 1000
        assert _maps_jemalloc(server.pid), "the master does not run with jemalloc"
        workers = workers_of(server.pid)
        assert workers and all(_maps_jemalloc(worker) for worker in workers)
        # What processes freed is given back by jemalloc's background thread (allocator.JEMALLOC_CONF).
        assert "jemalloc_bg_thd" in _threads(server.pid)
        assert _health(server)["allocator"].startswith("jemalloc (")
        assert "lodpub: allocator auto: jemalloc (" in server.log.read_text()


@pytest.mark.served
def test_a_server_where_jemalloc_is_missing_serves_with_the_system_malloc_and_says_why(project_release, tmp_path):
    with running_server(project_release.path.parent.parent, tmp_path, allocator="auto",
                        jemalloc_library=MISSING_LIBRARY) as server:
        assert requests.get(server + "sparql", params={"query": "ASK { ?s ?p ?o }"},
                            headers={"Accept": "application/sparql-results+json"}, timeout=30).json()["boolean"]
        assert not _maps_jemalloc(server.pid)
        assert not any(_maps_jemalloc(worker) for worker in workers_of(server.pid))
        said = f"system (the C library's malloc; jemalloc, {MISSING_LIBRARY}, is not installed)"
        assert _health(server)["allocator"] == said
        assert f"lodpub: allocator auto: {said}" in server.log.read_text()


@pytest.mark.served
def test_a_server_runs_with_jemalloc_by_default_where_installed_and_with_the_system_malloc_when_told(
        project_release, tmp_path):
    require(ctypes.util.find_library("jemalloc") is not None, "jemalloc (Debian: libjemalloc2)")
    with running_server(project_release.path.parent.parent, tmp_path) as server:
        assert _maps_jemalloc(server.pid)
        assert _health(server)["allocator"].startswith("jemalloc (")
    with running_server(project_release.path.parent.parent, tmp_path, allocator="system") as server:
        assert not _maps_jemalloc(server.pid)
        assert _health(server)["allocator"] == "system (the C library's malloc)"
