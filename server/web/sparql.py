"""The SPARQL 1.1 endpoint (/sparql): the query operation of the SPARQL 1.1 Protocol, read-only,
bounded, and unable to reach anything but our own graphs.

A request is answered in these steps, each of which can refuse it with the right status:
read the protocol request (400, 415; sparql_request.py) -> check the query's size, nesting, SERVICE
calls and graphs (400, 413) -> choose the answer's format (406; sparql_request.py) -> wait in the
queue for a query slot (admission.py; 503 with Retry-After when the queue is full or the wait too
long) -> run the query in a query runner (a child process, limits.py) with a time, memory and
answer size bound (400 for a bad query, 503 when stopped) -> answer, streamed from the file the
runner wrote it to.
`GET /sparql` without a query gives the Service Description, or the query editor to a browser.
"""

import dataclasses
import errno
import os
import threading
from collections.abc import Iterator
from functools import lru_cache, partial
from pathlib import Path
from typing import IO, Any

from flask import Blueprint, Response, current_app, render_template, request

from ..blank_nodes import stable_graph
from ..describe.service_description import service_description
from ..formats import RESULTS_FORMATS
from ..namespaces import CANONICAL_BASE, prefixes_for
from ..store import QueryError, SparqlAnswer, Store
from ..store.engine_store import stop_engines_but
from ..store.query_text import syntax_error
from . import public_base, publisher, store
from .admission import Admission, Busy, Limits, client_of, default_slot_directory
from .answer_files import INLINE_BYTES, AnswerFiles, write_answer
from .compression import accepts_gzip
from .gzip_ahead import answer_gzipped_ahead, sent_body, without_body
from .i18n import current_language
from .jsonld import our_context
from .limits import EngineRunners, QueryCrashed, QueryRunners, QueryTimeout, StillRunning
from .negotiation import HTML, NotAcceptable, accepted_types, choose_format, serialise
from .sparql_answers import NOT_IN_WORKER, in_worker_answer
from .sparql_request import (
    GRAPH_TYPES,
    RESULTS_TYPES,
    ProtocolRequest,
    Refusal,
    acceptable,
    answer_types,
    not_acceptable_message,
    read_protocol_request,
    read_within_limits,
)

blueprint = Blueprint("sparql", __name__)

QUERIES = Path(__file__).resolve().parent.parent / "queries"

# An answer up to this size is sent from memory (and gzipped whole); a larger one streams from its file.
SMALL_ANSWER_BYTES = INLINE_BYTES
STREAM_CHUNK_BYTES = 1 << 20
# How long checking a query's syntax may take (in a runner, when the query cannot run).
CHECK_SECONDS = 5.0


@blueprint.route("/sparql", methods=["GET", "POST"])
def endpoint() -> Response:
    """The query operation (GET, POST form, POST application/sparql-query)."""
    try:
        asked = read_protocol_request()
        if asked.query is None and request.method == "POST":
            raise Refusal(400, "No query: give it in the 'query' parameter, or as an application/sparql-query body.")
        if asked.query is None:
            return describe_service()
        if request.method == "GET" and not asked.formats and _browser_wants_the_editor():
            return editor(asked.query)
        return answer(asked)
    except Refusal as refusal:
        response = Response(refusal.message.rstrip("\n") + "\n", status=refusal.status, mimetype="text/plain")
        response.headers.update(refusal.headers)
        response.vary.add("Accept")
        return response


def answer(asked: ProtocolRequest) -> Response:
    settings = publisher().settings
    shape = read_within_limits(asked.query, store().base_iri, settings, request.environ)
    default_graphs = asked.default_graphs or None
    named_graphs = asked.named_graphs or None
    if default_graphs or named_graphs:
        # The protocol's dataset replaces the query's FROM and FROM NAMED, which then name nothing.
        default_graphs, named_graphs = default_graphs or [], named_graphs or []
        _check_graphs(default_graphs + named_graphs)
    else:
        _check_graphs(shape.default_graphs + shape.named_graphs)
    results_type, graph_type = answer_types(asked.formats, shape.form)
    arguments = (shape, default_graphs, named_graphs, results_type or RESULTS_TYPES[0],
                 graph_type or GRAPH_TYPES[0], settings.sparql_max_rows)
    try:
        in_worker = None if request.environ.get(NOT_IN_WORKER) else in_worker_answer(store(), settings, arguments)
    except QueryError as error:
        raise _refusal(error, shape.text) from error
    answered, answer_file = (in_worker, None) if in_worker is not None else _run_admitted(arguments)
    try:
        if not acceptable(answered, results_type, graph_type):
            raise Refusal(406, not_acceptable_message(answered.kind))
    except Refusal:
        if answer_file is not None:
            answer_file.close()
        raise
    if answer_file is None:
        response = Response(sent_body(answered), mimetype=answered.media_type)
        response.gzipped = answered.gzipped  # (compression.compress sends it when it would gzip the body)
    else:
        response = _answer_response(answer_file, answered.media_type)
    response.per_request = True  # (compression.py: gzipped as what is made for this query alone)
    response.vary.add("Accept")
    if answered.truncated:
        response.headers["X-SPARQL-Truncated"] = "true"
        response.headers["X-SPARQL-Max-Rows"] = str(settings.sparql_max_rows)
    return response


