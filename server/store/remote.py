"""The remote store: a release published into an existing SPARQL 1.1 store (tested with Oxigraph
server and Virtuoso open source; any store with the SPARQL 1.1 Protocol and Graph Store Protocol).

Reading goes through SPARQLWrapper. Every query travels with its dataset as protocol parameters
(`default-graph-uri`, `named-graph-uri`: the release's graphs, or the graphs the query's FROM names),
never in its text, so the store's own idea of a default graph does not matter and graphs being
loaded by `publish` are never seen.

`publish` (publish.py) loads a release and switches to it under publication marks, single triples
in `{base}graph/publication`: a reader looks at them after each query (and before, or uses its last
look), and asks again if a switch was under way or happened in between, so it sees one release or
the other on every store.

What the adapter absorbs of Virtuoso (7.2): ASK answered as a one-row SELECT, JSON results with
"typed-literal" terms and blank nodes named `nodeID://...`, relative IRIs left unresolved (the
query is sent with the endpoint's BASE), FROM merged with the protocol's dataset (FROM is blanked
out of the text: its graphs go as parameters), no named graphs meaning every graph (an empty list
goes as one graph that does not exist), DESCRIBE including the triples that point at the resource
(`define sql:describe-mode "CBD"`), syntax errors without a position (the query is parsed here
for the message), and `POST application/sparql-query` hanging (queries go form-encoded). Not
absorbed: Virtuoso's default graph of several graphs is not their merge, so a triple two graphs
hold (the country labels are in the data and in the catalogue record) comes twice in a SELECT
answer; documents keep each triple once.
Virtuoso also cuts every answer at `ResultSetMaxRows` of its virtuoso.ini ([SPARQL], 10 000 by
default), silently for CONSTRUCT: set it above LODPUB_SPARQL_MAX_ROWS and above the largest
document; a SELECT it cut is refused here (its `X-SPARQL-MaxRows` header) rather than served short.
"""

import ast
import json
import logging
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import pyoxigraph as ox
from rdflib import URIRef
from SPARQLWrapper import DIGEST, POST, URLENCODED, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

from ..namespaces import dataset_iri
from . import QueryError, StoreUnavailable
from .embedded import release_files
from .endpoints import Endpoints
from .query_text import QueryText, UnreadableQuery, read_query
from .sparql_store import (
    CATALOGUE_GRAPH,
    DESCRIPTION_GRAPH,
    Answer,
    SparqlStore,
    literals_oxigraph_changes,
)

# How long the release a store holds is trusted before it is read again (a publish elsewhere
# reaches every worker within this time).
REFRESH_SECONDS = 5.0
# How long a reader waits for a publish to finish switching releases before answering 503.
SWITCH_WAIT_SECONDS = 10.0

PUBLICATION_GRAPH = "graph/publication"
SWITCHING = "urn:x-lodpub:switching"
SWITCHED = "urn:x-lodpub:switched"
# Stands for "no graph" in a dataset parameter: an absent parameter means "every graph" to some stores.
NO_GRAPH = "urn:x-lodpub:no-graph"

RELEASE_QUERY = """PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX void: <http://rdfs.org/ns/void#>
PREFIX sd: <http://www.w3.org/ns/sparql-service-description#>
SELECT ?version ?modified ?triples ?graph WHERE {{
  <{dataset}> owl:versionInfo ?version ; dcterms:modified ?modified ; void:triples ?triples .
  OPTIONAL {{ <{dataset}> void:subset/sd:name ?graph }} }}"""
MARKS_QUERY = "SELECT ?mark ?publish WHERE {{ GRAPH <{graph}> {{ <{graph}> ?mark ?publish }} }}"

T = TypeVar("T")
_log = logging.getLogger(__name__)
# The publication marks a reader saw: (mark, publish) pairs.
Marks = frozenset[tuple[str, str]]
# What a health check asks a store: the cheapest query there is.
TRIVIAL_QUERY = "ASK {}"


@dataclass(frozen=True)
class Release:
    """What the store says of the release it holds."""

    version: str
    built_at: datetime
    triple_count: int
    graphs: tuple[str, ...]


