"""Nothing is lost on the way out: the source graph, every dump of the release, the resource
documents the server serves and what a remote store holds after `lodpub publish` are one graph.

- The source graph is what lodpub.dataset.load_dataset reads from ontology/ and data/, by named
  graph; the release adds two graphs it builds, the VoID (void.ttl, `graph/description`) and the
  catalogue record (catalogue.ttl, `graph/catalogue`). "The published graph" below is all of them.
- Two graphs are compared as RDF graphs are: isomorphic, blank nodes matched by their place. The
  triples without blank nodes must be equal as sets (an isomorphism maps IRIs and literals to
  themselves), and the few triples with blank nodes isomorphic; so a failure names the triples.
- Served documents come from the running server at its loopback base, so they are moved back to
  the canonical base; likewise the size and SHA-256 of each dump, which the record served there
  gives for the bytes served there.
- Each document names its blank nodes afresh. A blank node belongs to the resource whose document
  reaches it (an unknown time belongs to its event): the served graph is the union of the triples
  without blank nodes of every document, and of each resource's own triples with the blank nodes
  it reaches, from its own document.
"""

import gzip
import json
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

import pyoxigraph as ox
import pytest
import requests
from rdf_documents import parse_document
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT
from rdflib.term import Node

from lodpub.namespaces import rebase
from lodpub.public_release import copy_folder
from lodpub.store.remote import PUBLICATION_GRAPH
from lodpub.store.sparql_store import literals_oxigraph_changes
from lodpub.terms import to_oxigraph, to_rdflib

Triple = tuple[Node, Node, Node]

SPDX_CHECKSUM = URIRef("http://spdx.org/rdf/terms#checksum")
SPDX_CHECKSUM_VALUE = URIRef("http://spdx.org/rdf/terms#checksumValue")
# The release's descriptions and the named graphs they are served and published in.
# In the order in which a triple that two of them hold is kept in the first (after the data's graphs).
DESCRIPTION_GRAPHS = {"catalogue.ttl": "graph/catalogue", "void.ttl": "graph/description"}
# Dumps of the union of the named graphs, and of the named graphs themselves (with rdflib's format).
UNION_DUMPS = {"partnerships.ttl": "turtle", "partnerships.nt": "nt", "partnerships.jsonld": "json-ld",
               "partnerships.rdf": "xml"}
DATASET_DUMPS = {"partnerships.nq": "nquads", "partnerships.trig": "trig"}


# --- comparing graphs ----------------------------------------------------------------------------


def has_blank_node(triple: Triple) -> bool:
    """Whether a term of `triple` is a blank node."""
    return any(isinstance(term, BNode) for term in triple)


def assert_same_graph(expected: Graph, actual: Graph, what: str) -> None:
    """Assert that `actual` (what `what` gives) is isomorphic to `expected`, naming the triples
    that differ."""
    expected_ground = {triple for triple in expected if not has_blank_node(triple)}
    actual_ground = {triple for triple in actual if not has_blank_node(triple)}
    lost, added = sorted(expected_ground - actual_ground), sorted(actual_ground - expected_ground)
    assert not lost and not added, (f"{what}: {len(lost)} triple(s) lost, {len(added)} added;\nlost: "
                                    + _listing(lost) + "\nadded: " + _listing(added))
    expected_blank, actual_blank = _with_blank_nodes(expected), _with_blank_nodes(actual)
    assert isomorphic(expected_blank, actual_blank), (
        f"{what}: the triples with blank nodes differ ({len(expected_blank)} expected, {len(actual_blank)} "
        f"given);\nexpected: {_listing(expected_blank)}\ngiven: {_listing(actual_blank)}")


def _with_blank_nodes(graph: Graph) -> Graph:
    part = Graph()
    for triple in graph:
        if has_blank_node(triple):
            part.add(triple)
    return part


def _listing(triples: Iterable[Triple], most: int = 30) -> str:
    lines = [" ".join(term.n3() for term in triple) for triple in triples]
    return "\n  ".join(["", *lines[:most]] + ([f"... and {len(lines) - most} more"] if len(lines) > most else []))


def union_of(graphs: Iterable[Graph]) -> Graph:
    """One graph holding the triples of `graphs`."""
    union = Graph()
    for graph in graphs:
        union += graph
    return union


# --- the source, the release and its dumps --------------------------------------------------------