def _run_admitted(arguments: tuple) -> tuple[SparqlAnswer, IO[bytes] | None]:
    """Run the query (`arguments` of Store.sparql) once admitted: its answer, and the open file
    holding its body when it was too large to come back with it (answer_files.py). An express slot
    that the query outlasts sends it back to the queue."""
    answer_file, path = _answer_files().take()
    try:
        # Gzipped ahead in a runner of this worker's when the client takes gzip (not on the shared engine).
        gzip_ahead = isinstance(_runners(), QueryRunners) and accepts_gzip(request.headers.get("Accept-Encoding", ""))
        answered, in_file = _run_in_a_slot(("answer", path, gzip_ahead, *arguments))
    except BaseException as error:
        _answer_files().give_back(answer_file)
        raise _refusal(error, arguments[0].text) from error
    if in_file:
        return answered, answer_file
    _answer_files().give_back(answer_file)
    return answered, None


def _run_in_a_slot(runner_arguments: tuple) -> Any:
    """What the runner gives for `runner_arguments`, run in an express slot if one is free and the
    query is cheap, else in a slot of its own."""
    settings, client = publisher().settings, client_of(request.remote_addr)
    with _admission().slot(client) as lane:
        query = _runners().start(runner_arguments, settings.sparql_timeout)
        if not lane.express:
            return query.answer()
        try:
            return query.answer(within=lane.seconds)
        except StillRunning:
            pass  # not a cheap query: it waits for a slot of its own (on the shared engine, running on)
    try:
        with _admission().slot(client, express=False):
            return query.answer()
    except Busy:
        query.abandon()
        raise


def _refusal(error: BaseException, query: str) -> BaseException:
    """The refusal that tells the client why its query got no answer (`error` itself if it is no refusal)."""
    settings = publisher().settings
    if isinstance(error, Busy):
        # Told "busy", the client would only try again: a query that cannot run is told why now.
        problem = _syntax_problem(query)
        if problem:
            return Refusal(400, f"The query is not valid SPARQL 1.1: {problem}")
        return Refusal(503, str(error), {"Retry-After": str(error.retry_after)})
    if isinstance(error, QueryTimeout) or (isinstance(error, QueryCrashed) and error.cause == "time"):
        return Refusal(503, f"The query ran longer than {settings.sparql_timeout:g} s and was stopped. "
                            "Make it more selective (LIMIT, more specific patterns).")
    if isinstance(error, QueryCrashed) and error.cause == "memory":
        return Refusal(503, f"The query needed more than {settings.sparql_max_memory_mb} MB and was stopped.")
    if isinstance(error, QueryCrashed) and error.cause == "stack":
        return Refusal(400, "The query is too deeply nested for the query engine, which stopped on it. "
                            "Write it with fewer nested expressions, paths or groups.")
    if isinstance(error, QueryCrashed):
        return Refusal(503, "The query engine stopped on this query without an answer. It has been logged.")
    if isinstance(error, QueryError):
        return Refusal(400, f"The query is not valid SPARQL 1.1 or cannot be evaluated: {error}")
    if isinstance(error, OSError) and error.errno == errno.EFBIG:
        return Refusal(503, f"The answer is larger than {settings.sparql_max_answer_mb} MB. "
                            "Ask for less (LIMIT, fewer variables), or for a dump of the dataset.")
    if isinstance(error, OSError):
        return Refusal(503, f"The answer could not be written ({error.strerror}). Try again later.",
                       {"Retry-After": "30"})
    return error


