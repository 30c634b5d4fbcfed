"""The W3C SPARQL 1.1 Protocol tests for the query operation, adapted to our endpoint and run against the
publisher in process (Flask's test client) on the embedded store, and against real servers on each remote store.

The W3C suite is `sparql/sparql11/protocol/manifest.ttl` of w3c/rdf-tests. Each test below names the W3C test
it adapts. The W3C tests query documents on the web (`http://kasei.us/.../data0.rdf` etc.) that the endpoint
under test is expected to load; ours never loads anything, and FROM, FROM NAMED, `default-graph-uri` and
`named-graph-uri` only select among our own named graphs. So the dataset tests use our graphs instead, and
check the dataset semantics on our data:

- `{base}graph/data` holds the partnerships, e.g. `<{base}id/region/bursa> a <{base}ontology/Region>`;
- `{base}graph/ontology` holds the classes, e.g. `<{base}ontology/Region> a owl:Class`;
- `{base}graph/vocabularies` holds the SKOS schemes, e.g. the four statuses `<{base}vocabulary/statuses/...>`;
- `{base}graph/description` holds the VoID.

"Bursa is typed by an OWL class" (`reg:bursa a ?type . ?type a owl:Class`) joins a triple of graph/data with
one of graph/ontology: it plays the part of the W3C tests' `<data1.rdf> a ?type . <data2.rdf> a ?type`, whose
two triples live in two different documents.

The update tests of the manifest are not run as such (the endpoint is read-only); their requests are sent to
check that every update is refused, and that nothing changed.
"""

import csv
import io
import json
import re
import xml.etree.ElementTree as ElementTree
from urllib.parse import quote, urlencode

import pytest
import requests
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS
from rdflib.query import Result


@pytest.fixture(scope="module")
def server(site_on_every_store):
    """Every test here runs on the embedded store (in process) and on each remote store."""
    return site_on_every_store

FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
SPARQL_RESULTS = "{http://www.w3.org/2005/sparql-results#}"
SD = "http://www.w3.org/ns/sparql-service-description#"
INTEGER = URIRef("http://www.w3.org/2001/XMLSchema#integer")
TIMEOUT = 60

RESULTS_TYPES = {  # media type -> rdflib's name of its SPARQL results parser
    "application/sparql-results+json": "json",
    "application/sparql-results+xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
}
GRAPH_TYPES = {  # media type -> rdflib's name of its RDF parser
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/rdf+xml": "xml",
    "application/ld+json": "json-ld",
}
GRAPHS = ("data", "authorities", "ontology", "vocabularies", "description", "catalogue")
STATUS_LABELS = {  # the concepts of the scheme {base}vocabulary/statuses, with their skos:prefLabel
    "signed": {("podepsáno", "cs"), ("signed", "en")},
    "signed-and-initialled": {("podepsáno a parafováno", "cs"), ("signed and initialled", "en")},
    "stagnating": {("stagnuje", "cs"), ("stagnating", "en")},
    "ended": {("ukončeno", "cs"), ("ended", "en")},
    "notice-given": {("výpověď dána", "cs"), ("notice given", "en")},
    "active": {("aktivní", "cs"), ("active", "en")},            # deprecated, still in the scheme
    "terminated": {("vypovězeno", "cs"), ("terminated", "en")},  # deprecated, still in the scheme
}


# --- sending requests as the manifest writes them ---------------------------------------------------------


def encode(pairs) -> str:
    """Form-encode `pairs` with %20 for spaces, as the manifest's requests are written."""
    return urlencode(list(pairs), quote_via=quote)


def send(server: str, method: str, *, params=(), body: bytes | None = None, content_type: str | None = None,
         accept: str | None = None) -> requests.Response:
    """One HTTP request to /sparql. Without `accept` no Accept header is sent (requests' default "*/*" is
    dropped), like the manifest's requests; without `content_type` none is sent either."""
    url = server + "sparql" + ("?" + encode(params) if params else "")
    headers = {"Accept": accept}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return server.http.request(method, url, data=body, headers=headers, timeout=TIMEOUT, allow_redirects=False)


def via_get(server, query, params=(), accept=None):
    return send(server, "GET", params=[("query", query), *params], accept=accept)


def via_form(server, query, params=(), accept=None):
    return send(server, "POST", body=encode([("query", query), *params]).encode("ascii"), content_type=FORM,
                accept=accept)


def via_direct(server, query, params=(), accept=None):
    return send(server, "POST", params=params, body=query.encode("utf-8"), content_type=DIRECT, accept=accept)


OPERATIONS = {"GET": via_get, "POST-form": via_form, "POST-direct": via_direct}


def default_graphs(server, *names):
    return [("default-graph-uri", f"{server}graph/{name}") for name in names]


def named_graphs(server, *names):
    return [("named-graph-uri", f"{server}graph/{name}") for name in names]


# --- reading the answers with real parsers -----------------------------------------------------------------


def media_type(response: requests.Response) -> str:
    return response.headers.get("Content-Type", "").split(";")[0].strip().lower()


def boolean(response: requests.Response) -> bool:
    """The answer of an ASK query, read from SPARQL JSON or XML results."""
    assert response.status_code == 200, response.text
    kind = media_type(response)
    if kind == "application/sparql-results+json":
        answer = json.loads(response.content)
        assert "results" not in answer and isinstance(answer["boolean"], bool), answer
        return answer["boolean"]
    assert kind == "application/sparql-results+xml", kind
    root = ElementTree.fromstring(response.content)
    assert root.tag == SPARQL_RESULTS + "sparql" and root.find(SPARQL_RESULTS + "results") is None
    return {"true": True, "false": False}[root.find(SPARQL_RESULTS + "boolean").text.strip()]


