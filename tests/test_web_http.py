"""Headers for caches and browsers: ETag, Last-Modified, 304, Cache-Control and CORS, sent by the publisher
in process (requests through `server.http`); the browser's CORS check runs on a real server."""

from urllib.parse import urlencode

import pytest
import requests

from lodpub.config import Settings


@pytest.fixture(scope="module")
def server(in_process):
    """The publisher in process: a request to `server + path` goes through `server.http`."""
    return in_process


PATHS = ["", "doc/id/region/bursa", "id/region/bursa", "doc/id/region/atlantis", ".well-known/void",
         "dumps/partnerships.ttl", "context.jsonld", "sitemap.xml"]


@pytest.mark.parametrize("path", PATHS)
def test_every_response_has_validators_from_the_release(server, path, project_release):
    response = server.http.get(server + path, headers={"Accept": "text/turtle"}, allow_redirects=False, timeout=30)
    assert response.headers.get("ETag") and response.headers.get("Last-Modified")
    if response.headers["Content-Type"].startswith("text/html"):
        assert response.headers["Cache-Control"] == "public, no-cache"
    else:
        assert "max-age" in response.headers["Cache-Control"]


@pytest.mark.parametrize("path", ["", "doc/id/region/bursa", "sparql", "changes"])
def test_a_page_in_each_language_has_a_tag_of_its_own(server, path):
    pages = {language: server.http.get(server + path, headers={"Accept": "text/html", "Accept-Language": language},
                                     timeout=30) for language in ("cs", "en")}
    assert {language: page.headers["Content-Language"] for language, page in pages.items()} == {"cs": "cs", "en": "en"}
    assert pages["cs"].headers["ETag"] != pages["en"].headers["ETag"]
    # A browser that kept the Czech page and now reads English is not told "not modified".
    again = server.http.get(server + path, headers={"Accept": "text/html", "Accept-Language": "en",
                                                  "If-None-Match": pages["cs"].headers["ETag"]}, timeout=30)
    assert again.status_code == 200 and again.headers["Content-Language"] == "en"


@pytest.mark.parametrize("path", PATHS + ["sparql?query=ASK%7B%7D", "sparql?query=nonsense"])
def test_every_response_has_a_request_id_of_its_own(server, path):
    ids = {server.http.get(server + path, allow_redirects=False, timeout=30).headers["X-Request-ID"] for _ in range(2)}
    assert len(ids) == 2
    echoed = server.http.get(server + path, headers={"X-Request-ID": "lb-7f3a"}, allow_redirects=False, timeout=30)
    assert echoed.headers["X-Request-ID"] == "lb-7f3a"


def test_a_304_keeps_the_request_id(server):
    url = server + "doc/id/region/bursa"
    tag = server.http.get(url, timeout=30).headers["ETag"]
    again = server.http.get(url, headers={"If-None-Match": tag, "X-Request-ID": "conditional-1"}, timeout=30)
    assert again.status_code == 304 and again.headers["X-Request-ID"] == "conditional-1"


@pytest.mark.parametrize("accept", ["text/turtle", "text/html", "application/ld+json"])
def test_conditional_get_answers_304(server, accept):
    url = server + "doc/id/region/bursa"
    first = server.http.get(url, headers={"Accept": accept}, timeout=30)
    again = server.http.get(url, headers={"Accept": accept, "If-None-Match": first.headers["ETag"]}, timeout=30)
    assert again.status_code == 304 and again.content == b""
    since = server.http.get(url, headers={"Accept": accept, "If-Modified-Since": first.headers["Last-Modified"]},
                         timeout=30)
    assert since.status_code == 304


def test_etag_differs_between_representations(server):
    url = server + "doc/id/region/bursa"
    tags = {server.http.get(url, headers={"Accept": accept}, timeout=30).headers["ETag"]
            for accept in ("text/turtle", "application/ld+json", "text/html")}
    assert len(tags) == 3


def test_a_stale_etag_gets_the_document(server):
    response = server.http.get(server + "doc/id/region/bursa", headers={"If-None-Match": '"stale"'}, timeout=30)
    assert response.status_code == 200 and response.content


@pytest.mark.parametrize("path", ["doc/id/region/bursa", ".well-known/void", "dumps/partnerships.nt", "context.jsonld"])
def test_machine_readable_responses_allow_any_origin(server, path):
    response = server.http.get(server + path, headers={"Origin": "https://example.org", "Accept": "text/turtle"},
                            timeout=30)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]


def test_cors_preflight_is_answered(server):
    response = server.http.options(server + "doc/id/region/bursa", timeout=30, headers={
        "Origin": "https://example.org", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "Accept, If-None-Match"})
    assert response.status_code in (200, 204)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response.headers["Access-Control-Allow-Methods"]
    assert "If-None-Match" in response.headers["Access-Control-Allow-Headers"]