def _syntax_problem(query: str) -> str | None:
    """What the engine's parser finds wrong with `query` (in a runner, as untrusted text never is
    parsed here), or None when it parses, or cannot be checked now."""
    try:
        return _runners().run(("check", query, store().base_iri + "sparql"), CHECK_SECONDS)
    except QueryCrashed as crash:
        return "the query is too deeply nested for the query engine" if crash.cause == "stack" else None
    except (QueryTimeout, OSError):
        return None


def _answer_response(answer_file: IO[bytes], media_type: str) -> Response:
    """The answer in `answer_file`, as the store gave it: from memory when small, else streamed."""
    if os.fstat(answer_file.fileno()).st_size <= SMALL_ANSWER_BYTES:
        with answer_file:
            return Response(answer_file.read(), mimetype=media_type)
    response = Response(_chunks(answer_file), mimetype=media_type)
    # Else werkzeug reads the whole stream into memory to count its length (make_conditional).
    response.implicit_sequence_conversion = False
    return response


def _chunks(answer_file: IO[bytes]) -> Iterator[bytes]:
    """The file's bytes in chunks; the file is closed at the end, or when the client goes away."""
    with answer_file:
        while chunk := answer_file.read(STREAM_CHUNK_BYTES):
            yield chunk


def in_runner(store: Store, operation: str, *arguments: Any) -> Any:
    """What a query runner does: "answer" a query (Store.sparql's arguments after the path of the
    file a large body is written to, and whether to gzip it, gzip_ahead.py): the
    answer, and whether its body is in the file (then it comes back without it, as it does when the worker
    needs only its gzip: gzip_ahead.without_body); or "check" one's syntax."""
    if operation == "check":
        return syntax_error(*arguments)
    path, gzip_ahead, *query_arguments = arguments
    answered = answer_gzipped_ahead(store.sparql, query_arguments) if gzip_ahead else store.sparql(*query_arguments)
    if write_answer(path, answered.body):
        return dataclasses.replace(answered, body=b"", gzipped=None), True
    return without_body(answered), False


_PROCESS_LOCK = threading.Lock()


