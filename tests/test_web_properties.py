"""Property-based tests of the HTTP surface: whatever a client sends, the server answers.

Hypothesis generates Accept headers, query strings, paths and request bodies (valid, odd, huge and
broken ones) and sends them to the real server on loopback. For every request the properties are:

- it is answered, within ANSWER_BOUND seconds (see there why that bound);
- never with a 500 (nor 501, 502, 504); a 503 only from /sparql, where it means a query was stopped;
- always well-formed: a status line, a Content-Type, and a body that parses as what Content-Type
  says (RDF by rdflib, JSON, SPARQL results, XML, HTML, UTF-8 text), with no Python traceback.

Requests go out through http.client, not requests: urllib3 repairs a broken percent-encoding
(`%zz` becomes `%25zz`) before sending, and broken percent-encoding is one of the things tried here.
Runs are deterministic (derandomize, no example database), so CI sees the same examples each time.
"""

import csv
import gzip
import http.client
import io
import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit
from xml.etree import ElementTree

import pytest
from conftest import running_server
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from rdf_documents import parse_document
from rdflib import Dataset
from tiers import tiered

# The server under test stops a SPARQL query after this many seconds (LODPUB_SPARQL_TIMEOUT).
SPARQL_TIMEOUT = 2
# Every request must be answered within this. Only a SPARQL query may run long, and the endpoint
# kills it at SPARQL_TIMEOUT; the rest is forking the query's process, writing an answer of at most
# LODPUB_SPARQL_MAX_ROWS rows (about a second for the largest; any other answer takes milliseconds)
# and sharing two cores with the rest of a parallel test run. (gunicorn would kill a worker only
# after 60 s: a hang shows here long before.)
ANSWER_BOUND = SPARQL_TIMEOUT + 8
TRACEBACK_SIGNS = (b"Traceback (most recent call last)", b'File "/', b"site-packages")

