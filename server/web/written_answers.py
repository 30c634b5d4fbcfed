"""A first visit to a Turtle document written ahead, answered without Flask.

Flask's routing, negotiation, hooks and response object cost about a millisecond of CPU a request, five
times what Oxigraph spends on a whole DESCRIBE. A document written ahead (documents_ahead.py) needs none of
it: this WSGI middleware answers a plain GET of `/doc/<path>` whose format (by suffix, else by Accept) is
Turtle's, when the document about `<base><path>` was written ahead, with the written bytes and the headers
Flask gives the same answer (resources.graph_response, http.finish_response, compression.compress). Everything
else goes to Flask: a query string, a conditional or ranged request, another method or format, a path that a
route other than the document's serves or that url_for would write otherwise, a proxy's prefix, trusted hosts,
a store that cannot say which release it holds. `tests/test_documents_ahead.py` holds every answer of it
to Flask's, header for header.
"""

import re

from ..describe.changes import RELEASE_PATH
from ..formats import TURTLE, Format
from ..store import StoreUnavailable
from .compression import gzip_choice
from .documents_ahead import WrittenDocument
from .http import BeforeFlask, flask_headers, representation_tag
from .negotiation import NotAcceptable, alternates, format_for, format_url, split_suffix
from .shapes import SHAPES_PATH

PREFIX = "/doc/"
# A path that url_for writes as it is (werkzeug's path converter quotes anything else), of one segment
# or more, none empty.
_PLAIN_PATH = re.compile(r"[A-Za-z0-9._~!$&'()*+,:;=@-]+(/[A-Za-z0-9._~!$&'()*+,:;=@-]+)*")
# Paths under /doc/ that other routes serve.
_OTHER_ROUTES = (RELEASE_PATH, SHAPES_PATH)


class WrittenAnswers(BeforeFlask):
    """Answers before Flask (http.BeforeFlask) the first visits of the module's docstring."""

    def answer(self, environ: dict) -> tuple[list[tuple[str, str]], bytes] | None:
        bare = _document_path(environ)
        if bare is None:
            return None
        fmt = _format(bare, environ)
        publisher = self.publisher()
        if fmt is None or publisher.settings.trusted_hosts:
            return None
        path, (bare, _) = PREFIX + bare, split_suffix(bare)
        if not bare:  # (the base itself: its page)
            return None
        try:
            base, version, built_at = publisher.store.base_iri, publisher.store.version, publisher.store.built_at
        except StoreUnavailable:
            return None
        written = publisher.written.get(base, version, base + bare)
        if written is None:
            return None
        return _headers(written, fmt, path, bare, environ, (base, version, built_at), publisher.settings.cache_max_age)


def _document_path(environ: dict) -> str | None:
    """The path after /doc/ of a plain GET this middleware may answer, else None."""
    if (environ.get("REQUEST_METHOD") != "GET" or environ.get("QUERY_STRING") or environ.get("SCRIPT_NAME")
            or any(name.startswith("HTTP_IF_") for name in environ) or "HTTP_RANGE" in environ):
        return None
    path = environ.get("PATH_INFO", "")
    if not path.startswith(PREFIX):
        return None
    rest = path[len(PREFIX):]
    if not _PLAIN_PATH.fullmatch(rest) or rest.startswith(_OTHER_ROUTES):
        return None
    return rest


def _format(path: str, environ: dict) -> Format | None:
    """The format the request gets if it is Turtle's (or another name of the Turtle document's bytes)."""
    _, fmt = split_suffix(path)
    if fmt is None:
        try:
            fmt = format_for(environ.get("HTTP_ACCEPT", ""), environ.get("HTTP_USER_AGENT", ""))
        except NotAcceptable:
            return None
    return fmt if fmt.serializer == TURTLE.serializer else None


def _headers(written: WrittenDocument, fmt: Format, path: str, bare: str, environ: dict, release: tuple,
             max_age: int) -> tuple[list[tuple[str, str]], bytes]:
    """The headers and body Flask would send to a request for `path` (the document at `bare`, in `fmt`)
    in `release` (its base, version and build time); a Date added, as werkzeug adds it."""
    base, version, built_at = release
    varies, level = gzip_choice(fmt.media_type, written.size, environ.get("HTTP_ACCEPT_ENCODING", ""), per_request=False)
    gzipped = level is not None  # (at KEPT_LEVEL, as the document was gzipped when it was written)
    body = written.gzipped if gzipped else written.turtle()
    document_url = PREFIX + bare
    tag = representation_tag(version, path, "", fmt.media_type, "", 200, "gzip" if gzipped else "")
    own = [("Content-Location", format_url(document_url, fmt)), ("Link", alternates(base + PREFIX.lstrip("/") + bare, fmt))]
    headers = flask_headers(environ, fmt.media_type, len(body), (varies, gzipped), own, (tag, built_at, max_age))
    return headers, body
