"""The remote store: a release published into an existing SPARQL 1.1 store (Oxigraph server,
Virtuoso, any store with the SPARQL 1.1 Protocol and Graph Store Protocol).

Reading goes through SPARQLWrapper. Every query names its dataset explicitly (the release's named
graphs, by `default-graph-uri` and `named-graph-uri`), so the store's own notion of a default
graph does not matter, and graphs being loaded by `publish` are never seen.

`publish` loads a release into staging graphs with the Graph Store Protocol, then moves them
over the published graphs in one SPARQL Update request, which the store applies as one
transaction: readers see the old release or the new one, never half of one.
"""

import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyoxigraph as ox
from rdflib import URIRef
from SPARQLWrapper import DIGEST, POST, SPARQLWrapper, URLENCODED
from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

from ..config import Settings
from ..namespaces import dataset_iri
from . import QueryError, StoreUnavailable
from .embedded import release_files
from .query_text import UnreadableQuery, read_query
from .sparql_store import (
    CATALOGUE_GRAPH,
    DESCRIPTION_GRAPH,
    Answer,
    SparqlStore,
    literals_oxigraph_changes,
    names_a_dataset,
)

# How long the release a store holds is trusted before it is read again (a publish elsewhere
# reaches every worker within this time).
REFRESH_SECONDS = 5.0

RELEASE_QUERY = """PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX void: <http://rdfs.org/ns/void#>
PREFIX sd: <http://www.w3.org/ns/sparql-service-description#>
SELECT ?version ?modified ?triples ?graph WHERE {{
  GRAPH <{description}> {{
    <{dataset}> owl:versionInfo ?version ; dcterms:modified ?modified ; void:triples ?triples .
    OPTIONAL {{ <{dataset}> void:subset/sd:name ?graph }} }} }}"""


@dataclass(frozen=True)
class Endpoints:
    """Where a remote store answers, and how to log in (from the environment only)."""

    query_url: str
    update_url: str
    graph_store_url: str
    user: str = ""
    password: str = ""
    auth: str = "basic"  # or "digest" (Virtuoso)
    timeout: float = 30.0

    def __repr__(self) -> str:  # never show the password in logs or tracebacks
        return f"Endpoints(query_url={self.query_url!r}, update_url={self.update_url!r}, user={self.user!r})"


def endpoints_from(settings: Settings) -> Endpoints:
    """The remote store's endpoints and credentials, from `settings`."""
    return Endpoints(settings.store_query_url, settings.store_update_url, settings.store_graph_store_url,
                     settings.store_user, settings.store_password, settings.store_auth, settings.store_timeout)


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
    `releases_dir` holds the releases' files (dumps, manifest), served from this machine.
    """

    def __init__(self, endpoints: Endpoints, base_iri: str, releases_dir: Path) -> None:
        self.endpoints = endpoints
        self.base_iri = base_iri
        self.releases_dir = releases_dir
        self._release: Release | None = None
        self._read_at = 0.0
        self._written: dict[str, dict] = {}

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
        folder = self.releases_dir / self.version
        if not (folder / "manifest.json").is_file():
            raise StoreUnavailable(f"the store holds release {self.version}, whose files are not in {self.releases_dir}")
        return folder

    @property
    def written_literals(self) -> dict:
        version = self.version
        if version not in self._written:
            folder = self.releases_dir / version
            files = release_files(folder, self.base_iri) if (folder / "manifest.json").is_file() else []
            self._written = {version: literals_oxigraph_changes([(path, fmt) for path, fmt, _ in files])}
        return self._written[version]

    def graph_names(self) -> list[URIRef]:
        return sorted(URIRef(graph) for graph in self._current().graphs)

    def _current(self) -> Release:
        if self._release is None or time.monotonic() - self._read_at > REFRESH_SECONDS:
            self._release = self._read_release()
            self._read_at = time.monotonic()
        return self._release

    def _read_release(self) -> Release:
        description = self.base_iri + DESCRIPTION_GRAPH
        query = RELEASE_QUERY.format(description=description, dataset=dataset_iri(self.base_iri))
        rows = list(self._send(query, [description], [description]))
        if not rows:
            raise StoreUnavailable(f"the store at {self.endpoints.query_url} holds no release of {self.base_iri}: "
                                   "run 'lodpub publish'")
        first = rows[0]
        graphs = {row["graph"].value for row in rows if row["graph"] is not None}
        graphs |= {description}
        if self._send(f"ASK {{ GRAPH <{self.base_iri + CATALOGUE_GRAPH}> {{ ?s ?p ?o }} }}", [], [self.base_iri + CATALOGUE_GRAPH]):
            graphs.add(self.base_iri + CATALOGUE_GRAPH)
        return Release(first["version"].value, datetime.fromisoformat(first["modified"].value.replace("Z", "+00:00")),
                       int(first["triples"].value), tuple(sorted(graphs)))

    # --- queries -----------------------------------------------------------------------------

    def _query(self, query: str, default_graphs: list[str] | None, named_graphs: list[str] | None) -> Answer:
        if default_graphs is None and named_graphs is None and not names_a_dataset(query, self.endpoint_iri):
            default_graphs = named_graphs = list(self._current().graphs)
        return self._send(query, default_graphs, named_graphs)

    def _send(self, query: str, default_graphs: list[str] | None, named_graphs: list[str] | None) -> Answer:
        """Run `query` at the store with this dataset; the answer as Oxigraph terms."""
        form = _form(query, self.endpoint_iri)
        client = self._client(self.endpoints.query_url)
        client.setQuery(query)
        for graph in default_graphs or []:
            client.addParameter("default-graph-uri", graph)
        for graph in named_graphs or []:
            client.addParameter("named-graph-uri", graph)
        graph_answer = form in ("CONSTRUCT", "DESCRIBE")
        client.addCustomHttpHeader("Accept", "application/n-triples" if graph_answer else "application/sparql-results+json")
        body = self._call(client)
        if graph_answer:
            return [quad.triple for quad in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)]
        return ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)

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

    def _call(self, client: SPARQLWrapper) -> bytes:
        try:
            return client.query().response.read()
        except SPARQLWrapperException as error:
            if "400" in str(error) or "QueryBadFormed" in type(error).__name__:
                raise QueryError(_store_message(error)) from error
            raise StoreUnavailable(f"the store at {client.endpoint} failed: {_store_message(error)}") from error
        except (urllib.error.URLError, OSError) as error:
            raise StoreUnavailable(f"the store at {client.endpoint} does not answer: {error}") from error


def publish(release: Path, endpoints: Endpoints) -> str:
    """Load `release` (a folder written by `lodpub build`) into the store and make it the one
    served, atomically. Returns the version published. Raises StoreUnavailable on failure,
    leaving the store's published release as it was."""
    import json

    manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    base_iri, version = manifest["base_iri"], manifest["version"]
    graphs = _graphs_of(release, base_iri)
    staging = {name: f"{base_iri}graph/staging/{version}/{name[len(base_iri + 'graph/'):]}" for name in graphs}
    store = RemoteStore(endpoints, base_iri, release.parent)
    try:
        for name, triples in graphs.items():
            _put_graph(endpoints, staging[name], ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES))
        previous = _published_graphs(store, base_iri)
        moves = [f"MOVE SILENT GRAPH <{staging[name]}> TO GRAPH <{name}>" for name in sorted(graphs)]
        drops = [f"DROP SILENT GRAPH <{name}>" for name in sorted(previous - set(graphs))]
        _update(store, " ;\n".join(drops + moves))
    except BaseException:
        _update(store, " ;\n".join(f"DROP SILENT GRAPH <{graph}>" for graph in staging.values()), quiet=True)
        raise
    return version


