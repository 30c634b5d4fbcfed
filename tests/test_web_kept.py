"""Whole answers to repeated document requests, given again without Flask (server/web/kept.py):
only to the same request in the same release, with a new date and request id each time."""

import pytest
import requests

from lodpub.store import StoreUnavailable
from lodpub.web.kept import KeptResponses

BURSA = "doc/id/region/bursa"


class Documents:
    """A WSGI app answering each request with a numbered document, counting how often it was asked."""

    def __init__(self, status: str = "200 OK", headers: list[tuple[str, str]] | None = None) -> None:
        self.calls = 0
        self.status = status
        self.headers = headers or []

    def __call__(self, environ, start_response):
        self.calls += 1
        start_response(self.status, [("Content-Type", "text/turtle"), ("X-Request-ID", "from-app"),
                                     ("Date", "Thu, 01 Jan 2026 00:00:00 GMT"), *self.headers])
        return [f"document {self.calls} for {environ['PATH_INFO']}".encode()]


def get(app, path="/doc/id/region/bursa", **environ):
    """The status, headers and body `app` gives to a GET of `path` with the extra `environ`."""
    answer = {}
    request = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "wsgi.url_scheme": "http", "HTTP_HOST": "example.org",
               "HTTP_ACCEPT": "text/turtle", **environ}
    body = b"".join(app(request, lambda status, headers, exc_info=None: answer.update(status=status, headers=headers)))
    return answer["status"], dict(answer["headers"]), body


@pytest.fixture
def version():
    return ["v1"]


def kept_over(app, version, max_bytes=10_000):
    return KeptResponses(app, lambda: version[0], max_bytes)


def test_a_repeated_request_is_answered_without_the_app_with_a_new_date_and_request_id(version):
    app = Documents()
    kept = kept_over(app, version)
    status, headers, body = get(kept)
    again_status, again_headers, again_body = get(kept, HTTP_X_REQUEST_ID="client-id-1")
    assert app.calls == 1 and (again_status, again_body) == (status, body) == ("200 OK", b"document 1 for /doc/id/region/bursa")
    assert again_headers["Content-Type"] == "text/turtle"
    assert again_headers["X-Request-ID"] == "client-id-1"  # a sane id the client sent is echoed
    assert get(kept, HTTP_X_REQUEST_ID="bad id\r\n")[1]["X-Request-ID"] not in ("from-app", "bad id\r\n")
    assert again_headers["Date"] != "Thu, 01 Jan 2026 00:00:00 GMT"


@pytest.mark.parametrize("differs", [
    {"HTTP_ACCEPT": "text/html"}, {"HTTP_ACCEPT_LANGUAGE": "cs"}, {"HTTP_COOKIE": "lang=cs"},
    {"HTTP_ACCEPT_ENCODING": "gzip"},
    {"HTTP_USER_AGENT": "harvester"}, {"HTTP_HOST": "other.example.org"}, {"wsgi.url_scheme": "https"},
    {"PATH_INFO": "/doc/id/region/liberec"}, {"SCRIPT_NAME": "/prefix"},
])
def test_a_request_that_differs_in_what_the_answer_depends_on_is_asked_of_the_app(version, differs):
    app = Documents()
    kept = kept_over(app, version)
    get(kept)
    assert get(kept, **differs)[2].startswith(b"document 2")


@pytest.mark.parametrize("passes", [
    {"QUERY_STRING": "lang=cs"}, {"HTTP_IF_NONE_MATCH": '"tag"'}, {"HTTP_IF_MODIFIED_SINCE": "Thu, 01 Jan 2026 00:00:00 GMT"},
    {"HTTP_RANGE": "bytes=0-10"}, {"REQUEST_METHOD": "HEAD"}, {"PATH_INFO": "/sparql"}, {"PATH_INFO": "/"},
])
def test_other_requests_always_go_to_the_app(version, passes):
    app = Documents()
    kept = kept_over(app, version)
    for _ in range(2):
        get(kept, **passes)
    assert app.calls == 2


@pytest.mark.parametrize("status, headers", [
    ("404 NOT FOUND", []), ("406 NOT ACCEPTABLE", []), ("200 OK", [("Set-Cookie", "lang=cs")]),
    ("200 OK", [("Cache-Control", "no-store")]),
])
def test_only_a_plain_200_that_sets_no_cookie_is_kept(version, status, headers):
    app = Documents(status, headers)
    kept = kept_over(app, version)
    get(kept), get(kept)
    assert app.calls == 2


def test_a_new_release_is_never_answered_from_the_old_one(version):
    app = Documents()
    kept = kept_over(app, version)
    get(kept)
    version[0] = "v2"
    assert get(kept)[2].startswith(b"document 2") and get(kept)[2].startswith(b"document 2")


def test_without_a_store_or_a_budget_nothing_is_kept(version):
    def unavailable() -> str:
        raise StoreUnavailable("the store does not answer")

    for kept, documents in ((KeptResponses(first := Documents(), unavailable, 10_000), first),
                            (KeptResponses(second := Documents(), lambda: "v1", 0), second)):
        get(kept), get(kept)
        assert documents.calls == 2


def test_the_bytes_kept_stay_within_the_budget(version):
    app = Documents()
    kept = kept_over(app, version, max_bytes=100)
    for number in range(20):
        get(kept, PATH_INFO=f"/doc/id/thing/{number}")
    assert kept.answers.size <= 100 and len(kept.answers) < 20


# --- on a real server --------------------------------------------------------------------------------------------


def test_a_document_asked_again_comes_back_whole_and_alike(server):
    answers = [requests.get(server + BURSA, headers={"Accept": "text/turtle", "X-Request-ID": f"again-{n}"}, timeout=30)
               for n in range(4)]  # both workers, each at least twice
    first = answers[0]
    for answer in answers[1:]:
        assert answer.status_code == 200 and answer.content == first.content
        same = {name: value for name, value in answer.headers.items() if name not in ("Date", "X-Request-ID")}
        assert same == {name: value for name, value in first.headers.items() if name not in ("Date", "X-Request-ID")}
    assert [answer.headers["X-Request-ID"] for answer in answers] == [f"again-{n}" for n in range(4)]


def test_a_conditional_request_after_a_kept_answer_gets_304(server):
    for _ in range(3):
        tag = requests.get(server + BURSA, headers={"Accept": "text/turtle"}, timeout=30).headers["ETag"]
    conditional = requests.get(server + BURSA, headers={"Accept": "text/turtle", "If-None-Match": tag}, timeout=30)
    assert conditional.status_code == 304 and conditional.content == b""


def test_a_kept_document_comes_back_in_the_encoding_each_request_accepts(server):
    """The gzipped and the plain answer are kept apart: each request gets the bytes it can read."""
    import gzip

    plain, packed = [], []
    for _ in range(2):
        for accepted, answers in (("identity", plain), ("gzip", packed)):
            answer = requests.get(server + BURSA, headers={"Accept": "text/turtle", "Accept-Encoding": accepted},
                                  stream=True, timeout=30)
            answers.append((answer.headers.get("Content-Encoding"), answer.headers["ETag"],
                            answer.raw.read(decode_content=False)))
    assert plain[0] == plain[1] and packed[0] == packed[1]
    assert plain[0][0] is None and packed[0][0] == "gzip" and plain[0][1] != packed[0][1]
    assert gzip.decompress(packed[0][2]) == plain[0][2]
