"""A release served from disk (LODPUB_MEMORY_STORE_MAX_TRIPLES below its size) answers as one held
in memory, is built once however many processes open it, and goes when its release is pruned."""

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from conftest import CHECKOUT, MINI, RunningServer, mini_release_settings, running_server
from rdflib import Graph
from rdflib.compare import isomorphic
from tiers import tiered

from lodpub.build import build
from lodpub.config import load_settings
from lodpub.public_release import copy_folder
from lodpub.release_preparation import check_servable
from lodpub.store import StoreUnavailable, served_copy
from lodpub.store.embedded import EmbeddedStore
from lodpub.store.ondisk import BUILDING_PREFIX, FOLDER
from lodpub.store.releases import list_releases, release_problems
from lodpub.store.served_release import prune

SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


def mini_copy(folder: Path):
    """Settings for a copy of the mini dataset in `folder`, releases going to folder/dist."""
    shutil.copytree(MINI, folder / "mini")
    return load_settings(ontology_dir=folder / "mini" / "ontology", data_dir=folder / "mini" / "data",
                         shapes_dir=folder / "mini" / "shapes", output_dir=folder / "dist")


# --- The same answers from disk as from memory, over HTTP -----------------------------------


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory):
    """A release of the mini dataset, with its settings."""
    settings = mini_copy(tmp_path_factory.mktemp("ondisk"))
    return build(settings), settings


@pytest.fixture(scope="module")
@tiered("served")
def servers(release, tmp_path_factory) -> Iterator[tuple[RunningServer, RunningServer]]:
    """`lodpub serve` of the release twice: from disk (threshold 0), and in memory (the default)."""
    built, settings = release
    output, data = settings.output_dir, mini_release_settings(settings)
    with running_server(output, tmp_path_factory.mktemp("disk"), memory_store_max_triples="0", sparql_timeout="2",
                        **data) as on_disk, \
            running_server(output, tmp_path_factory.mktemp("memory"), **data) as in_memory:
        yield on_disk, in_memory


def normalised(response: requests.Response, base: str) -> str:
    """The body of an answer, with the server's own address (its port differs) made neutral."""
    assert response.status_code == 200, response.text
    return response.text.replace(base, "http://server/")


def sparql(base: str, query: str, accept: str) -> str:
    return normalised(requests.get(base + "sparql", params={"query": query}, headers={"Accept": accept}, timeout=30),
                      base)


@pytest.mark.served
def test_the_release_is_served_from_its_store_on_disk(servers, release):
    """From the store of the release as the server publishes it (at its own address: the release's
    copy under that base, see public_release.py)."""
    on_disk, _ = servers
    served = copy_folder(on_disk.output, on_disk) / release[0].version
    assert (served / FOLDER / "engine").is_dir()
    assert not list(served.glob(f"{BUILDING_PREFIX}*"))


@pytest.mark.parametrize("query", [
    "SELECT ?s ?p ?o WHERE { ?s ?p ?o FILTER (!isBlank(?s) && !isBlank(?o)) } ORDER BY ?s ?p ?o",
    "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g",
    "SELECT ?label WHERE { <id/region/bursa> ?p ?label FILTER isLiteral(?label) } ORDER BY ?label",
])
@pytest.mark.served
def test_select_answers_are_the_same_on_disk_as_in_memory(servers, query):
    answers = [sparql(base, query, "application/sparql-results+json") for base in servers]
    assert answers[0] == answers[1]
    assert json.loads(answers[0])["results"]["bindings"]


@pytest.mark.served
def test_ask_answers_are_the_same_on_disk_as_in_memory(servers):
    for query, expected in (("ASK { <id/region/bursa> ?p ?o }", "true"), ("ASK { <id/region/nowhere> ?p ?o }", "false")):
        answers = {sparql(base, query, "application/sparql-results+json") for base in servers}
        assert len(answers) == 1 and expected in answers.pop()


@pytest.mark.served
def test_from_names_the_same_graph_on_disk_as_in_memory(servers):
    on_disk, _ = servers
    graphs = sparql(on_disk, "SELECT DISTINCT ?g WHERE { GRAPH ?g { } } ORDER BY ?g", "text/csv").split()[1:]
    assert len(graphs) >= 3
    for graph in graphs:
        graph = graph.replace("http://server/", "")
        query = f"SELECT (COUNT(*) AS ?n) FROM <{graph}> WHERE {{ ?s ?p ?o }}"
        counts = [sparql(base, query, "text/csv") for base in servers]
        assert counts[0] == counts[1] and counts[0] != "n\r\n0\r\n", graph


@pytest.mark.served
def test_construct_answers_are_the_same_graph_on_disk_as_in_memory(servers):
    query = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
    on_disk, in_memory = (Graph().parse(data=sparql(base, query, "text/turtle"), format="turtle") for base in servers)
    assert len(on_disk) > 100 and isomorphic(on_disk, in_memory)


@pytest.mark.served
def test_documents_are_the_same_on_disk_as_in_memory(servers):
    on_disk, _ = servers
    paths = [iri.replace("http://server/", "") for iri in sparql(
        on_disk, "SELECT DISTINCT ?s WHERE { ?s ?p ?o FILTER STRSTARTS(STR(?s), STR(<id/>)) } ORDER BY ?s",
        "text/csv").split()[1:]]
    assert len(paths) >= 5
    for path in paths:
        documents = [Graph().parse(data=normalised(requests.get(base + path, headers={"Accept": "text/turtle"},
                                                                timeout=30), base), format="turtle")
                     for base in servers]
        assert len(documents[0]) > 0 and isomorphic(*documents), path


