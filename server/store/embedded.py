"""The embedded store: a release held by Oxigraph (pyoxigraph) in process, nothing to start.

A release is held in memory, or, when it has more triples than the process may hold
(Settings.memory_store_max_triples), in an on-disk store that every process shares (ondisk.py).
Everything but evaluating a query is shared with the remote store (sparql_store.SparqlStore).
A release is loaded only when the files it loads have the SHA-256 the build recorded.
"""

import json
import logging
import os
import pickle
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pyoxigraph as ox
from rdflib import URIRef

from . import QueryError, StoreUnavailable
from .ondisk import ProcessLocalStore, built_store, write_engine
from .releases import DamagedFile, check_verified, manifest_entries
from .sparql_store import (
    CATALOGUE_GRAPH,
    DESCRIPTION_GRAPH,
    Answer,
    SparqlStore,
    literals_oxigraph_changes,
    names_a_dataset,
)


_log = logging.getLogger(__name__)


class EmbeddedStore(SparqlStore):
    """One release (dist/current or another release folder), held in memory or on disk.

    Its named graphs come from the release's N-Quads dump; its VoID (void.ttl) goes into the
    named graph {base}graph/description, its catalogue record (catalogue.ttl) into
    {base}graph/catalogue. The default graph of a query is the union of them all.
    A release of more than `memory_max_triples` triples is served from disk (None: never).
    Raises StoreUnavailable when the release is missing, or a file it loads fails its checksum.
    """

    def __init__(self, release: Path, memory_max_triples: int | None = None) -> None:
        if not (release / "manifest.json").is_file():
            raise StoreUnavailable(f"no release at {release}: run 'lodpub build' first")
        manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
        self.release = release.resolve()
        self.manifest = manifest
        self.base_iri: str = manifest["base_iri"]
        self.version: str = manifest["version"]
        self.built_at = datetime.fromisoformat(manifest["built_at"].replace("Z", "+00:00"))
        self.triple_count: int = manifest["triples"]
        self.on_disk = held_on_disk(manifest, memory_max_triples)
        self._oxigraph, self.written_literals = (self._open_on_disk() if self.on_disk else self._load_in_memory())

    @property
    def oxigraph(self) -> ox.Store:
        """The Oxigraph store that holds the release (on disk: this process's handle on it)."""
        return self._oxigraph()

    def _load_in_memory(self) -> tuple[Callable[[], ox.Store], dict]:
        files = release_files(self.release, self.base_iri)
        _check_files(self.release, self.manifest)
        store = ox.Store()
        _bulk_load(store, files)
        return (lambda: store), _written_literals(files)

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

    def _query(self, query: str, default_graphs: list[str] | None, named_graphs: list[str] | None) -> Answer:
        if default_graphs is None and named_graphs is None:
            # The query's own FROM / FROM NAMED, if any; else the union of every graph. (Oxigraph
            # would ignore FROM if told to use the union, so it is told only when there is none.)
            options = {} if names_a_dataset(query, self.endpoint_iri) else {"use_default_graph_as_union": True}
        else:
            options = {"default_graph": [ox.NamedNode(g) for g in default_graphs or []],
                       "named_graphs": [ox.NamedNode(g) for g in named_graphs or []]}
        try:
            return self.oxigraph.query(query, base_iri=self.endpoint_iri, **options)
        except Exception as error:  # Oxigraph reports syntax, evaluation and remote errors alike
            raise QueryError(str(error)) from error


# In the on-disk store's folder: the literals Oxigraph changes (see literals_oxigraph_changes).
WRITTEN_LITERALS = "written-literals.pickle"


def _bulk_load(store: ox.Store, files: list[tuple[Path, ox.RdfFormat, ox.NamedNode | None]]) -> None:
    """Load the release's `files` (see release_files) into `store`."""
    for path, rdf_format, graph in files:
        store.bulk_load(path=str(path), format=rdf_format, **({"to_graph": graph} if graph else {}))


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
    _check_files(release, manifest)
    write_engine(folder, lambda store: _bulk_load(store, files))
    with open(folder / WRITTEN_LITERALS, "wb") as literals:
        pickle.dump(_written_literals(files), literals)
        literals.flush()
        os.fsync(literals.fileno())


def release_files(release: Path, base_iri: str) -> list[tuple[Path, ox.RdfFormat, ox.NamedNode | None]]:
    """The files of a release that hold the dataset, with their format and the named graph each
    goes into (None: the file names its graphs)."""
    files = [(release / "partnerships.nq", ox.RdfFormat.N_QUADS, None),
             (release / "void.ttl", ox.RdfFormat.TURTLE, ox.NamedNode(base_iri + DESCRIPTION_GRAPH))]
    if (release / "catalogue.ttl").is_file():
        files.append((release / "catalogue.ttl", ox.RdfFormat.TURTLE, ox.NamedNode(base_iri + CATALOGUE_GRAPH)))
    return files


def _check_files(release: Path, manifest: dict) -> None:
    """Raise StoreUnavailable unless the files the store loads (the N-Quads dump and every
    description) are there with the SHA-256 the manifest records."""
    recorded = {entry["name"]: entry["sha256"] for entry in manifest_entries(manifest)}
    for name in ["partnerships.nq", *(entry["name"] for entry in manifest.get("description", []))]:
        try:
            check_verified(release, name, recorded.get(name, ""))
        except DamagedFile as damage:
            raise StoreUnavailable(f"release {release.name} cannot be served: {damage}") from damage
