"""Publishing a release into a remote store, so that lodpub's readers see one release or the other.

`publish` loads a release into staging graphs with the Graph Store Protocol, then moves them over
the published graphs in one SPARQL Update request. Oxigraph applies that request as one
transaction; Virtuoso does not (its readers, at READ COMMITTED, see a commit row by row, and a
failed request keeps what it did). So the switch is also fenced by publication marks, single
triples in `{base}graph/publication` that every store adds or removes at once: "switching" before
the move, "switched" after it. A reader (remote.RemoteStore) looks at the marks after each query
(and before, or uses its last look): if a switch was under way or happened in between, it asks
again. Readers of lodpub therefore see one release or the other on every store; other clients of a
Virtuoso store may see a mix while a publish switches. A large graph sent in one request deadlocks
Virtuoso, so graphs go in parts of CHUNK_TRIPLES.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from . import QueryError, StoreUnavailable
from .embedded import DATA_DUMP, description_quads, has_blank_node
from .endpoints import Endpoints, send_graph
from .manifest import load_manifest
from .remote import PUBLICATION_GRAPH, SWITCHED, SWITCHING, RemoteStore
from .sparql_store import StoredForm

# Triples sent in one Graph Store request: Virtuoso deadlocks on one transaction of ~170 000.
CHUNK_TRIPLES = 20_000


def publish(release: Path, endpoints: Endpoints) -> str:
    """Load `release` (a folder written by `lodpub build`) into the store and make it the one
    served, atomically for lodpub's readers (see the module's docstring). Returns the version
    published. Raises ManifestError when the release's manifest is damaged, StoreUnavailable on
    failure: the published release is left as it was, unless the move itself failed, which the
    publication mark then tells every reader."""
    manifest = load_manifest(release)  # a damaged one: a ManifestError saying what is wrong
    base_iri, version = manifest["base_iri"], manifest["version"]
    blank_node_triples = _blank_node_triples(release, base_iri)
    graphs = list(blank_node_triples)
    staging = {name: f"{base_iri}graph/staging/{version}/{name[len(base_iri + 'graph/'):]}" for name in graphs}
    store = RemoteStore(endpoints, base_iri, release.parent)
    marks = _PublicationMarks(base_iri + PUBLICATION_GRAPH, f"{version} at {datetime.now(UTC).isoformat()}")
    moving = False
    try:
        _load_graphs(endpoints, release, base_iri, staging, blank_node_triples)
        previous = _published_graphs(store, base_iri)
        _update(store, marks.insert(SWITCHING))
        moving = True
        moves = [f"MOVE SILENT GRAPH <{staging[name]}> TO GRAPH <{name}>" for name in sorted(graphs)]
        drops = [f"DROP SILENT GRAPH <{name}>" for name in sorted(previous - set(graphs))]
        _update(store, " ;\n".join(drops + moves))
        _update(store, marks.insert(SWITCHED))
    except BaseException:
        _update(store, " ;\n".join(f"DROP SILENT GRAPH <{graph}>" for graph in staging.values()), quiet=True)
        if not moving:  # nothing was switched: readers need not wait
            _update(store, marks.delete(SWITCHING), quiet=True)
        raise
    _update(store, marks.delete_others())
    return version


@dataclass(frozen=True)
class _PublicationMarks:
    """The SPARQL Updates that set and clear one publish's marks in `graph`; each mark is one
    triple, which every store adds or removes at once."""

    graph: str
    publish: str

    def insert(self, mark: str) -> str:
        return f"INSERT DATA {{ {self._quad(mark)} }}"

    def delete(self, mark: str) -> str:
        return f"DELETE DATA {{ {self._quad(mark)} }}"

    def _quad(self, mark: str) -> str:
        return f"GRAPH <{self.graph}> {{ <{self.graph}> <{mark}> {json.dumps(self.publish)} }}"

    def delete_others(self) -> str:
        """Every mark but this publish's "switched" (a stopped publish's "switching" included)."""
        return (f"DELETE {{ GRAPH <{self.graph}> {{ <{self.graph}> ?mark ?publish }} }} "
                f"WHERE {{ GRAPH <{self.graph}> {{ <{self.graph}> ?mark ?publish "
                f"FILTER (?mark != <{SWITCHED}> || ?publish != {json.dumps(self.publish)}) }} }}")


def _release_triples(release: Path, base_iri: str) -> Iterator[tuple[str, ox.Triple]]:
    """Each triple of the release with the named graph it is in (as `lodpub serve` on the embedded
    store has them: no two graphs share a triple), the data read from its file as it goes."""
    # The data graphs are too large to hold, the descriptions small: note which of the descriptions'
    # triples the data holds while it goes by (compared as a store keeps them, see StoredForm).
    stored = StoredForm()
    described = {stored.of_triple(quad.triple) for quad in description_quads(release, base_iri, lambda triple: False)}
    described_pairs = {(triple.subject, triple.predicate) for triple in described}
    in_data: set[ox.Triple] = set()
    for quad in ox.parse(path=str(release / DATA_DUMP), format=ox.RdfFormat.N_QUADS):
        if (quad.subject, quad.predicate) in described_pairs and (key := stored.of_triple(quad.triple)) in described:
            in_data.add(key)
        yield quad.graph_name.value, quad.triple
    for quad in description_quads(release, base_iri, in_data.__contains__):
        yield quad.graph_name.value, quad.triple


def _blank_node_triples(release: Path, base_iri: str) -> dict[str, list[ox.Triple]]:
    """{named graph of the release: its triples that hold a blank node}, for every graph in it."""
    found: dict[str, list[ox.Triple]] = {}
    for name, triple in _release_triples(release, base_iri):
        kept = found.setdefault(name, [])
        if has_blank_node(triple):
            kept.append(triple)
    return found


def _published_graphs(store: RemoteStore, base_iri: str) -> set[str]:
    try:
        return set(store._read_release().graphs)
    except StoreUnavailable:
        return set()


def _load_graphs(endpoints: Endpoints, release: Path, base_iri: str, staging: dict[str, str],
                 blank_node_triples: dict[str, list[ox.Triple]]) -> None:
    """Replace each staging graph with its graph's triples by the Graph Store Protocol, in parts of
    CHUNK_TRIPLES read from the files as they go (a release of millions of triples is never held
    whole): a PUT, then POSTs that add to it. Blank nodes are named afresh in each request, so every
    triple with one goes in a graph's first part."""
    parts: dict[str, list[ox.Triple]] = {name: [] for name in staging}
    sent: set[str] = set()

    def send(name: str) -> None:
        first = name not in sent
        part = (blank_node_triples[name] if first else []) + parts[name]
        send_graph(endpoints, staging[name], "PUT" if first else "POST", ox.serialize(part, format=ox.RdfFormat.N_TRIPLES))
        sent.add(name)
        parts[name] = []

    for name, triple in _release_triples(release, base_iri):
        if has_blank_node(triple):
            continue
        parts[name].append(triple)
        if len(parts[name]) + (0 if name in sent else len(blank_node_triples[name])) >= CHUNK_TRIPLES:
            send(name)
    for name in staging:
        if parts[name] or name not in sent:
            send(name)


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