# --- The same bytes for the same ETag, in every process ------------------------------------------

# Renders documents in a fresh process (its own store, blank node labels and string hashing), and
# prints {"path accept": [status, ETag, SHA-256 of the body]}.
RENDER = """
import hashlib, json, sys
from lodpub import create_app
client = create_app().test_client()
answers = {}
for path in json.loads(sys.argv[1]):
    for accept in json.loads(sys.argv[2]):
        response = client.get("/" + path, headers={"Accept": accept, "Accept-Language": "en"})
        answers[f"{path} {accept}"] = [response.status_code, response.headers.get("ETag"),
                                       hashlib.sha256(response.data).hexdigest()]
print(json.dumps(answers))
"""
EVERY_TYPE = ["text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml", "text/html"]


def documents_with_blank_nodes(release_path) -> list[str]:
    """The paths of the documents of `release_path` that hold a blank node (checksums of the
    distributions, unknown times, ...), besides the VoID, the Service Description and the changelog."""
    import pyoxigraph as ox

    from lodpub.store.embedded import EmbeddedStore

    store = EmbeddedStore(release_path)
    found = [f"doc/{str(iri)[len(store.base_iri):]}" for iri in store.subjects_under(store.base_iri)
             if any(isinstance(term, ox.BlankNode) for triple in store.document_triples(iri)
                    for term in (triple.subject, triple.object))]
    return found + [".well-known/void", "sparql", "changes"]


@pytest.mark.served
def test_a_document_is_the_same_bytes_in_every_process(project_release):
    """Two workers (here: two fresh processes, with different string hashing) send the same bytes
    under the same strong ETag, in every format, for every document that holds blank nodes."""
    import json
    import os
    import subprocess
    import sys

    from conftest import CHECKOUT

    paths = documents_with_blank_nodes(project_release.path)
    assert len(paths) > 10 and "doc/id/event/valle-d-aosta-council-decision" in paths
    environment = {name: value for name, value in os.environ.items() if not name.startswith("LODPUB_")}
    environment["LODPUB_OUTPUT_DIR"] = str(project_release.path.parent.parent)
    workers = [subprocess.Popen([sys.executable, "-c", RENDER, json.dumps(paths), json.dumps(EVERY_TYPE)],
                                cwd=CHECKOUT, env=environment | {"PYTHONHASHSEED": str(seed)},
                                stdout=subprocess.PIPE, text=True) for seed in (1, 2)]
    first, second = (json.loads(worker.communicate(timeout=300)[0]) for worker in workers)
    assert all(status == 200 for status, _, _ in first.values()), first
    differing = sorted(key for key in first if first[key] != second[key])
    assert differing == []


# --- Compression ------------------------------------------------------------------------------------

# (Without blank nodes: each worker's store labels them its own way.)
SPARQL_10000_ROWS = "sparql?query=" + requests.utils.quote(
    "SELECT * WHERE { ?s ?p ?o VALUES ?copy { 1 2 3 } FILTER (!isBlank(?s) && !isBlank(?o)) } LIMIT 10000")
COMPRESSED = [("doc/id/region/bursa", "text/turtle"), ("doc/id/region/bursa", "text/html"),
              (".well-known/void", "application/ld+json"), ("doc/ontology", "application/rdf+xml"),
              (SPARQL_10000_ROWS, "application/sparql-results+json"), ("sitemap.xml", "application/xml")]


def raw(server, path: str, **headers: str) -> requests.Response:
    """A GET of `path` whose body is read as sent (`.sent`), not decoded."""
    response = server.http.get(server + path, headers=headers, stream=True, timeout=60)
    response.sent = response.raw.read(decode_content=False)
    return response


@pytest.mark.parametrize("path, accept", COMPRESSED)
def test_text_is_gzipped_for_a_client_that_accepts_it_under_a_tag_of_its_own(server, path, accept):
    import gzip

    plain = raw(server, path, Accept=accept, **{"Accept-Encoding": "identity"})
    packed = raw(server, path, Accept=accept, **{"Accept-Encoding": "deflate, gzip;q=0.8, br;q=0.5"})
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain.headers and packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.sent) == plain.sent and len(packed.sent) < len(plain.sent) / 2
    if packed.headers.get("Transfer-Encoding") != "chunked":  # a large SPARQL answer streams, gzipped as it goes
        assert int(packed.headers["Content-Length"]) == len(packed.sent)
    for response in (plain, packed):
        assert "Accept-Encoding" in response.headers["Vary"]
    # A strong tag names bytes: one per encoding, and each revalidates only its own.
    assert plain.headers["ETag"] != packed.headers["ETag"]
    gzip_accepted = {"Accept": accept, "Accept-Encoding": "gzip"}
    assert server.http.get(server + path, headers={**gzip_accepted, "If-None-Match": packed.headers["ETag"]},
                        timeout=60).status_code == 304
    assert server.http.get(server + path, headers={**gzip_accepted, "If-None-Match": plain.headers["ETag"]},
                        timeout=60).status_code == 200
    # requests decodes it as any client does
    assert server.http.get(server + path, headers=gzip_accepted, timeout=60).content == plain.sent