# Hypothesis writes the patches of failing examples under its home: keep them out of the checkout.
set_hypothesis_home_dir(str(Path(tempfile.gettempdir()) / "lodpub-hypothesis"))
PROPERTY = settings(deadline=None, derandomize=True, database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
@tiered("served")
def server(project_release, tmp_path_factory):
    """The publisher on loopback, with a short SPARQL timeout so that the time bound is tight."""
    with running_server(project_release.path.parent.parent, tmp_path_factory.mktemp("server-properties"),
                        sparql_timeout=str(SPARQL_TIMEOUT)) as base:
        yield base


# --- sending a request and judging the answer ----------------------------------------------------


@dataclass
class Answer:
    """What the server answered to one request."""

    method: str
    target: str
    status: int
    content_type: str
    body: bytes
    seconds: float
    location: str = ""


def send(base: str, method: str, target: str, headers: dict[str, str] | None = None,
         body: bytes | None = None) -> Answer:
    """Send one request, exactly as given (`target` is the raw request target), and read the answer."""
    address = urlsplit(base)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=ANSWER_BOUND)
    started = time.monotonic()
    try:
        connection.request(method, target, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
    finally:
        connection.close()
    return Answer(method, target, response.status, response.getheader("Content-Type", ""), data,
                  time.monotonic() - started, response.getheader("Location", ""))


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append(tag)


def parse_html(body: bytes) -> None:
    """An HTML page: UTF-8, with an html element and a title."""
    page = _Html()
    page.feed(body.decode("utf-8"))
    page.close()
    assert "html" in page.tags and "title" in page.tags, "an HTML page without <html> or <title>"


def parse_text(body: bytes) -> None:
    """Text for people: UTF-8, and not empty."""
    assert body.decode("utf-8").strip(), "an empty text body"


def parse_dataset(rdflib_format: str) -> Callable[[bytes], None]:
    return lambda body: Dataset().parse(data=body, format=rdflib_format)


def parse_graph(rdflib_format: str) -> Callable[[bytes], None]:
    return lambda body: parse_document(body, rdflib_format)


def parse_sparql_json(body: bytes) -> None:
    """SPARQL results in JSON: a head, and results or a boolean."""
    results = json.loads(body)
    assert "head" in results and ("results" in results or "boolean" in results)


# How to read each media type the server may answer with.
PARSERS: dict[str, Callable[[bytes], object]] = {
    "text/html": parse_html,
    "text/plain": parse_text,
    "text/turtle": parse_graph("turtle"),
    "application/n-triples": parse_graph("nt"),
    "application/rdf+xml": parse_graph("xml"),
    "application/ld+json": parse_graph("json-ld"),
    "application/n-quads": parse_dataset("nquads"),
    "application/trig": parse_dataset("trig"),
    "application/json": json.loads,
    "application/sparql-results+json": parse_sparql_json,
    "application/sparql-results+xml": ElementTree.fromstring,
    "application/xml": ElementTree.fromstring,
    "image/svg+xml": ElementTree.fromstring,
    "text/csv": lambda body: list(csv.reader(io.StringIO(body.decode("utf-8")))),
    "text/tab-separated-values": lambda body: body.decode("utf-8"),
    "text/css": lambda body: body.decode("utf-8"),
    "text/javascript": lambda body: body.decode("utf-8"),
    "application/javascript": lambda body: body.decode("utf-8"),
    "application/gzip": gzip.decompress,
}


def assert_well_formed(answer: Answer) -> None:
    """The properties every answer has (see the module's docstring)."""
    where = f"{answer.method} {answer.target[:300]!r} -> {answer.status} {answer.content_type!r}"
    assert answer.seconds < ANSWER_BOUND, f"{where}: answered in {answer.seconds:.1f} s"
    assert 100 <= answer.status < 600, where
    assert answer.status < 500 or (answer.status == 503 and answer.target.startswith("/sparql")), \
        f"{where}: {answer.body[:500]!r}"
    assert not any(sign in answer.body for sign in TRACEBACK_SIGNS), f"{where}: {answer.body[:2000]!r}"
    if answer.status in (204, 304):
        return
    media_type = answer.content_type.split(";")[0].strip().lower()
    assert media_type, f"{where}: no Content-Type"
    if answer.method == "HEAD" or (answer.method == "OPTIONS" and not answer.body):
        return
    assert media_type in PARSERS, f"{where}: a media type nobody here can read"
    try:
        PARSERS[media_type](answer.body)
    except Exception as error:
        raise AssertionError(f"{where}: the body is not {media_type}: {error}\n{answer.body[:500]!r}") from error


REDIRECTS = (301, 302, 303, 307, 308)


def exchange(base: str, method: str, target: str, headers: dict[str, str] | None = None,
             body: bytes | None = None) -> None:
    """Send a request inside a property and judge the answer, and (with the same headers) the one
    it redirects to, if any: a thing's IRI answers 303, and its document is what was asked for.
    The statistics count the statuses seen (pytest --hypothesis-show-statistics)."""
    answer = send(base, method, target, headers, body)
    event(f"{answer.status} {answer.content_type.split(';')[0]}")
    assert_well_formed(answer)
    location = answer.location
    if answer.status in REDIRECTS and method in ("GET", "HEAD") and location.startswith(base):
        exchange(base, method, "/" + location[len(base):], headers)


# --- what clients send ----------------------------------------------------------------------------

# Paths of the server that answer 200, one of each kind.
OUR_PATHS = ["/", "/doc/id/region/bursa", "/id/region/bursa", "/doc/id/event/valle-d-aosta-council-decision.html",
             "/ontology", "/ontology/", "/ontology/Agreement", "/vocabulary/statuses/active", "/graph/data",
             "/id/dataset/partnerships", "/doc/id/catalog/lkod", "/sparql", "/dumps/", "/dumps/SHA256SUMS",
             "/.well-known/void", "/context.jsonld", "/sitemap.xml", "/robots.txt", "/health", "/favicon.ico",
             "/static/style.css"]
MEDIA_TYPES = ["text/html", "text/turtle", "application/ld+json", "application/rdf+xml", "application/n-triples",
               "application/json", "application/xml", "text/xml", "text/plain", "application/x-turtle",
               "application/sparql-results+json", "application/sparql-results+xml", "text/csv",
               "text/tab-separated-values", "image/png", "application/xhtml+xml", "text/*", "application/*",
               "*/*", "*", "", "text", "/", "*/html", "text/html/x"]
FORMAT_NAMES = ["ttl", "turtle", "html", "jsonld", "json-ld", "json", "rdf", "xml", "nt", "n3", "csv", "tsv",
                "text/turtle", "application/ld+json", "rdf+xml", "TTL", " ttl ", "unknown", ""]
LANGUAGES = ["cs", "en", "de", "CS", "en-GB", "", "xx-yy-zz"]
# Bytes that break percent-encoding, or decode to what is not UTF-8 or to control characters.
BAD_ESCAPES = ["%", "%2", "%zz", "%g0", "%ff", "%fe%ff", "%c3%28", "%00", "%0a", "%e2%82", "%%", "%25"]
SUFFIXES = ["", ".ttl", ".html", ".jsonld", ".rdf", ".nt", ".xyz", ".", ".ttl.ttl"]
# Characters a header value may hold as http.client sends it (Latin-1, no CR or LF).
HEADER_CHARACTERS = st.characters(min_codepoint=0, max_codepoint=255, blacklist_characters="\r\n")
PRINTABLE = st.characters(min_codepoint=32, max_codepoint=126)


def percent_encoded(text: str) -> str:
    """`text` as it travels in a URL: UTF-8, percent-encoded."""
    return quote(text, safe="")


q_values = st.one_of(st.none(), st.floats(0, 1).map(lambda q: f"{q:.3f}"),
                     st.sampled_from([".2", "1.0", "0", "1", "abc", "-1", "2", "", "0.0001", "1e3"]))
media_ranges = st.builds(
    lambda media_type, q, extra: media_type + (f";q={q}" if q is not None else "") + extra,
    st.one_of(st.sampled_from(MEDIA_TYPES), st.from_regex(r"\A[a-z*+.-]{1,12}/[a-z*+.-]{1,16}\Z")),
    q_values,
    st.sampled_from(["", ";charset=utf-8", ";level=1", "; q=0.5", ";profile=\"x\"", ";;", ";="]),
)
lists_of_ranges = st.lists(media_ranges, max_size=8).map(", ".join)
accept_headers = st.one_of(
    lists_of_ranges, lists_of_ranges,  # twice: as likely as the other two together
    st.text(HEADER_CHARACTERS, max_size=120),  # garbage
    # huge: up to about 16 kB, twice what gunicorn takes in a header (it answers 431 beyond 8 kB)
    st.lists(media_ranges, min_size=1, max_size=3).map(",".join).flatmap(
        lambda ranges: st.integers(20, 8000 // max(len(ranges), 1)).map(lambda n: ", ".join([ranges] * n))),
)

parameter_names = st.one_of(st.sampled_from(["format", "output", "results", "lang", "query", "default-graph-uri",
                                             "named-graph-uri", "callback", "format[]"]),
                            st.text(PRINTABLE, max_size=8).map(percent_encoded))
parameter_values = st.one_of(
    st.sampled_from(FORMAT_NAMES + LANGUAGES).map(percent_encoded),
    st.sampled_from(["ASK {}", "SELECT * WHERE { ?s ?p ?o } LIMIT 1", "DESCRIBE <id/region/bursa>",
                     "not sparql", "https://data.kraj-lbc.cz/partnerships/graph/data"]).map(percent_encoded),
    st.text(max_size=30).map(percent_encoded),
    st.sampled_from(BAD_ESCAPES),
)
query_strings = st.lists(
    st.tuples(parameter_names, st.one_of(st.none(), parameter_values)).map(
        lambda pair: pair[0] if pair[1] is None else f"{pair[0]}={pair[1]}"),
    max_size=6,
).map("&".join)

path_segments = st.one_of(
    st.sampled_from(["id", "doc", "region", "bursa", "ontology", "Agreement", "vocabulary", "statuses", "graph",
                     "data", "dumps", "static", "sparql", ".well-known", "void", "..", ".", "%2e%2e", "%2E",
                     "%2F", "a%2Fb", "", "~", ";x=1"]),
    st.text(min_size=1, max_size=12).map(percent_encoded),  # unicode, controls, reserved characters
    st.sampled_from(BAD_ESCAPES),
    st.integers(200, 6000).map(lambda n: "a" * n),  # very long
)
paths = st.one_of(
    st.sampled_from(OUR_PATHS),
    st.builds(lambda segments, suffix: "/" + "/".join(segments) + suffix,
              st.lists(path_segments, min_size=1, max_size=6), st.sampled_from(SUFFIXES)),
    st.builds(lambda path, segments: path.rstrip("/") + "/" + "/".join(segments),
              st.sampled_from(OUR_PATHS), st.lists(path_segments, min_size=1, max_size=2)),
)


# --- the properties -------------------------------------------------------------------------------


@settings(PROPERTY, max_examples=30)
@given(path=st.sampled_from(OUR_PATHS), accept=accept_headers, user_agent=st.sampled_from(["", "nkod/0.0.1"]))
@pytest.mark.served
def test_any_accept_header_gets_a_well_formed_answer(server, path, accept, user_agent):
    headers = {"Accept": accept} | ({"User-Agent": user_agent} if user_agent else {})
    exchange(server, "GET", path, headers)


@settings(PROPERTY, max_examples=40)
@given(path=st.sampled_from(OUR_PATHS + ["/doc/id/region/nowhere"]), query=query_strings,
       accept=st.sampled_from(["", "text/html", "application/ld+json", "*/*"]))
@pytest.mark.served
def test_any_query_string_gets_a_well_formed_answer(server, path, query, accept):
    exchange(server, "GET", f"{path}?{query}", {"Accept": accept} if accept else {})


@settings(PROPERTY, max_examples=80)
@given(path=paths, accept=st.sampled_from(["", "text/html", "text/turtle", "application/rdf+xml", "image/png"]))
@pytest.mark.served
def test_any_path_gets_a_well_formed_answer(server, path, accept):
    exchange(server, "GET", path, {"Accept": accept} if accept else {})


QUERY_CONTENT_TYPES = ["application/sparql-query", "application/sparql-query; charset=utf-8",
                       "application/sparql-query; charset=utf-16"]
FORM_CONTENT_TYPES = ["application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=latin-1"]
WRONG_CONTENT_TYPES = ["application/sparql-update", "text/plain", "application/json", "multipart/form-data; boundary=x",
                       "", "garbage", "application/x-www-form-urlencoded/x"]
QUERIES = ["ASK {}", "SELECT * WHERE { ?s ?p ?o } LIMIT 3", "CONSTRUCT WHERE { ?s a ?t } LIMIT 5",
           "DESCRIBE <https://data.kraj-lbc.cz/partnerships/id/region/bursa>", "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }",
           "INSERT DATA { <a:b> <a:c> <a:d> }", "SELECT * FROM <http://example.org/g> { ?s ?p ?o }",
           "SELECT * { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", "SELECT ?x {", "{" * 40 + "}" * 40]
texts = st.one_of(st.sampled_from(QUERIES), st.text(max_size=200))
query_bodies = st.one_of(
    texts.map(str.encode),
    st.binary(max_size=300),  # invalid UTF-8, NUL bytes, UTF-16 marks
    st.integers(50_001, 400_000).map(lambda n: b"# " + b"x" * n + b"\nASK {}"),  # huge
)
form_bodies = st.one_of(
    st.lists(st.tuples(st.sampled_from(["query", "update", "default-graph-uri", "format", "x"]), texts),
             max_size=4).map(lambda params: urlencode(params).encode()),
    st.sampled_from(BAD_ESCAPES).map(lambda escape: f"query={escape}".encode()),
    query_bodies,
)
# (Content-Type, body): mostly what the protocol allows, so that most bodies reach the query's parser.
sparql_posts = st.one_of(
    st.tuples(st.sampled_from(QUERY_CONTENT_TYPES), query_bodies),
    st.tuples(st.sampled_from(FORM_CONTENT_TYPES), form_bodies),
    st.tuples(st.sampled_from(WRONG_CONTENT_TYPES), st.one_of(query_bodies, form_bodies)),
)


@settings(PROPERTY, max_examples=60)
@given(post=sparql_posts,
       accept=st.sampled_from(["", "text/csv", "application/sparql-results+xml", "text/turtle", "image/png"]),
       query=st.one_of(st.just(""), query_strings))
@pytest.mark.served
def test_any_sparql_post_gets_a_well_formed_answer(server, post, accept, query):
    content_type, body = post
    headers = ({"Content-Type": content_type} if content_type else {}) | ({"Accept": accept} if accept else {})
    exchange(server, "POST", "/sparql" + (f"?{query}" if query else ""), headers, body)


@settings(PROPERTY, max_examples=40)
@given(method=st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND",
                               "FOO"]),
       path=st.sampled_from(OUR_PATHS), body=st.one_of(st.none(), st.binary(max_size=200)),
       content_type=st.sampled_from(["", "text/turtle", "application/x-www-form-urlencoded"]))
@pytest.mark.served
def test_any_method_gets_a_well_formed_answer(server, method, path, body, content_type):
    exchange(server, method, path, {"Content-Type": content_type} if content_type else {}, body)


@pytest.mark.served
def test_a_runaway_query_is_stopped_within_the_bound(server):
    """The bound holds for the slowest thing a client can ask: a query that would never end."""
    runaway = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
    answer = send(server, "POST", "/sparql", {"Content-Type": "application/sparql-query"}, runaway.encode())
    assert answer.status == 503 and b"was stopped" in answer.body
    assert_well_formed(answer)


# Paths that made no IRI reached the store's queries and were answered 500 (found by the properties
# above): a quotation mark, a lone or broken percent sign, bytes that are not UTF-8, and a path that
# would have changed the query had it run.
NOT_IRIS = ["/%22", "/doc/%", "/doc/%ff%fe", "/id/a%3E%20%3Fp%20%3Fo%20%7D%20%23", "/doc/id/region/bursa%7C"]


@pytest.mark.parametrize("path", NOT_IRIS)
@pytest.mark.served
def test_a_path_that_makes_no_iri_is_not_found(server, path):
    answer = send(server, "GET", path, {"Accept": "text/turtle"})
    assert (answer.status, answer.content_type.split(";")[0]) == (404, "text/turtle")
    assert_well_formed(answer)


# A 404 names what was not found in a comment of the format asked for; a control character in the
# path (a carriage return in Turtle, U+001F in XML) once broke out of that comment, or broke the document.
@pytest.mark.parametrize("suffix, rdflib_format", [(".ttl", "turtle"), (".nt", "nt"), (".rdf", "xml")])
@pytest.mark.served
def test_a_not_found_document_is_empty_whatever_the_path_holds(server, suffix, rdflib_format):
    answer = send(server, "GET", f"/doc/id/nowhere%1F%0D<a:b>%20<a:c>%20<a:d>%20.%20--%3E{suffix}")
    assert answer.status == 404
    assert_well_formed(answer)
    assert len(parse_document(answer.body, rdflib_format)) == 0, "the path's text became data"