@pytest.fixture(scope="module")
def source_graphs(project_dataset) -> dict[URIRef, Graph]:
    """The source graph, by named graph, as load_dataset reads it."""
    return {URIRef(graph.identifier): graph for graph in project_dataset.dataset.graphs() if len(graph)}


@pytest.fixture(scope="module")
def published_graphs(source_graphs, project_release) -> dict[URIRef, Graph]:
    """What a release publishes, by named graph: the source's graphs and its descriptions', each
    description without the triples an earlier graph holds (no two graphs share a triple)."""
    base = project_release.manifest["base_iri"]
    published = dict(source_graphs)
    for name, graph in DESCRIPTION_GRAPHS.items():
        if (project_release.path / name).is_file():
            held = {_by_value(triple) for earlier in published.values() for triple in earlier}
            described = Graph().parse(project_release.path / name, format="turtle")
            published[URIRef(base + graph)] = _graph_of(triple for triple in described
                                                        if has_blank_node(triple) or _by_value(triple) not in held)
    return published


def _by_value(triple: Triple) -> Triple:
    """`triple` with a typed literal written in its value's canonical form ("…Z" and "…+00:00" are
    one xsd:dateTime, and one triple to a store)."""
    subject, predicate, value = triple
    if isinstance(value, Literal) and value.datatype and value.value is not None and not isinstance(value.value, bytes):
        value = Literal(value.value, datatype=value.datatype)
    return subject, predicate, value


def _graph_of(triples: Iterable[Triple]) -> Graph:
    graph = Graph()
    for triple in triples:
        graph.add(triple)
    return graph


@pytest.fixture(scope="module")
def published_graph(published_graphs) -> Graph:
    """The union of the published named graphs."""
    return union_of(published_graphs.values())


def read_dump(release, name: str) -> bytes:
    """The bytes of a dump of `release`, gunzipped when its name ends with .gz."""
    data = (release.path / name).read_bytes()
    return gzip.decompress(data) if name.endswith(".gz") else data


def test_the_release_says_what_it_is_built_from(project_release):
    """The dumps this test compares are every dump the release's manifest lists."""
    listed = {entry["name"] for entry in project_release.manifest["files"]}
    compared = {name + gz for name in UNION_DUMPS | DATASET_DUMPS for gz in ("", ".gz")}
    assert listed == compared


@pytest.mark.parametrize("name", [name + gz for name in UNION_DUMPS for gz in ("", ".gz")])
def test_each_union_dump_is_the_source_graph(name, project_release, source_graphs):
    """Turtle, N-Triples, JSON-LD and RDF/XML (and their .gz) hold the union of the source's graphs."""
    rdflib_format = UNION_DUMPS[name.removesuffix(".gz")]
    dump = parse_document(read_dump(project_release, name), rdflib_format)
    assert_same_graph(union_of(source_graphs.values()), dump, name)


@pytest.mark.parametrize("name", [name + gz for name in DATASET_DUMPS for gz in ("", ".gz")])
def test_each_dataset_dump_is_the_source_graph_by_named_graph(name, project_release, source_graphs):
    """N-Quads and TriG (and their .gz) hold each named graph of the source, and no other."""
    dataset = Dataset()
    dataset.parse(data=read_dump(project_release, name), format=DATASET_DUMPS[name.removesuffix(".gz")])
    dumped = {URIRef(graph.identifier): graph for graph in dataset.graphs() if len(graph)}
    assert set(dumped) == set(source_graphs)
    for iri, graph in source_graphs.items():
        assert_same_graph(graph, dumped[iri], f"{name}, graph <{iri}>")


# --- the served documents -------------------------------------------------------------------------


class ServedDocuments:
    """The document of each resource, fetched from the server and moved back to the canonical base."""

    def __init__(self, documents: dict[URIRef, Graph]) -> None:
        self.documents = documents

    def graph(self) -> Graph:
        """The union of the documents, each blank node taken from its owner's document."""
        served = Graph()
        for resource, document in self.documents.items():
            for triple in document:
                if not has_blank_node(triple):
                    served.add(triple)
            served += owned_part(document, resource)
        return served


def owned_part(document: Graph, resource: URIRef) -> Graph:
    """The triples of `resource` in `document`, and those of the blank nodes they reach."""
    part, subjects, seen = Graph(), [resource], set()
    while subjects:
        subject = subjects.pop()
        seen.add(subject)
        for triple in document.triples((subject, None, None)):
            part.add(triple)
            if isinstance(triple[2], BNode) and triple[2] not in seen:
                subjects.append(triple[2])
    return part


