"""The remote store against real stores on loopback (Oxigraph server, and Virtuoso open source with
its login): `lodpub publish` switches releases atomically and cleanly, the server says when the
store is down and recovers without a restart, and credentials never show.

Oxigraph applies one SPARQL Update request as one transaction, for every reader; Virtuoso does
not (its readers see a commit row by row), so there only lodpub's readers, which look at the
publication marks around each query, see one release or the other.

(The server-level tests of negotiation, SPARQL protocol and catalogue run on this store too: see
`server_on_every_store` in conftest.py.)
"""

import json
import threading
import traceback
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from conftest import RemoteStoreServer, free_port, generated_release, publish_to, running_oxigraph, running_server
from rdflib import Graph
from rdflib.compare import isomorphic
from SPARQLWrapper import JSON, SPARQLWrapper
from tiers import tiered
from virtuoso import running_virtuoso

from lodpub.build import build
from lodpub.config import load_settings
from lodpub.namespaces import CANONICAL_BASE
from lodpub.store import StoreUnavailable, query_text
from lodpub.store import publish as store_publish
from lodpub.store.endpoints import endpoints_from
from lodpub.store.publish import publish
from lodpub.store.query_text import read_query
from lodpub.store.remote import REFRESH_SECONDS, RemoteStore

DATA_GRAPH = CANONICAL_BASE + "graph/data"
DESCRIPTION_GRAPH = CANONICAL_BASE + "graph/description"
CATALOGUE_GRAPH = CANONICAL_BASE + "graph/catalogue"
# What a reader sees in one query: the release's version and the size of its data graph.
# The dataset's version: in the catalogue record's graph, or the VoID's when there is no record (the
# VoID repeats it in its file, not in its graph: no two graphs share a triple).
SNAPSHOT = f"""SELECT ?version (COUNT(*) AS ?triples) WHERE {{
  VALUES ?about {{ <{DESCRIPTION_GRAPH}> <{CATALOGUE_GRAPH}> }}
  GRAPH ?about {{ <{CANONICAL_BASE}id/dataset/partnerships> <http://www.w3.org/2002/07/owl#versionInfo> ?version }}
  GRAPH <{DATA_GRAPH}> {{ ?s ?p ?o }} }} GROUP BY ?version"""
# The graphs of our base IRI (a store may hold graphs of its own: Virtuoso does).
GRAPHS = f"""SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }}
  FILTER STRSTARTS(STR(?g), "{CANONICAL_BASE}") }}"""


def ask(store, query: str) -> list[dict]:
    """Query the store directly (not through lodpub), as any SPARQL client would."""
    client = SPARQLWrapper(store.query_url)
    client.setQuery(query)
    client.setReturnFormat(JSON)
    return client.queryAndConvert()["results"]["bindings"]


Snapshot = tuple[str, int] | None


def snapshot(store) -> Snapshot:
    rows = ask(store, SNAPSHOT)
    return (rows[0]["version"]["value"], int(rows[0]["triples"]["value"])) if rows else None


def lodpub_reader(store, releases_dir) -> Callable[[], Snapshot]:
    """What lodpub's remote store sees of SNAPSHOT, one query at a time."""
    reader = RemoteStore(endpoints(store), CANONICAL_BASE, releases_dir)

    def look() -> Snapshot:
        rows = reader.select(SNAPSHOT)
        return (str(rows[0]["version"]), int(rows[0]["triples"])) if rows else None

    return look


def endpoints(store, **overrides):
    return endpoints_from(load_settings(**{**store.settings(), **overrides}))


STARTERS = {"oxigraph": running_oxigraph, "virtuoso": running_virtuoso}
# The stores whose every reader sees an update request as one transaction.
TRANSACTIONAL = {"oxigraph"}


@pytest.fixture(params=sorted(STARTERS))
@tiered("stores")
def store(request, tmp_path):
    """An empty store of each kind in turn."""
    with STARTERS[request.param](tmp_path) as started:
        yield started


@pytest.fixture
def mini_release(mini_settings):
    """A second, different release of the same base IRI (the mini dataset)."""
    return build(mini_settings)


