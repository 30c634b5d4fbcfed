"""The embedded store: a release held by Oxigraph (pyoxigraph) in process, nothing to start.

A release is held in memory, or, when it has more triples than the process may hold
(Settings.memory_store_max_triples), in an on-disk store that every process shares (ondisk.py).
Everything but evaluating a query is shared with the remote store (sparql_store.SparqlStore).
A release is loaded only when the files it loads have the SHA-256 the build recorded.
"""

import logging
import os
import pickle
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox
from rdflib import URIRef

from . import QueryError, StoreUnavailable
from .checksums import DamagedFile
from .manifest import DATA_DUMP, ManifestError, check_loaded_files, load_manifest
from .ondisk import ProcessLocalStore, built_store, write_engine
from .query_text import QueryText
from .sparql_store import (
    CATALOGUE_GRAPH,
    DESCRIPTION_GRAPH,
    Answer,
    SparqlStore,
    StoredForm,
    literals_oxigraph_changes,
    names_a_dataset,
)

if TYPE_CHECKING:
    from .served_release import Decision

_log = logging.getLogger(__name__)


class EmbeddedStore(SparqlStore):
    """One release (dist/current or another release folder), held in memory or on disk.

    Its named graphs come from the release's N-Quads dump; its catalogue record (catalogue.ttl)
    goes into the named graph {base}graph/catalogue, its VoID (void.ttl) into
    {base}graph/description, each without the triples an earlier graph holds (description_quads).
    The default graph of a query is the union of them all.
    A release of more than `memory_max_triples` triples is served from disk (None: never).
    `manifest` is the release's manifest as checked already (served_release.py), else it is read here.
    Raises StoreUnavailable when the release is missing, its manifest is damaged or not of the
    build's shape, or a file it loads fails its checksum.
    """

    # How the server came to serve this release (served_release.Decision), when it was decided on.
    decision: "Decision | None" = None
    evaluates_again = True

    def __init__(self, release: Path, memory_max_triples: int | None = None,
                 manifest: dict[str, Any] | None = None) -> None:
        if manifest is None:
            manifest = _read_manifest(release)
        describe_release(self, release, manifest)
        self.on_disk = held_on_disk(manifest, memory_max_triples)
        self._oxigraph, self.written_literals = (self._open_on_disk() if self.on_disk else self._load_in_memory())

    @property
    def oxigraph(self) -> ox.Store:
        """The Oxigraph store that holds the release (on disk: this process's handle on it)."""
        return self._oxigraph()

    def _load_in_memory(self) -> tuple[Callable[[], ox.Store], dict]:
        files = release_files(self.release, self.base_iri)
        # The literals are read on a thread while the files are checked and loaded, which Oxigraph and
        # hashlib do without the GIL: 1 s of the 4 s of a load at 6 000 agreements.
        with ThreadPoolExecutor(1, thread_name_prefix="lodpub-literals") as reading:
            literals = reading.submit(_written_literals, files)
            _check_loaded(self.release, self.manifest)
            store = ox.Store()
            _bulk_load(store, self.release, self.base_iri)
            return (lambda: store), literals.result()

    def _open_on_disk(self) -> tuple[Callable[[], ox.Store], dict]:
        folder = build_on_disk(self.release, self.manifest)
        try:
            written = pickle.loads((folder / WRITTEN_LITERALS).read_bytes())
        except (OSError, pickle.UnpicklingError) as error:
            raise StoreUnavailable(f"the on-disk store {folder} cannot be read: {error}") from error
        store = ProcessLocalStore(folder)
        store()  # opened once here, so that a store that cannot be opened is known at once
        return store, written

    def graph_names(self) -> list[URIRef]:
        """The named graphs of the dataset, sorted."""
        return sorted(URIRef(graph.value) for graph in self.oxigraph.named_graphs())

    def _query(self, query: str | QueryText, default_graphs: list[str] | None,
               named_graphs: list[str] | None) -> Answer:
        if default_graphs is None and named_graphs is None:
            # The query's own FROM / FROM NAMED, if any; else the union of every graph. (Oxigraph
            # would ignore FROM if told to use the union, so it is told only when there is none.)
            options = {} if names_a_dataset(query, self.endpoint_iri) else {"use_default_graph_as_union": True}
        else:
            options = {"default_graph": [ox.NamedNode(g) for g in default_graphs or []],
                       "named_graphs": [ox.NamedNode(g) for g in named_graphs or []]}
        try:
            text = query.text if isinstance(query, QueryText) else query
            return self.oxigraph.query(text, base_iri=self.endpoint_iri, **options)
        except Exception as error:  # Oxigraph reports syntax, evaluation and remote errors alike
            raise QueryError(str(error)) from error


def describe_release(store: Any, release: Path, manifest: dict) -> None:
    """Give a store of `release` what the web layer reads of it: its folder, manifest, base IRI,
    version, build time and number of triples."""
    store.release = release.resolve()
    store.manifest = manifest
    store.base_iri = manifest["base_iri"]
    store.version = manifest["version"]
    store.built_at = datetime.fromisoformat(manifest["built_at"].replace("Z", "+00:00"))
    store.triple_count = manifest["triples"]


# In the on-disk store's folder: the literals Oxigraph changes (see literals_oxigraph_changes).
WRITTEN_LITERALS = "written-literals.pickle"


