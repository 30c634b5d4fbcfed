"""A SPARQL 1.1 Protocol query request, read from the HTTP request: its query, dataset and the
formats its answer may take, or a Refusal saying with which status and why it is refused.

The query operation is GET with parameters, POST of a form, or POST of an application/sparql-query
body; updates are refused (the endpoint is read-only), as are texts that are not UTF-8. The answer's
format comes from the one table of formats (lodpub.formats): the format/output/results parameters
first (SPARQLWrapper sends several), else the Accept header.
"""

from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import parse_qsl

from flask import request
from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import RequestEntityTooLarge

from ..formats import GRAPH_FORMATS, RESULTS_FORMATS, Format, ResultsFormat, results_format_of
from ..store import SparqlAnswer
from ..store.query_text import QueryText, UnreadableQuery, read_query
from . import publisher
from .negotiation import accepted_types_of

# The media types of the answers, from the one table of formats (lodpub.formats).
RESULTS_TYPES = tuple(fmt.media_type for fmt in RESULTS_FORMATS)
BOOLEAN_FORMATS = tuple(fmt for fmt in RESULTS_FORMATS if fmt.booleans)
GRAPH_TYPES = tuple(fmt.media_type for fmt in GRAPH_FORMATS)
AnswerFormat = Format | ResultsFormat
# The query of a request, as read for safety, kept in its environ with the base it was read against:
# the middleware that answers bounded queries before Flask (sparql_answers.py) reads it first, and
# the endpoint, which runs any other, read it again (0.05-0.1 ms a query).
READ_QUERY = "lodpub.sparql.read_query"


