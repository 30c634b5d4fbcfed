"""SPARQL answers the worker gives itself: queries bounded by their form, and a middleware that sends
the commonest of them before Flask.

A query of one triple pattern with a constant (store/bounded_form.py) costs the engine less than the
pipe to a query runner and an admission slot cost us: its form bounds its time, its memory, and what
the engine's parser is given, so the worker evaluates it itself, on the store its runners are forked
from, as it evaluates a document's queries. The store's own `sparql` writes the answer, cut at no more
rows than sparql_in_worker_rows (the row limit, when that is lower): a query whose answer would be
longer, or larger than an answer kept in memory, runs in a runner as any other, so the bytes are
always the runner's. Not on a shared engine (which has no runners to spare) nor on a remote store.

`SparqlAnswers` answers such a query asked by GET or by a POSTed form, in a results format or a graph
format, before Flask, with the headers Flask gives it (http.flask_headers); anything else goes
to Flask: other parameters (a dataset, ?lang=), a conditional or ranged request, an Accept that names
text/html on a GET (the editor), a refusal of any kind (Flask words it), a proxy's prefix, trusted
hosts. `tests/test_web_sparql_in_worker.py` holds its answers to the runner's through Flask, header for
header.
"""

import io

from ..store import QueryError, SparqlAnswer, StoreUnavailable
from ..store.embedded import EmbeddedStore
from ..store.query_text import QueryText
from .answer_files import INLINE_BYTES
from .compression import gzip_choice, gzipped_body
from .http import BeforeFlask, flask_headers, representation_tag
from .sparql_request import (
    FORMAT_PARAMETERS,
    GRAPH_TYPES,
    RESULTS_TYPES,
    Refusal,
    acceptable,
    cached_answer_types,
    format_parameters,
    parameters,
    read_within_limits,
)

PATH = "/sparql"
# Set in the environ of a request whose query the worker does not answer itself (too long, or a store not its own).
NOT_IN_WORKER = "lodpub.sparql.not_in_worker"
# The parameters of a request this middleware answers: a query and the formats of its answer.
_ANSWERED_PARAMETERS = {"query", *FORMAT_PARAMETERS}


def in_worker_answer(store: object, settings, arguments: tuple) -> SparqlAnswer | None:
    """The answer of the query of `arguments` (Store.sparql's, the row limit last) when the worker may
    give it (see the module's docstring), else None. Raises QueryError as the store does."""
    shape, default_graphs, named_graphs, *_, max_rows = arguments
    if (not settings.sparql_in_worker_rows or not shape.bounded or default_graphs or named_graphs
            or not isinstance(store, EmbeddedStore)):
        return None
    rows = min(max_rows, settings.sparql_in_worker_rows)
    answered = store.sparql(*arguments[:-1], rows)
    if (answered.truncated and rows < max_rows) or len(answered.body) > INLINE_BYTES:
        return None
    return answered


class SparqlAnswers(BeforeFlask):
    """Answers before Flask (http.BeforeFlask) the queries of the module's docstring."""

    def answer(self, environ: dict) -> tuple[list[tuple[str, str]], bytes] | None:
        """The answer of the module's docstring to the request of `environ`, or None: Flask answers it."""
        if environ.get("PATH_INFO") != PATH:
            return None
        publisher = self.publisher()
        settings = publisher.settings
        if (settings.trusted_hosts or not settings.sparql_in_worker_rows or environ.get("SCRIPT_NAME")
                or any(name.startswith("HTTP_IF_") for name in environ) or "HTTP_RANGE" in environ):
            return None
        asked = _parameters(environ, settings.max_body_bytes)
        if asked is None:
            return None
        query, formats = asked
        store = publisher.store
        shape = _bounded_shape(query, store.base_iri, settings, environ)
        if shape is None:
            return None
        try:
            results_type, graph_type = cached_answer_types(environ.get("HTTP_ACCEPT", ""), formats, shape.form)
            answered = in_worker_answer(store, settings, (shape, None, None, results_type or RESULTS_TYPES[0],
                                                          graph_type or GRAPH_TYPES[0], settings.sparql_max_rows))
        except (Refusal, QueryError, StoreUnavailable):
            return None  # Flask words the refusal
        if answered is None:
            environ[NOT_IN_WORKER] = True  # (Flask need not evaluate it again to find out)
            return None
        if not acceptable(answered, results_type, graph_type):
            return None
        return _headers(answered, environ, (store.version, store.built_at), settings)


def _parameters(environ: dict, max_body_bytes: int) -> tuple[str, tuple[str, ...]] | None:
    """The query and format parameters of a GET, or of a POSTed form, that asks nothing else; else None.
    A body read here is put back for Flask."""
    method, accept = environ.get("REQUEST_METHOD"), environ.get("HTTP_ACCEPT", "")
    try:
        if method == "GET" and "text/html" not in accept:  # (a browser may be given the editor)
            given = parameters(environ.get("QUERY_STRING", "").encode("latin-1"))
        elif method == "POST" and environ.get("CONTENT_TYPE") == "application/x-www-form-urlencoded":
            length = environ.get("CONTENT_LENGTH", "")
            if not length.isdigit() or int(length) > max_body_bytes:
                return None
            body = environ["wsgi.input"].read(int(length))
            environ["wsgi.input"] = io.BytesIO(body)
            given = parameters(body) + parameters(environ.get("QUERY_STRING", "").encode("latin-1"))
        else:
            return None
    except Refusal:
        return None
    names = [name for name, _ in given]
    if names.count("query") != 1 or not set(names) <= _ANSWERED_PARAMETERS:
        return None
    return next(value for name, value in given if name == "query"), tuple(format_parameters(given))


def _bounded_shape(query: str, base_iri: str, settings, environ: dict) -> QueryText | None:
    """The query read, if it is bounded by its form and within the endpoint's limits (else Flask refuses it)."""
    try:
        shape = read_within_limits(query, base_iri, settings, environ)
    except Refusal:
        return None
    return shape if shape.bounded else None


def _headers(answered: SparqlAnswer, environ: dict, release: tuple, settings) -> tuple[list[tuple[str, str]], bytes]:
    """The headers and body Flask sends with `answered` (sparql.answer, then http.finish_response)."""
    version, built_at = release
    body, media_type = answered.body, answered.media_type
    varies, level = gzip_choice(media_type, len(body), environ.get("HTTP_ACCEPT_ENCODING", ""), per_request=True)
    gzipped = level is not None
    if gzipped:
        body = gzipped_body(body, level)
    own = ([("X-SPARQL-Truncated", "true"), ("X-SPARQL-Max-Rows", str(settings.sparql_max_rows))]
           if answered.truncated else [])
    validators = None
    if environ["REQUEST_METHOD"] == "GET":
        tag = representation_tag(version, PATH, environ.get("QUERY_STRING", ""), media_type, "", 200,
                                 "gzip" if gzipped else "")
        validators = (tag, built_at, settings.cache_max_age)
    return flask_headers(environ, media_type, len(body), (varies, gzipped), own, validators), body