def _bulk_load(store: ox.Store, release: Path, base_iri: str) -> None:
    """Load the release's named graphs into `store`: its data, then its descriptions."""
    store.bulk_load(path=str(release / DATA_DUMP), format=ox.RdfFormat.N_QUADS)
    store.extend(description_quads(release, base_iri, lambda triple: _holds(store, triple)))


def _holds(store: ox.Store, triple: ox.Triple) -> bool:
    """Whether some graph of `store` holds `triple`."""
    return next(store.quads_for_pattern(triple.subject, triple.predicate, triple.object), None) is not None


def _written_literals(files: list[tuple[Path, ox.RdfFormat, ox.NamedNode | None]]) -> dict:
    """The literals of the release's `files` that Oxigraph changes, as written."""
    return literals_oxigraph_changes([(path, rdf_format) for path, rdf_format, _ in files])


def held_on_disk(manifest: dict, memory_max_triples: int | None) -> bool:
    """Whether the release of `manifest` is too large for memory (None: nothing is)."""
    return memory_max_triples is not None and manifest["triples"] > memory_max_triples


def build_on_disk(release: Path, manifest: dict) -> Path:
    """The folder of the on-disk store of `release` (see ondisk.py), built if it is not yet."""
    return built_store(release, lambda folder: _fill_on_disk(release, manifest, folder))


def build_on_disk_logged(release: Path, manifest: dict) -> None:
    """build_on_disk, with a failure logged rather than raised (for a process of its own)."""
    try:
        build_on_disk(release, manifest)
    except StoreUnavailable as failure:
        _log.error("%s", failure)
    except Exception:  # whatever it is, the server goes on and its workers say why
        _log.exception("the on-disk store of release %s could not be built", release.name)


def _fill_on_disk(release: Path, manifest: dict, folder: Path) -> None:
    """Fill `folder` with the release's store and the literals it changes (computed once here,
    not by every process that opens the store: it reads every file of the release)."""
    files = release_files(release, manifest["base_iri"])
    _check_loaded(release, manifest)
    write_engine(folder, lambda store: _bulk_load(store, release, manifest["base_iri"]))
    with open(folder / WRITTEN_LITERALS, "wb") as literals:
        pickle.dump(_written_literals(files), literals)
        literals.flush()
        os.fsync(literals.fileno())


# The release's file of its data graphs, and its descriptions with the graph each is served in. A
# triple that two graphs would hold is kept in the first: the data's graphs, then the catalogue
# record, then the VoID (which repeats the dataset's title, description and publisher).
DESCRIPTIONS = (("catalogue.ttl", CATALOGUE_GRAPH), ("void.ttl", DESCRIPTION_GRAPH))


def release_files(release: Path, base_iri: str) -> list[tuple[Path, ox.RdfFormat, ox.NamedNode | None]]:
    """The files of a release that hold the dataset, with their format and the named graph each
    goes into (None: the file names its graphs)."""
    return [(release / DATA_DUMP, ox.RdfFormat.N_QUADS, None)] + [
        (path, ox.RdfFormat.TURTLE, graph) for path, graph in _description_files(release, base_iri)]


def _description_files(release: Path, base_iri: str) -> list[tuple[Path, ox.NamedNode]]:
    return [(release / name, ox.NamedNode(base_iri + graph)) for name, graph in DESCRIPTIONS
            if (release / name).is_file()]


def description_quads(release: Path, base_iri: str, held: Callable[[ox.Triple], bool]) -> list[ox.Quad]:
    """The quads of the release's descriptions in their named graphs, without the triples that
    `held` says a data graph holds, or that an earlier description gives. Triples are compared,
    and `held` asked, with their literal in the form a store keeps it (StoredForm).

    So no two named graphs share a triple, and the union default graph of every engine is a set
    (see dataset.py). The files themselves stay whole: each is a complete record for a reader of
    that file alone.
    """
    quads, given, stored = [], set(), StoredForm()
    for path, graph in _description_files(release, base_iri):
        for quad in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
            triple = quad.triple
            if not has_blank_node(triple):  # a blank node of a file is that file's own
                key = stored.of_triple(triple)
                if key in given or held(key):
                    continue
                given.add(key)
            quads.append(ox.Quad(triple.subject, triple.predicate, triple.object, graph))
    return quads


def has_blank_node(triple: ox.Triple) -> bool:
    """Whether the subject or object of `triple` is a blank node."""
    return isinstance(triple.subject, ox.BlankNode) or isinstance(triple.object, ox.BlankNode)


def _check_loaded(release: Path, manifest: dict) -> None:
    """check_loaded_files, saying that the release cannot be served (StoreUnavailable)."""
    try:
        check_loaded_files(release, manifest)
    except DamagedFile as damage:
        raise StoreUnavailable(f"release {release.name} cannot be served: {damage}") from damage


def _read_manifest(release: Path) -> dict[str, Any]:
    """The manifest of `release`, checked for shape. Raises StoreUnavailable saying what is wrong."""
    if not release.is_dir():
        raise StoreUnavailable(f"no release at {release}: run 'lodpub build' first")
    try:
        return load_manifest(release)
    except ManifestError as damage:
        raise StoreUnavailable(f"release {release.name} cannot be served: {damage}") from damage
