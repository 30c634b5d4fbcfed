"""The store behind the publisher: what the web layer asks of it, and where a release comes from.

`Store` is the interface; `embedded.EmbeddedStore` (in process, the default) implements it over a
release written by `lodpub build`, `remote.RemoteStore` over a release that `lodpub publish` put
into a SPARQL 1.1 store; both share `sparql_store.SparqlStore`. With settings.engine shared, a
worker's `engine_store.EngineStore` asks one engine process, which holds an EmbeddedStore for the
whole server (engine.py). `open_store` picks one.
The store knows nothing of HTTP: it answers with rdflib graphs in the IRIs of the release it
holds, whose base is the server's public base (settings.public_base_iri): a release built under
another base is served from its copy mapped to the public base (public_release.py), and a remote
store holds the release `lodpub publish` mapped there. So `Store.base_iri` is the public base, and
nothing the store gives is rewritten on its way out.
"""

import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from rdflib import Graph, URIRef

from .engine_choice import decided_settings, with_engine_chosen

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from ..config import Settings
    from .provisional import ProvisionalStore
    from .query_text import QueryText
    from .served_release import Decision



class StoreUnavailable(Exception):
    """The store cannot answer now (e.g. no release has been built yet); the message says why."""


class Store(Protocol):
    """A read-only view of one release of the dataset."""

    base_iri: str
    version: str
    built_at: datetime
    triple_count: int

    def exists(self, iri: URIRef) -> bool:
        """True when `iri` is described: it is the subject of at least one triple."""

    def document(self, iri: URIRef) -> Graph:
        """The document about `iri` (see SparqlStore.document_triples for its shape); empty if unknown."""

    def document_triples(self, iri: URIRef) -> list:
        """The same document as Oxigraph triples, each once, literals as written."""

    def graph_names(self) -> list[URIRef]:
        """The named graphs of the dataset (data, ontology, vocabularies, description), sorted."""

    def subjects_under(self, prefix: str) -> list[URIRef]:
        """Every subject IRI that starts with `prefix`, sorted."""

    def labels(self, iris: set[URIRef]) -> Graph:
        """The label triples (namespaces.LABEL_PREDICATES) of `iris`."""

    def select(self, query: str) -> list[dict[str, object]]:
        """Run a SPARQL SELECT over all graphs; each row maps variable names to bound values."""

    def select_values(self, query: str) -> list[tuple[str, ...]]:
        """Run a SPARQL SELECT; each row is the values of its variables in order, as text (an IRI, a
        literal's lexical form), "" when unbound: for large answers, which rdflib terms would slow."""

    def select_rows(self, query: str) -> "Iterator[tuple[str, ...]]":
        """The rows of select_values one at a time, as the store gives them (not all held at once where
        it evaluates in this process): for answers too large to hold as Python values."""

    def sparql(self, query: "QueryText", default_graphs: list[str] | None, named_graphs: list[str] | None,
               results_type: str, graph_type: str, max_rows: int) -> "SparqlAnswer":
        """Answer a SPARQL query, read once by query_text.read_query (the endpoint reads it to check
        it, and hands it down as read), serialised in `results_type` (SELECT, ASK) or `graph_type`
        (CONSTRUCT, DESCRIBE), with at most `max_rows` rows or triples.

        Without dataset, the default graph is the union of all named graphs. Raises QueryError.
        """


class QueryError(Exception):
    """The store rejected a query; the message says why (for a syntax error, where)."""


@dataclass(frozen=True)
class SparqlAnswer:
    """A query's answer, serialised: `kind` is "boolean", "solutions" or "graph"."""

    kind: str
    body: bytes
    media_type: str
    truncated: bool
    gzipped: bytes | None = None  # the body gzipped as every answer is, when its runner did it (web/gzip_ahead.py)


def served_copy(settings: "Settings", release: "Path", manifest: dict | None = None,
                jobs: int = 1, defer: bool = False) -> tuple["Path", dict]:
    """The folder and manifest of `release` as the server publishes it: mapped to the public base
    (public_release.py). Raises DamagedFile when a file it is mapped from is damaged, StoreUnavailable
    when the copy cannot be written."""
    from ..public_release import public_release

    try:
        return public_release(release, settings.public_base_iri, settings.output_dir, manifest, jobs, defer)
    except OSError as error:
        raise StoreUnavailable(f"release {release.name} cannot be published under {settings.public_base_iri}: "
                               f"{error}") from error


def _served_folder(settings: "Settings", release: "Path") -> "Path":
    """The folder of `release` as the server publishes it, for a remote store's files: a damaged one
    is a store that cannot answer now (503)."""
    from .checksums import DamagedFile

    try:
        return served_copy(settings, release)[0]
    except DamagedFile as damage:
        raise StoreUnavailable(f"release {release.name} cannot be served: {damage}") from damage