def _runners() -> QueryRunners | EngineRunners:
    """The query runners of this process for the app's store, made on its first query: the shared
    engine's, when it holds the store."""
    extensions = current_app.extensions
    with _PROCESS_LOCK:
        if "lodpub.query_runners" not in extensions and hasattr(store(), "engine"):
            extensions["lodpub.query_runners"] = EngineRunners(store().engine, in_runner)
        if "lodpub.query_runners" not in extensions:
            settings = publisher().settings
            # The machine's slots shared among the worker processes: more idle runners would only hold memory.
            keep = max(1, -(-(settings.sparql_slots + settings.sparql_express_slots) // settings.workers))
            extensions["lodpub.query_runners"] = QueryRunners(
                partial(in_runner, store()), settings.sparql_max_memory_mb * 1024 * 1024, keep,
                file_bytes=settings.sparql_max_answer_mb * 1024 * 1024)
        return extensions["lodpub.query_runners"]


def retire_runners() -> None:
    """Stop this process's query runners: they hold the store they were forked with, and the app now
    serves another (the editor published or rolled back a release in process)."""
    with _PROCESS_LOCK:
        runners = current_app.extensions.pop("lodpub.query_runners", None)
    if runners is not None:
        runners.stop()
    if hasattr(store(), "engine"):  # the engines this process started for the releases it served before
        stop_engines_but([store().release])


def _answer_files() -> AnswerFiles:
    """This process's empty answer files, in the admission's folder."""
    extensions, directory = current_app.extensions, _admission().directory  # (which takes the lock itself)
    with _PROCESS_LOCK:
        if "lodpub.answer_files" not in extensions:
            extensions["lodpub.answer_files"] = AnswerFiles(directory)
        return extensions["lodpub.answer_files"]


def _admission() -> Admission:
    """The admission of this server's queries (shared with its other workers)."""
    extensions = current_app.extensions
    with _PROCESS_LOCK:
        if "lodpub.admission" not in extensions:
            settings = publisher().settings
            extensions["lodpub.admission"] = Admission(default_slot_directory(str(settings.output_dir)), Limits(
                slots=settings.sparql_slots,
                per_client=settings.sparql_slots_per_client or max(1, settings.sparql_slots - 1),
                queue_length=settings.sparql_queue_length, wait_seconds=settings.sparql_queue_seconds,
                express_slots=settings.sparql_express_slots, express_seconds=settings.sparql_express_seconds))
        return extensions["lodpub.admission"]


def describe_service() -> Response:
    """The Service Description (RDF by negotiation), or the query editor for a browser."""
    try:
        fmt = choose_format(request)
    except NotAcceptable:
        raise Refusal(406, "The Service Description is offered as text/html, text/turtle, application/ld+json, "
                           "application/rdf+xml and application/n-triples.") from None
    if fmt is HTML:
        return editor(None)
    # Its blank nodes labelled, and triples ordered, the same in every process (blank_nodes.py).
    graph = stable_graph(_service_graph(store().version, store().base_iri))
    response = Response(serialise(graph, fmt, public_base(), our_context(public_base())), mimetype=fmt.media_type)
    response.vary.add("Accept")
    return response


def editor(query: str | None) -> Response:
    """The query editor (YASGUI), with the examples, our prefixes, and `query` to run at once."""
    language = current_language()
    prefixes = prefixes_for(public_base())
    page = render_template("sparql.html", examples=examples(language), prefixes=prefixes,
                           initial_query=query, default_query=default_query(prefixes),
                           answer_formats=[fmt.key for fmt in RESULTS_FORMATS])
    return Response(page, mimetype="text/html")


def default_query(prefixes: dict[str, str]) -> str:
    """The query the editor and the plain form start with: our prefixes and the partnerships' labels."""
    prologue = "\n".join(f"PREFIX {prefix}: <{namespace}>" for prefix, namespace in prefixes.items())
    return (f"{prologue}\n\nSELECT ?partnership ?label WHERE {{\n  ?partnership a rp:Partnership ; rdfs:label ?label .\n}}\n"
            "LIMIT 25\n")


def _browser_wants_the_editor() -> bool:
    """A browser that opens /sparql?query=... gets the editor running the query, not a file."""
    accepted = accepted_types(request)
    listed = {value for value, quality in accepted if quality > 0}
    best = accepted.best_match(["text/html", *RESULTS_TYPES, *GRAPH_TYPES])
    return "text/html" in listed and best == "text/html"


@lru_cache(maxsize=4)
def _service_graph(version: str, base_iri: str):
    settings = publisher().settings
    sizes = {str(row["g"]): int(row["n"]) for row in store().select(
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")}
    limits = {"timeout (s)": settings.sparql_timeout, "rows": settings.sparql_max_rows,
              "query bytes": settings.sparql_max_query_bytes, "nesting": settings.sparql_max_nesting}
    return service_description(base_iri + "sparql", base_iri, sizes, limits)


def examples(language: str) -> list[dict[str, str]]:
    """The competency questions as titled example queries, in `language` and with our base."""
    found = []
    for path in sorted(QUERIES.glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        titles = dict(line[2:].split(": ", 1) for line in text.splitlines()[:2])
        found.append({"name": path.stem, "title": titles[language], "query": in_language(text, language)})
    return found


def competency_question(name: str, language: str) -> str:
    """The competency question whose file name starts with `name` ("12"), as the examples offer it."""
    (path,) = QUERIES.glob(f"{name}-*.rq")
    return in_language(path.read_text(encoding="utf-8"), language)


def in_language(text: str, language: str) -> str:
    """A competency question with our base, its labels in `language` (the files ask for English)."""
    body = text.replace(CANONICAL_BASE, public_base())  # our examples, written for the canonical base
    return body.replace('"en")', '"cs")') if language == "cs" else body


def _check_graphs(graphs: list[str]) -> None:
    """Every graph a query or its dataset names must be one of ours: nothing is loaded from elsewhere."""
    if not graphs:
        return
    ours = {str(name) for name in store().graph_names()}
    # "?" is a FROM the reader could not resolve (say, an undeclared prefix): the engine's parser
    # refuses that query with the exact place of the mistake, before anything runs.
    unknown = sorted({graph for graph in graphs if graph not in ours and graph != "?"})
    if unknown:
        listed = ", ".join(f"<{name}>" for name in sorted(ours))
        raise Refusal(400, f"Graph <{unknown[0]}> is not in this dataset (nothing is loaded from "
                           f"the web). Its graphs are: {listed}.")
