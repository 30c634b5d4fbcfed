"""Headers for caches and browsers: ETag, Last-Modified, 304, Cache-Control and CORS."""

from urllib.parse import urlencode

import pytest
import requests

from server.config import Settings
from test_web_pages import browser  # noqa: F401 - the shared browser fixture

PATHS = ["", "doc/id/region/bursa", "id/region/bursa", "doc/id/region/atlantis", ".well-known/void",
         "dumps/partnerships.ttl", "context.jsonld", "sitemap.xml"]


@pytest.mark.parametrize("path", PATHS)
def test_every_response_has_validators_from_the_release(server, path, project_release):
    response = requests.get(server + path, headers={"Accept": "text/turtle"}, allow_redirects=False, timeout=30)
    assert response.headers.get("ETag") and response.headers.get("Last-Modified")
    if response.headers["Content-Type"].startswith("text/html"):
        assert response.headers["Cache-Control"] == "public, no-cache"
    else:
        assert "max-age" in response.headers["Cache-Control"]


@pytest.mark.parametrize("path", ["", "doc/id/region/bursa", "sparql", "changes"])
def test_a_page_in_each_language_has_a_tag_of_its_own(server, path):
    pages = {language: requests.get(server + path, headers={"Accept": "text/html", "Accept-Language": language},
                                     timeout=30) for language in ("cs", "en")}
    assert {language: page.headers["Content-Language"] for language, page in pages.items()} == {"cs": "cs", "en": "en"}
    assert pages["cs"].headers["ETag"] != pages["en"].headers["ETag"]
    # A browser that kept the Czech page and now reads English is not told "not modified".
    again = requests.get(server + path, headers={"Accept": "text/html", "Accept-Language": "en",
                                                  "If-None-Match": pages["cs"].headers["ETag"]}, timeout=30)
    assert again.status_code == 200 and again.headers["Content-Language"] == "en"


@pytest.mark.parametrize("path", PATHS + ["sparql?query=ASK%7B%7D", "sparql?query=nonsense"])
def test_every_response_has_a_request_id_of_its_own(server, path):
    ids = {requests.get(server + path, allow_redirects=False, timeout=30).headers["X-Request-ID"] for _ in range(2)}
    assert len(ids) == 2
    echoed = requests.get(server + path, headers={"X-Request-ID": "lb-7f3a"}, allow_redirects=False, timeout=30)
    assert echoed.headers["X-Request-ID"] == "lb-7f3a"


def test_a_304_keeps_the_request_id(server):
    url = server + "doc/id/region/bursa"
    tag = requests.get(url, timeout=30).headers["ETag"]
    again = requests.get(url, headers={"If-None-Match": tag, "X-Request-ID": "conditional-1"}, timeout=30)
    assert again.status_code == 304 and again.headers["X-Request-ID"] == "conditional-1"


@pytest.mark.parametrize("accept", ["text/turtle", "text/html", "application/ld+json"])
def test_conditional_get_answers_304(server, accept):
    url = server + "doc/id/region/bursa"
    first = requests.get(url, headers={"Accept": accept}, timeout=30)
    again = requests.get(url, headers={"Accept": accept, "If-None-Match": first.headers["ETag"]}, timeout=30)
    assert again.status_code == 304 and again.content == b""
    since = requests.get(url, headers={"Accept": accept, "If-Modified-Since": first.headers["Last-Modified"]},
                         timeout=30)
    assert since.status_code == 304


def test_etag_differs_between_representations(server):
    url = server + "doc/id/region/bursa"
    tags = {requests.get(url, headers={"Accept": accept}, timeout=30).headers["ETag"]
            for accept in ("text/turtle", "application/ld+json", "text/html")}
    assert len(tags) == 3


def test_a_stale_etag_gets_the_document(server):
    response = requests.get(server + "doc/id/region/bursa", headers={"If-None-Match": '"stale"'}, timeout=30)
    assert response.status_code == 200 and response.content


@pytest.mark.parametrize("path", ["doc/id/region/bursa", ".well-known/void", "dumps/partnerships.nt", "context.jsonld"])
def test_machine_readable_responses_allow_any_origin(server, path):
    response = requests.get(server + path, headers={"Origin": "https://example.org", "Accept": "text/turtle"},
                            timeout=30)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]


def test_cors_preflight_is_answered(server):
    response = requests.options(server + "doc/id/region/bursa", timeout=30, headers={
        "Origin": "https://example.org", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "Accept, If-None-Match"})
    assert response.status_code in (200, 204)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response.headers["Access-Control-Allow-Methods"]
    assert "If-None-Match" in response.headers["Access-Control-Allow-Headers"]


def preflight(url: str, method: str, headers: str) -> requests.Response:
    """The preflight a browser sends before a script's request with `headers` (comma separated)."""
    return requests.options(url, timeout=30, headers={
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
    response = preflight(server + path, method, headers)
    assert response.status_code in (200, 204)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert method in response.headers["Access-Control-Allow-Methods"]
    assert {name.strip().lower() for name in headers.split(",")} <= allowed(response)
    assert "Access-Control-Request-Headers" in response.headers["Vary"]


@pytest.mark.parametrize("headers", ["Authorization", "Cookie", "X-Requested-With, Authorization", "X-Api-Key"])
def test_a_preflight_grants_no_credentials_nor_unknown_headers(server, headers):
    """The data is open to every origin, without credentials: a script that would send them is stopped."""
    granted = allowed(preflight(server + "sparql", "GET", headers))
    assert not {"authorization", "cookie", "x-api-key"} & granted
    assert "access-control-allow-credentials" not in {name.lower() for name in
                                                       preflight(server + "sparql", "GET", headers).headers}


def test_a_script_can_read_how_an_answer_was_cut_or_encoded(server):
    exposed = {name.strip().lower() for name in requests.get(
        server + "sparql", params={"query": "ASK {}"}, headers={"Origin": "https://app.example.org"},
        timeout=30).headers["Access-Control-Expose-Headers"].split(",")}
    assert {"x-sparql-truncated", "x-sparql-max-rows", "retry-after", "content-encoding", "content-length",
            "accept-ranges", "content-range", "etag", "link", "x-request-id"} <= exposed


def test_a_script_of_another_origin_reads_that_an_answer_was_cut(browser, server):  # noqa: F811
    """Chromium's fetch() from another origin (localhost against 127.0.0.1), with a header that needs a
    preflight: the preflight passes, and the script reads X-SPARQL-Truncated and X-SPARQL-Max-Rows."""
    browser.get(server.replace("127.0.0.1", "localhost") + "robots.txt")
    too_many = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } LIMIT 100000"
    read = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch(arguments[0], {headers: {"Accept": "application/sparql-results+json", "X-Requested-With": "fetch"}})
          .then(response => done({status: response.status, truncated: response.headers.get("X-SPARQL-Truncated"),
                                  maxRows: response.headers.get("X-SPARQL-Max-Rows")}))
          .catch(error => done({error: String(error)}));""", server + "sparql?" + urlencode({"query": too_many}))
    assert read == {"status": 200, "truncated": "true", "maxRows": str(Settings().sparql_max_rows)}
