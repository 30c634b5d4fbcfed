"""Headers every response gets: a request id, validators and caching derived from the release, and CORS.

- X-Request-ID: the client's own, when it sent a sane one (a proxy or load balancer often does),
  else one made here; the access log (wsgi.JsonAccessLog) and the error log carry it too, so a
  complaint, its log lines and the proxy's can be matched.
- ETag and Last-Modified on every response, from the release's version and build time (an HTML
  page also depends on the day, as its timeline ends today); a conditional GET or HEAD whose
  validators match answers 304 Not Modified. A response that must not be stored (`no-store`, e.g.
  /health) gets none.
- Cache-Control: public for max-age seconds (settings.cache_max_age); errors for a minute.
- CORS: any origin may read any response (the data is open) and the headers that tell how it was
  cut or encoded; a preflight is answered for the ordinary request headers it asks for.
- An HTML page varies with the language (Accept-Language, or the cookie the language switch sets).
- Content-Encoding: gzip for text when the client accepts it (compression.py), before the
  validators: the ETag names the bytes sent, so each encoding has its own.
"""

import hashlib
import logging
import random
import re
import time
from collections.abc import Callable, Iterable
from datetime import date, datetime
from functools import lru_cache

from flask import Flask, Response, g, has_request_context, request
from werkzeug.http import http_date
from werkzeug.utils import get_content_type

from . import publisher
from .compression import compress
from .i18n import current_language, remember_language

# Request headers a script of another origin may send: what negotiation, validators and ranges
# read, and what client libraries add on their own (jQuery's X-Requested-With, a no-cache reload).
# None of them carries credentials: Authorization and Cookie stay out, as the data is open to all.
ALLOWED_HEADERS = ("Accept", "Accept-Language", "Content-Type", "If-None-Match", "If-Modified-Since", "If-Range",
                   "Range", "Cache-Control", "Pragma", "X-Requested-With", "X-Request-ID")
# Response headers such a script may read: besides the validators and links, whether a SPARQL
# answer was cut (X-SPARQL-*), when to try again, and how the body was encoded or ranged.
EXPOSED_HEADERS = ("Accept-Ranges, Content-Encoding, Content-Language, Content-Length, Content-Location, "
                   "Content-Range, ETag, Last-Modified, Link, Location, Repr-Digest, Retry-After, Vary, "
                   "X-Request-ID, X-SPARQL-Max-Rows, X-SPARQL-Truncated")
# A request id we echo: short, and only characters that cannot break a log line or a header
# (UUIDs, hex ids, and the "Root=1-...;Parent=..." ids of some load balancers fit).
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:;=+/@-]{1,128}")


WsgiApp = Callable[[dict, Callable], Iterable[bytes]]


class BeforeFlask:
    """WSGI middleware over the Flask app `app`, whose Publisher `publisher()` gives, that answers some
    requests itself: `answer(environ)` gives the headers and body of a 200, or None to let Flask answer."""

    def __init__(self, app: WsgiApp, publisher: Callable) -> None:
        self.app = app
        self.publisher = publisher

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        answer = self.answer(environ)
        if answer is None:
            return self.app(environ, start_response)
        headers, body = answer
        start_response("200 OK", headers)
        return [body]

    def answer(self, environ: dict) -> tuple[list[tuple[str, str]], bytes] | None:
        """The headers and body of the answer to the request of `environ`, or None: Flask answers it."""
        raise NotImplementedError


def register(app: Flask) -> None:
    """Install the hooks on `app`, and put the request id in its error log lines."""
    app.after_request(finish_response)
    if not any(isinstance(existing, RequestIdInLog) for existing in app.logger.filters):
        app.logger.addFilter(RequestIdInLog())


def request_id() -> str:
    """This request's id: the X-Request-ID the client sent if it is sane, else a new one."""
    if "request_id" not in g:
        g.request_id = request_id_for(request.headers.get("X-Request-ID", ""))
    return g.request_id


def request_id_for(sent: str) -> str:
    """The id of a request whose X-Request-ID header is `sent` ("" if none): it, if it is sane, else a new one."""
    # 128 random bits: unique, which is all an id must be (it is no secret), without a system call for
    # each request as uuid4 makes; `random` is seeded anew in every forked worker.
    return sent if SANE_REQUEST_ID.fullmatch(sent) else f"{random.getrandbits(128):032x}"