class Refusal(Exception):
    """The request is refused: an HTTP status and a message for the client."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def read_within_limits(query: str, base_iri: str, settings, environ: dict | None = None) -> QueryText:
    """The query's shape, read against `base_iri`; raises Refusal (400, 413) for a query over the
    endpoint's size or nesting limits, one that is not SPARQL 1.1, an update, or a SERVICE call the
    settings do not allow. Read once per request of `environ` (see READ_QUERY)."""
    size = len(query.encode("utf-8"))
    if size > settings.sparql_max_query_bytes:
        raise Refusal(413, f"The query is {size} bytes long; this endpoint accepts at most {settings.sparql_max_query_bytes}.")
    kept = environ.get(READ_QUERY) if environ is not None else None
    if kept is not None and kept[0] == base_iri and kept[1].text == query:
        shape = kept[1]
    else:
        try:
            shape = read_query(query, base_iri + "sparql")
        except UnreadableQuery as error:
            raise Refusal(400, f"The query is not valid SPARQL 1.1: {error}.") from error
        if environ is not None:
            environ[READ_QUERY] = (base_iri, shape)
    if shape.update_keyword:
        raise Refusal(400, f"This endpoint is read-only: {shape.update_keyword} is an update, not a query.")
    if shape.depth > settings.sparql_max_nesting:
        raise Refusal(400, f"The query nests {shape.depth} levels deep; this endpoint accepts at most "
                           f"{settings.sparql_max_nesting}.")
    allowed = settings.sparql_service_allowlist.split()
    for service in shape.services:
        if service not in allowed:
            named = "a variable endpoint" if service == "?" else f"<{service}>"
            raise Refusal(400, f"SERVICE {named} is not allowed: this endpoint does not call other endpoints"
                               + (f" (only {', '.join(allowed)})." if allowed else "."))
    return shape


@dataclass
class ProtocolRequest:
    """A query request as the protocol defines it."""

    query: str | None
    default_graphs: list[str] = field(default_factory=list)
    named_graphs: list[str] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)   # format/output/results parameters, in order


def read_protocol_request() -> ProtocolRequest:
    """Read the query and dataset from the request, refusing what the protocol does not allow."""
    if request.method == "POST":
        content_type = request.mimetype
        if content_type == "application/x-www-form-urlencoded":
            params = parameters(_body()) + parameters(request.query_string)
        elif content_type == "application/sparql-query":
            params = parameters(request.query_string) + [("query", _text(_body(), "the query"))]
        else:
            raise Refusal(415, f"A query is sent as application/x-www-form-urlencoded or "
                               f"application/sparql-query, not {content_type or 'without a Content-Type'}.")
    else:
        params = parameters(request.query_string)
    names = [name for name, _ in params]
    if "update" in names or "using-graph-uri" in names or "using-named-graph-uri" in names:
        raise Refusal(400, "This endpoint is read-only: it accepts queries, not updates.")
    if names.count("query") > 1:
        raise Refusal(400, "Give exactly one 'query' parameter.")
    return ProtocolRequest(
        query=next((value for name, value in params if name == "query"), None),
        default_graphs=[value for name, value in params if name == "default-graph-uri"],
        named_graphs=[value for name, value in params if name == "named-graph-uri"],
        formats=format_parameters(params),
    )


# The parameters that name an answer's format (SPARQLWrapper sends several).
FORMAT_PARAMETERS = ("format", "output", "results")


def format_parameters(params: list[tuple[str, str]]) -> list[str]:
    """The formats the format/output/results parameters of `params` name, in order."""
    return [item.strip().lower() for name, value in params if name in FORMAT_PARAMETERS
            for item in value.split(",") if item.strip()]


def answer_types(format_parameters: list[str], form: str | None) -> tuple[str | None, str | None]:
    """The media types to answer a SELECT/ASK and a CONSTRUCT/DESCRIBE in (None: nothing acceptable).

    The format/output/results parameters decide (the first name known for each kind of answer;
    SPARQLWrapper sends several), else the Accept header with its q-values. A client that accepts
    only the other kind's types (a results type for a CONSTRUCT) gets its kind's default. The query's
    form, read from its text, says which of the two must be acceptable before it runs, and that an
    ASK has no CSV or TSV answer.
    """
    return cached_answer_types(request.headers.get("Accept", ""), tuple(format_parameters), form)


# Clients send the same few Accept headers again and again, and matching one against every format
# took a sixth of a cheap query's time in process.
@lru_cache(maxsize=256)
def cached_answer_types(accept: str, format_parameters: tuple[str, ...], form: str | None) -> tuple[str | None, str | None]:
    """answer_types for the Accept header `accept` (a Refusal is raised, not kept)."""
    accepted = accepted_types_of(accept)
    results = (_first_named(format_parameters, RESULTS_FORMATS)
               or _best(accepted, BOOLEAN_FORMATS if form == "ASK" else RESULTS_FORMATS)
               or _default_if_only(accepted, GRAPH_FORMATS, RESULTS_FORMATS[0]))
    graph = (_first_named(format_parameters, GRAPH_FORMATS) or _best(accepted, GRAPH_FORMATS)
             or _default_if_only(accepted, RESULTS_FORMATS, GRAPH_FORMATS[0]))
    if form == "ASK" and results is not None and not results.booleans:
        results = None
    kind = {"CONSTRUCT": "graph", "DESCRIBE": "graph", "ASK": "boolean", "SELECT": "solutions"}.get(form or "")
    if (kind == "graph" and graph is None) or (kind in ("boolean", "solutions") and results is None):
        raise Refusal(406, not_acceptable_message(kind))
    return results and results.media_type, graph and graph.media_type


def _default_if_only(accepted: MIMEAccept, other_formats: tuple[AnswerFormat, ...],
                     default: AnswerFormat) -> AnswerFormat | None:
    """`default` when the Accept header accepts some of `other_formats`: the client asked for the
    other kind of answer than its query gives (as a client with one Accept header for every query
    does); else None."""
    return default if _best(accepted, other_formats) is not None else None


def _first_named(names: list[str], formats: tuple[AnswerFormat, ...]) -> AnswerFormat | None:
    """The format of `formats` that the first of `names` naming one names."""
    return next((fmt for name in names for fmt in formats if fmt.named(name)), None)


def _best(accepted: MIMEAccept, formats: tuple[AnswerFormat, ...]) -> AnswerFormat | None:
    """The format of `formats` the Accept header prefers (the first when it names none), or None."""
    if not accepted:
        return formats[0]
    offered = [fmt.media_type for fmt in formats] + [alias for fmt in formats for alias in fmt.aliases if "/" in alias]
    best = accepted.best_match(offered)
    return _first_named([best], formats) if best else None


def acceptable(answered: SparqlAnswer, results_type: str | None, graph_type: str | None) -> bool:
    """Whether the answer's kind is one the client accepts (answer_types' types; a boolean only in a
    format that has booleans)."""
    if answered.kind == "graph":
        return graph_type is not None
    return results_type is not None and (answered.kind != "boolean" or results_format_of(answered.media_type).booleans)


def not_acceptable_message(kind: str | None) -> str:
    boolean_types = tuple(fmt.media_type for fmt in BOOLEAN_FORMATS)
    offered = {"graph": GRAPH_TYPES, "solutions": RESULTS_TYPES, "boolean": boolean_types}.get(kind)
    offered = offered or RESULTS_TYPES + GRAPH_TYPES
    return "Not acceptable. This answer is offered as: " + ", ".join(offered) + "."


def _body() -> bytes:
    """The request's body, refused (413) beyond max_body_bytes without reading more of it."""
    try:
        return request.get_data()
    except RequestEntityTooLarge:
        raise Refusal(413, f"The request body is larger than {publisher().settings.max_body_bytes} bytes, "
                           "the most this endpoint reads.") from None


def parameters(raw: bytes) -> list[tuple[str, str]]:
    """Decode application/x-www-form-urlencoded parameters, refusing bytes that are not UTF-8 text."""
    decoded = []
    # Latin-1 maps bytes to characters one to one, so the percent-decoded bytes can be checked as UTF-8.
    for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True, encoding="latin-1"):
        name_text = _text(name.encode("latin-1"), "a parameter name")
        decoded.append((name_text, _text(value.encode("latin-1"), f"the '{name_text}' parameter")))
    return decoded


def _text(body: bytes, what: str) -> str:
    """A request body as UTF-8 text, refusing anything else."""
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise Refusal(400, f"{what.capitalize()} must be UTF-8, not UTF-16.")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Refusal(400, f"{what.capitalize()} is not valid UTF-8 (byte {error.start}).") from error
    _check_text(text, what)
    return text


def _check_text(text: str, what: str) -> None:
    if "\x00" in text:
        raise Refusal(400, f"{what.capitalize()} contains a NUL character.")
