"""The SPARQL endpoint with a real client (SPARQLWrapper) for every query form and result format,
and the safety rules: read-only, nothing loaded or called from a query, every query bounded.

The hostile requests are sent while a canary HTTP server listens on loopback: it must receive
nothing."""

import csv
import http.server
import io
import json
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.error import HTTPError

import pyoxigraph as ox
import pytest
import real_clients as real
import requests
from conftest import CHECKOUT, require, running_server
from in_process import HTTP
from rdf_documents import parse_document
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.query import Result
from real_clients import jena  # noqa: F401 - the fixture that runs Jena
from SPARQLWrapper import CSV, JSON, JSONLD, N3, RDFXML, TSV, TURTLE, XML, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed
from tiers import entering, marks, tiered

from lodpub.store.query_text import syntax_error


@pytest.fixture(scope="module")
def server(server_on_every_store):
    """Every test here runs on the embedded store and on each remote store."""
    return server_on_every_store

PREFIXES = "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
STATUSES_QUERY = PREFIXES + "SELECT ?concept ?label WHERE {{ ?concept skos:inScheme <{base}vocabulary/statuses> ; " \
                            "skos:prefLabel ?label . FILTER (LANG(?label) = 'en') }}"
# The statuses' concepts (by the last segment of their IRIs) and English labels, the deprecated two included.
STATUS_NAMES = {"signed", "signed-and-initialled", "stagnating", "ended", "notice-given", "active", "terminated"}
STATUS_LABELS = {"signed", "signed and initialled", "stagnating", "ended", "notice given", "active", "terminated"}
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def wrapper(server: str, method: str = "GET") -> SPARQLWrapper:
    client = SPARQLWrapper(server + "sparql")
    client.setMethod(method)
    return client


# --- every query form and result format, through SPARQLWrapper --------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("return_format", [JSON, XML, CSV, TSV])
def test_select_in_every_results_format(server, method, return_format):
    client = wrapper(server, method)
    client.setQuery(STATUSES_QUERY.format(base=server))
    client.setReturnFormat(return_format)
    result = client.query()
    converted = result.convert()
    if return_format == JSON:
        labels = {row["label"]["value"] for row in converted["results"]["bindings"]}
        assert result.response.headers["Content-Type"].startswith("application/sparql-results+json")
    elif return_format == XML:
        labels = {literal.firstChild.data for literal in converted.getElementsByTagName("literal")}
    elif return_format == CSV:
        text = converted.decode("utf-8") if isinstance(converted, bytes) else converted
        labels = {row["label"] for row in csv.DictReader(io.StringIO(text))}
    else:
        data = converted.encode("utf-8") if isinstance(converted, str) else converted
        labels = {str(row["label"]) for row in Result.parse(io.BytesIO(data), format="tsv")}
    assert labels == STATUS_LABELS


TERMS_QUERY = r"""SELECT ?term ?blank WHERE {
  VALUES ?term { <http://example.org/a> "plain" "tab\there, \"quoted\""@cs "line\nbreak" "Valle d'Aosta"@it
                 "5"^^<http://www.w3.org/2001/XMLSchema#nonNegativeInteger> "2005-04"^^<http://www.w3.org/2001/XMLSchema#gYearMonth>
                 "unbound blank" }
  OPTIONAL { FILTER (?term = "plain") BIND (BNODE() AS ?blank) } }"""


@pytest.mark.parametrize("store", ["in_process", pytest.param("oxigraph_server", marks=marks("served", "stores"))])
@pytest.mark.parametrize("media_type, oxigraph_format", [
    ("application/sparql-results+json", "JSON"), ("application/sparql-results+xml", "XML"),
    ("text/tab-separated-values", "TSV")])
