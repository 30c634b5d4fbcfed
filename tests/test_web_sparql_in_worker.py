"""Queries bounded by their form (one triple pattern with a constant) answered by the worker itself:
byte for byte and header for header what a query runner's answer is, in every format, and without a
slot. The two apps serve the same release; one sends every query to a runner (sparql_in_worker_rows=0)."""

import dataclasses
import gzip
from urllib.parse import urlencode

import pytest
from werkzeug.test import Client

from lodpub import create_app
from lodpub.store.query_text import read_query
from lodpub.web.sparql_answers import SparqlAnswers

SKOS = "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\nPREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
# Headers that differ between any two answers (the time, a request's own identifier).
PER_REQUEST = {"Date", "X-Request-ID"}

RESULTS_ACCEPTS = ["", "*/*", "application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                   "text/tab-separated-values", "application/json;q=0.5, text/csv", "text/turtle",
                   "text/html;q=0.9, application/sparql-results+xml;q=0.8", "image/png"]
GRAPH_ACCEPTS = ["", "*/*", "text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml",
                 "application/sparql-results+json", "image/png"]


def _queries(base: str) -> dict[str, str]:
    statuses = f"<{base}vocabulary/statuses>"
    return {
        "lookup": f"SELECT ?p ?o WHERE {{ {statuses} ?p ?o }}",
        "star": f"SELECT * {{ ?concept skos:inScheme {statuses} . }}",
        "unbound-projection": f"SELECT ?concept ?nothing WHERE {{ ?concept skos:inScheme {statuses} }}",
        "literal": 'SELECT ?s WHERE { ?s skos:prefLabel "active"@en }',
        "limit": "SELECT ?c WHERE { ?c a skos:Concept } LIMIT 3",
        "nothing": "SELECT ?p WHERE { <http://example.org/nothing> ?p ?o }",
        "ask-true": f"ASK {{ {statuses} a skos:ConceptScheme }}",
        "ask-false": f"ASK WHERE {{ {statuses} a skos:Concept }}",
        "describe": f"DESCRIBE {statuses}",
        "construct": f"CONSTRUCT {{ {statuses} ?p ?o }} WHERE {{ {statuses} ?p ?o }}",
        "construct-where": f"CONSTRUCT WHERE {{ ?c skos:inScheme {statuses} }}",
        "many-rows": "SELECT ?s ?label WHERE { ?s rdfs:label ?label }",
        "bad-limit": "SELECT ?c WHERE { ?c a skos:Concept } LIMIT 1 0",
    }


def _app(project_release, project_settings, **changes):
    return create_app(dataclasses.replace(project_settings, output_dir=project_release.path.parent.parent,
                                          public_base=project_settings.base_iri, **changes))


@pytest.fixture(scope="module", params=[{}, {"sparql_max_rows": 2}, {"sparql_in_worker_rows": 4}])
def both(request, project_release, project_settings):
    """(in the worker, in a runner) test clients on the same release, with the same limits."""
    worker_rows = request.param.get("sparql_in_worker_rows", 1000)
    limits = {name: value for name, value in request.param.items() if name != "sparql_in_worker_rows"}
    in_worker = _app(project_release, project_settings, sparql_in_worker_rows=worker_rows, **limits)
    in_runner = _app(project_release, project_settings, sparql_in_worker_rows=0, **limits)
    return in_worker.test_client(), in_runner.test_client()


def _answer(client, method: str, query: str, accept: str, extra: dict[str, str]):
    headers = {"Accept": accept, "Accept-Encoding": "gzip"} if accept else {"Accept-Encoding": "gzip"}
    if method == "GET":
        return client.get("/sparql?" + urlencode({"query": query, **extra}), headers=headers)
    if method == "POST form":
        return client.post("/sparql", data={"query": query, **extra}, headers=headers)
    return client.post("/sparql?" + urlencode(extra), data=query.encode(), headers=headers,
                       content_type="application/sparql-query")


def _same(first, second) -> None:
    assert first.status_code == second.status_code
    assert first.get_data() == second.get_data()
    assert [name for name, _ in first.headers.items()] == [name for name, _ in second.headers.items()]
    assert ([(name, value) for name, value in first.headers.items() if name not in PER_REQUEST]
            == [(name, value) for name, value in second.headers.items() if name not in PER_REQUEST])


def test_every_query_of_the_forms_is_read_as_bounded(project_settings):
    for name, query in _queries(project_settings.base_iri).items():
        assert read_query(SKOS + query).bounded, name


@pytest.mark.parametrize("method", ["GET", "POST form", "POST query"])
def test_the_worker_answers_what_a_runner_answers_in_every_format(both, project_settings, method):
    in_worker, in_runner = both
    for name, query in _queries(project_settings.base_iri).items():
        graph = query.startswith(("DESCRIBE", "CONSTRUCT"))
        for accept in GRAPH_ACCEPTS if graph else RESULTS_ACCEPTS:
            worker = _answer(in_worker, method, SKOS + query, accept, {})
            _same(worker, _answer(in_runner, method, SKOS + query, accept, {}))
            assert worker.status_code in (200, 400, 406), (name, accept)
    for extra in ({"format": "json"}, {"output": "csv"}, {"results": "xml"}, {"format": "text/turtle"}):
        _same(_answer(in_worker, method, SKOS + _queries(project_settings.base_iri)["lookup"], "", extra),
              _answer(in_runner, method, SKOS + _queries(project_settings.base_iri)["lookup"], "", extra))