def solutions(response: requests.Response) -> list[dict[str, object]]:
    """The rows of a SELECT answer (in any of the four results formats), parsed by rdflib."""
    assert response.status_code == 200, response.text
    result = Result.parse(io.BytesIO(response.content), format=RESULTS_TYPES[media_type(response)])
    assert result.type == "SELECT"
    return [{str(name): value for name, value in row.items() if value is not None} for row in result.bindings]


def graph(response: requests.Response) -> Graph:
    """The RDF graph a CONSTRUCT or DESCRIBE answered (in any of the four RDF formats), parsed by rdflib."""
    assert response.status_code == 200, response.text
    return Graph().parse(data=response.content, format=GRAPH_TYPES[media_type(response)])


def assert_answered_in(response: requests.Response, expected: str, query: str) -> None:
    """The answer to one of the small queries of the content-type tests is in `expected` and reads back:
    a non-empty graph, ASK's true, or SELECT's one row binding ?value to 1 (plain "1" in CSV/TSV)."""
    assert response.status_code == 200, response.text
    assert media_type(response) == expected
    if expected in GRAPH_TYPES:
        assert len(graph(response)) > 0
    elif query.startswith("ASK"):
        assert boolean(response) is True
    else:
        rows = solutions(response)
        assert len(rows) == 1 and rows[0]["value"] in (Literal(1, datatype=INTEGER), Literal("1"))


def refused(response: requests.Response, status: int) -> str:
    """The plain-text message of a refusal with `status`."""
    assert response.status_code == status, (response.status_code, response.text)
    assert media_type(response) == "text/plain", response.headers.get("Content-Type")
    assert "Traceback" not in response.text
    return response.text


def prefixes(server: str) -> str:
    return (f"PREFIX owl: <{OWL}>\nPREFIX skos: <{SKOS}>\nPREFIX rdfs: <{RDFS}>\n"
            f"PREFIX rp: <{server}ontology/>\nPREFIX reg: <{server}id/region/>\n"
            f"PREFIX vocab: <{server}vocabulary/>\nPREFIX st: <{server}vocabulary/statuses/>\n"
            f"PREFIX g: <{server}graph/>\n")


def bursa_typed_by_a_class(server: str) -> str:
    """True when the default graph holds both graph/data's `reg:bursa a rp:Region` and graph/ontology's
    `rp:Region a owl:Class` (the counterpart of the W3C `<data1.rdf> a ?type . <data2.rdf> a ?type`)."""
    return prefixes(server) + "ASK { reg:bursa a ?type . ?type a owl:Class }"


def bursa_typed_by_a_class_in_named_graphs(server: str, form: str = "ASK", dataset: str = "") -> str:
    """The same join, each triple in a named graph (the W3C `GRAPH ?g1 {...} GRAPH ?g2 {...}`)."""
    return (prefixes(server) + f"{form} {dataset} "
            "{ GRAPH ?g1 { reg:bursa a ?type } GRAPH ?g2 { ?type a owl:Class } }")


def graph_names_query(server: str, dataset: str = "") -> str:
    return prefixes(server) + f"SELECT DISTINCT ?g {dataset} WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"


def graph_names(response: requests.Response) -> set[str]:
    return {str(row["g"]) for row in solutions(response)}


def ours(server: str, *names: str) -> set[str]:
    return {f"{server}graph/{name}" for name in names}


# --- query_get, query_post_form, query_post_direct ---------------------------------------------------------


def test_query_get(server):
    """W3C query_get: `GET ?query=ASK {}&default-graph-uri=<data0.rdf>` answers the boolean true (2xx).

    Adapted: data0.rdf is replaced by our graph/data. The default graph really is graph/data: Bursa is
    there, the statuses scheme (graph/vocabularies) is not.
    """
    response = via_get(server, "ASK {}", default_graphs(server, "data"))
    assert response.status_code == 200
    assert media_type(response) == "application/sparql-results+json"
    assert boolean(response) is True
    assert boolean(via_get(server, prefixes(server) + "ASK { reg:bursa a rp:Region }",
                           default_graphs(server, "data"))) is True
    assert boolean(via_get(server, prefixes(server) + "ASK { st:active a skos:Concept }",
                           default_graphs(server, "data"))) is False


def test_query_post_form(server):
    """W3C query_post_form: POST application/x-www-form-urlencoded, body `query=ASK%20%7B%7D`, with
    `default-graph-uri` in the request URL, answers true.

    Adapted: the default graph is our graph/vocabularies; the dataset given in the URL applies to the
    query given in the body.
    """
    url_dataset = default_graphs(server, "vocabularies")
    response = send(server, "POST", params=url_dataset, body=b"query=ASK%20%7B%7D", content_type=FORM)
    assert response.status_code == 200
    assert media_type(response) == "application/sparql-results+json"
    assert boolean(response) is True
    charset = send(server, "POST", params=url_dataset, body=b"query=ASK%20%7B%7D",
                   content_type=FORM + "; charset=UTF-8")
    assert boolean(charset) is True
    for query, expected in ((prefixes(server) + "ASK { st:active a skos:Concept }", True),
                            (prefixes(server) + "ASK { reg:bursa a rp:Region }", False)):
        body = encode([("query", query)]).encode("ascii")
        assert boolean(send(server, "POST", params=url_dataset, body=body, content_type=FORM)) is expected