def test_select_answers_keep_every_term_as_the_engine_gives_it(request, store, media_type, oxigraph_format):
    """IRIs, blank nodes, unbound values, language tags, datatypes, tabs, quotes and new lines come
    out as Oxigraph itself gives them, in each format that can tell them apart. (On the stores that
    Oxigraph runs: Virtuoso evaluates this query differently, e.g. it has no BNODE() in OPTIONAL.)"""
    import pyoxigraph as ox

    server = request.getfixturevalue(store)
    results_format = getattr(ox.QueryResultsFormat, oxigraph_format)
    response = HTTP.get(server + "sparql", params={"query": TERMS_QUERY}, headers={"Accept": media_type},
                            timeout=60)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith(media_type)
    ours = [list(row) for row in ox.parse_query_results(response.content, results_format)]
    expected = [list(row) for row in ox.Store().query(TERMS_QUERY)]
    assert len(ours) == len(expected) == 8
    assert [row[0] for row in ours] == [row[0] for row in expected]
    blanks = [row[1] for row in ours if row[1] is not None]
    assert len(blanks) == 1 and isinstance(blanks[0], ox.BlankNode)


@pytest.mark.parametrize("return_format", [JSON, XML])
def test_ask_in_json_and_xml(server, return_format):
    for query, expected in (("ASK { ?s a <http://www.w3.org/2002/07/owl#Ontology> }", True),
                            ("ASK { ?s a <http://example.org/Nothing> }", False)):
        client = wrapper(server)
        client.setQuery(query)
        client.setReturnFormat(return_format)
        converted = client.query().convert()
        answer = converted["boolean"] if return_format == JSON else \
            converted.getElementsByTagName("boolean")[0].firstChild.data == "true"
        assert answer is expected


