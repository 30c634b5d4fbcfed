"""The server's memory allocator (allocator.py, LODPUB_ALLOCATOR): the setting, and a real server whose
master and workers (and the query runners they fork) run with jemalloc preloaded."""

import ctypes.util
from pathlib import Path

import pytest
import requests
from conftest import require
from served import running_server, workers_of

from lodpub.allocator import preloaded
from lodpub.config import Settings


def test_an_unknown_allocator_is_refused_by_name():
    with pytest.raises(ValueError, match="allocator must be 'system' or 'jemalloc', not 'tcmalloc'"):
        Settings(allocator="tcmalloc")


def test_jemalloc_is_known_preloaded_only_by_the_environment_it_was_started_with():
    assert preloaded({"LD_PRELOAD": "libjemalloc.so.2"})
    assert not preloaded({"LD_PRELOAD": "libfoo.so"})
    assert not preloaded({})


def _maps_jemalloc(pid: int) -> bool:
    return "libjemalloc" in Path(f"/proc/{pid}/maps").read_text()


@pytest.mark.served
def test_a_server_with_jemalloc_runs_every_process_with_it(project_release, tmp_path):
    require(ctypes.util.find_library("jemalloc") is not None, "jemalloc (Debian: libjemalloc2)")
    with running_server(project_release.path.parent.parent, tmp_path, allocator="jemalloc") as server:
        # A query that is not bounded by its form runs in a query runner forked from a worker.
        answer = requests.get(server + "sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
                              headers={"Accept": "application/sparql-results+json"}, timeout=30)
        assert answer.status_code == 200
        assert int(answer.json()["results"]["bindings"][0]["n"]["value"]) > 1000
        assert _maps_jemalloc(server.pid), "the master does not run with jemalloc"
        workers = workers_of(server.pid)
        assert workers and all(_maps_jemalloc(worker) for worker in workers)


@pytest.mark.served
def test_a_server_runs_with_the_system_allocator_by_default(project_release, tmp_path):
    with running_server(project_release.path.parent.parent, tmp_path) as server:
        assert not _maps_jemalloc(server.pid)
