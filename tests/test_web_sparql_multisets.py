"""SPARQL answers are multisets, and are compared as such: the default graph of the dataset is the RDF
merge of its named graphs, a set, so no triple comes back twice because two graphs hold it.

Engines that do not merge (Oxigraph 0.5, Virtuoso) return a triple once per graph that holds it; the
release gives no two graphs the same triple (server/dataset.py, server/store/embedded.py), which
these tests check on every store through the endpoint, with counts (COUNT(*), Counter of rows), never
with sets, which would hide a repeat.
"""

from collections import Counter
from pathlib import Path

import pytest
from in_process import HTTP
from rdflib import XSD, BNode, Graph, Literal

from lodpub.namespaces import CANONICAL_BASE

QUERIES = Path(__file__).resolve().parent.parent / "server" / "queries"
GRAPHS = ("graph/ontology", "graph/vocabularies", "graph/data", "graph/authorities", "graph/description",
          "graph/catalogue")


@pytest.fixture(scope="module")
def server(site_on_every_store):
    """Every test here runs on the embedded store (in process) and on each remote store."""
    return site_on_every_store


def select(server: str, query: str, **dataset: list[str]) -> list[dict]:
    """The solutions of a SELECT through the endpoint, as the JSON results give them, in order."""
    params = [("query", query)] + [(name.replace("_", "-"), iri) for name, iris in dataset.items() for iri in iris]
    response = HTTP.post(server + "sparql", data=params, headers={"Accept": "application/sparql-results+json"},
                             timeout=60)
    assert response.status_code == 200, response.text
    assert "X-SPARQL-Truncated" not in response.headers
    return response.json()["results"]["bindings"]