@pytest.mark.parametrize("form", ["CONSTRUCT", "DESCRIBE"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_construct_and_describe_give_the_same_graph_in_every_format(server, form, method):
    query = (f"CONSTRUCT {{ <{server}id/region/bursa> ?p ?o }} WHERE {{ <{server}id/region/bursa> ?p ?o }}"
             if form == "CONSTRUCT" else f"DESCRIBE <{server}id/region/bursa>")
    graphs = []
    for return_format in (TURTLE, N3, RDFXML, XML, JSONLD):
        client = wrapper(server, method)
        client.setQuery(query)
        client.setReturnFormat(return_format)
        converted = client.query().convert()
        if isinstance(converted, bytes):
            converted = Graph().parse(data=converted, format="turtle")
        graphs.append(converted)
    assert len(graphs[0]) > 5
    for graph in graphs[1:]:
        assert isomorphic(graphs[0], graph)


def test_post_directly_as_application_sparql_query(server):
    client = wrapper(server, "POST")
    client.setRequestMethod("postdirectly")
    client.setQuery(STATUSES_QUERY.format(base=server))
    client.setReturnFormat(JSON)
    assert len(client.query().convert()["results"]["bindings"]) == len(STATUS_NAMES)


def test_a_malformed_query_is_400_with_the_parsers_position(server):
    client = wrapper(server)
    client.setQuery("SELECT * WHERE { ?s ?p }")
    with pytest.raises(QueryBadFormed):
        client.query()
    response = requests.get(server + "sparql", params={"query": "SELECT * WHERE { ?s ?p }"}, timeout=30)
    assert response.status_code == 400 and "error at 1:" in response.text and "Traceback" not in response.text


@pytest.mark.parametrize("accept, expected", [
    ("application/sparql-results+json", "application/sparql-results+json"),
    ("application/sparql-results+xml;q=0.9, text/csv;q=0.5", "application/sparql-results+xml"),
    ("text/csv", "text/csv"), ("text/tab-separated-values", "text/tab-separated-values"),
    ("*/*", "application/sparql-results+json"), ("application/json", "application/sparql-results+json"),
])
def test_select_negotiation_with_q_values(server, accept, expected):
    response = requests.get(server + "sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1"},
                            headers={"Accept": accept}, timeout=30)
    assert response.status_code == 200 and response.headers["Content-Type"].split(";")[0] == expected


def test_an_unacceptable_type_is_406(server):
    for query, accept in (("SELECT * WHERE { ?s ?p ?o } LIMIT 1", "image/png"),
                          ("CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1", "image/png, text/plain;q=0"),
                          ("ASK { ?s ?p ?o }", "text/csv"), ("ASK { ?s ?p ?o }", "text/tab-separated-values")):
        response = requests.get(server + "sparql", params={"query": query}, headers={"Accept": accept}, timeout=30)
        assert response.status_code == 406, (query, accept)


QUERIES_BY_FORM = {
    "SELECT": "SELECT ?s ?o WHERE {{ ?s <http://www.w3.org/2004/02/skos/core#inScheme> ?o }} LIMIT 3",
    "ASK": "ASK {{ ?s a <http://www.w3.org/2002/07/owl#Ontology> }}",
    "CONSTRUCT": "CONSTRUCT WHERE {{ <{base}id/region/bursa> ?p ?o }}",
    "DESCRIBE": "DESCRIBE <{base}id/region/bursa>",
}
RESULTS, XML_RESULTS, TURTLE_TYPE = "application/sparql-results+json", "application/sparql-results+xml", "text/turtle"


def answer_types(*pairs: str) -> dict[str, str]:
    """The media type each query form is answered in: SELECT, ASK, CONSTRUCT, DESCRIBE."""
    return dict(zip(QUERIES_BY_FORM, pairs, strict=True))


@pytest.mark.parametrize("accept, expected", [
    pytest.param(real.ANY, answer_types(RESULTS, RESULTS, TURTLE_TYPE, TURTLE_TYPE), id="curl, fetch()"),
    # application/xml (q=0.2) names RDF/XML too, above */* (q=0.1)
    pytest.param(real.JENA_SELECT, answer_types(RESULTS, RESULTS, "application/rdf+xml", "application/rdf+xml"),
                 id="Jena SELECT"),
    pytest.param(real.JENA_ASK, answer_types(RESULTS, RESULTS, "application/rdf+xml", "application/rdf+xml"),
                 id="Jena ASK"),
    pytest.param(real.JENA_GRAPH, answer_types(RESULTS, RESULTS, TURTLE_TYPE, TURTLE_TYPE), id="Jena CONSTRUCT"),
    pytest.param(real.COMUNICA_RESULTS, answer_types(RESULTS, RESULTS, TURTLE_TYPE, TURTLE_TYPE),
                 id="Comunica SELECT"),
    pytest.param(real.COMUNICA_GRAPH, answer_types(RESULTS, RESULTS, TURTLE_TYPE, TURTLE_TYPE), id="Comunica graph"),
    pytest.param(real.RDFLIB_SPARQLSTORE, answer_types(XML_RESULTS, XML_RESULTS, "application/rdf+xml",
                                                       "application/rdf+xml"), id="rdflib SPARQLStore"),
    pytest.param(real.SPARQLWRAPPER_JSON, answer_types(RESULTS, RESULTS, "application/ld+json",
                                                       "application/ld+json"), id="SPARQLWrapper JSON"),
    pytest.param(real.SPARQLWRAPPER_N3, answer_types(RESULTS, RESULTS, TURTLE_TYPE, TURTLE_TYPE),
                 id="SPARQLWrapper N3"),
    pytest.param(real.SPARQLWRAPPER_JSONLD, answer_types(RESULTS, RESULTS, "application/ld+json",
                                                         "application/ld+json"), id="SPARQLWrapper JSON-LD"),
    pytest.param("application/sparql-results+json;charset=utf-8, text/turtle;charset=utf-8",
                 answer_types(RESULTS, RESULTS, TURTLE_TYPE, TURTLE_TYPE), id="charset"),
    pytest.param("text/csv;charset=utf-8, application/n-triples;charset=utf-8",
                 answer_types("text/csv", RESULTS, "application/n-triples", "application/n-triples"),
                 id="CSV, no ASK"),
    pytest.param("text/tab-separated-values;charset=utf-8;q=0.9, application/sparql-results+xml;q=0.5",
                 answer_types("text/tab-separated-values", XML_RESULTS, TURTLE_TYPE, TURTLE_TYPE),
                 id="TSV with q, no ASK"),
    pytest.param('application/ld+json;profile="http://www.w3.org/ns/json-ld#compacted", */*;q=0.1',
                 answer_types(RESULTS, RESULTS, "application/ld+json", "application/ld+json"), id="JSON-LD profile"),
    pytest.param("text/turtle;q=0.5, application/ld+json;charset=utf-8;q=0.9",
                 answer_types(RESULTS, RESULTS, "application/ld+json", "application/ld+json"), id="q-values"),
    pytest.param("application/sparql-results+json", answer_types(RESULTS, RESULTS, TURTLE_TYPE, TURTLE_TYPE),
                 id="only results: a graph in Turtle"),
    pytest.param("text/csv", answer_types("text/csv", None, TURTLE_TYPE, TURTLE_TYPE),
                 id="only CSV: no ASK, a graph in Turtle"),
    pytest.param("application/rdf+xml", answer_types(RESULTS, RESULTS, "application/rdf+xml", "application/rdf+xml"),
                 id="only a graph type: results in JSON"),
])
def test_real_clients_accept_headers_get_an_answer_of_each_form_they_read(embedded_server, accept, expected):
    """Each query form, asked with a client's own Accept header, answers in the type it prefers
    among those the form has, or 406 (None) when it has none; the answer reads as that type."""
    for form, query in QUERIES_BY_FORM.items():
        response = requests.get(embedded_server + "sparql", params={"query": query.format(base=embedded_server)},
                                headers={"Accept": accept}, timeout=30)
        if expected[form] is None:
            assert response.status_code == 406, form
            continue
        assert response.status_code == 200, (form, response.text[:300])
        media_type = response.headers["Content-Type"].split(";")[0]
        assert media_type == expected[form], form
        if media_type == "text/csv":  # which Oxigraph does not read: it loses the kinds of terms
            assert len(list(csv.DictReader(io.StringIO(response.text)))) == 3
        elif form in ("SELECT", "ASK"):
            parsed = ox.parse_query_results(response.content, ox.QueryResultsFormat.from_media_type(media_type))
            assert isinstance(parsed, ox.QueryBoolean) is (form == "ASK")
            assert form == "ASK" or len(list(parsed)) == 3
        elif media_type == "application/ld+json":
            assert len(Graph().parse(data=response.content, format="json-ld")) > 5
        else:
            assert len(list(ox.parse(response.content, format=ox.RdfFormat.from_media_type(media_type)))) > 5


@pytest.mark.parametrize("return_format", [CSV, TSV])
def test_sparqlwrapper_asking_an_ask_in_csv_or_tsv_is_refused(embedded_server, return_format):
    """CSV and TSV define no boolean answer: SPARQLWrapper's format parameter for them is 406, not a bare true."""
    client = wrapper(embedded_server)
    client.setQuery(QUERIES_BY_FORM["ASK"].format())
    client.setReturnFormat(return_format)
    with pytest.raises(HTTPError) as refused:
        client.query()
    assert refused.value.code == 406 and "application/sparql-results+json" in refused.value.read().decode()


def test_jena_asks_selects_and_constructs(embedded_server, jena, tmp_path):  # noqa: F811
    """Jena's rsparql with its own Accept headers: the rows, the boolean and the graph, as Jena reads them."""
    answers = {}
    for form, query in QUERIES_BY_FORM.items():
        (tmp_path / f"{form}.rq").write_text(query.format(base=embedded_server))
        answers[form] = jena("arq.rsparql", "--service", embedded_server + "sparql", "--query",
                             str(tmp_path / f"{form}.rq"), "--results", "TSV" if form == "SELECT" else "N-Triples"
                             if form in ("CONSTRUCT", "DESCRIBE") else "TEXT").stdout
    assert len(answers["SELECT"].strip().splitlines()) == 1 + 3
    assert answers["ASK"].strip() == "Ask => Yes"
    own = parse_document(requests.get(embedded_server + "doc/id/region/bursa.nt", timeout=30).content, "nt")
    constructed = Graph().parse(data=answers["CONSTRUCT"], format="nt")
    assert set(constructed) == set(own.triples((URIRef(embedded_server + "id/region/bursa"), None, None)))
    assert len(Graph().parse(data=answers["DESCRIBE"], format="nt")) >= len(constructed)


def test_without_a_query_the_service_description_is_served(server):
    response = requests.get(server + "sparql", headers={"Accept": "text/turtle"}, timeout=30)
    assert response.status_code == 200
    graph = Graph().parse(data=response.content, format="turtle")
    sd = "http://www.w3.org/ns/sparql-service-description#"
    endpoint = f"{server}sparql"
    ask = f"""ASK {{ <{endpoint}> a <{sd}Service> ; <{sd}endpoint> <{endpoint}> ;
                     <{sd}supportedLanguage> <{sd}SPARQL11Query> ; <{sd}feature> <{sd}UnionDefaultGraph> ;
                     <{sd}defaultDataset>/<{sd}namedGraph>/<{sd}name> <{server}graph/data> }}"""
    assert graph.query(ask).askAnswer
    html = requests.get(server + "sparql", headers={"Accept": "text/html"}, timeout=30)
    assert html.headers["Content-Type"].startswith("text/html") and "yasgui" in html.text


def test_the_default_graph_is_the_union_and_graphs_can_be_selected(server):
    def count(query, **params):
        response = requests.get(server + "sparql", params={"query": query, **params},
                                headers={"Accept": "application/sparql-results+json"}, timeout=30)
        assert response.status_code == 200, response.text
        return int(response.json()["results"]["bindings"][0]["n"]["value"])

    everything = count("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    per_graph = count("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
    vocabularies = count(f"SELECT (COUNT(*) AS ?n) FROM <{server}graph/vocabularies> WHERE {{ ?s ?p ?o }}")
    assert 0 < vocabularies < everything <= per_graph
    assert count("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", **{"default-graph-uri": f"{server}graph/vocabularies"}) \
        == vocabularies


# --- safety -------------------------------------------------------------------------------------


class _Canary(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def _answer(self):
        _Canary.hits.append(f"{self.command} {self.path}")
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b'{"head": {"vars": []}, "results": {"bindings": []}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def canary():
    """An HTTP server on loopback that records every request it gets: it must get none."""
    canary = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Canary)
    threading.Thread(target=canary.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{canary.server_address[1]}/"
    canary.shutdown()


def hostile_requests(canary: str) -> list[tuple[str, dict]]:
    return [
        ("SERVICE", {"query": f"SELECT * WHERE {{ SERVICE <{canary}sparql> {{ ?s ?p ?o }} }}"}),
        ("SERVICE SILENT", {"query": f"SELECT * WHERE {{ SERVICE SILENT <{canary}sparql> {{ ?s ?p ?o }} }}"}),
        ("SERVICE by prefixed name", {"query": f"PREFIX c: <{canary}> SELECT * WHERE {{ SERVICE c:sparql {{ ?s ?p ?o }} }}"}),
        ("SERVICE lowercase", {"query": f"select * where {{ service <{canary}sparql> {{ ?s ?p ?o }} }}"}),
        ("SERVICE ?variable", {"query": f"SELECT * WHERE {{ BIND (<{canary}sparql> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}"}),
        ("FROM", {"query": f"SELECT * FROM <{canary}data.ttl> WHERE {{ ?s ?p ?o }}"}),
        ("FROM NAMED", {"query": f"SELECT * FROM NAMED <{canary}data.ttl> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"}),
        ("FROM file", {"query": "SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }"}),
        ("default-graph-uri", {"query": "SELECT * WHERE { ?s ?p ?o }", "default-graph-uri": canary + "data.ttl"}),
        ("named-graph-uri", {"query": "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }", "named-graph-uri": canary + "g.ttl"}),
        ("LOAD as query", {"query": f"LOAD <{canary}data.ttl>"}),
        ("LOAD as update", {"update": f"LOAD <{canary}data.ttl>"}),
        ("INSERT as query", {"query": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}),
        ("INSERT as update", {"update": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}),
        ("query and update", {"query": "SELECT * WHERE { ?s ?p ?o }", "update": "CLEAR ALL"}),
        ("two queries", {"query": ["ASK {}", "ASK {}"]}),
    ]


@pytest.mark.parametrize("name", [name for name, _ in hostile_requests("x")])
def test_hostile_requests_are_refused_and_reach_nobody(server, canary, name):
    params = dict(hostile_requests(canary))[name]
    before = requests.get(server + "sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
                          headers={"Accept": "application/sparql-results+json"}, timeout=30).json()
    _Canary.hits.clear()
    for method in ("GET", "POST"):
        if method == "GET":
            response = requests.get(server + "sparql", params=params, timeout=30)
        else:
            response = requests.post(server + "sparql", data=params, timeout=30)
        assert 400 <= response.status_code < 500, (method, response.status_code, response.text)
        assert response.headers["Content-Type"].startswith("text/plain")
        assert "Traceback" not in response.text
    time.sleep(0.2)
    assert _Canary.hits == []
    after = requests.get(server + "sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
                         headers={"Accept": "application/sparql-results+json"}, timeout=30).json()
    assert before == after


def test_a_sparql_update_post_is_415_and_changes_nothing(server):
    response = requests.post(server + "sparql", data="INSERT DATA { <urn:a> <urn:b> <urn:c> }",
                             headers={"Content-Type": "application/sparql-update"}, timeout=30)
    assert response.status_code == 415
    ask = requests.get(server + "sparql", params={"query": "ASK { <urn:a> <urn:b> <urn:c> }", "format": "json"},
                       timeout=30)
    assert ask.json()["boolean"] is False


@pytest.mark.parametrize("raw, body, content_type", [
    ("query=SELECT%20%FF%20WHERE%20%7B%7D", None, None),                      # not UTF-8
    ("query=SELECT%20*%20WHERE%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D%00", None, None),  # NUL
    (None, "ASK { ?s ?p ?o }".encode("utf-16"), "application/sparql-query"),   # UTF-16 body
    (None, b"ASK { ?s ?p \xc3\x28 }", "application/sparql-query"),              # broken UTF-8 body
    (None, b"query=ASK%20%7B%7D%FE", "application/x-www-form-urlencoded"),      # broken form body
])
def test_malformed_bytes_are_400(server, raw, body, content_type):
    if raw is not None:
        response = requests.get(f"{server}sparql?{raw}", timeout=30)
    else:
        response = requests.post(server + "sparql", data=body, headers={"Content-Type": content_type}, timeout=30)
    assert response.status_code == 400, response.text


def test_post_without_or_with_a_wrong_content_type_is_415(server):
    for headers in ({"Content-Type": "text/plain"}, {"Content-Type": "application/json"}, {}):
        response = requests.post(server + "sparql", data=b"ASK {}", headers=headers, timeout=30)
        assert response.status_code == 415


@pytest.fixture(scope="module")
@tiered("served")
def strict_server(project_release, tmp_path_factory):
    """A server with tight limits, so that the bounds show quickly."""
    with running_server(project_release.path.parent.parent, tmp_path_factory.mktemp("strict"),
                        sparql_timeout="3", sparql_slots="2", sparql_max_rows="50", sparql_max_query_bytes="3000",
                        sparql_max_nesting="12", sparql_max_memory_mb="40") as base:
        yield base


@pytest.mark.served
def test_a_runaway_query_is_stopped_while_others_are_answered_within_a_second(strict_server):
    def runaway():
        started = time.monotonic()
        response = requests.get(strict_server + "sparql", params={"query": RUNAWAY}, timeout=60)
        return response, time.monotonic() - started

    with ThreadPoolExecutor(max_workers=1) as pool:
        slow = pool.submit(runaway)
        time.sleep(0.5)
        for _ in range(5):
            started = time.monotonic()
            quick = requests.get(strict_server + "sparql", params={"query": "ASK { ?s ?p ?o }", "format": "json"},
                                 timeout=30)
            assert quick.status_code == 200 and time.monotonic() - started < 1.0
            page = requests.get(strict_server + "doc/id/region/bursa", timeout=30)
            assert page.status_code == 200
        response, took = slow.result()
    assert response.status_code == 503 and "stopped" in response.text
    assert 2.5 < took < 8
    health = requests.get(strict_server + "health", timeout=30)
    assert health.status_code == 200


@pytest.mark.served
def test_answers_are_cut_at_the_row_limit_and_say_so(strict_server):
    response = requests.get(strict_server + "sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"},
                            headers={"Accept": "application/sparql-results+json"}, timeout=30)
    assert response.status_code == 200
    assert len(response.json()["results"]["bindings"]) == 50
    assert response.headers["X-SPARQL-Truncated"] == "true" and response.headers["X-SPARQL-Max-Rows"] == "50"
    graph = requests.get(strict_server + "sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"},
                         headers={"Accept": "application/n-triples"}, timeout=30)
    assert len(graph.text.strip().splitlines()) == 50 and graph.headers["X-SPARQL-Truncated"] == "true"
    small = requests.get(strict_server + "sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 5"},
                         headers={"Accept": "application/sparql-results+json"}, timeout=30)
    assert "X-SPARQL-Truncated" not in small.headers


