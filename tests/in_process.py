"""The publisher in process, reached through `requests`: a transport that hands each request to the WSGI
app through Flask's test client, so a test written against a real server (`session.get(base + path, ...)`)
runs unchanged on the app in this process, without a socket or gunicorn.

The app is mounted at the release's canonical base (settings.base_iri): the requests go to the IRIs the
release names, so nothing needs moving to another host and every link in an answer is one the test can
follow through the same session. Any other URL (a real server's) goes over HTTP as usual.
"""

import contextlib
import io
from collections.abc import Iterator

import requests
import urllib3
from requests.adapters import HTTPAdapter


class InProcess(HTTPAdapter):
    """A requests transport to a Flask app: the request goes through the whole app (its middleware
    included), and its answer is read as requests reads one from a socket (gzip decoded, headers joined)."""

    def __init__(self, app, base: str) -> None:
        super().__init__()
        self.app = app
        self.base = base

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout=None, verify=True, cert=None,
             proxies=None) -> requests.Response:
        """Answer `request` from the app."""
        body = request.body.encode("utf-8") if isinstance(request.body, str) else request.body
        answer = self.app.test_client().open(
            request.url[len(self.base) - 1:], base_url=self.base, method=request.method,
            headers=list(request.headers.items()), data=body or b"")
        try:
            data = answer.get_data()
        finally:
            answer.close()
        status, _, reason = answer.status.partition(" ")
        raw = urllib3.HTTPResponse(body=io.BytesIO(data), headers=framed(answer, request.method), status=int(status),
                                   reason=reason, preload_content=False, decode_content=True,
                                   request_method=request.method)
        return self.build_response(request, raw)


def framed(answer, method: str) -> list[tuple[str, str]]:
    """The headers of `answer` as an HTTP/1.1 server sends them: a body of no stated length (a streamed
    one) goes in chunks, as gunicorn sends it."""
    headers = list(answer.headers.items())
    if "Content-Length" not in answer.headers and method != "HEAD" and answer.status_code not in (204, 304):
        headers.append(("Transfer-Encoding", "chunked"))
    return headers


# The tests' requests session: the `in_process` fixture mounts the app at its base, so a helper that
# sends `HTTP.get(url)` reaches the app in process or a real server alike, whichever `url` names.
HTTP = requests.Session()


@contextlib.contextmanager
def mounted(app, base: str) -> Iterator[requests.Session]:
    """HTTP, with the requests under `base` answered by `app` in this process while in the block (then by
    the app mounted there before, if any)."""
    before = HTTP.adapters.get(base)
    HTTP.mount(base, InProcess(app, base))
    try:
        yield HTTP
    finally:
        HTTP.adapters.pop(base)
        if before is not None:
            HTTP.mount(base, before)


class Site(str):
    """The base URL of a publisher (it is a str), with the session that reaches it: `site.http.get(site + path)`
    works the same on the app in process and on a real server."""

    http: requests.Session

    def __new__(cls, base: str, http: requests.Session) -> "Site":
        site = super().__new__(cls, base)
        site.http = http
        return site