def test_query_post_direct(server):
    """W3C query_post_direct: POST application/sparql-query with the body `ASK {}` answers true."""
    response = send(server, "POST", body=b"ASK {}", content_type=DIRECT)
    assert response.status_code == 200
    assert media_type(response) == "application/sparql-results+json"
    assert boolean(response) is True
    # a charset parameter (UTF-8) and the case of the media type do not matter
    for content_type in (DIRECT + "; charset=UTF-8", "Application/SPARQL-Query"):
        assert boolean(send(server, "POST", body=b"ASK {}", content_type=content_type)) is True


@pytest.mark.parametrize("operation", OPERATIONS)
def test_query_text_is_utf8_in_every_operation(server, operation):
    """Counterpart of W3C bad_query_non_utf8: a query with non-ASCII text, sent as UTF-8 (percent-encoded
    in GET and in the form, raw in the direct POST), is read as UTF-8 by every operation."""
    query = prefixes(server) + 'ASK { st:active skos:prefLabel "aktivní"@cs }'
    assert boolean(OPERATIONS[operation](server, query)) is True
    wrong = prefixes(server) + 'ASK { st:active skos:prefLabel "aktivni"@cs }'
    assert boolean(OPERATIONS[operation](server, wrong)) is False


# --- the dataset: protocol parameters, FROM / FROM NAMED, and which of them wins ---------------------------


@pytest.mark.parametrize("operation", ["GET", "POST-direct"], ids=["query_dataset_default_graphs_get",
                                                                  "query_dataset_default_graphs_post"])
def test_query_dataset_default_graphs(server, operation):
    """W3C query_dataset_default_graphs_get and query_dataset_default_graphs_post: two `default-graph-uri`
    make the default graph their merge, so a pattern joining a triple of each matches (ASK true).

    Adapted: the two graphs are our graph/data and graph/ontology. With graph/data alone the join fails,
    and with only `default-graph-uri` given there are no named graphs.
    """
    run = OPERATIONS[operation]
    assert boolean(run(server, bursa_typed_by_a_class(server), default_graphs(server, "data", "ontology"))) is True
    assert boolean(run(server, bursa_typed_by_a_class(server), default_graphs(server, "data"))) is False
    assert boolean(run(server, bursa_typed_by_a_class(server), default_graphs(server, "ontology"))) is False
    assert graph_names(run(server, graph_names_query(server), default_graphs(server, "data", "ontology"))) == set()


@pytest.mark.parametrize("operation", ["POST-direct", "GET"], ids=["query_dataset_named_graphs_post",
                                                                  "query_dataset_named_graphs_get"])
def test_query_dataset_named_graphs(server, operation):
    """W3C query_dataset_named_graphs_post and query_dataset_named_graphs_get: two `named-graph-uri` make
    those graphs (and only they) visible to GRAPH ?g1 / GRAPH ?g2 (ASK true).

    Adapted: the named graphs are our graph/data and graph/ontology; each triple of the join is found in
    its own graph; with graph/data alone the join fails; the default graph is empty.
    """
    run = OPERATIONS[operation]
    dataset = named_graphs(server, "data", "ontology")
    assert boolean(run(server, bursa_typed_by_a_class_in_named_graphs(server), dataset)) is True
    rows = solutions(run(server, bursa_typed_by_a_class_in_named_graphs(server, "SELECT ?g1 ?g2"), dataset))
    assert {(str(row["g1"]), str(row["g2"])) for row in rows} == {(f"{server}graph/data", f"{server}graph/ontology")}
    assert graph_names(run(server, graph_names_query(server), dataset)) == ours(server, "data", "ontology")
    assert boolean(run(server, bursa_typed_by_a_class_in_named_graphs(server), named_graphs(server, "data"))) is False
    assert boolean(run(server, "ASK { ?s ?p ?o }", dataset)) is False


def test_query_dataset_full(server):
    """W3C query_dataset_full: `default-graph-uri` and `named-graph-uri` together (POST direct): the
    default graph and the named graphs are each as given (ASK true).

    Adapted: default graph graph/vocabularies, named graphs graph/data and graph/ontology.
    """
    dataset = default_graphs(server, "vocabularies") + named_graphs(server, "data", "ontology")
    query = prefixes(server) + """ASK {
  st:active a skos:Concept
  GRAPH ?g1 { reg:bursa a ?type }
  GRAPH ?g2 { ?type a owl:Class }
}"""
    response = via_direct(server, query, dataset)
    assert response.status_code == 200 and boolean(response) is True
    assert graph_names(via_direct(server, graph_names_query(server), dataset)) == ours(server, "data", "ontology")
    # graph/vocabularies is the default graph only, graph/data a named graph only
    assert boolean(via_direct(server, prefixes(server) + "ASK { GRAPH ?g { st:active a skos:Concept } }",
                              dataset)) is False
    assert boolean(via_direct(server, prefixes(server) + "ASK { reg:bursa a rp:Region }", dataset)) is False