@pytest.mark.served
def test_a_query_stopped_at_its_time_leaves_the_server_answering(servers):
    on_disk, _ = servers
    stopped = requests.get(on_disk + "sparql", params={"query": SLOW}, timeout=30)
    assert stopped.status_code == 503 and "was stopped" in stopped.text
    for _ in range(3):  # the next runner, forked afresh, opens the store for itself
        answer = requests.get(on_disk + "sparql", params={"query": "ASK { <id/region/bursa> ?p ?o }"},
                              headers={"Accept": "application/sparql-results+json"}, timeout=30)
        assert answer.status_code == 200 and answer.json()["boolean"] is True
        assert requests.get(on_disk + "id/region/bursa", headers={"Accept": "text/turtle"}, timeout=30).ok


# --- Building: once, whole, or not at all ---------------------------------------------------


OPEN_AND_COUNT_BUILDS = """
import sys, time
from pathlib import Path
from lodpub.store import ondisk
from lodpub.store.embedded import EmbeddedStore

release, builds, start = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
build_into_place = ondisk.build_into_place
def counted(folder, build):
    with open(builds, "a") as log:
        log.write("built\\n")
    build_into_place(folder, build)
ondisk.build_into_place = counted
time.sleep(max(0.0, start - time.time()))  # both processes ask at the same moment
store = EmbeddedStore(release, 0)
print(store.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")[0]["n"], (release / ondisk.FOLDER).stat().st_ino)
"""


@pytest.mark.served
def test_two_processes_opening_the_same_release_build_its_store_once(tmp_path):
    release = build(mini_copy(tmp_path)).path
    builds = tmp_path / "builds.log"
    start = time.time() + 2
    # This checkout's code (a PYTHONPATH that maps lodpub to it) before the installed package.
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"),
                                                                               str(CHECKOUT)]))}
    processes = [subprocess.Popen([sys.executable, "-c", OPEN_AND_COUNT_BUILDS, str(release), str(builds), str(start)],
                                  cwd=CHECKOUT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(2)]
    outputs = [process.communicate(timeout=60) for process in processes]

    assert all(process.returncode == 0 for process in processes), outputs
    assert builds.read_text().splitlines() == ["built"]
    (answer,) = {out for out, _ in outputs}  # the same count, and the same store folder
    assert int(answer.split()[0]) > 100


def test_a_store_left_half_built_is_never_opened_and_is_removed(tmp_path):
    release = build(mini_copy(tmp_path)).path
    killed = release / f"{BUILDING_PREFIX}99999"
    (killed / "engine").mkdir(parents=True)
    (killed / "engine" / "CURRENT").write_text("half a store\n")

    store = EmbeddedStore(release, 0)

    assert store.on_disk and store.exists(store.base_iri + "id/region/bursa")
    assert not killed.exists()
    assert sorted(path.name for path in release.glob(".oxigraph*")) == [FOLDER, ".oxigraph.lock"]


def test_a_release_whose_files_fail_their_checksums_gets_no_store(tmp_path):
    release = build(mini_copy(tmp_path)).path
    (release / "partnerships.nq").write_text("# emptied by hand\n", encoding="utf-8")

    with pytest.raises(StoreUnavailable, match=f"release {release.name} cannot be served: partnerships.nq fails"):
        EmbeddedStore(release, 0)
    assert not (release / FOLDER).exists() and not list(release.glob(f"{BUILDING_PREFIX}*"))


def test_a_small_release_stays_in_memory_and_a_larger_one_goes_to_disk(tmp_path):
    release = build(mini_copy(tmp_path)).path
    triples = EmbeddedStore(release).triple_count

    assert not EmbeddedStore(release, triples).on_disk and not (release / FOLDER).exists()
    assert EmbeddedStore(release, triples - 1).on_disk and (release / FOLDER).is_dir()


@pytest.mark.served
def test_the_server_builds_the_store_before_it_starts_its_workers(tmp_path):
    """So that no worker takes longer to start than gunicorn lets it (see prepare_store)."""
    settings = dataclasses.replace(mini_copy(tmp_path), memory_store_max_triples=0)
    release = build(settings).path

    check_servable(settings)

    served, _ = served_copy(settings, release)  # the release as published under the server's base
    assert (served / FOLDER / "engine").is_dir() and not list(served.glob(f"{BUILDING_PREFIX}*"))


def test_a_negative_threshold_is_refused():
    with pytest.raises(ValueError, match="memory_store_max_triples cannot be negative"):
        load_settings(memory_store_max_triples=-1)


# --- Releases: the store is part of its release, invisibly ----------------------------------


def test_pruning_a_release_removes_its_store_and_the_store_is_no_release(tmp_path):
    settings = mini_copy(tmp_path)
    old = build(settings).path
    EmbeddedStore(old, 0)
    (settings.data_dir / "note.ttl").write_text(
        '<https://data.kraj-lbc.cz/partnerships/id/region/bursa> <http://www.w3.org/2000/01/rdf-schema#comment> '
        '"a note added later"@en .\n', encoding="utf-8")
    new = build(settings).path

    assert [summary.path for summary in list_releases(settings.output_dir)] == [old, new]
    assert release_problems(old) == []
    assert prune(settings.output_dir, keep=1) == [old.name]
    assert not old.exists() and not list(old.parent.glob(".*"))
