"""JSON-LD read by real JSON-LD processors, not by rdflib alone: pyld (as a JSON-LD 1.0 processor, and
framing by type) and Jena's riot (jsonld-java, a JSON-LD 1.0 reader), against the publisher in process
(requests through in_process.HTTP).

Every document must be read whole, the same graph as its Turtle; a 1.0 reader used to keep a quarter
of it, dropping the JSON-LD 1.1 "@included" without a word. Our context is fetched from the server
under test; the DCAT-AP-CZ norm's, which catalogue records name by its URL on ofn.gov.cz (no internet
here), from the copy the server serves, as an offline client would map it.
"""

import json

import pytest
import requests
from in_process import HTTP
from pyld import jsonld
from rdflib import Dataset, Graph
from rdflib.compare import isomorphic
from real_clients import jena  # noqa: F401 (a fixture)

from lodpub.describe.dcat import NORM_CONTEXT_FILE, NORM_CONTEXT_URL

# One document of each kind: a region, an event, an agreement, the dataset's and the catalogue's
# records (the norm's context), the ontology, a concept scheme.
DOCUMENTS = [
    "id/region/bursa",
    "id/event/bursa-2011-11-01-signing",
    "id/agreement/bursa-2011",
    "id/dataset/partnerships",
    "id/catalog/lkod",
    "ontology",
    "vocabulary/statuses",
]
PROFILE = "http://www.w3.org/ns/json-ld#"
JSONLD_ACCEPT = {"Accept": "application/ld+json"}


@pytest.fixture(scope="module")
def server(in_process):
    """The publisher in process: its requests go through in_process.HTTP."""
    return in_process


def norm_context_copy(server: str) -> str:
    """Where the server serves its copy of the norm's context."""
    return server + "contexts/" + NORM_CONTEXT_FILE.name


def document_loader(server: str):
    """A pyld document loader that reads only from the server under test (the norm's context
    from its copy there), and refuses anything else: there is no internet."""

    def load(url: str, options=None) -> dict:
        fetched = norm_context_copy(server) if url == NORM_CONTEXT_URL else url
        assert fetched.startswith(server), f"pyld asked for {url}, outside the test server"
        response = HTTP.get(fetched, headers=JSONLD_ACCEPT, timeout=30)
        assert response.status_code == 200, (url, response.status_code)
        return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url,
                "document": response.json()}

    return load


def get_json_ld(url: str, profile: str | None = None) -> requests.Response:
    accept = f'application/ld+json; profile="{profile}"' if profile else "application/ld+json"
    response = HTTP.get(url, headers={"Accept": accept}, timeout=30)
    assert response.status_code == 200, (url, response.text[:300])
    return response


def turtle_of(url: str) -> Graph:
    response = HTTP.get(url, headers={"Accept": "text/turtle"}, timeout=30)
    return Graph().parse(data=response.content, format="turtle")


def pyld_graph(document, server: str, mode: str = "json-ld-1.0") -> Graph:
    """The default graph pyld reads from `document`, as JSON-LD `mode` (1.0 or 1.1)."""
    quads = jsonld.to_rdf(document, {"processingMode": mode, "format": "application/n-quads",
                                     "documentLoader": document_loader(server)})
    dataset = Dataset()
    dataset.parse(data=quads, format="nquads")
    return dataset.default_graph


@pytest.mark.parametrize("path", DOCUMENTS)
def test_pyld_as_a_json_ld_1_0_processor_reads_the_same_graph_as_the_turtle(server, path):
    response = get_json_ld(server + path)
    assert response.url == f"{server}doc/{path}"
    graph = pyld_graph(response.json(), server)
    assert isomorphic(graph, turtle_of(server + path)), path


@pytest.mark.parametrize("path", DOCUMENTS)
def test_a_document_is_plain_json_its_subject_first_with_full_iris_types_and_arrays(server, path):
    document = get_json_ld(server + path).json()
    nodes = document["@graph"]
    id_key = "iri" if document["@context"] == NORM_CONTEXT_URL else "@id"
    assert nodes[0][id_key] == server + path
    for node in walk_nodes(nodes, id_key):
        assert node[id_key].startswith(("http://", "https://", "_:")), node[id_key]
        assert "rdf:type" not in node and "http://www.w3.org/1999/02/22-rdf-syntax-ns#type" not in node
        for key, value in node.items():
            if key != id_key:  # a property, or the types: always an array (a language map: arrays inside)
                assert isinstance(value, list) or all(isinstance(texts, list) for texts in value.values()), key


def walk_nodes(values: list, id_key: str):
    """Every node object in `values`, nested ones too."""
    for value in values:
        if isinstance(value, dict) and id_key in value:
            yield value
            for inner in value.values():
                if isinstance(inner, list):
                    yield from walk_nodes(inner, id_key)


# --- Jena's riot: jsonld-java, a JSON-LD 1.0 reader ------------------------------------------------

def test_jenas_json_ld_1_0_reader_reads_every_triple_of_each_document(embedded_server, tmp_path, jena):
    """(Jena fetches our context itself, over HTTP: from a real server.)"""
    server, files, expected = embedded_server, [], {}
    for index, path in enumerate(DOCUMENTS):
        body = get_json_ld(server + path).text
        # an offline client maps the norm's context URL to our copy
        body = body.replace(json.dumps(NORM_CONTEXT_URL, ensure_ascii=False), json.dumps(norm_context_copy(server)))
        file = tmp_path / f"document-{index}.jsonld"
        file.write_text(body, encoding="utf-8")
        files.append(file)
        expected[file.as_uri()] = len(turtle_of(server + path))
    counted = jena("riotcmd.riot", "--syntax=jsonld10", "--count", *map(str, files))
    output = counted.stdout + counted.stderr  # (riot reports its counts on standard error)
    read = dict(line.rsplit(" : Triples = ", 1) for line in output.splitlines() if " : Triples = " in line)
    assert {uri: int(count.replace(",", "")) for uri, count in read.items()} == expected, output[-2000:]