@pytest.mark.parametrize("media_type", ["application/sparql-results+json", "application/sparql-results+xml",
                                        "text/csv", "text/tab-separated-values"])
@pytest.mark.served
def test_the_row_limit_cuts_only_what_is_beyond_it_in_every_format(strict_server, media_type):
    import pyoxigraph as ox

    results_format = {"application/sparql-results+json": ox.QueryResultsFormat.JSON,
                      "application/sparql-results+xml": ox.QueryResultsFormat.XML,
                      "text/tab-separated-values": ox.QueryResultsFormat.TSV}
    for rows, cut in ((50, False), (51, True)):
        values = " ".join(f'"row\\n{number}"' for number in range(rows))
        response = requests.get(strict_server + "sparql", params={"query": f"SELECT ?v WHERE {{ VALUES ?v {{ {values} }} }}"},
                                headers={"Accept": media_type}, timeout=30)
        assert response.status_code == 200
        answered = ([row["v"] for row in csv.DictReader(io.StringIO(response.text))] if media_type == "text/csv" else
                    [row[0].value for row in ox.parse_query_results(response.content, results_format[media_type])])
        assert answered == [f"row\n{number}" for number in range(50)]
        assert ("X-SPARQL-Truncated" in response.headers) is cut


@pytest.mark.served
def test_a_query_too_long_or_too_deep_is_refused(strict_server):
    long_query = "SELECT * WHERE { ?s ?p ?o } #" + "x" * 4000
    assert requests.post(strict_server + "sparql", data={"query": long_query}, timeout=30).status_code == 413
    deep = "SELECT * WHERE " + "{ " * 20 + "?s ?p ?o" + " }" * 20
    response = requests.get(strict_server + "sparql", params={"query": deep}, timeout=30)
    assert response.status_code == 400 and "nests" in response.text
    shallow = "SELECT * WHERE " + "{ " * 5 + "?s ?p ?o" + " }" * 5 + " LIMIT 1"
    assert requests.get(strict_server + "sparql", params={"query": shallow, "format": "json"},
                        timeout=30).status_code == 200


