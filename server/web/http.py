"""Headers every response gets: validators and caching derived from the release, and CORS.

- ETag and Last-Modified on every response, from the release's version and build time (an HTML
  page also depends on the day, as its timeline ends today); a conditional GET or HEAD whose
  validators match answers 304 Not Modified.
- Cache-Control: public for max-age seconds (settings.cache_max_age); errors for a minute.
- CORS: any origin may read any response (the data is open); preflight requests are answered.
- An HTML page varies with the language (Accept-Language, or the cookie the language switch sets).
"""

import hashlib
from datetime import date

from flask import Flask, Response, request

from . import publisher
from .i18n import remember_language

ALLOWED_HEADERS = "Accept, Accept-Language, Content-Type, If-None-Match, If-Modified-Since"
EXPOSED_HEADERS = "Content-Language, Content-Location, ETag, Last-Modified, Link, Location, Repr-Digest, Vary"


def register(app: Flask) -> None:
    """Install the hooks on `app`."""
    app.after_request(finish_response)


def finish_response(response: Response) -> Response:
    """Every response's common headers, in order: language cookie, Vary, CORS, validators and caching."""
    remember_language(response)
    if response.mimetype == "text/html":
        response.vary.update(("Accept-Language", "Cookie"))
    add_cors_headers(response)
    return add_validators_and_caching(response)


def add_cors_headers(response: Response) -> Response:
    """Let scripts of any origin read the response; answer a preflight."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response.headers["Access-Control-Max-Age"] = "86400"
    return response


def add_validators_and_caching(response: Response) -> Response:
    """ETag, Last-Modified and Cache-Control from the release; 304 for a matching conditional request."""
    if response.status_code >= 500 or request.method not in ("GET", "HEAD", "OPTIONS"):
        return response
    store = publisher().store
    if response.get_etag() == (None, None):
        response.set_etag(_representation_tag(response, store.version))
    response.last_modified = store.built_at
    if "Cache-Control" not in response.headers:
        max_age = publisher().settings.cache_max_age if response.status_code < 400 else 60
        response.headers["Cache-Control"] = f"public, max-age={max_age}"
    if response.status_code == 200 and request.method in ("GET", "HEAD"):
        response.make_conditional(request)
    return response


def _representation_tag(response: Response, version: str) -> str:
    """A tag that changes when the release or the representation does."""
    parts = [version, request.path, request.query_string.decode("latin-1"), response.mimetype or "",
             response.headers.get("Content-Language", ""), str(response.status_code)]
    if response.mimetype == "text/html":
        parts.append(date.today().isoformat())
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]
