"""An answer gzipped in its runner (web/gzip_ahead.py) is, byte for byte, the worker's gzip of the
answer; one the worker would not gzip from memory (too small, or too large to come through the pipe) is
left to the worker."""

import gzip

import pytest

from lodpub.store.embedded import EmbeddedStore
from lodpub.store.query_text import read_query
from lodpub.web.compression import ANSWER_LEVEL, MIN_BYTES, gzipped_body
from lodpub.web.gzip_ahead import answer_gzipped_ahead, sent_body, without_body

JSON, XML = "application/sparql-results+json", "application/sparql-results+xml"
CSV, TSV = "text/csv", "text/tab-separated-values"
N_TRIPLES, TURTLE = "application/n-triples", "text/turtle"
EVERYTHING = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 3000"
# (query, results or graph type, row limit, whether the runner gzips it)
CASES = [
    (EVERYTHING, JSON, 100_000, True),
    (EVERYTHING, XML, 100_000, True),
    (EVERYTHING, TSV, 100_000, True),
    (EVERYTHING, CSV, 100_000, True),  # written as TSV, then as CSV
    (EVERYTHING, JSON, 50, True),  # cut
    ("SELECT ?s WHERE { ?s ?p ?o } LIMIT 1", JSON, 100_000, False),  # under MIN_BYTES: the worker sends it as it is
    ("SELECT ?s WHERE { ?s ?p ?o } LIMIT 60", JSON, 100_000, True),
    ("SELECT ?s ?p ?o WHERE { ?s ?p ?o }", JSON, 100_000, False),  # over 1 MB: not through the pipe
    ("CONSTRUCT { ?s a ?c } WHERE { ?s a ?c } LIMIT 3000", N_TRIPLES, 100_000, True),
    ("CONSTRUCT { ?s a ?c } WHERE { ?s a ?c } LIMIT 3000", TURTLE, 100_000, True),  # N-Triples, then Turtle
    # Literals the store changed, given back as written.
    ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o FILTER (datatype(?o) = <http://www.w3.org/2001/XMLSchema#integer>) }", N_TRIPLES, 100_000, True),
    ("CONSTRUCT { ?s a ?c } WHERE { ?s a ?c ; ?p ?o }", N_TRIPLES, 100_000, True),  # repeated triples
]


@pytest.fixture(scope="module")
def store(project_release) -> EmbeddedStore:
    return EmbeddedStore(project_release.path)


@pytest.mark.parametrize(("query", "media_type", "max_rows", "ahead"), CASES)
def test_the_runners_gzip_is_the_workers(store: EmbeddedStore, query: str, media_type: str, max_rows: int,
                                         ahead: bool):
    arguments = (read_query(query), None, None, media_type, media_type, max_rows)
    answered = answer_gzipped_ahead(store.sparql, arguments)
    assert answered.body == store.sparql(*arguments).body
    assert answered.gzipped == (gzipped_body(answered.body, ANSWER_LEVEL) if ahead else None)
    if not ahead:
        assert len(answered.body) < MIN_BYTES or len(answered.body) > 1 << 20


# Rows all alike: over MIN_BYTES, its gzip under it.
ALIKE = "SELECT (1 AS ?one) WHERE { ?s ?p ?o } LIMIT 300"


@pytest.mark.parametrize("query", [EVERYTHING, ALIKE, "SELECT ?s WHERE { ?s ?p ?o } LIMIT 1"])
def test_the_body_stays_in_the_runner_when_its_gzip_alone_is_sent(store: EmbeddedStore, query: str):
    """What goes back through the pipe: the gzip alone when the worker's response can hold it in the body's
    place (MIN_BYTES or more, which compression.compress reads), else the body (with its gzip, if any)."""
    answered = answer_gzipped_ahead(store.sparql, (read_query(query), None, None, JSON, N_TRIPLES, 100_000))
    back = without_body(answered)
    alone = answered.gzipped is not None and len(answered.gzipped) >= MIN_BYTES
    assert alone == (query == EVERYTHING)
    assert (back.body, back.gzipped) == ((b"", answered.gzipped) if alone else (answered.body, answered.gzipped))
    assert sent_body(back) == (answered.gzipped if alone else answered.body)
    if query == ALIKE:
        assert len(answered.body) >= MIN_BYTES > len(answered.gzipped)


@pytest.mark.parametrize(("accept", "query"), [(JSON, ""), (XML, ""), (CSV, ""), (N_TRIPLES, ""), (TURTLE, ""),
                                               (JSON, ALIKE)])
def test_the_endpoint_sends_the_bytes_it_sent_before(client, accept: str, query: str):
    """Through a runner: the gzipped answer is the gzip of the answer sent to a client that takes none,
    whether its body came back from the runner with its gzip or not."""
    query = query or ("CONSTRUCT WHERE { ?s a ?c ; ?p ?o }" if accept in (N_TRIPLES, TURTLE)
                      else "SELECT ?s ?p ?o WHERE { ?s a ?c ; ?p ?o }")
    plain = client.post("/sparql", data={"query": query}, headers={"Accept": accept, "Accept-Encoding": "identity"})
    zipped = client.post("/sparql", data={"query": query}, headers={"Accept": accept, "Accept-Encoding": "gzip"})
    assert plain.status_code == zipped.status_code == 200
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.data == gzipped_body(plain.data, ANSWER_LEVEL)
    assert gzip.decompress(zipped.data) == plain.data


# The XFL byte of a gzip header (RFC 1952 §2.3.1) as zlib writes it: 4 for its fastest level, 0 for 6.
FASTEST, DEFAULT = 4, 0


@pytest.mark.parametrize(("query", "streamed"), [("SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 3000", False),
                                                 ("SELECT ?s ?p ?o WHERE { ?s ?p ?o }", True)])
def test_a_sparql_answer_is_gzipped_at_the_fastest_level_and_a_document_is_not(client, query: str, streamed: bool):
    """An answer made for one query is gzipped fast, from memory or streamed from its file (over 1 MB);
    a document, made once and kept, is gzipped smaller (compression.py's two levels)."""
    headers = {"Accept": JSON, "Accept-Encoding": "gzip"}
    zipped = client.post("/sparql", data={"query": query}, headers=headers)
    plain = client.post("/sparql", data={"query": query}, headers={"Accept": JSON, "Accept-Encoding": "identity"})
    assert zipped.status_code == plain.status_code == 200
    assert len(plain.data) > 1_000_000 if streamed else len(plain.data) < 1_000_000
    assert zipped.data[8] == FASTEST
    assert gzip.decompress(zipped.data) == plain.data
    document = client.get("/doc/id/region/bursa", headers={"Accept": TURTLE, "Accept-Encoding": "gzip"})
    assert document.headers["Content-Encoding"] == "gzip"
    assert document.data[8] == DEFAULT