@pytest.mark.served
def test_a_query_that_needs_too_much_memory_is_stopped(strict_server):
    # Each row adds a few hundred bytes to one string, so memory, not time, runs out first, even
    # on a loaded machine: the 40 MB run out in well under a second, the time limit is 3 s.
    row = "STR(?a), STR(?b), STR(?c), STR(?d), STR(?e), STR(?f), STR(?c), STR(?f)"
    greedy = ("SELECT (STRLEN(GROUP_CONCAT(?x)) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f "
              f"BIND (CONCAT({row}, {row}, {row}, {row}) AS ?x) }}")
    response = requests.get(strict_server + "sparql", params={"query": greedy}, timeout=60)
    assert response.status_code == 503 and "MB" in response.text
    assert requests.get(strict_server + "sparql", params={"query": "ASK {}", "format": "json"},
                        timeout=30).status_code == 200


@pytest.mark.served
def test_service_reaches_an_allow_listed_endpoint_and_only_that(project_release, tmp_path, canary):
    with running_server(project_release.path.parent.parent, tmp_path,
                        sparql_service_allowlist=canary + "sparql") as allowing:
        _Canary.hits.clear()
        allowed = requests.get(allowing + "sparql", params={
            "query": f"SELECT * WHERE {{ SERVICE <{canary}sparql> {{ ?s ?p ?o }} }}", "format": "json"}, timeout=30)
        assert allowed.status_code == 200 and len(_Canary.hits) == 1
        other = requests.get(allowing + "sparql", params={
            "query": f"SELECT * WHERE {{ SERVICE <{canary}other> {{ ?s ?p ?o }} }}"}, timeout=30)
        assert other.status_code == 400 and len(_Canary.hits) == 1


