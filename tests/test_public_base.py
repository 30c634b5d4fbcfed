"""One public base: the server publishes a release under the base it is configured with, mapped once
at the level of RDF terms (server/public_release.py), and rewrites nothing per request or per host.

In process (Flask's test client) on real releases, real parsers and, for the refusal of a remote
store, a real Oxigraph server."""

import dataclasses
import hashlib
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT, RDFS, XSD
from served import own_output, proxied_to, publish_to, running_oxigraph

from lodpub import create_app
from lodpub.build import build
from lodpub.config import Settings, load_settings
from lodpub.namespaces import CANONICAL_BASE, rebase
from lodpub.public_release import copy_folder, mapped_by_terms, public_release

LOOPBACK = "http://127.0.0.1:5123/"
SPDX_CHECKSUM = URIRef("http://spdx.org/rdf/terms#checksum")
SPDX_CHECKSUM_VALUE = URIRef("http://spdx.org/rdf/terms#checksumValue")
# The mini ontology's comment: a plain string that holds the canonical base.
WRITTEN_UNDER = Literal(f"Written under {CANONICAL_BASE} (a plain string: never rebased).")


def files_in(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file below `folder`: {relative path: (inode, mtime in ns)}."""
    return {str(path.relative_to(folder)): (path.stat().st_ino, path.stat().st_mtime_ns)
            for path in sorted(folder.rglob("*")) if path.is_file()}


def named_graphs(nquads: bytes) -> dict[str, Graph]:
    """{graph name: graph} of N-Quads."""
    dataset = Dataset()
    dataset.parse(data=nquads, format="nquads")
    return {str(graph.identifier): graph for graph in dataset.graphs() if len(graph)}


@pytest.fixture
def mini_release(mini_settings):
    return build(mini_settings)


def test_the_copy_moves_every_iri_and_any_uri_value_and_never_a_string(mini_release, mini_settings):
    folder, manifest = public_release(mini_release.path, LOOPBACK, mini_settings.output_dir)
    assert folder == copy_folder(mini_settings.output_dir, LOOPBACK) / mini_release.version
    assert manifest["base_iri"] == LOOPBACK and manifest["version"] == mini_release.version
    built, mapped = (named_graphs((path / "partnerships.nq").read_bytes()) for path in (mini_release.path, folder))
    assert set(mapped) == {LOOPBACK + name[len(CANONICAL_BASE):] for name in built}
    for name, graph in built.items():  # rdflib's term-level rebase of each graph: the same graph
        assert isomorphic(mapped[LOOPBACK + name[len(CANONICAL_BASE):]], rebase(graph, CANONICAL_BASE, LOOPBACK))
    ontology = mapped[LOOPBACK + "graph/ontology"]
    assert (URIRef(LOOPBACK + "ontology"), RDFS.comment, WRITTEN_UNDER) in ontology
    assert Literal(LOOPBACK + "ontology/", datatype=XSD.anyURI) in set(ontology.objects())
    every_term = {str(term) for graph in mapped.values() for triple in graph for term in triple}
    assert not [term for term in every_term if term.startswith(CANONICAL_BASE)]


def test_the_copy_s_dumps_are_sorted_lines_and_its_n_triples_the_union_of_its_graphs(mini_release, mini_settings):
    folder, _ = public_release(mini_release.path, LOOPBACK, mini_settings.output_dir)
    quads, triples = ((folder / name).read_bytes() for name in ("partnerships.nq", "partnerships.nt"))
    for dump in (quads, triples):
        lines = dump.splitlines(keepends=True)
        assert lines == sorted(set(lines))
    assert ({quad.triple for quad in ox.parse(quads, format=ox.RdfFormat.N_QUADS)}
            == {quad.triple for quad in ox.parse(triples, format=ox.RdfFormat.N_TRIPLES)})


def test_lines_moved_as_text_are_the_lines_moved_term_by_term(mini_release, mini_settings):
    quads = (mini_release.path / "partnerships.nq").read_bytes()
    folder, _ = public_release(mini_release.path, LOOPBACK, mini_settings.output_dir)
    by_terms = mapped_by_terms(quads, ox.RdfFormat.N_QUADS, CANONICAL_BASE, LOOPBACK)
    assert (folder / "partnerships.nq").read_bytes() == b"".join(sorted(by_terms))


def test_every_file_of_the_copy_is_the_one_its_manifest_and_sums_describe(mini_release, mini_settings):
    folder, manifest = public_release(mini_release.path, LOOPBACK, mini_settings.output_dir)
    sums = dict(reversed(line.split("  ")) for line in (folder / "SHA256SUMS").read_text().splitlines())
    for entry in manifest["files"] + manifest["description"]:
        data = (folder / entry["name"]).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (entry["bytes"], entry["sha256"]), entry["name"]
        assert sums[entry["name"]] == entry["sha256"]
    nt = Graph().parse(folder / "partnerships.nt", format="nt")
    for name in ("partnerships.ttl", "partnerships.jsonld", "partnerships.rdf"):
        assert isomorphic(Graph().parse(folder / name), nt), name


def test_the_copy_is_written_once_and_reused(mini_release, mini_settings):
    public_release(mini_release.path, LOOPBACK, mini_settings.output_dir)
    written = files_in(mini_settings.output_dir)
    again, _ = public_release(mini_release.path, LOOPBACK, mini_settings.output_dir)
    app = create_app(_serving(mini_settings, LOOPBACK))
    assert app.test_client().get("/doc/id/region/bursa.ttl").status_code == 200
    assert files_in(mini_settings.output_dir) == written  # nothing written, nothing replaced
    assert again.is_dir() and not list(again.parent.glob(".writing-*"))


def test_a_release_built_under_the_public_base_is_served_as_it_is(mini_release, mini_settings):
    folder, manifest = public_release(mini_release.path, CANONICAL_BASE, mini_settings.output_dir)
    assert folder == mini_release.path and manifest == mini_release.manifest
    assert not (mini_settings.output_dir / "at").exists()


def _serving(settings: Settings, public_base: str) -> Settings:
    return load_settings(ontology_dir=settings.ontology_dir, data_dir=settings.data_dir,
                         shapes_dir=settings.shapes_dir, output_dir=settings.output_dir, public_base=public_base)


@pytest.fixture
def loopback_client(mini_release, mini_settings):
    """The app serving the mini release under LOOPBACK, and its output folder."""
    app = create_app(_serving(mini_settings, LOOPBACK))
    return app.test_client(), mini_settings.output_dir


REQUESTS = [("GET", "/doc/id/region/bursa.ttl", {}), ("GET", "/id/region/bursa", {}),
            ("GET", "/dumps/partnerships.nq.gz", {}), ("GET", "/dumps/manifest.json", {}),
            ("GET", "/.well-known/void.ttl", {}),
            ("POST", "/sparql", {"query": f"DESCRIBE <{LOOPBACK}id/region/bursa>"})]


def test_an_unexpected_host_gets_the_same_bytes_and_costs_no_file(loopback_client):
    client, output = loopback_client
    answers = {}
    for host in ("127.0.0.1:5123", "localhost:5123", "unexpected.example"):
        answers[host] = [client.open(path, method=method, data=data, headers={"Host": host, "Accept": "text/turtle"})
                         for method, path, data in REQUESTS]
        if host == "127.0.0.1:5123":
            written = files_in(output)
    for responses in answers.values():
        assert [response.status_code for response in responses] == [200, 303, 200, 200, 200, 200]
        assert [(response.data, response.headers.get("Location"), response.headers.get("Link"))
                for response in responses] == [
            (response.data, response.headers.get("Location"), response.headers.get("Link"))
            for response in answers["127.0.0.1:5123"]]
    assert answers["unexpected.example"][1].headers["Location"] == LOOPBACK + "doc/id/region/bursa"
    assert files_in(output) == written


def test_sparql_finds_our_iris_by_their_text_and_leaves_strings_alone(loopback_client):
    client, _ = loopback_client
    query = f'SELECT ?x WHERE {{ ?x ?p ?o FILTER(STRSTARTS(STR(?x), "{LOOPBACK}id/region/")) }}'
    found = client.post("/sparql", data={"query": query}, headers={"Accept": "text/csv"})
    assert found.status_code == 200 and f"{LOOPBACK}id/region/bursa" in found.text
    comment = client.post("/sparql", headers={"Accept": "text/csv"}, data={
        "query": f"SELECT ?c WHERE {{ <{LOOPBACK}ontology> <{RDFS.comment}> ?c }}"})
    assert str(WRITTEN_UNDER) in comment.text  # the canonical base inside a string is not moved
    none = client.post("/sparql", data={"query": query.replace(LOOPBACK, CANONICAL_BASE)},
                       headers={"Accept": "text/csv"})
    assert none.text.strip() == "x"  # no IRI under another base: the query is not rewritten


# The record's facts about the dumps, as the SPARQL endpoint gives them.
RECORD_QUERY = f"""CONSTRUCT {{ ?d <{DCAT.downloadURL}> ?url ; <{DCAT.byteSize}> ?size ; <{SPDX_CHECKSUM}> ?c .
  ?c <{SPDX_CHECKSUM_VALUE}> ?sha }}
WHERE {{ ?d <{DCAT.downloadURL}> ?url ; <{DCAT.byteSize}> ?size ; <{SPDX_CHECKSUM}> ?c . ?c <{SPDX_CHECKSUM_VALUE}> ?sha }}"""


def test_the_catalogue_record_describes_the_dumps_as_served(project_release, tmp_path):
    output = own_output(project_release.path.parent.parent, tmp_path)
    client = create_app(Settings(output_dir=output, public_base=LOOPBACK)).test_client()
    record = Graph().parse(data=client.get("/dumps/catalogue.ttl").data, format="turtle")
    stored = client.post("/sparql", headers={"Accept": "text/turtle"}, data={"query": RECORD_QUERY})
    assert stored.status_code == 200
    checked = 0
    for graph in (record, Graph().parse(data=stored.data, format="turtle")):
        for distribution, url in graph.subject_objects(DCAT.downloadURL):
            assert str(url).startswith(LOOPBACK + "dumps/")
            body = client.get("/" + str(url)[len(LOOPBACK):]).data
            assert int(graph.value(distribution, DCAT.byteSize)) == len(body), url
            checksum = graph.value(distribution, SPDX_CHECKSUM)
            assert str(graph.value(checksum, SPDX_CHECKSUM_VALUE)) == hashlib.sha256(body).hexdigest(), url
            checked += 1
    assert checked >= 4


def test_a_public_base_with_a_path_gives_links_with_the_path_once(mini_release, mini_settings):
    base = "https://example.org/lk/"
    app = create_app(dataclasses.replace(_serving(mini_settings, base), proxy_hops=1))
    client = app.test_client()
    for proxy in ({}, proxied_to(base)):  # straight, or through a proxy that names the prefix /lk
        thing = client.get("/id/region/bursa", headers=proxy)
        assert thing.status_code == 303 and thing.headers["Location"] == base + "doc/id/region/bursa"
        document = client.get("/doc/id/region/bursa", headers={**proxy, "Accept": "text/turtle"})
        assert document.status_code == 200
        assert f"<{base}doc/id/region/bursa.ttl>" in document.headers["Link"]
        assert "/lk/lk/" not in document.headers["Link"]


def test_a_release_and_its_copy_are_served_side_by_side_each_with_its_own_files(mini_release, mini_settings):
    """Both share a version: what one process learnt of one's files must not stand for the other's."""
    for base in (LOOPBACK, CANONICAL_BASE, LOOPBACK):
        client = create_app(_serving(mini_settings, base)).test_client()
        dump = client.get("/dumps/partnerships.ttl", base_url=base)
        assert dump.status_code == 200, dump.text
        assert dump.headers["ETag"].strip('"') == hashlib.sha256(dump.data).hexdigest()
        other = LOOPBACK if base == CANONICAL_BASE else CANONICAL_BASE
        assert f"<{base}" in dump.text and f"<{other}" not in dump.text


@pytest.mark.stores
def test_a_remote_store_published_under_another_base_is_refused_naming_both(mini_release, mini_settings, tmp_path):
    with running_oxigraph(tmp_path) as store:
        assert publish_to(store, mini_release.path, "http://127.0.0.1:5999/").returncode == 0
        settings = load_settings(output_dir=mini_settings.output_dir, public_base=LOOPBACK, store="remote",
                                 store_query_url=store.query_url)
        refused = create_app(settings).test_client().get("/doc/id/region/bursa.ttl")
        assert refused.status_code == 503
        assert "http://127.0.0.1:5999/" in refused.text and LOOPBACK in refused.text
        assert "LODPUB_PUBLIC_BASE" in refused.text and "lodpub publish" in refused.text


@pytest.mark.parametrize("base", ["ftp://example.org/", "https://example.org/lk", "https:///", "/lk/",
                                  "https://example.org/a b/"])
def test_a_public_base_must_be_an_absolute_http_iri_ending_with_a_slash(base):
    with pytest.raises(ValueError, match="public base"):
        Settings(public_base=base)


def test_without_a_public_base_the_server_publishes_where_it_listens():
    assert Settings().public_base_iri == "http://127.0.0.1:5000/"
    assert Settings(host="::1", port=8080).public_base_iri == "http://[::1]:8080/"
    assert Settings(public_base="https://example.org/lk/").public_base_iri == "https://example.org/lk/"


def test_a_pruned_release_takes_its_copies_with_it(mini_release, mini_settings):
    old, _ = public_release(mini_release.path, LOOPBACK, mini_settings.output_dir)
    (mini_settings.data_dir / "note.ttl").write_text(
        f'<{CANONICAL_BASE}id/region/bursa> <{RDFS.comment}> "a note added later"@en .\n', encoding="utf-8")
    newer = build(dataclasses.replace(mini_settings, keep_releases=1))
    assert newer.deleted == (mini_release.version,)
    assert not old.exists() and not [path for path in old.parent.iterdir() if path.name != ".lock"]