def described_resources(published: Graph, base: str) -> list[URIRef]:
    """Every resource that has a document: each IRI that is a subject, ours (at /doc/...) and other
    publishers' (at /doc?iri=...). (The base itself is the home page, an HTML page; its one triple,
    that it is a foaf:Document, comes with the documents that link to it.)"""
    return sorted({subject for subject in published.subjects() if isinstance(subject, URIRef) and subject != URIRef(base)})


def fetch_document(session: requests.Session, server: str, base: str, resource: URIRef) -> Graph:
    """The N-Triples document about `resource` served by `server`, with its IRIs moved back to `base`."""
    ours = resource.startswith(base)
    response = session.get(f"{server}doc/{resource[len(base):]}" if ours else f"{server}doc",
                           params=None if ours else {"iri": str(resource)},
                           headers={"Accept": "application/n-triples"}, timeout=30)
    assert response.status_code == 200, f"{resource}: {response.status_code} {response.text[:200]}"
    return rebase(Graph().parse(data=response.content, format="nt"), server, base)


def dump_facts(published: Graph) -> dict[tuple[Node, Node], tuple[str, str]]:
    """Where the catalogue record gives the size or SHA-256 of a file of the release:
    {(subject, predicate): (file name, "bytes" or "sha256")}."""
    facts = {}
    for distribution, url in published.subject_objects(DCAT.downloadURL):
        name = str(url).rsplit("/", 1)[-1]
        facts[(distribution, DCAT.byteSize)] = (name, "bytes")
        for checksum in published.objects(distribution, SPDX_CHECKSUM):
            facts[(checksum, SPDX_CHECKSUM_VALUE)] = (name, "sha256")
    return facts


def file_facts_moved_back(document: Graph, facts: dict, served_manifest: dict, release_manifest: dict) -> Graph:
    """`document` with each file's size and SHA-256 (see `dump_facts`) as the release wrote them.
    The record served at another base gives those of the bytes served there: they are checked
    against the served manifest, then replaced, in place."""
    served = {entry["name"]: entry for entry in served_manifest["files"]}
    written = {entry["name"]: entry for entry in release_manifest["files"]}
    for subject, predicate, value in list(document):
        if (subject, predicate) not in facts:
            continue
        name, key = facts[(subject, predicate)]
        assert str(value) == str(served[name][key]), f"{subject} {predicate}: {value} is not what is served"
        document.remove((subject, predicate, value))
        document.add((subject, predicate, Literal(str(written[name][key]), datatype=value.datatype)))
    return document


@pytest.fixture(scope="module")
def served(server, published_graph, project_release) -> ServedDocuments:
    """The document of every resource of ours, as the running server serves them (fetched by a few
    threads: the server runs two workers of eight threads)."""
    base = project_release.manifest["base_iri"]
    session = requests.Session()
    served_manifest = session.get(server + "dumps/manifest.json", timeout=30).json()
    facts = dump_facts(published_graph)

    def fetch(resource: URIRef) -> Graph:
        document = fetch_document(session, server, base, resource)
        return file_facts_moved_back(document, facts, served_manifest, project_release.manifest)

    resources = described_resources(published_graph, base)
    with ThreadPoolExecutor(max_workers=4) as pool:
        return ServedDocuments(dict(zip(resources, pool.map(fetch, resources), strict=True)))


def blank_node_pattern(triples: Iterable[Triple]) -> str:
    """A SPARQL group graph pattern matching `triples`, with each blank node as a variable."""
    names: dict[BNode, str] = {}

    def term(node: Node) -> str:
        if isinstance(node, BNode):
            return names.setdefault(node, f"?b{len(names)}")
        return node.n3()

    return "{ " + " ".join(f"{term(s)} {term(p)} {term(o)} ." for s, p, o in triples) + " }"