def count(server: str, pattern: str, **dataset: list[str]) -> int:
    return int(select(server, f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}", **dataset)[0]["n"]["value"])


def test_the_default_graph_holds_each_triple_once(server):
    every = count(server, "?s ?p ?o")
    distinct = count(server, "SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o }")
    assert every == distinct
    rows = select(server, "SELECT ?s ?p ?o WHERE { ?s ?p ?o }")
    repeated = [row for row, times in Counter(_row_key(row, blank_labels=True) for row in rows).items() if times > 1]
    assert len(rows) == every and not repeated, repeated[:5]


def test_no_two_named_graphs_share_a_triple(server):
    shared = select(server, "SELECT ?g ?h ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } GRAPH ?h { ?s ?p ?o } "
                            "FILTER (STR(?g) < STR(?h)) } LIMIT 5")
    assert shared == []


def test_the_default_graph_is_the_merge_of_the_named_graphs(server):
    in_graphs = count(server, "GRAPH ?g { ?s ?p ?o }")
    assert count(server, "?s ?p ?o") == in_graphs
    assert {row["g"]["value"] for row in select(server, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")} \
        == {server + graph for graph in GRAPHS}


@pytest.mark.parametrize("graphs", [("graph/catalogue", "graph/description"), ("graph/data", "graph/catalogue"),
                                    GRAPHS])
def test_from_several_graphs_and_default_graph_uris_merge_them(server, graphs):
    iris = [server + graph for graph in graphs]
    separately = sum(count(server, "?s ?p ?o", default_graph_uri=[iri]) for iri in iris)
    from_clauses = " ".join(f"FROM <{iri}>" for iri in iris)
    merged = int(select(server, f"SELECT (COUNT(*) AS ?n) {from_clauses} WHERE {{ ?s ?p ?o }}")[0]["n"]["value"])
    assert merged == separately
    assert count(server, "?s ?p ?o", default_graph_uri=iris) == separately
    distinct = count(server, "SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o }", default_graph_uri=iris)
    assert distinct == separately


def test_the_dataset_has_one_title_in_each_language(server):
    rows = select(server, f"SELECT ?title WHERE {{ <{server}id/dataset/partnerships> "
                          "<http://purl.org/dc/terms/title> ?title }")
    assert Counter(row["title"]["xml:lang"] for row in rows) == {"cs": 1, "en": 1}


# --- the competency questions: the endpoint's rows, as a multiset, are rdflib's over the merge ---


@pytest.fixture(scope="module")
def merged_release(project_release) -> Graph:
    """The release's graphs merged by rdflib, an engine of its own: the data, the VoID, the record."""
    merged = Graph()
    merged.parse(project_release.path / "partnerships.nt", format="nt")
    for name in ("void.ttl", "catalogue.ttl"):
        merged.parse(project_release.path / name, format="turtle")
    return merged


# Where Virtuoso 7.2 answers otherwise, by its own reading of SPARQL (documented in README.md).
VIRTUOSO_DEVIATIONS = {
    "03": "Virtuoso gives the boolean ?certain as 1 and 0 typed xsd:integer, not true and false",
    "07": "Virtuoso answers question 7 (a zero-or-more skos:broader path in a subquery) with no rows",
}


@pytest.mark.parametrize("path", sorted(QUERIES.glob("*.rq")), ids=lambda path: path.stem[:2])
def test_competency_questions_give_the_rows_rdflib_gives(server, merged_release, path, request):
    if "virtuoso" in request.node.callspec.id and path.stem[:2] in VIRTUOSO_DEVIATIONS:
        request.applymarker(pytest.mark.xfail(reason=VIRTUOSO_DEVIATIONS[path.stem[:2]], strict=True))
    text = path.read_text(encoding="utf-8")
    expected = Counter(_rdflib_row_key(row) for row in _rdflib_rows(merged_release, text))
    rows = select(server, text.replace(CANONICAL_BASE, server))
    answered = Counter(_row_key(row, server) for row in rows)
    assert sum(answered.values()) == sum(expected.values()), path.name
    assert answered == expected, path.name


def test_question_1_lists_each_partner_once(server):
    (path,) = QUERIES.glob("01-*.rq")
    rows = select(server, path.read_text(encoding="utf-8").replace(CANONICAL_BASE, server))
    assert Counter(row["region"]["value"] for row in rows) == Counter(
        {server + f"id/region/{name}": 1 for name in
         ("valle-d-aosta", "orenburg-oblast", "more-og-romsdal", "ha-tinh", "bursa")})


def test_question_11_lists_each_alternative_once(server):
    (path,) = QUERIES.glob("11-*.rq")
    rows = select(server, path.read_text(encoding="utf-8").replace(CANONICAL_BASE, server))
    keys = Counter(_row_key(row, server) for row in rows)
    assert rows and max(keys.values()) == 1


def _rdflib_rows(graph: Graph, query: str) -> list[dict]:
    result = graph.query(query)
    return [{str(variable): row[variable] for variable in result.vars if row[variable] is not None}
            for row in result]


def _rdflib_row_key(row: dict) -> tuple:
    return tuple(sorted((name, _term_key(value)) for name, value in row.items()))


def _term_key(term) -> tuple:
    if isinstance(term, BNode):
        return ("bnode", "")
    if isinstance(term, Literal):
        return ("literal", str(term), term.language or "", "" if term.language else str(term.datatype or XSD.string))
    return ("uri", str(term))


def _row_key(row: dict, server: str = "", blank_labels: bool = False) -> tuple:
    """A JSON results row as a comparable key: our IRIs at the canonical base, plain strings typed
    xsd:string as RDF 1.1 says, and blank nodes alike unless `blank_labels` (their labels name them
    within one answer only)."""
    key = []
    for name, value in row.items():
        if value["type"] == "bnode":
            key.append((name, ("bnode", value["value"] if blank_labels else "")))
        elif value["type"] == "uri":
            key.append((name, ("uri", _canonical(value["value"], server))))
        else:
            language = value.get("xml:lang", "")
            datatype = "" if language else value.get("datatype", "http://www.w3.org/2001/XMLSchema#string")
            key.append((name, ("literal", _canonical(value["value"], server), language, datatype)))
    return tuple(sorted(key))


def _canonical(text: str, server: str) -> str:
    return CANONICAL_BASE + text[len(server):] if server and text.startswith(server) else text