def test_query_multiple_dataset(server):
    """W3C query_multiple_dataset: the query names a dataset (FROM) and the request another
    (`named-graph-uri`): the protocol's dataset is used (ASK true).

    Adapted: `ASK FROM g:vocabularies { GRAPH ?g1 {...} GRAPH ?g2 {...} }` with `named-graph-uri`
    graph/data and graph/ontology. Since the protocol gives no `default-graph-uri`, the FROM is not used
    either: the default graph is empty.
    """
    dataset = named_graphs(server, "data", "ontology")
    query = bursa_typed_by_a_class_in_named_graphs(server, dataset="FROM g:vocabularies")
    response = via_direct(server, query, dataset)
    assert response.status_code == 200 and boolean(response) is True
    from_vocabularies = prefixes(server) + "ASK FROM g:vocabularies { st:active a skos:Concept }"
    assert boolean(via_direct(server, from_vocabularies)) is True
    assert boolean(via_direct(server, from_vocabularies, dataset)) is False


@pytest.mark.parametrize("operation", OPERATIONS)
def test_protocol_default_graph_overrides_from(server, operation):
    """W3C query_multiple_dataset, for the default graph: `default-graph-uri` replaces the query's FROM,
    and `named-graph-uri` its FROM NAMED."""
    run = OPERATIONS[operation]
    active = "ASK FROM g:data { st:active a skos:Concept }"
    assert boolean(run(server, prefixes(server) + active)) is False
    assert boolean(run(server, prefixes(server) + active, default_graphs(server, "vocabularies"))) is True
    bursa = prefixes(server) + "ASK FROM g:vocabularies { reg:bursa a rp:Region }"
    assert boolean(run(server, bursa)) is False
    assert boolean(run(server, bursa, default_graphs(server, "data"))) is True
    from_named = graph_names_query(server, f"FROM NAMED <{server}graph/description>")
    assert graph_names(run(server, from_named)) == ours(server, "description")
    assert graph_names(run(server, from_named, named_graphs(server, "ontology"))) == ours(server, "ontology")
    # a protocol dataset with only a default graph has no named graphs, whatever FROM NAMED says
    assert graph_names(run(server, from_named, default_graphs(server, "data"))) == set()


def test_without_dataset_the_default_graph_is_the_union_of_the_named_graphs(server):
    """The dataset the W3C tests leave to the service (query_post_direct and the query_content_type_*
    tests give none): ours is every named graph, and the default graph is their union."""
    assert graph_names(via_get(server, graph_names_query(server))) == ours(server, *GRAPHS)
    assert boolean(via_get(server, bursa_typed_by_a_class(server))) is True
    query = prefixes(server) + "ASK { st:active a skos:Concept . reg:bursa a rp:Region . rp:Agreement a owl:Class }"
    assert boolean(via_get(server, query)) is True
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    union = int(solutions(via_get(server, count))[0]["n"])
    each = [int(solutions(via_get(server, count, default_graphs(server, name)))[0]["n"]) for name in GRAPHS]
    assert all(each) and union == int(solutions(via_get(server, count, default_graphs(server, *GRAPHS)))[0]["n"])
    assert union >= max(each)


def concepts_of_statuses(server: str, dataset: str = "") -> str:
    return prefixes(server) + f"SELECT ?concept {dataset} WHERE {{ ?concept skos:inScheme vocab:statuses }}"


def test_from_restricts_the_default_graph(server):
    """The FROM part of W3C query_multiple_dataset (whose FROM <data3.rdf> we cannot load): FROM one of our
    graphs makes it the default graph, and the query sees nothing else; FROM alone gives no named graphs,
    FROM NAMED alone an empty default graph."""
    statuses = {f"{server}vocabulary/statuses/{name}" for name in STATUS_LABELS}

    def concepts(dataset: str = "") -> set[str]:
        return {str(row["concept"]) for row in solutions(via_get(server, concepts_of_statuses(server, dataset)))}

    assert concepts() == statuses
    assert concepts("FROM g:vocabularies") == statuses
    assert concepts("FROM g:data") == set()
    assert concepts("FROM g:data FROM g:vocabularies") == statuses
    assert concepts("FROM NAMED g:vocabularies") == set()
    # relative to BASE, and in lower case, FROM is the same
    based = f"BASE <{server}graph/>\n" + concepts_of_statuses(server, "from <vocabularies>")
    assert {str(row["concept"]) for row in solutions(via_get(server, based))} == statuses
    assert graph_names(via_get(server, graph_names_query(server, "FROM g:data"))) == set()
    assert graph_names(via_get(server, graph_names_query(server, "FROM g:data FROM NAMED g:ontology"))) \
        == ours(server, "ontology")


def test_only_named_graph_uri_gives_an_empty_default_graph(server):
    """W3C query_dataset_named_graphs_*: with only `named-graph-uri` the default graph is empty."""
    for name in GRAPHS:
        dataset = named_graphs(server, name)
        assert boolean(via_get(server, "ASK { ?s ?p ?o }", dataset)) is False
        assert boolean(via_get(server, "ASK { GRAPH ?g { ?s ?p ?o } }", dataset)) is True
        assert graph_names(via_get(server, graph_names_query(server), dataset)) == ours(server, name)


NOT_OURS = [  # (W3C test or case, dataset parameters, query)
    ("query_get", [("default-graph-uri", "http://kasei.us/2009/09/sparql/data/data0.rdf")], "ASK {}"),
    ("query_dataset_named_graphs_get",
     [("named-graph-uri", "http://kasei.us/2009/09/sparql/data/data1.rdf"),
      ("named-graph-uri", "http://kasei.us/2009/09/sparql/data/data2.rdf")],
     "ASK { GRAPH ?g1 { <http://kasei.us/2009/09/sparql/data/data1.rdf> a ?type } "
     "GRAPH ?g2 { <http://kasei.us/2009/09/sparql/data/data2.rdf> a ?type } }"),
    ("query_multiple_dataset (FROM)", [],
     "ASK FROM <http://kasei.us/2009/09/sparql/data/data3.rdf> { ?s ?p ?o }"),
    ("FROM NAMED", [], "ASK FROM NAMED <http://kasei.us/2009/09/sparql/data/data3.rdf> { ?s ?p ?o }"),
    ("a graph of ours that does not exist", [("default-graph-uri", "{base}graph/nothing")], "ASK {}"),
]