def test_every_document_says_only_what_the_release_says(served, published_graph):
    """Each document, alone, is part of the published graph (its blank nodes standing for some
    blank node of it): nothing served was invented on the way."""
    published = ox.Store()
    published.extend(ox.Quad(*map(to_oxigraph, triple), ox.DefaultGraph()) for triple in published_graph)
    for resource, document in served.documents.items():
        invented = [triple for triple in document if not has_blank_node(triple) and triple not in published_graph]
        assert not invented, f"the document of {resource} says what the release does not:" + _listing(invented)
        with_blank_nodes = [triple for triple in document if has_blank_node(triple)]
        if with_blank_nodes:
            assert published.query("ASK " + blank_node_pattern(with_blank_nodes)), \
                f"the document of {resource} has blank nodes the release has not:" + _listing(with_blank_nodes)


def about_our_resources(graph: Graph, base: str) -> Graph:
    """The triples of `graph` whose subject is one of our IRIs or a blank node."""
    ours = Graph()
    for triple in graph:
        if isinstance(triple[0], BNode) or triple[0].startswith(base):
            ours.add(triple)
    return ours


def test_the_documents_serve_every_triple_about_our_resources(served, published_graph, project_release):
    """Every triple whose subject is one of our resources (or a blank node one reaches) is in some
    document, and the documents together hold no other triple about them."""
    base = project_release.manifest["base_iri"]
    assert_same_graph(about_our_resources(published_graph, base), about_our_resources(served.graph(), base),
                      "the served documents, about our resources")


def test_the_documents_together_are_the_published_graph(served, published_graph):
    """The union of every document is the published graph."""
    assert_same_graph(published_graph, served.graph(), "the served documents")


# --- the remote store after `lodpub publish` ------------------------------------------------------


def store_graph_names(store) -> set[URIRef]:
    """The named graphs the store holds."""
    response = requests.get(store.query_url, params={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"},
                            headers={"Accept": "application/sparql-results+json"}, timeout=30)
    response.raise_for_status()
    return {URIRef(row["g"]["value"]) for row in response.json()["results"]["bindings"]}


def store_graph(store, name: URIRef) -> Graph:
    """One named graph of the store, read by the Graph Store Protocol."""
    response = requests.get(store.graph_store_url, params={"graph": str(name)},
                            headers={"Accept": "application/n-triples"}, timeout=30)
    response.raise_for_status()
    return Graph().parse(data=response.content, format="nt")


def as_written(graph: Graph, written_literals: dict) -> Graph:
    """`graph` read from Oxigraph with each literal it stores by value (e.g. "5"^^xsd:integer for
    "5"^^xsd:nonNegativeInteger) as the release writes it, as the server restores them (see
    sparql_store.literals_oxigraph_changes)."""
    restored = Graph()
    for subject, predicate, value in graph:
        if isinstance(value, Literal):
            key = (None if isinstance(subject, BNode) else to_oxigraph(subject), to_oxigraph(predicate),
                   to_oxigraph(value))
            value = to_rdflib(written_literals.get(key, to_oxigraph(value)))
        restored.add((subject, predicate, value))
    return restored


def release_files_for(release) -> list[tuple]:
    """The release's files that `lodpub publish` loads, with their Oxigraph format."""
    files = [(release.path / "partnerships.nq", ox.RdfFormat.N_QUADS)]
    return files + [(release.path / name, ox.RdfFormat.TURTLE) for name in DESCRIPTION_GRAPHS
                    if (release.path / name).is_file()]


def test_the_remote_store_holds_the_published_graph_by_named_graph(oxigraph_store, published_graphs, published_graph,
                                                                   project_release):
    """After `lodpub publish` (the fixture runs it, under the public base of the server it feeds),
    Oxigraph server holds each published named graph, its IRIs moved to that base (and the record's
    sizes and checksums those of the dumps under that base), and besides them only the publication
    marks."""
    base, public = project_release.manifest["base_iri"], oxigraph_store.public_base
    copy = copy_folder(project_release.path.parent.parent, public) / project_release.version
    copy_manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    facts = dump_facts(published_graph)
    assert store_graph_names(oxigraph_store) == ({URIRef(public + name[len(base):]) for name in published_graphs}
                                                 | {URIRef(public + PUBLICATION_GRAPH)})
    written_literals = literals_oxigraph_changes(release_files_for(project_release))
    for name, graph in published_graphs.items():
        stored = rebase(store_graph(oxigraph_store, public + name[len(base):]), public, base)
        stored = file_facts_moved_back(stored, facts, copy_manifest, project_release.manifest)
        assert_same_graph(graph, as_written(stored, written_literals), f"the remote store, graph <{name}>")