def open_store(settings: "Settings") -> Store:
    """The store `settings` name: the embedded store of the release the server serves (the chosen
    release, or a fallback: served_release.py), or the remote store (settings.store == "remote").

    A worker that gunicorn starts must not fail, or the whole server stops: when no release can be
    served, the store answers every request with 503 and the reason (UnservableStore). Raises
    StoreUnavailable only when no release was ever built.
    """
    if settings.store == "remote":
        from .endpoints import endpoints_from
        from .remote import RemoteStore

        return RemoteStore(endpoints_from(settings), settings.public_base_iri, settings.output_dir / "releases",
                           lambda release: _served_folder(settings, release))
    provisional = provisional_in_force()
    if provisional is not None:
        return provisional
    from .served_release import open_decided

    def opened(release: "Path", manifest: dict) -> Store:
        folder, public_manifest = served_copy(settings, release, manifest)
        return _opened(settings, folder, public_manifest)

    decision, store = open_decided(settings.output_dir, opened)
    if store is None:
        return UnservableStore(settings.public_base_iri, decision)
    store.decision = decision
    return store


def _opened(settings: "Settings", folder: "Path", manifest: dict) -> Store:
    """The embedded store of the served `folder`: in this process, or in the engine that serves the
    whole server (settings.engine, or the one chosen for it: engine_choice.py). Loading the release is here only."""
    settings = with_engine_chosen(settings, manifest)
    if settings.engine != "per-worker":
        from .engine_store import EngineStore, engine_for

        return EngineStore(engine_for(settings, folder, manifest), folder, manifest)
    from .embedded import EmbeddedStore

    return _take_preloaded(folder, manifest) or EmbeddedStore(folder, settings.memory_store_max_triples, manifest)


# The store a starting server's master loaded for its first workers (preload), until one takes it, and the
# CPU seconds that load took; in a worker that took it, those seconds (load_inherited_cpu).
_preloaded: Store | None = None
_preloaded_cpu = 0.0
_load_inherited_cpu = 0.0
# The provisional release a starting server serves until its release is built (provisional.py): the
# master's, inherited by every worker it forks while it lasts.
_provisional: "ProvisionalStore | None" = None


def serve_provisionally(store: "ProvisionalStore") -> None:
    """Have this process (a starting server's master) and the workers it forks serve `store`."""
    global _provisional
    _provisional = store


def provisional_in_force() -> "ProvisionalStore | None":
    """The provisional release's store while it is served; once it is not (provisional.end_provisional),
    None, and the store is forgotten (the workers that hold it go on until they are replaced)."""
    global _provisional
    from .provisional import is_served

    if _provisional is not None and not is_served(_provisional.release):
        _provisional = None
        _give_back_memory()
    return _provisional


def preload(settings: "Settings") -> None:
    """Load, in a starting server's master, the store its first workers open, so that each inherits it
    when forked instead of loading its own: one load before the first answer, not one per worker at
    once on the same cores. Only for workers that hold their own store in memory (per-worker engine,
    not on disk); loaded and checked as a worker loads it (open_store). Forget it with `drop_preloaded`
    once the workers are forked."""
    global _preloaded, _preloaded_cpu
    if _provisional is not None:  # the provisional release's store is already loaded
        return
    settings = decided_settings(settings)  # settings.engine "auto": the engine chosen for the release (engine_choice.py)
    if settings.store != "embedded" or settings.engine != "per-worker":
        return
    from .embedded import EmbeddedStore

    began = time.process_time()
    try:
        store = open_store(settings)
    except StoreUnavailable:  # each worker says why
        return
    _preloaded = store if isinstance(store, EmbeddedStore) and not store.on_disk else None
    _preloaded_cpu = time.process_time() - began


def drop_preloaded() -> None:
    """Forget the store `preload` loaded, and give its memory back to the system: the workers forked
    with it hold it now (the pages they share are copied as they write them), and workers started
    later load their own."""
    global _preloaded
    if _preloaded is None:
        return
    _preloaded = None
    _give_back_memory()


def _give_back_memory() -> None:
    """Collect what was just forgotten and give its memory back: a store's memory, freed, is kept by
    malloc unless trimmed."""
    import gc

    from .processes import give_back_freed_memory

    gc.collect()
    give_back_freed_memory()


def _take_preloaded(folder: "Path", manifest: dict) -> Store | None:
    """The preloaded store when it holds release `manifest` of `folder`, taken once (a process opens the
    store of its release once; another open loads it again)."""
    global _preloaded, _load_inherited_cpu
    store, _preloaded = _preloaded, None
    if store is None or store.release != folder.resolve() or store.version != manifest["version"]:
        return None
    _load_inherited_cpu = _preloaded_cpu
    return store


def load_inherited_cpu() -> float:
    """The CPU seconds the master spent loading the store this process took from it (`preload`), 0 when it
    loaded its own: what a process that replaces this one will spend beyond what this one's start did."""
    return _load_inherited_cpu


class UnservableStore:
    """The store of a server none of whose releases can be served: every question is answered with
    StoreUnavailable (503) and the reason, and /health says it, while the server keeps running, so
    that it serves again after a repair and a `lodpub reload`."""

    def __init__(self, base_iri: str, decision: "Decision") -> None:
        self.base_iri = base_iri
        self.decision = decision

    def __getattr__(self, name: str):
        if name.startswith("__"):  # protocols (copy, pickle) ask for these, and must hear "none"
            raise AttributeError(name)
        raise StoreUnavailable(self.decision.describe())