@pytest.mark.parametrize("name, params, query", NOT_OURS, ids=[case[0] for case in NOT_OURS])
def test_a_graph_that_is_not_ours_is_refused(server, name, params, query):
    """The W3C requests that name documents on the web, sent as written: our endpoint loads nothing, so a
    graph it does not hold is refused with 400, naming that graph and listing ours."""
    params = [(key, value.replace("{base}", server)) for key, value in params]
    message = refused(via_get(server, query, params), 400)
    unknown = next((value for _, value in params), None) or re.search(r"<(http://kasei[^>]+)>", query).group(1)
    assert f"<{unknown}>" in message
    for graph_name in ours(server, *GRAPHS):
        assert f"<{graph_name}>" in message


# --- query_content_type_*: the answer's format --------------------------------------------------------------


@pytest.mark.parametrize("accept, expected", [(None, "application/sparql-results+json"),
                                              *[(kind, kind) for kind in RESULTS_TYPES]])
def test_query_content_type_select(server, accept, expected):
    """W3C query_content_type_select: `SELECT (1 AS ?value) {}` (POST direct) answers in one of the SPARQL
    results formats (XML, JSON, CSV, TSV). Here: JSON without Accept, else the one asked for."""
    response = via_direct(server, "SELECT (1 AS ?value) {}", default_graphs(server, "data"), accept)
    assert response.status_code == 200
    assert media_type(response) == expected
    rows = solutions(response)
    assert len(rows) == 1 and set(rows[0]) == {"value"}
    if expected == "text/csv":  # CSV does not keep datatypes
        assert rows[0]["value"] == Literal("1")
        assert list(csv.reader(io.StringIO(response.content.decode("utf-8")))) == [["value"], ["1"]]
    else:
        assert rows[0]["value"] == Literal(1, datatype=INTEGER)


@pytest.mark.parametrize("accept", [None, *RESULTS_TYPES])
def test_query_content_type_select_on_our_data(server, accept):
    """W3C query_content_type_select, on our data: the concepts of the statuses scheme with their labels,
    the same in every results format (CSV drops the language tags)."""
    query = prefixes(server) + (
        "SELECT ?concept ?label WHERE { ?concept skos:inScheme vocab:statuses ; skos:prefLabel ?label }")
    response = via_get(server, query, accept=accept)
    assert media_type(response) == (accept or "application/sparql-results+json")
    found = {(row["concept"], row["label"]) for row in solutions(response)}
    expected = {(URIRef(f"{server}vocabulary/statuses/{name}"), Literal(text, lang=language))
                for name, labels in STATUS_LABELS.items() for text, language in labels}
    if accept == "text/csv":
        expected = {(concept, Literal(str(label))) for concept, label in expected}
    assert found == expected


@pytest.mark.parametrize("accept, expected", [(None, "application/sparql-results+json"),
                                              ("application/sparql-results+json", "application/sparql-results+json"),
                                              ("application/sparql-results+xml", "application/sparql-results+xml")])
def test_query_content_type_ask(server, accept, expected):
    """W3C query_content_type_ask: `ASK {}` (POST direct) answers in SPARQL results XML or JSON. Here: JSON
    without Accept, else the one asked for; and a false answer reads false."""
    response = via_direct(server, "ASK {}", default_graphs(server, "data"), accept)
    assert response.status_code == 200 and media_type(response) == expected
    assert boolean(response) is True
    parsed = Result.parse(io.BytesIO(response.content), format=RESULTS_TYPES[expected])
    assert parsed.type == "ASK" and parsed.askAnswer is True
    false = via_direct(server, prefixes(server) + "ASK { reg:bursa a skos:Concept }", accept=accept)
    assert media_type(false) == expected and boolean(false) is False


def test_query_content_type_describe_as_written(server):
    """W3C query_content_type_describe, as written (but for the dataset): `DESCRIBE <http://example.org/>`
    answers RDF (Turtle without Accept); we know nothing about that IRI, so the graph is empty."""
    response = via_direct(server, "DESCRIBE <http://example.org/>", default_graphs(server, "data"))
    assert response.status_code == 200 and media_type(response) == "text/turtle"
    assert len(graph(response)) == 0


@pytest.mark.parametrize("accept, expected", [(None, "text/turtle"), *[(kind, kind) for kind in GRAPH_TYPES]])
def test_query_content_type_describe(server, accept, expected):
    """W3C query_content_type_describe on our data: `DESCRIBE reg:bursa` over graph/data answers RDF in the
    format asked for (Turtle without Accept), with Bursa's type and labels and only Bursa's description."""
    bursa = URIRef(f"{server}id/region/bursa")
    response = via_direct(server, f"DESCRIBE <{bursa}>", default_graphs(server, "data"), accept)
    assert response.status_code == 200 and media_type(response) == expected
    described = graph(response)
    assert (bursa, RDF.type, URIRef(f"{server}ontology/Region")) in described
    assert set(described.objects(bursa, RDFS.label)) == {Literal("Bursa", lang="cs"),
                                                          Literal("Bursa Province", lang="en")}
    assert {subject for subject in described.subjects() if not isinstance(subject, BNode)} == {bursa}
    # over graph/ontology alone, Bursa is not described
    assert len(graph(via_direct(server, f"DESCRIBE <{bursa}>", default_graphs(server, "ontology"), accept))) == 0