def _graphs_of(release: Path, base_iri: str) -> dict[str, list[ox.Triple]]:
    """The release's named graphs and their triples (as `lodpub serve` on the embedded store has them)."""
    graphs: dict[str, list[ox.Triple]] = {}
    for path, rdf_format, graph in release_files(release, base_iri):
        for quad in ox.parse(path=str(path), format=rdf_format):
            name = (graph or quad.graph_name).value
            graphs.setdefault(name, []).append(quad.triple)
    return graphs


def _published_graphs(store: RemoteStore, base_iri: str) -> set[str]:
    try:
        return set(store._read_release().graphs)
    except StoreUnavailable:
        return set()


def _put_graph(endpoints: Endpoints, graph: str, body: bytes) -> None:
    """Replace `graph` with `body` (N-Triples) by the Graph Store Protocol."""
    url = endpoints.graph_store_url + "?" + urllib.parse.urlencode({"graph": graph})
    request = urllib.request.Request(url, data=body, method="PUT", headers={"Content-Type": "application/n-triples"})
    try:
        with _opener(endpoints).open(request, timeout=endpoints.timeout * 10) as response:
            response.read()
    except urllib.error.HTTPError as error:
        raise StoreUnavailable(f"the store refused graph {graph} ({error.code}): {error.read()[:300]!r}") from error
    except (urllib.error.URLError, OSError) as error:
        raise StoreUnavailable(f"the store at {endpoints.graph_store_url} does not answer: {error}") from error


def _update(store: RemoteStore, update: str, quiet: bool = False) -> None:
    if not update:
        return
    client = store._client(store.endpoints.update_url)
    client.setQuery(update)
    try:
        store._call(client)
    except (StoreUnavailable, QueryError):
        if not quiet:
            raise


def _opener(endpoints: Endpoints) -> urllib.request.OpenerDirector:
    if not endpoints.user:
        return urllib.request.build_opener()
    passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    passwords.add_password(None, endpoints.graph_store_url, endpoints.user, endpoints.password)
    handler = (urllib.request.HTTPDigestAuthHandler if endpoints.auth == "digest" else urllib.request.HTTPBasicAuthHandler)
    return urllib.request.build_opener(handler(passwords))


def _form(query: str, base_iri: str) -> str | None:
    try:
        return read_query(query, base_iri).form
    except UnreadableQuery as error:
        raise QueryError(str(error)) from error


def _store_message(error: Exception) -> str:
    """The store's own explanation, without SPARQLWrapper's boilerplate."""
    text = str(error)
    return text.split("Response:\n", 1)[-1].strip()[:500] if "Response:" in text else text[:500]