class RemoteStore(SparqlStore):
    """The release held by a remote SPARQL store, for base IRI `base_iri`.

    Nothing is asked of the store until a request needs it, so the server starts while the store
    is down and recovers when it returns; meanwhile every request gets StoreUnavailable.
    `releases_dir` holds the releases' files (dumps, manifest), served from this machine as
    `public_copy(release folder)` gives them: mapped to `base_iri`, the server's public base.
    A store that holds a release published under another base is refused (503), never rewritten.
    """

    def __init__(self, endpoints: Endpoints, base_iri: str, releases_dir: Path,
                 public_copy: Callable[[Path], Path] = lambda folder: folder) -> None:
        self.endpoints = endpoints
        self.base_iri = base_iri
        self.releases_dir = releases_dir
        self.public_copy = public_copy
        self._release: Release | None = None
        self._read_at = 0.0
        self._marks: Marks | None = None
        self._virtuoso = False  # learnt from the store's answers
        self._written: dict[str, dict] = {}
        self._folders: dict[str, Path] = {}  # {version: its folder as published}, found once

    # --- the release it holds ----------------------------------------------------------------

    @property
    def version(self) -> str:
        return self._current().version

    @property
    def built_at(self) -> datetime:
        return self._current().built_at

    @property
    def triple_count(self) -> int:
        return self._current().triple_count

    @property
    def release(self) -> Path:
        """The folder of the current release's files on this machine."""
        version = self.version
        if version not in self._folders:
            folder = self.releases_dir / version
            if not (folder / "manifest.json").is_file():
                raise StoreUnavailable(f"the store holds release {version}, whose files are not in {self.releases_dir}")
            self._folders = {version: self.public_copy(folder)}  # (reading its manifest each time cost every request)
        return self._folders[version]

    @property
    def written_literals(self) -> dict:
        version = self.version
        if version not in self._written:
            folder = self.release if (self.releases_dir / version / "manifest.json").is_file() else None
            files = release_files(folder, self.base_iri) if folder else []
            self._written = {version: literals_oxigraph_changes([(path, fmt) for path, fmt, _ in files])}
        return self._written[version]

    def graph_names(self) -> list[URIRef]:
        return sorted(URIRef(graph) for graph in self._current().graphs)

    def _current(self) -> Release:
        release = self._release
        if release is None or time.monotonic() - self._read_at > REFRESH_SECONDS:
            release = self._consistently(self._read_release)
            self._release, self._read_at = release, time.monotonic()
        return release

    def _read_release(self) -> Release:
        # Run on the release's descriptions: the VoID, and the catalogue record, which holds the
        # dataset's version and date when there is one (no two graphs share a triple).
        description, catalogue = self.base_iri + DESCRIPTION_GRAPH, self.base_iri + CATALOGUE_GRAPH
        query = RELEASE_QUERY.format(dataset=dataset_iri(self.base_iri))
        rows = list(self._send(query, [description, catalogue], []))
        if any(None in (row["version"], row["modified"], row["triples"]) for row in rows):
            raise _TornRead()
        if not rows:
            raise self._no_release()
        first = rows[0]
        graphs = {row["graph"].value for row in rows if row["graph"] is not None}
        graphs |= {description}
        if self._send(f"ASK {{ GRAPH <{catalogue}> {{ ?s ?p ?o }} }}", [], [catalogue]):
            graphs.add(catalogue)
        return Release(first["version"].value, datetime.fromisoformat(first["modified"].value.replace("Z", "+00:00")),
                       int(first["triples"].value), tuple(sorted(graphs)))

    def _no_release(self) -> StoreUnavailable:
        """Why the store holds no release under this server's public base: nothing published, or a
        release published under another base (logged: the operator must publish it again)."""
        others = [base for base in self._published_bases() if base != self.base_iri]
        if not others:
            return StoreUnavailable(f"the store at {self.endpoints.query_url} holds no release of {self.base_iri}: "
                                    "run 'lodpub publish'")
        message = (f"the store at {self.endpoints.query_url} holds a release published under {others[0]}, but this "
                   f"server publishes under {self.base_iri}: run 'lodpub publish' with LODPUB_PUBLIC_BASE="
                   f"{self.base_iri}, or serve with LODPUB_PUBLIC_BASE={others[0]}")
        _log.error("%s", message)
        return StoreUnavailable(message)

    def _published_bases(self) -> list[str]:
        """The bases of the releases `publish` put into the store (by their publication marks)."""
        query = f"SELECT DISTINCT ?graph WHERE {{ GRAPH ?graph {{ ?graph <{SWITCHED}> ?publish }} }}"
        client = self._client(self.endpoints.query_url)
        client.setQuery(query)  # over every graph: no dataset is given
        client.addCustomHttpHeader("Accept", "application/sparql-results+json")
        rows = ox.parse_query_results(_standard_json(self._call(client, query), "SELECT"),
                                      format=ox.QueryResultsFormat.JSON)
        graphs = [row["graph"].value for row in rows if row["graph"] is not None]
        return sorted(graph[:-len(PUBLICATION_GRAPH)] for graph in graphs if graph.endswith(PUBLICATION_GRAPH))

    # --- one release at a time, while publishes switch it --------------------------------------

    def _consistently(self, read: Callable[[], T]) -> T:
        """`read()` of one release: done between two looks at the publication marks that find no
        switch under way and nothing changed (the first look may be the last one made), else
        again, for up to SWITCH_WAIT_SECONDS."""
        deadline = time.monotonic() + SWITCH_WAIT_SECONDS
        before = self._marks if self._marks is not None else self._read_marks()
        while time.monotonic() < deadline:
            if _switching(before):
                time.sleep(0.1)
                before = self._marks = self._read_marks()
                continue
            try:
                answer = read()
            except _TornRead:  # certainly a switch under way: the marks will say so, or have changed
                answer = _TornRead
            after = self._marks = self._read_marks()
            if after == before and answer is not _TornRead:
                return answer
            self._release = None  # a publish came in between: its release may have other graphs
            before = after
        raise StoreUnavailable(f"a publish is switching the store at {self.endpoints.query_url} to another "
                               f"release ({', '.join(_switches(before))}); if it stopped, run 'lodpub publish' again")

    def _read_marks(self) -> Marks:
        graph = self.base_iri + PUBLICATION_GRAPH
        rows = list(self._send(MARKS_QUERY.format(graph=graph), [graph], [graph]))
        if any(None in (row["mark"], row["publish"]) for row in rows):
            return frozenset({(SWITCHING, "a switch caught half-way")})
        return frozenset((row["mark"].value, row["publish"].value) for row in rows)

    # --- queries -----------------------------------------------------------------------------

    def _query(self, query: str | QueryText, default_graphs: list[str] | None,
               named_graphs: list[str] | None) -> Answer:
        read = self._read(query)
        return self._consistently(lambda: self._send(read, *self._dataset(read, default_graphs, named_graphs)))

    def _read(self, query: str | QueryText) -> QueryText:
        """What `query` says: as the endpoint read it, or read now (our own queries), or QueryError."""
        if isinstance(query, QueryText):
            return query
        try:
            return read_query(query, self.endpoint_iri)
        except UnreadableQuery as error:
            raise QueryError(str(error)) from error

    def _dataset(self, query: QueryText, default_graphs: list[str] | None,
                 named_graphs: list[str] | None) -> tuple[list[str], list[str]]:
        """The graphs a query runs on: the protocol's, else those its FROM names, else the release's."""
        if default_graphs is not None or named_graphs is not None:
            return default_graphs or [], named_graphs or []
        if "?" in query.default_graphs + query.named_graphs:  # FROM without a graph we can name
            raise _syntax_error(query.text, self.endpoint_iri, "FROM must name a graph by its IRI")
        if query.names_a_dataset:
            return query.default_graphs, query.named_graphs
        graphs = list(self._current().graphs)
        return graphs, graphs

    def _send(self, query: str | QueryText, default_graphs: list[str], named_graphs: list[str]) -> Answer:
        """Run `query` at the store on this dataset; the answer as Oxigraph terms."""
        query = self._read(query)
        form = query.form
        client = self._client(self.endpoints.query_url)
        client.setQuery(self._as_sent(query))
        for graph in default_graphs or [NO_GRAPH]:
            client.addParameter("default-graph-uri", graph)
        for graph in named_graphs or [NO_GRAPH]:
            client.addParameter("named-graph-uri", graph)
        graph_answer = form in ("CONSTRUCT", "DESCRIBE")
        client.addCustomHttpHeader("Accept", "application/n-triples" if graph_answer
                                   else "application/sparql-results+json")
        body = self._call(client, query.text)
        try:
            if graph_answer:
                return [quad.triple for quad in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)]
            return ox.parse_query_results(_standard_json(body, form), format=ox.QueryResultsFormat.JSON)
        except (SyntaxError, ValueError) as error:
            raise StoreUnavailable(f"the store at {client.endpoint} gave an unreadable answer: {error}") from error

    def _as_sent(self, query: QueryText) -> str:
        """The text the store gets: its relative IRIs resolved against the endpoint (BASE), its
        FROM clauses blanked (the dataset goes as parameters), and for Virtuoso, DESCRIBE as the
        Concise Bounded Description that Oxigraph gives."""
        pragma = 'define sql:describe-mode "CBD" ' if self._virtuoso and query.form == "DESCRIBE" else ""
        return pragma + _text_to_send(query, self.endpoint_iri)

    def check_answers(self, timeout: float) -> None:
        """Raise StoreUnavailable unless the store answers a trivial query within `timeout` seconds
        (for a health check: it does not wait for the store's usual timeout)."""
        client = self._client(self.endpoints.query_url)
        client.setTimeout(max(1, round(timeout)))
        client.setQuery(TRIVIAL_QUERY)
        try:
            self._call(client, TRIVIAL_QUERY)
        except QueryError:
            pass  # a store that finds fault with the query has answered

    def _client(self, url: str) -> SPARQLWrapper:
        client = SPARQLWrapper(url)
        client.setMethod(POST)
        client.setRequestMethod(URLENCODED)  # Virtuoso hangs on POST application/sparql-query
        client.setOnlyConneg(True)
        client.setTimeout(int(self.endpoints.timeout))
        if self.endpoints.user:
            client.setHTTPAuth(DIGEST if self.endpoints.auth == "digest" else "BASIC")
            client.setCredentials(self.endpoints.user, self.endpoints.password)
        return client

    def _call(self, client: SPARQLWrapper, query: str | None = None) -> bytes:
        """The body of the store's answer to `client`'s request (which sends `query`, if a query)."""
        try:
            response = client.query().response
            body = response.read()
        except SPARQLWrapperException as error:
            message = _store_message(error)
            if "400" in str(error) or "QueryBadFormed" in type(error).__name__:
                error_of_query = _syntax_error(query, self.endpoint_iri, message) if query else QueryError(message)
                raise error_of_query from error
            raise StoreUnavailable(f"the store at {client.endpoint} failed: {message}") from error
        except (urllib.error.URLError, OSError) as error:
            raise StoreUnavailable(f"the store at {client.endpoint} does not answer: {error}") from error
        self._virtuoso = self._virtuoso or response.headers.get("Server", "").startswith("Virtuoso")
        if cut_at := response.headers.get("X-SPARQL-MaxRows"):
            raise StoreUnavailable(f"the store at {client.endpoint} cut its answer at {cut_at} rows: raise "
                                   "ResultSetMaxRows in its virtuoso.ini above LODPUB_SPARQL_MAX_ROWS")
        return body