def test_rows_are_cut_at_the_row_limit_as_in_a_runner(project_release, project_settings):
    in_worker = _app(project_release, project_settings, sparql_max_rows=2).test_client()
    answer = _answer(in_worker, "GET", SKOS + _queries(project_settings.base_iri)["many-rows"],
                     "text/tab-separated-values", {})
    body = gzip.decompress(answer.get_data()) if answer.headers.get("Content-Encoding") else answer.get_data()
    assert answer.headers["X-SPARQL-Truncated"] == "true"
    assert len(body.decode().splitlines()) == 3  # the header and two rows


def test_a_bounded_query_needs_no_slot_and_any_other_does(project_release, project_settings):
    """With no slot and no place in the queue, a bounded query is still answered; another is told busy."""
    client = _app(project_release, project_settings, sparql_slots=0, sparql_express_slots=0,
                  sparql_queue_length=0).test_client()
    lookup = _queries(project_settings.base_iri)["lookup"]
    assert _answer(client, "GET", SKOS + lookup, "application/sparql-results+json", {}).status_code == 200
    two_patterns = lookup.replace("?p ?o }", "?p ?o . ?o ?q ?r }")
    assert not read_query(SKOS + two_patterns).bounded
    busy = _answer(client, "GET", SKOS + two_patterns, "application/sparql-results+json", {})
    assert busy.status_code == 503 and "Retry-After" in busy.headers


def test_bounded_queries_by_get_and_form_never_reach_flask_and_others_do(project_release, project_settings):
    def flask_not_there(environ, start_response):
        start_response("599 Flask asked", [("Content-Type", "text/plain")])
        return [b""]

    publisher = _app(project_release, project_settings).extensions["lodpub"]
    before_flask = Client(SparqlAnswers(flask_not_there, lambda: publisher))
    queries = _queries(project_settings.base_iri)
    for name in ("lookup", "star", "literal", "limit", "ask-true", "describe", "construct", "construct-where"):
        for method in ("GET", "POST form"):
            assert _answer(before_flask, method, SKOS + queries[name], "", {}).status_code == 200, (name, method)
    lookup = SKOS + queries["lookup"]
    for method, accept, extra in (("POST query", "", {}), ("GET", "text/html", {}), ("GET", "image/png", {}),
                                  ("GET", "", {"default-graph-uri": project_settings.base_iri}),
                                  ("GET", "", {"lang": "cs"})):
        assert _answer(before_flask, method, lookup, accept, extra).status_code == 599, (method, accept, extra)
    for name in ("many-rows", "bad-limit"):  # longer than the worker gives; refused by the engine
        assert _answer(before_flask, "GET", SKOS + queries[name], "", {}).status_code == 599, name
    assert _answer(before_flask, "GET", SKOS + queries["lookup"].replace("?p ?o }", "?p ?o FILTER(true) }"), "",
                   {}).status_code == 599
    twice = before_flask.get("/sparql?" + urlencode([("query", lookup), ("query", lookup)]))
    assert twice.status_code == 599
    conditional = before_flask.get("/sparql?" + urlencode({"query": lookup}), headers={"If-None-Match": '"x"'})
    assert conditional.status_code == 599


def test_a_form_not_answered_before_flask_reaches_it_whole(project_release, project_settings):
    client = _app(project_release, project_settings).test_client()
    query = SKOS + _queries(project_settings.base_iri)["many-rows"]
    answer = client.post("/sparql", data={"query": query}, headers={"Accept": "text/tab-separated-values"})
    assert answer.status_code == 200 and answer.get_data().count(b"\n") > 1000


def test_the_endpoint_takes_the_middlewares_reading_of_the_same_query_only(project_release, project_settings):
    """The query read for safety by the middleware is handed to the endpoint in the environ and taken
    only for the same text and base: any other text is read anew, so nothing unread runs."""
    from lodpub.web.sparql_request import READ_QUERY, Refusal, read_within_limits

    seen = []

    def flask_here(environ, start_response):
        seen.append(environ.get(READ_QUERY))
        start_response("599 Flask asked", [("Content-Type", "text/plain")])
        return [b""]

    publisher = _app(project_release, project_settings).extensions["lodpub"]
    before_flask = Client(SparqlAnswers(flask_here, lambda: publisher))
    base = publisher.store.base_iri
    query = SKOS + _queries(base)["lookup"].replace("?p ?o }", "?p ?o . ?o ?q ?r }")  # for a runner
    assert _answer(before_flask, "GET", query, "", {}).status_code == 599
    ((read_base, shape),) = seen
    assert (read_base, shape) == (base, read_query(query, base + "sparql"))
    environ = {READ_QUERY: (base, shape)}
    settings = project_settings
    assert read_within_limits(query, base, settings, environ) is shape
    update = "DELETE WHERE { ?s ?p ?o }"
    with pytest.raises(Refusal):  # another text: read anew, and refused
        read_within_limits(update, base, settings, environ)
    assert read_within_limits(query, "https://other.example/", settings, environ) is not shape