def test_publish_loads_every_graph_and_leaves_no_staging_graph(store, project_release):
    published = publish_to(store, project_release.path)
    assert published.returncode == 0, published.stderr
    assert project_release.version in published.stdout
    graphs = {row["g"]["value"] for row in ask(store, GRAPHS)}
    assert graphs == {CANONICAL_BASE + f"graph/{name}" for name in
                      ("data", "authorities", "ontology", "vocabularies", "description", "catalogue",
                       "publication")}
    data = [quad for quad in ox.parse(path=str(project_release.path / "partnerships.nq"), format=ox.RdfFormat.N_QUADS)
            if quad.graph_name.value == DATA_GRAPH]
    assert snapshot(store) == (project_release.version, len(data))


def test_readers_see_one_release_or_the_other_never_a_mix(request, store, project_release, mini_release):
    publish(project_release.path, endpoints(store))
    whole = {snapshot(store)}
    publish(mini_release.path, endpoints(store))
    whole.add(snapshot(store))
    assert len(whole) == 2 and None not in whole
    looks = [lodpub_reader(store, project_release.path.parent) for _ in range(2)]
    if request.node.callspec.params["store"] in TRANSACTIONAL:
        looks.append(lambda: snapshot(store))
    seen, reads, failures, done = set(), [], [], threading.Event()

    def read(look: Callable[[], Snapshot]) -> None:
        try:
            while not done.is_set():
                seen.add(look())
                reads.append(1)
        except Exception:  # a thread's exception would go unseen
            failures.append(traceback.format_exc())

    readers = [threading.Thread(target=read, args=(look,)) for look in looks]
    for reader in readers:
        reader.start()
    try:
        for _ in range(6):
            publish(project_release.path, endpoints(store))
            publish(mini_release.path, endpoints(store))
    finally:
        done.set()
        for reader in readers:
            reader.join()
    assert not failures and len(reads) > 20, "\n".join(failures)
    assert seen <= whole, seen - whole
    assert not [row for row in ask(store, GRAPHS) if "/staging/" in row["g"]["value"]]


def test_a_failed_publish_leaves_the_published_release_alone(store, project_release, mini_release):
    publish(project_release.path, endpoints(store))
    before = snapshot(store)
    broken = endpoints(store, store_graph_store_url=store.graph_store_url.rsplit("/", 1)[0] + "/no-such-path")
    with pytest.raises(StoreUnavailable):
        publish(mini_release.path, broken)
    assert snapshot(store) == before
    assert not [row for row in ask(store, GRAPHS) if "/staging/" in row["g"]["value"]]


def test_the_password_never_shows(tmp_path, project_release):
    port = free_port()  # nothing listens there
    nowhere = RemoteStoreServer(*(f"http://127.0.0.1:{port}/{path}" for path in ("query", "update", "store")),
                                user="dba", password="s3cret-Pa55", auth="digest")
    published = publish_to(nowhere, project_release.path)
    assert published.returncode == 2
    assert "does not answer" in published.stderr
    assert "s3cret" not in published.stdout + published.stderr
    assert "s3cret" not in repr(endpoints(nowhere))