def test_query_content_type_construct_as_written(server):
    """W3C query_content_type_construct, as written (but for the dataset): `CONSTRUCT { <s> <p> 1 } WHERE {}`
    (relative IRIs, no BASE) answers RDF: one triple whose IRIs the service resolved against its base."""
    response = via_direct(server, "CONSTRUCT { <s> <p> 1 } WHERE {}", default_graphs(server, "data"))
    assert response.status_code == 200, response.text
    assert media_type(response) in GRAPH_TYPES
    (subject, predicate, value), = graph(response)
    assert re.match(r"https?://.+/s$", str(subject)) and re.match(r"https?://.+/p$", str(predicate))
    assert value == Literal(1, datatype=INTEGER)


@pytest.mark.parametrize("accept, expected", [(None, "text/turtle"), *[(kind, kind) for kind in GRAPH_TYPES]])
def test_query_content_type_construct(server, accept, expected):
    """W3C query_content_type_construct with absolute IRIs: the constant triple `CONSTRUCT { <{base}s>
    <{base}p> 1 } WHERE {}`, and a CONSTRUCT of the statuses' labels from graph/vocabularies, answer RDF in
    the format asked for (Turtle without Accept)."""
    constant = via_direct(server, f"CONSTRUCT {{ <{server}s> <{server}p> 1 }} WHERE {{}}",
                          default_graphs(server, "data"), accept)
    assert constant.status_code == 200 and media_type(constant) == expected
    assert set(graph(constant)) == {(URIRef(f"{server}s"), URIRef(f"{server}p"), Literal(1, datatype=INTEGER))}
    query = prefixes(server) + (
        "CONSTRUCT { ?c skos:prefLabel ?l } WHERE { ?c skos:inScheme vocab:statuses ; skos:prefLabel ?l }")
    labels = via_direct(server, query, default_graphs(server, "vocabularies"), accept)
    assert media_type(labels) == expected
    assert set(graph(labels)) == {
        (URIRef(f"{server}vocabulary/statuses/{name}"), SKOS.prefLabel, Literal(text, lang=language))
        for name, pairs in STATUS_LABELS.items() for text, language in pairs
    }
    assert len(graph(via_direct(server, query, default_graphs(server, "data"), accept))) == 0


@pytest.mark.parametrize("query, accept, expected", [
    ("SELECT (1 AS ?value) {}", "application/sparql-results+xml;q=0.9, application/sparql-results+json;q=0.5",
     "application/sparql-results+xml"),
    ("SELECT (1 AS ?value) {}", "text/csv;q=0.2, text/tab-separated-values;q=0.4, */*;q=0.1",
     "text/tab-separated-values"),
    ("SELECT (1 AS ?value) {}", "application/sparql-results+json;q=0, */*", "application/sparql-results+xml"),
    ("SELECT (1 AS ?value) {}", "text/turtle, application/sparql-results+xml;q=0.1", "application/sparql-results+xml"),
    ("ASK {}", "text/turtle, application/sparql-results+xml;q=0.5", "application/sparql-results+xml"),
    ("CONSTRUCT { <{base}s> <{base}p> 1 } WHERE {}", "application/sparql-results+json, application/rdf+xml;q=0.5",
     "application/rdf+xml"),
    ("CONSTRUCT { <{base}s> <{base}p> 1 } WHERE {}", "text/turtle;q=0.3, application/ld+json;q=0.8",
     "application/ld+json"),
    ("DESCRIBE <{base}id/region/bursa>", "application/n-triples, text/turtle;q=0.9", "application/n-triples"),
])
def test_accept_with_q_values(server, query, accept, expected):
    """The format negotiation of the W3C query_content_type_* tests, with q-values: the most preferred format
    that suits the query's form is chosen, whatever the others asked for."""
    response = via_get(server, query.replace("{base}", server), accept=accept)
    assert_answered_in(response, expected, query)