# --- what the store's answers and messages mean ---------------------------------------------------


def _text_to_send(query: QueryText, base: str) -> str:
    """The query's text with its FROM and FROM NAMED clauses blanked out (the dataset goes as
    parameters), and its relative IRIs made resolvable: its BASE declarations made absolute, or
    `base` declared before it (Virtuoso refuses a second BASE, and resolves nothing by itself)."""
    text = list(query.text)
    for start, end in query.dataset_clauses:
        text[start:end] = " " * (end - start)  # in place: the positions of the rest stay
    if not query.base_declarations:
        return f"BASE <{base}> " + "".join(text)
    for start, end, absolute in reversed(query.base_declarations):
        text[start:end] = f"<{absolute}>"
    return "".join(text)


def _syntax_error(query: str, base_iri: str, store_message: str) -> QueryError:
    """The error of a query the store refused: Oxigraph's parser says where the query is wrong
    (as the embedded store does); if it finds nothing wrong, the store's message."""
    try:
        ox.Store().query(query, base_iri=base_iri)  # an empty store: parsing is the whole work
    except SyntaxError as error:
        return QueryError(str(error))
    except Exception:  # evaluation errors say nothing of the syntax
        pass
    return QueryError(store_message)


def _standard_json(body: bytes, form: str | None) -> bytes:
    """SPARQL JSON results as the standard writes them, from what Virtuoso writes: an ASK
    answered as one row with one value, "typed-literal" terms, blank nodes named nodeID://..."""
    results = json.loads(body)
    if form == "ASK" and "boolean" not in results:
        row = next(iter(results.get("results", {}).get("bindings", [])), {})
        value = next(iter(row.values()), {}).get("value", "0")
        return json.dumps({"head": {}, "boolean": value in ("1", "true")}).encode()
    for row in results.get("results", {}).get("bindings", []):
        for term in row.values():
            if term.get("type") == "typed-literal":
                term["type"] = "literal"
            elif term.get("type") == "bnode":
                term["value"] = re.sub(r"\W", "_", term["value"].removeprefix("nodeID://"))
    return json.dumps(results).encode()


def _store_message(error: Exception) -> str:
    """The store's own explanation, without SPARQLWrapper's boilerplate nor the query it echoes."""
    text = str(error)
    if "Response:" not in text:
        return text[:500]
    answer = text.split("Response:\n", 1)[-1].strip()
    if answer.startswith(("b'", 'b"')):  # SPARQLWrapper shows the body as bytes
        try:
            answer = ast.literal_eval(answer).decode("utf-8", "replace")
        except (ValueError, SyntaxError):
            pass
    return answer.split("\n\nSPARQL query:", 1)[0].strip()[:500]


class _TornRead(Exception):
    """An answer with a required value missing: a store that commits row by row (Virtuoso) was
    read in the middle of a switch."""


def _switches(marks: Marks) -> list[str]:
    """The publishes whose switch is under way (or stopped half-way)."""
    return sorted(publish for mark, publish in marks if mark == SWITCHING)


def _switching(marks: Marks) -> bool:
    return bool(_switches(marks))