@pytest.mark.parametrize("accept_encoding, gzipped", [
    ("gzip", True), ("x-gzip", True), ("*", True), ("gzip;q=0.001", True), ("br, *;q=0.1", True),
    ("gzip;q=0, *", False), ("*;q=0", False), ("identity", False), ("br", False), ("", False),
])
def test_gzip_only_when_accept_encoding_allows_it(server, accept_encoding, gzipped):
    response = raw(server, "doc/id/region/bursa", Accept="text/turtle", **{"Accept-Encoding": accept_encoding})
    assert response.status_code == 200
    assert (response.headers.get("Content-Encoding") == "gzip") is gzipped


def test_small_answers_and_dumps_are_sent_as_they_are(server):
    for path in ("robots.txt", "dumps/partnerships.ttl", "dumps/partnerships.nt.gz"):
        response = raw(server, path, **{"Accept-Encoding": "gzip"})
        assert response.status_code == 200 and "Content-Encoding" not in response.headers, path


def preflight(server, path: str, method: str, headers: str) -> requests.Response:
    """The preflight a browser sends before a script's request to `path` with `headers` (comma separated)."""
    return server.http.options(server + path, timeout=30, headers={
        "Origin": "https://app.example.org", "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers})


def allowed(response: requests.Response) -> set[str]:
    return {name.strip().lower() for name in response.headers.get("Access-Control-Allow-Headers", "").split(",")}


@pytest.mark.parametrize("path, method", [("sparql", "GET"), ("sparql", "POST"), ("doc/id/region/bursa", "GET"),
                                          ("dumps/partnerships.nt", "GET")])
@pytest.mark.parametrize("headers", ["X-Requested-With", "x-requested-with,accept", "Range, If-Range",
                                     "cache-control, pragma", "X-Request-ID, Accept-Language, If-None-Match",
                                     "content-type"])
def test_a_preflight_grants_the_ordinary_headers_it_asks_for(server, path, method, headers):
    """What client libraries add (jQuery's X-Requested-With, a no-cache reload, a resumed download)."""
    response = preflight(server, path, method, headers)
    assert response.status_code in (200, 204)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert method in response.headers["Access-Control-Allow-Methods"]
    assert {name.strip().lower() for name in headers.split(",")} <= allowed(response)
    assert "Access-Control-Request-Headers" in response.headers["Vary"]


@pytest.mark.parametrize("headers", ["Authorization", "Cookie", "X-Requested-With, Authorization", "X-Api-Key"])
def test_a_preflight_grants_no_credentials_nor_unknown_headers(server, headers):
    """The data is open to every origin, without credentials: a script that would send them is stopped."""
    granted = allowed(preflight(server, "sparql", "GET", headers))
    assert not {"authorization", "cookie", "x-api-key"} & granted
    assert "access-control-allow-credentials" not in {name.lower() for name in
                                                       preflight(server, "sparql", "GET", headers).headers}


def test_a_script_can_read_how_an_answer_was_cut_or_encoded(server):
    exposed = {name.strip().lower() for name in server.http.get(
        server + "sparql", params={"query": "ASK {}"}, headers={"Origin": "https://app.example.org"},
        timeout=30).headers["Access-Control-Expose-Headers"].split(",")}
    assert {"x-sparql-truncated", "x-sparql-max-rows", "retry-after", "content-encoding", "content-length",
            "accept-ranges", "content-range", "etag", "link", "x-request-id"} <= exposed


def test_a_script_of_another_origin_reads_that_an_answer_was_cut(browser, embedded_server):  # noqa: F811
    """Chromium's fetch() from another origin (localhost against 127.0.0.1), with a header that needs a
    preflight: the preflight passes, and the script reads X-SPARQL-Truncated and X-SPARQL-Max-Rows."""
    server = embedded_server
    browser.get(server.replace("127.0.0.1", "localhost") + "robots.txt")
    too_many = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } LIMIT 100000"
    read = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch(arguments[0], {headers: {"Accept": "application/sparql-results+json", "X-Requested-With": "fetch"}})
          .then(response => done({status: response.status, truncated: response.headers.get("X-SPARQL-Truncated"),
                                  maxRows: response.headers.get("X-SPARQL-Max-Rows")}))
          .catch(error => done({error: String(error)}));""", server + "sparql?" + urlencode({"query": too_many}))
    assert read == {"status": 200, "truncated": "true", "maxRows": str(Settings().sparql_max_rows)}