class RequestIdInLog(logging.Filter):
    """Prefixes a log record made during a request with the request's id."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.msg = f"[request {request_id()}] {record.msg}"
        return True


def finish_response(response: Response) -> Response:
    """Every response's common headers, in order: request id, language cookie, Vary, CORS, the
    content coding, validators and caching."""
    response.headers["X-Request-ID"] = request_id()
    remember_language(response)
    if response.mimetype == "text/html":
        response.vary.update(("Accept-Language", "Cookie"))
        # Said on every page, so that each language has a tag of its own (see _representation_tag).
        response.headers.setdefault("Content-Language", current_language())
    add_cors_headers(response)
    return add_validators_and_caching(compress(response, request))


def flask_headers(environ: dict, media_type: str, length: int, encoding: tuple[bool, bool],
                  own: list[tuple[str, str]], validators: tuple[str, datetime, int] | None) -> list[tuple[str, str]]:
    """The headers Flask sends with a 200 answer of `length` bytes of `media_type` (http.finish_response,
    compression.compress), in its order: `encoding` says whether the type and size are worth gzipping and
    whether the body is gzipped; `own` are the route's own headers; `validators` (the ETag, the build time
    and max-age) those of a GET, which werkzeug dates."""
    compressible, gzipped = encoding
    headers = [("Content-Type", get_content_type(media_type, "utf-8")), ("Content-Length", str(length)),
               ("Vary", "Accept, Accept-Encoding" if compressible else "Accept"), *own,
               ("X-Request-ID", request_id_for(environ.get("HTTP_X_REQUEST_ID", ""))),
               ("Access-Control-Allow-Origin", "*"), ("Access-Control-Expose-Headers", EXPOSED_HEADERS)]
    if gzipped:
        headers.append(("Content-Encoding", "gzip"))
    if validators is not None:
        tag, built_at, max_age = validators
        headers += [("ETag", f'"{tag}"'), ("Last-Modified", _last_modified(built_at)),
                    ("Cache-Control", f"public, max-age={max_age}"), ("Date", _date(int(time.time())))]
    return headers


@lru_cache(maxsize=8)  # one release's build time, asked by every answer given before Flask
def _last_modified(built_at: datetime) -> str:
    return http_date(built_at)


@lru_cache(maxsize=2)  # the Date of this second (werkzeug's, as Flask's response has it), made once a second
def _date(second: int) -> str:
    return http_date(second)


def add_cors_headers(response: Response) -> Response:
    """Let scripts of any origin read the response; answer a preflight."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = allowed_request_headers(
            request.headers.get("Access-Control-Request-Headers", ""))
        response.headers["Access-Control-Max-Age"] = "86400"
        response.vary.add("Access-Control-Request-Headers")
    return response


def allowed_request_headers(asked: str) -> str:
    """The Access-Control-Allow-Headers of a preflight that asked for the headers `asked` (a comma
    separated list, "" if none): those of them we allow, as the client named them, else all we allow.
    A header we do not allow is left out, so the browser does not send the request."""
    allowed = {name.lower() for name in ALLOWED_HEADERS}
    granted = [name.strip() for name in asked.split(",") if name.strip().lower() in allowed]
    return ", ".join(granted or ALLOWED_HEADERS)


def add_validators_and_caching(response: Response) -> Response:
    """ETag, Last-Modified and Cache-Control from the release; 304 for a matching conditional request."""
    if (response.status_code >= 500 or request.method not in ("GET", "HEAD", "OPTIONS")
            or "no-store" in response.headers.get("Cache-Control", "")):
        return response
    store = publisher().store
    if response.get_etag() == (None, None):
        response.set_etag(_representation_tag(response, store.version))
    response.last_modified = store.built_at
    if "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = _cache_control(response)
    if response.status_code == 200 and request.method in ("GET", "HEAD"):
        response.make_conditional(request)
    return response


def _cache_control(response: Response) -> str:
    """How long caches may keep `response`. A page for people is checked again each time (a cheap
    304 when nothing changed): browsers do not honour `Vary: Cookie`, so a page kept from before
    the reader switched language would come back in the other one."""
    if response.mimetype == "text/html":
        return "public, no-cache"
    max_age = publisher().settings.cache_max_age if response.status_code < 400 else 60
    return f"public, max-age={max_age}"


def _representation_tag(response: Response, version: str) -> str:
    """A tag that changes when the release or the representation (its type, language, coding) does."""
    return representation_tag(version, request.path, request.query_string.decode("latin-1"), response.mimetype or "",
                              response.headers.get("Content-Language", ""), response.status_code,
                              response.headers.get("Content-Encoding", ""))


def representation_tag(version: str, path: str, query: str, mimetype: str, language: str, status: int,
                       encoding: str) -> str:
    """The ETag (unquoted) of the answer to `path`?`query` in release `version`, of that media type,
    language, status and content coding."""
    parts = [version, path, query, mimetype, language, str(status), encoding]
    if mimetype == "text/html":
        parts.append(date.today().isoformat())
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]