# --- Comunica, a JavaScript client (installed into tests/clients by .ci/run) ----------------------

COMUNICA = CHECKOUT / "tests" / "clients" / "node_modules" / ".bin" / "comunica-sparql"


def comunica(server: str, query: str, *options: str) -> str:
    entering("clients", "Comunica")
    require(COMUNICA.exists(), "node and Comunica: npm ci --prefix tests/clients (.ci/run does)")
    result = subprocess.run([str(COMUNICA), f"sparql@{server}sparql", *options, query],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.clients
def test_comunica_selects_asks_and_constructs(server):
    rows = json.loads(comunica(server, STATUSES_QUERY.format(base=server), "-t", "application/sparql-results+json"))
    concepts = {binding["concept"]["value"] for binding in rows["results"]["bindings"]}
    assert concepts == {f"{server}vocabulary/statuses/{name}" for name in STATUS_NAMES}
    assert comunica(server, "ASK { ?s a <http://www.w3.org/2002/07/owl#Ontology> }").strip() == "true"
    turtle = comunica(server, f"CONSTRUCT WHERE {{ <{server}id/region/bursa> ?p ?o }}", "-t", "text/turtle")
    graph = Graph().parse(data=turtle, format="turtle")
    described = Graph().parse(data=requests.get(server + "doc/id/region/bursa.ttl", timeout=30).content,
                              format="turtle")
    own = Graph()
    for triple in described.triples((URIRef(server + "id/region/bursa"), None, None)):
        own.add(triple)
    assert isomorphic(graph, own)


@pytest.mark.served
def test_a_query_that_cannot_run_is_told_why_even_when_every_slot_is_taken(project_release, tmp_path):
    """Told "busy", a client would only send its broken query again; a good query is still told to wait."""
    with running_server(project_release.path.parent.parent, tmp_path, sparql_slots="0") as server:
        broken = requests.get(server + "sparql", params={"query": "SELEC * WHERE { ?s ?p ?o }"}, timeout=30)
        assert broken.status_code == 400
        assert "not valid SPARQL 1.1" in broken.text and "1:" in broken.text
        good = requests.get(server + "sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1"}, timeout=30)
        assert good.status_code == 503 and good.headers["Retry-After"]


def test_checking_a_query_s_syntax_calls_no_service(canary):
    """The endpoint checks a query's syntax when it cannot run it (no slot free). Oxigraph's parser
    starts the query it parses, so a query with a SERVICE is left unchecked: its endpoint is not called."""
    before = list(_Canary.hits)
    for form in ("SELECT *", "CONSTRUCT { ?s ?p ?o }", "DESCRIBE ?s", "ASK"):
        assert syntax_error(f"{form} WHERE {{ SERVICE <{canary}sparql> {{ ?s ?p ?o }} }}") is None
    assert syntax_error("SELECT * WHERE { ?s ?p ?o }") is None and syntax_error("SELEC *") is not None
    assert _Canary.hits == before
