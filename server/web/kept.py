"""Documents sent again without going through Flask.

A resource document is the same bytes for every request until another release is served
(rendered.py keeps them), and so are the headers Flask gives it: only the date and the request
id differ. Routing, negotiation, the language and the validators cost several times what
sending the bytes does (about 1 ms against 0.1 ms), so this WSGI middleware keeps each complete
answer (status, headers, body) to a plain GET of a document, and gives it again to the same
request in the same release, with a new Date and request id.

"The same request" is the same method, URL, host and the headers the answer depends on: Accept
(the format), Accept-Encoding (gzipped or not), Accept-Language and Cookie (the language of a
page), User-Agent (harvesters get no HTML) and the day (a page's timeline and validators change with it). Anything else — a query
string, a conditional request, a HEAD, an answer that is not 200 or sets a cookie — goes to
Flask, as does every request when the store cannot say which release it holds.
"""

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, NamedTuple

from werkzeug.http import http_date

from ..store import StoreUnavailable
from .http import request_id_for
from .rendered import RenderedDocuments

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]

# The parts of a request that an answer to it depends on.
_REQUEST_KEYS = ("REQUEST_METHOD", "wsgi.url_scheme", "HTTP_HOST", "SERVER_NAME", "SERVER_PORT", "SCRIPT_NAME",
                 "PATH_INFO", "HTTP_ACCEPT", "HTTP_ACCEPT_ENCODING", "HTTP_ACCEPT_LANGUAGE", "HTTP_COOKIE",
                 "HTTP_USER_AGENT")
# A request with any of these is answered by Flask: it asks for something other than the whole document.
_PASS_THROUGH = ("QUERY_STRING", "HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_RANGE")


# Headers each answer gets afresh.
_PER_ANSWER = {"date", "x-request-id"}


class KeptAnswer(NamedTuple):
    """An answer as Flask gave it, but for its date and request id."""

    status: str
    headers: list[tuple[str, str]]
    body: bytes


class KeptResponses:
    """WSGI middleware that answers a repeated GET of a document under `prefix` (e.g. "/doc/")
    from the answers it kept, up to `max_bytes` of them; `version()` names the release served."""

    def __init__(self, app: WsgiApp, version: Callable[[], str], max_bytes: int, prefix: str = "/doc/") -> None:
        self.app = app
        self.version = version
        self.prefix = prefix
        self.answers = RenderedDocuments(max_bytes)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        key = self._key(environ)
        if key is None:
            return self.app(environ, start_response)
        kept = self.answers.get(key)
        if kept is None:
            return self._answer_and_keep(key, environ, start_response)
        start_response(kept.status, [*kept.headers, ("Date", http_date()),
                                     ("X-Request-ID", request_id_for(environ.get("HTTP_X_REQUEST_ID", "")))])
        return [kept.body]

    def _key(self, environ: dict) -> tuple | None:
        """What identifies the request, or None when it must go to Flask."""
        if (environ.get("REQUEST_METHOD") != "GET" or not environ.get("PATH_INFO", "").startswith(self.prefix)
                or any(environ.get(name) for name in _PASS_THROUGH) or self.answers.max_bytes <= 0):
            return None
        version = self._served_version()
        if version is None:
            return None
        return (version, date.today().toordinal(), *(environ.get(name, "") for name in _REQUEST_KEYS))

    def _served_version(self) -> str | None:
        try:
            return self.version()
        except StoreUnavailable:
            return None

    def _answer_and_keep(self, key: tuple, environ: dict, start_response: Callable) -> Iterable[bytes]:
        given: dict[str, Any] = {}

        def remember(status: str, headers: list[tuple[str, str]], exc_info=None):
            given.update(status=status, headers=headers)
            return start_response(status, headers, exc_info)

        parts = self.app(environ, remember)
        try:
            body = b"".join(parts)
        finally:
            if hasattr(parts, "close"):
                parts.close()
        if _keepable(given.get("status", ""), given.get("headers", [])) and self._served_version() == key[0]:
            headers = [(name, value) for name, value in given["headers"] if name.lower() not in _PER_ANSWER]
            self.answers.keep(key, KeptAnswer(given["status"], headers, body), len(body))
        return [body]


def _keepable(status: str, headers: list[tuple[str, str]]) -> bool:
    """Only a whole document that is the same for everyone: 200, no cookie set, storable."""
    names = {name.lower(): value for name, value in headers}
    return status.startswith("200 ") and "set-cookie" not in names and "no-store" not in names.get("cache-control", "")