@pytest.mark.served
@pytest.mark.stores
def test_the_server_says_the_store_is_down_and_recovers_without_a_restart(tmp_path, project_release):
    port = free_port()
    store = RemoteStoreServer(*(f"http://127.0.0.1:{port}/{path}" for path in ("query", "update", "store")))
    with running_server(project_release.path.parent.parent, tmp_path, unavailable_is_up=True,
                        public_base=CANONICAL_BASE, **store.settings()) as server:
        down = requests.get(server + "id/region/bursa", headers={"Accept": "text/turtle"}, timeout=30)
        assert down.status_code == 503
        assert "does not answer" in down.text and f"127.0.0.1:{port}" in down.text
        assert down.headers["Retry-After"]
        query = requests.get(server + "sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=30)
        assert query.status_code == 503
        with running_oxigraph(tmp_path, port) as started:
            empty = requests.get(server + "health", timeout=30)
            assert empty.status_code == 503 and "lodpub publish" in empty.text
            assert publish_to(started, project_release.path).returncode == 0
            # (the document itself: the thing's 303 leads to the canonical base, the server's public base)
            up = requests.get(server + "doc/id/region/bursa", headers={"Accept": "text/turtle"}, timeout=30)
            assert up.status_code == 200 and "Bursa" in up.text
            assert requests.get(server + "health", timeout=30).json()["version"] == project_release.version


@pytest.mark.served
def test_a_new_release_reaches_the_running_server(tmp_path, store, project_release, mini_release):
    import time

    publish(project_release.path, endpoints(store))
    output = tmp_path / "both"  # the files of both releases, for the documents that list them
    (output / "releases").mkdir(parents=True)
    for release in (project_release, mini_release):
        (output / "releases" / release.version).symlink_to(release.path)
    (output / "current").symlink_to(Path("releases") / project_release.version)
    with running_server(output, tmp_path, shared=False, public_base=CANONICAL_BASE, **store.settings()) as server:
        assert requests.get(server + "health", timeout=30).json()["version"] == project_release.version
        record = server + "doc/id/dataset/partnerships.ttl"
        for _ in range(4):  # every worker renders, and keeps, the record of this release
            assert f'"{project_release.version}"' in requests.get(record, timeout=30).text
        publish(mini_release.path, endpoints(store))
        published = time.monotonic()
        answers, deadline = [], published + 15
        while answers[-6:] != [mini_release.version] * 6 and time.monotonic() < deadline:
            answers.append(requests.get(server + "health", timeout=30).json()["version"])
            time.sleep(0.2)
        assert answers[-6:] == [mini_release.version] * 6, answers
        # Each worker reads the release on its own, within REFRESH_SECONDS of the publish: a worker
        # that answered none of the requests above may not have read it yet.
        time.sleep(max(0.0, published + REFRESH_SECONDS + 0.5 - time.monotonic()))
        for _ in range(4):  # no worker serves the record it kept of the old release
            assert f'"{mini_release.version}"' in requests.get(record, timeout=30).text


@pytest.fixture(scope="module")
def larger_release(tmp_path_factory):
    """A release of 30 generated agreements: its data graph (~500 KB of N-Triples) is more than a
    socket's buffers hold, so a store that answers before reading the whole body shows it."""
    return generated_release(tmp_path_factory.mktemp("larger"), 30)


def test_a_release_larger_than_a_socket_buffer_is_published_in_parts(store, larger_release, monkeypatch):
    monkeypatch.setattr(store_publish, "CHUNK_TRIPLES", 1000)  # the data graph in eight parts
    publish(larger_release.path, endpoints(store))
    data = [quad.triple for quad in ox.parse(path=str(larger_release.path / "partnerships.nq"),
                                             format=ox.RdfFormat.N_QUADS) if quad.graph_name.value == DATA_GRAPH]
    assert snapshot(store) == (larger_release.version, len(data))
    stored = ask_graph(store, f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{DATA_GRAPH}> {{ ?s ?p ?o }} }}")
    # The same graph, blank nodes included (each was sent in one part with every triple naming it).
    assert isomorphic(stored, _rdflib_graph(data))


def ask_graph(store, query: str) -> Graph:
    """A CONSTRUCT answer of the store, asked directly, as an rdflib graph."""
    answer = requests.post(store.query_url, data={"query": query}, headers={"Accept": "application/n-triples"},
                           timeout=120)
    assert answer.status_code == 200, answer.text[:300]
    return Graph().parse(data=answer.text, format="nt")


def _rdflib_graph(triples: list) -> Graph:
    return Graph().parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode(), format="nt")


def test_a_query_is_read_once_and_sent_with_its_dataset_as_parameters(store, project_release, monkeypatch):
    """The endpoint reads a client's query once and hands it down: the remote store sends it
    without reading it again, its FROM as the protocol's parameters and its relative IRIs resolved."""
    assert publish_to(store, project_release.path).returncode == 0
    remote = RemoteStore(endpoints(store), CANONICAL_BASE, project_release.path.parent)
    query = read_query(f"BASE <{CANONICAL_BASE}> SELECT (COUNT(*) AS ?n) FROM <graph/data> "
                       "WHERE { <id/region/bursa> ?p ?o }", CANONICAL_BASE + "sparql")
    lexed, lex = [], query_text._tokens
    monkeypatch.setattr(query_text, "_tokens", lambda text: lexed.append(text) or lex(text))
    answer = remote.sparql(query, None, None, "application/sparql-results+json", "application/n-triples", 10)
    assert [text for text in lexed if text == query.text] == []
    assert int(json.loads(answer.body)["results"]["bindings"][0]["n"]["value"]) > 5