# --- Framing by type: "@type", never rdf:type as a property ---------------------------------------

def framed(document, type_iri: str, server: str) -> list[dict]:
    """The nodes of `type_iri` that pyld frames out of `document`."""
    result = jsonld.frame(document, {"@type": type_iri}, {"documentLoader": document_loader(server),
                                                          "omitGraph": False})
    return result["@graph"]


def count_of_type(server: str, type_iri: str, graph: str | None = None) -> int:
    where = f"GRAPH <{graph}> {{ ?s a <{type_iri}> }}" if graph else f"?s a <{type_iri}>"
    answer = HTTP.get(server + "sparql", params={"query": f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ {where} }}"},
                          headers={"Accept": "application/sparql-results+json"}, timeout=30).json()
    return int(answer["results"]["bindings"][0]["n"]["value"])


def test_framing_by_type_finds_the_nodes_of_a_document(server):
    document = get_json_ld(server + "id/region/bursa").json()
    delegations = framed(document, server + "ontology/" + "Delegation", server)
    assert {node["@id"] for node in delegations} == {server + "id/delegation/bursa-2010", server + "id/delegation/bursa-2011"}


def test_framing_by_type_finds_every_region_in_the_dump(server):
    dump = HTTP.get(server + "dumps/partnerships.jsonld", timeout=60).json()
    region = server + "ontology/" + "Region"
    regions = framed(dump, region, server)
    assert len(regions) == count_of_type(server, region) > 1


def test_framing_by_type_finds_every_region_in_a_construct_answer(server):
    region = server + "ontology/" + "Region"
    query = (f"CONSTRUCT {{ ?s a <{region}> ; <http://www.w3.org/2000/01/rdf-schema#label> ?label }} "
             f"WHERE {{ ?s a <{region}> ; <http://www.w3.org/2000/01/rdf-schema#label> ?label }}")
    answer = HTTP.post(server + "sparql", data={"query": query}, headers=JSONLD_ACCEPT, timeout=30)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("application/ld+json")
    regions = framed(answer.json(), region, server)
    assert len(regions) == count_of_type(server, region) > 1
    assert all(node["http://www.w3.org/2000/01/rdf-schema#label"] for node in regions)


# --- Profiles (JSON-LD 1.1 §9) -------------------------------------------------------------------

def test_the_expanded_profile_has_no_context_and_only_full_iris(server):
    url = server + "doc/id/region/bursa.jsonld"
    response = get_json_ld(url, PROFILE + "expanded")
    assert response.headers["Content-Type"] == f'application/ld+json; profile="{PROFILE}expanded"'
    nodes = response.json()
    assert isinstance(nodes, list) and nodes[0]["@id"] == server + "id/region/bursa"
    assert all(key.startswith(("@", "http://", "https://")) for node in walk_nodes(nodes, "@id") for key in node)
    assert jsonld.expand(nodes) == nodes  # already in expanded form
    assert isomorphic(pyld_graph(nodes, server), turtle_of(url.removesuffix(".jsonld")))


def test_the_flattened_profile_nests_no_node(server):
    url = server + "doc/id/dataset/partnerships.jsonld"
    response = get_json_ld(url, f"{PROFILE}flattened {PROFILE}compacted")
    assert response.headers["Content-Type"] == f'application/ld+json; profile="{PROFILE}flattened {PROFILE}compacted"'
    document = response.json()
    assert document["@context"] == NORM_CONTEXT_URL and document["@graph"][0]["iri"] == server + "id/dataset/partnerships"
    for node in document["@graph"]:
        for key, values in node.items():
            nested = [value for value in values if isinstance(value, dict) and "iri" in value and len(value) > 1] \
                if isinstance(values, list) else []
            assert not nested, key
    assert isomorphic(pyld_graph(document, server), turtle_of(url.removesuffix(".jsonld")))


def test_each_profile_is_its_own_answer_and_the_default_is_compacted(server):
    url = server + "doc/id/region/bursa.jsonld"
    for _ in range(2):  # the second time from the kept answers: each profile still gets its own
        compacted = get_json_ld(url)
        expanded = get_json_ld(url, PROFILE + "expanded")
        assert compacted.headers["Content-Type"] == f'application/ld+json; profile="{PROFILE}compacted"'
        assert "@context" in compacted.json() and isinstance(expanded.json(), list)
        assert get_json_ld(url, PROFILE + "compacted").content == compacted.content


def test_an_unknown_profile_gets_the_compacted_form(server):
    response = get_json_ld(server + "doc/id/region/bursa.jsonld", "http://example.org/some-profile")
    assert response.headers["Content-Type"] == f'application/ld+json; profile="{PROFILE}compacted"'


# --- pyld's own document loader, and the norm's context served here -------------------------------

def test_pyld_s_own_document_loader_follows_a_thing_to_its_document(embedded_server):
    """pyld 3.3's loader fails on more than one rel="alternate" link: the JSON-LD variant names one. (Its
    loader makes its own requests: over HTTP, to a real server.)"""
    server = embedded_server
    loaded = jsonld.requests_document_loader(timeout=30)(server + "id/region/bursa", {})
    assert loaded["documentUrl"] == server + "doc/id/region/bursa"
    assert loaded["document"]["@graph"][0]["@id"] == server + "id/region/bursa"


def test_the_norms_context_is_served_as_published(server):
    response = HTTP.get(norm_context_copy(server), timeout=30)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/ld+json")
    assert response.content == NORM_CONTEXT_FILE.read_bytes()