@pytest.mark.parametrize("query, accept", [
    ("SELECT (1 AS ?value) {}", "image/png"),
    ("DESCRIBE <{base}id/region/bursa>", "image/png;q=0.5, application/pdf"),
    ("ASK {}", "application/sparql-results+json;q=0"),
    ("ASK {}", "text/csv"),
    ("ASK {}", "text/tab-separated-values;charset=utf-8"),
])
def test_an_unacceptable_format_is_406(server, query, accept):
    """The W3C query_content_type_* tests, the other way round: when no format the query's form can be
    answered in is acceptable, the answer is 406 listing the formats offered for that form (CSV and TSV
    have no boolean answer). (Only the other kind's formats acceptable: see test_web_sparql.py.)"""
    message = refused(via_get(server, query.replace("{base}", server), accept=accept), 406)
    offered = (GRAPH_TYPES if query.startswith(("CONSTRUCT", "DESCRIBE"))
               else ["application/sparql-results+json", "application/sparql-results+xml"] if query.startswith("ASK")
               else RESULTS_TYPES)
    assert all(kind in message for kind in offered)
    assert ("text/csv" in message) is query.startswith("SELECT")


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("name, value, query, expected", [
    ("format", "json", "SELECT (1 AS ?value) {}", "application/sparql-results+json"),
    ("format", "xml", "SELECT (1 AS ?value) {}", "application/sparql-results+xml"),
    ("output", "csv", "SELECT (1 AS ?value) {}", "text/csv"),
    ("format", "tsv", "SELECT (1 AS ?value) {}", "text/tab-separated-values"),
    ("format", "application/sparql-results+xml", "ASK {}", "application/sparql-results+xml"),
    ("format", "turtle", "CONSTRUCT { <{base}s> <{base}p> 1 } WHERE {}", "text/turtle"),
    ("output", "xml", "CONSTRUCT { <{base}s> <{base}p> 1 } WHERE {}", "application/rdf+xml"),
    ("format", "json", "CONSTRUCT { <{base}s> <{base}p> 1 } WHERE {}", "application/ld+json"),
    ("format", "application/n-triples", "DESCRIBE <{base}id/region/bursa>", "application/n-triples"),
])
def test_format_and_output_parameters(server, operation, name, value, query, expected):
    """The query_content_type_* tests with the `format`/`output` parameters (which SPARQLWrapper sends):
    they choose the format over the Accept header, by a short name or a media type."""
    response = OPERATIONS[operation](server, query.replace("{base}", server), [(name, value)],
                                     accept="application/sparql-results+json, text/turtle")
    assert_answered_in(response, expected, query)


# --- bad requests --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_bad_query_method(server, method):
    """W3C bad_query_method: the query operation by another method than GET or POST is a 4xx error. Here:
    405 Method Not Allowed, with Allow listing GET and POST."""
    response = send(server, method, params=[("query", "ASK {}"), *default_graphs(server, "data")], content_type=FORM)
    assert response.status_code == 405
    allowed = {value.strip() for value in response.headers["Allow"].split(",")}
    assert {"GET", "POST"} <= allowed and method not in allowed


def test_bad_multiple_queries(server):
    """W3C bad_multiple_queries: two `query` parameters are a 4xx error (400 here), by GET as written, in a
    form, and split between the URL and the body."""
    for response in (
        send(server, "GET", params=[("query", "ASK {}"), ("query", "SELECT * {}")]),
        send(server, "POST", body=b"query=ASK%20%7B%7D&query=SELECT%20%2A%20%7B%7D", content_type=FORM),
        send(server, "POST", params=[("query", "ASK {}")], body=b"query=SELECT%20%2A%20%7B%7D", content_type=FORM),
        send(server, "POST", params=[("query", "ASK {}")], body=b"SELECT * {}", content_type=DIRECT),
    ):
        assert "query" in refused(response, 400)


@pytest.mark.parametrize("content_type", ["text/plain", "application/json", "application/sparql-results+json"])
def test_bad_query_wrong_media_type(server, content_type):
    """W3C bad_query_wrong_media_type: a POST whose media type is neither form-encoded nor
    application/sparql-query is a 4xx error: 415 Unsupported Media Type."""
    message = refused(send(server, "POST", body=b"ASK {}", content_type=content_type), 415)
    assert FORM in message and DIRECT in message


def test_bad_query_missing_form_type(server):
    """W3C bad_query_missing_form_type: a form-encoded body without its media type is a 4xx error: 415."""
    refused(send(server, "POST", body=b"query=ASK%20%7B%7D"), 415)


def test_bad_query_missing_direct_type(server):
    """W3C bad_query_missing_direct_type: a query body without application/sparql-query is a 4xx error: 415."""
    refused(send(server, "POST", body=b"ASK {}"), 415)


@pytest.mark.parametrize("how", ["UTF-16 as written", "UTF-16LE without BOM", "UTF-16BE without BOM",
                                 "Latin-1 direct", "Latin-1 in a form", "Latin-1 in GET"])
def test_bad_query_non_utf8(server, how):
    """W3C bad_query_non_utf8: a direct POST in UTF-16 (`charset=UTF-16`) is a 4xx error: 400. So is the
    same without a byte order mark, and a query in Latin-1, sent directly, in a form or by GET."""
    query = 'ASK { ?s ?p "é" }'
    if how == "UTF-16 as written":
        response = send(server, "POST", body="ASK {}".encode("utf-16"), content_type=DIRECT + "; charset=UTF-16")
    elif how.startswith("UTF-16"):
        encoding = "utf-16-le" if "LE" in how else "utf-16-be"
        response = send(server, "POST", body="ASK {}".encode(encoding), content_type=DIRECT + "; charset=UTF-16")
    elif how == "Latin-1 direct":
        response = send(server, "POST", body=query.encode("latin-1"), content_type=DIRECT + "; charset=ISO-8859-1")
    elif how == "Latin-1 in a form":
        body = ("query=" + quote(query, encoding="latin-1")).encode("ascii")
        response = send(server, "POST", body=body, content_type=FORM)
    else:
        url = server + "sparql?query=" + quote(query, encoding="latin-1")
        response = server.http.get(url, headers={"Accept": None}, timeout=TIMEOUT)
    refused(response, 400)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_bad_query_syntax(server, operation):
    """W3C bad_query_syntax: `ASK {` is a 4xx error: 400, in plain text with the parser's position (line 1,
    column 6: the end of the text); a mistake on a later line is placed on that line."""
    message = refused(OPERATIONS[operation](server, "ASK {"), 400)
    assert re.search(r"\berror at 1:6\b", message), message
    message = refused(OPERATIONS[operation](server, "SELECT *\nWHERE {\n  ?s ?p\n}"), 400)
    assert re.search(r"\berror at 4:\d+", message), message


