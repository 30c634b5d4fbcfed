"""The remote store against a real Oxigraph server on loopback: `lodpub publish` switches releases
atomically and cleanly, the server says when the store is down and recovers without a restart,
and credentials never show.

(The server-level tests of negotiation, SPARQL protocol and catalogue run on this store too: see
`server_on_every_store` in conftest.py.)
"""

import threading

import pyoxigraph as ox
import pytest
import requests
from SPARQLWrapper import JSON, SPARQLWrapper

from conftest import RemoteStoreServer, free_port, publish_to, running_oxigraph, running_server
from server.build import build
from server.config import load_settings
from server.namespaces import CANONICAL_BASE
from server.store.remote import endpoints_from, publish

DATA_GRAPH = CANONICAL_BASE + "graph/data"
DESCRIPTION_GRAPH = CANONICAL_BASE + "graph/description"
# What a reader sees in one query: the release's version and the size of its data graph.
SNAPSHOT = f"""SELECT ?version (COUNT(*) AS ?triples) WHERE {{
  GRAPH <{DESCRIPTION_GRAPH}> {{ <{CANONICAL_BASE}id/dataset/partnerships> <http://www.w3.org/2002/07/owl#versionInfo> ?version }}
  GRAPH <{DATA_GRAPH}> {{ ?s ?p ?o }} }} GROUP BY ?version"""
GRAPHS = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"


def ask(store, query: str) -> list[dict]:
    """Query the store directly (not through lodpub), as any SPARQL client would."""
    client = SPARQLWrapper(store.query_url)
    client.setQuery(query)
    client.setReturnFormat(JSON)
    return client.queryAndConvert()["results"]["bindings"]


def snapshot(store) -> tuple[str, int] | None:
    rows = ask(store, SNAPSHOT)
    return (rows[0]["version"]["value"], int(rows[0]["triples"]["value"])) if rows else None


def endpoints(store, **overrides):
    return endpoints_from(load_settings(**{**store.settings(), **overrides}))


@pytest.fixture
def oxigraph(tmp_path):
    with running_oxigraph(tmp_path) as store:
        yield store


@pytest.fixture
def mini_release(mini_settings):
    """A second, different release of the same base IRI (the mini dataset)."""
    return build(mini_settings)


def test_publish_loads_every_graph_and_leaves_no_staging_graph(oxigraph, project_release):
    published = publish_to(oxigraph, project_release.path)
    assert published.returncode == 0, published.stderr
    assert project_release.version in published.stdout
    graphs = {row["g"]["value"] for row in ask(oxigraph, GRAPHS)}
    assert graphs == {CANONICAL_BASE + f"graph/{name}" for name in
                      ("data", "ontology", "vocabularies", "description", "catalogue")}
    data = [quad for quad in ox.parse(path=str(project_release.path / "partnerships.nq"), format=ox.RdfFormat.N_QUADS)
            if quad.graph_name.value == DATA_GRAPH]
    assert snapshot(oxigraph) == (project_release.version, len(data))


def test_readers_see_one_release_or_the_other_never_a_mix(oxigraph, project_release, mini_release):
    publish(project_release.path, endpoints(oxigraph))
    whole = {snapshot(oxigraph)}
    publish(mini_release.path, endpoints(oxigraph))
    whole.add(snapshot(oxigraph))
    assert len(whole) == 2 and None not in whole
    seen, reads, done = set(), [], threading.Event()

    def read() -> None:
        while not done.is_set():
            seen.add(snapshot(oxigraph))
            reads.append(1)

    readers = [threading.Thread(target=read) for _ in range(2)]
    for reader in readers:
        reader.start()
    try:
        for _ in range(6):
            publish(project_release.path, endpoints(oxigraph))
            publish(mini_release.path, endpoints(oxigraph))
    finally:
        done.set()
        for reader in readers:
            reader.join()
    assert len(reads) > 20
    assert seen <= whole, seen - whole
    assert not [row for row in ask(oxigraph, GRAPHS) if "/staging/" in row["g"]["value"]]


def test_a_failed_publish_leaves_the_published_release_alone(oxigraph, project_release, mini_release):
    publish(project_release.path, endpoints(oxigraph))
    before = snapshot(oxigraph)
    broken = endpoints(oxigraph, store_graph_store_url=oxigraph.graph_store_url.replace("/store", "/no-such-path"))
    with pytest.raises(Exception):
        publish(mini_release.path, broken)
    assert snapshot(oxigraph) == before
    assert not [row for row in ask(oxigraph, GRAPHS) if "/staging/" in row["g"]["value"]]


def test_the_password_never_shows(tmp_path, project_release, monkeypatch):
    monkeypatch.setenv("LODPUB_STORE_PASSWORD", "s3cret-Pa55")
    port = free_port()  # nothing listens there
    nowhere = RemoteStoreServer(*(f"http://127.0.0.1:{port}/{path}" for path in ("query", "update", "store")))
    published = publish_to(nowhere, project_release.path)
    assert published.returncode == 2
    assert "does not answer" in published.stderr
    assert "s3cret" not in published.stdout + published.stderr
    assert "s3cret" not in repr(endpoints(nowhere, store_password="s3cret-Pa55"))


def test_the_server_says_the_store_is_down_and_recovers_without_a_restart(tmp_path, project_release):
    port = free_port()
    store = RemoteStoreServer(*(f"http://127.0.0.1:{port}/{path}" for path in ("query", "update", "store")))
    with running_server(project_release.path.parent.parent, tmp_path, unavailable_is_up=True,
                        **store.settings()) as server:
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
            up = requests.get(server + "id/region/bursa", headers={"Accept": "text/turtle"}, timeout=30)
            assert up.status_code == 200 and "Bursa" in up.text
            assert requests.get(server + "health", timeout=30).json()["version"] == project_release.version


def test_a_new_release_reaches_the_running_server(tmp_path, oxigraph, project_release, mini_release):
    import time

    publish(project_release.path, endpoints(oxigraph))
    with running_server(project_release.path.parent.parent, tmp_path, **oxigraph.settings()) as server:
        assert requests.get(server + "health", timeout=30).json()["version"] == project_release.version
        publish(mini_release.path, endpoints(oxigraph))
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if requests.get(server + "health", timeout=30).json()["version"] == mini_release.version:
                break
            time.sleep(0.5)
        assert requests.get(server + "health", timeout=30).json()["version"] == mini_release.version