def test_bad_query_syntax_unterminated_string_has_line_and_column(server):
    """W3C bad_query_syntax with another syntax error: an unterminated string on line 2 is a 400 whose
    message places the error by line and column, as every other syntax error is."""
    message = refused(via_get(server, 'SELECT ?s\nWHERE { ?s ?p "never closed }'), 400)
    assert re.search(r"\berror at 2:\d+", message), message


def test_bad_query_syntax_undeclared_prefix_in_from(server):
    """W3C bad_query_syntax with another syntax error: `ASK FROM undeclared:data {}` (a prefix never declared)
    is a 400 that places the syntax error, not a complaint about a graph named `<?>`."""
    message = refused(via_get(server, "ASK FROM undeclared:data {}"), 400)
    assert "<?>" not in message
    assert re.search(r"\berror at 1:\d+", message), message


# --- the update operation: refused, and nothing changes --------------------------------------------------------

SPARQL_UPDATE = "application/sparql-update"
INSERT = "INSERT DATA { GRAPH <http://example.org/g> { <http://example.org/s> <http://example.org/p> 1 } }"


UPDATE_REQUESTS = [  # (W3C test or case, method, URL parameters, body, Content-Type, status expected)
    ("bad_update_get", "GET", [("update", "CLEAR ALL")], None, None, 400),
    ("bad_multiple_updates", "POST", [], b"update=CLEAR%20NAMED&update=CLEAR%20DEFAULT", FORM, 400),
    ("bad_update_wrong_media_type", "POST", [], b"CLEAR NAMED", "text/plain", 415),
    ("bad_update_missing_form_type", "POST", [], b"update=CLEAR%20NAMED", None, 415),
    ("bad_update_non_utf8", "POST", [], "CLEAR NAMED".encode("utf-16"), SPARQL_UPDATE + "; charset=UTF-16", 415),
    ("bad_update_syntax", "POST", [], b"update=CLEAR%20XYZ", FORM, 400),
    ("bad_update_dataset_conflict", "POST", [("using-named-graph-uri", "http://example/people")],
     b"WITH <http://example/addresses> DELETE { ?p <http://example.org/n> 'Bill' } "
     b"WHERE { ?p <http://example.org/n> 'Bill' }",
     SPARQL_UPDATE, 415),
    ("update_post_form", "POST", [], encode([("update", INSERT)]).encode("ascii"), FORM, 400),
    ("update_post_direct", "POST", [], INSERT.encode("utf-8"), SPARQL_UPDATE, 415),
    ("update_dataset_default_graph", "POST", [("using-graph-uri", "http://example.org/g")], b"CLEAR ALL",
     SPARQL_UPDATE, 415),
    ("update_dataset_named_graphs (form)", "POST", [("using-named-graph-uri", "{base}graph/data")],
     b"update=DROP%20ALL", FORM, 400),
    ("update sent as a query (direct)", "POST", [], b"DROP ALL", DIRECT, 400),
    ("update sent as a query (GET)", "GET", [("query", "CLEAR GRAPH <{base}graph/data>")], None, None, 400),
    ("update sent as a query (form)", "POST", [], encode([("query", INSERT)]).encode("ascii"), FORM, 400),
    ("query with update", "POST", [], b"query=ASK%20%7B%7D&update=CLEAR%20ALL", FORM, 400),
    ("query with using-graph-uri", "GET", [("query", "ASK {}"), ("using-graph-uri", "{base}graph/data")], None,
     None, 400),
]


@pytest.mark.parametrize("name, method, params, body, content_type, status", UPDATE_REQUESTS,
                         ids=[request[0] for request in UPDATE_REQUESTS])
def test_updates_are_refused(server, name, method, params, body, content_type, status):
    """The update tests of the manifest (update_*, bad_update_*), sent to our read-only endpoint: each is
    refused (400, or 415 for application/sparql-update and other media types), and the data is unchanged."""
    count = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    before = {str(row["g"]): int(row["n"]) for row in solutions(via_get(server, count))}
    params = [(key, value.replace("{base}", server)) for key, value in params]
    refused(send(server, method, params=params, body=body, content_type=content_type), status)
    after = {str(row["g"]): int(row["n"]) for row in solutions(via_get(server, count))}
    assert after == before and set(after) == ours(server, *GRAPHS)


# --- the service itself ----------------------------------------------------------------------------------------


def test_get_without_query_gives_the_service_description(server):
    """No W3C protocol test (the SPARQL 1.1 Service Description): `GET /sparql` without a query describes the
    service in RDF: its endpoint, SPARQL 1.1 Query, the union default graph and our named graphs."""
    response = send(server, "GET", accept="text/turtle")
    assert response.status_code == 200 and media_type(response) == "text/turtle"
    description = graph(response)
    service = URIRef(f"{server}sparql")
    assert (service, RDF.type, URIRef(SD + "Service")) in description
    assert (service, URIRef(SD + "endpoint"), service) in description
    assert (service, URIRef(SD + "supportedLanguage"), URIRef(SD + "SPARQL11Query")) in description
    assert (service, URIRef(SD + "feature"), URIRef(SD + "UnionDefaultGraph")) in description
    assert {str(name) for name in description.objects(None, URIRef(SD + "name"))} == ours(server, *GRAPHS)
