"""The store of a worker when one engine serves the whole server (settings.engine = "shared"): the
release is held by the engine (engine.py), and every question the web layer asks is sent there.

The engine is found by the folder of the release it serves (a socket under the temporary folder,
named after the release's path): the first process that needs it and finds none starts it (the
gunicorn master, before its workers; the app itself when it runs alone) and owns it; the others
connect. A question is answered in the engine by a method of its EmbeddedStore, in one round trip.
"""

import fcntl
import hashlib
import os
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox
from rdflib import Graph, URIRef

from ..namespaces import LABEL_PREDICATES
from . import SparqlAnswer
from .embedded import EmbeddedStore, describe_release
from .engine import SOCKET, Keeper, Plan, start_engine
from .engine_client import EngineClient
from .sparql_store import graph_of

if TYPE_CHECKING:
    from ..config import Settings
    from .query_text import QueryText
    from .served_release import Decision

# How long one of the store's own questions (a document, the labels, the rows of the search index)
# may run in the engine; the endpoint's queries have settings.sparql_timeout.
OWN_QUESTION_SECONDS = 300.0

# settings.engine: one engine whose keeper holds a copy of the store (a successor at once), or one
# engine that loads the store itself (one copy; a successor serves once it has loaded the store).
SHARED, SHARED_ONE_COPY = "shared", "shared-one-copy"
_keepers: dict[Path, Keeper] = {}
_keepers_lock = threading.Lock()


def engine_folder(release: Path) -> Path:
    """Where the engine serving `release` (a served folder) listens and records its deaths."""
    digest = hashlib.sha256(str(release.resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"lodpub-engine-{os.getuid()}-{digest}"


def applied(store: Any, function: Callable[..., Any], *arguments: Any) -> Any:
    """The engine's work: `function(store, *arguments)` (a function is sent by its name)."""
    return function(store, *arguments)


def method_of(store: Any, name: str, *arguments: Any) -> Any:
    """`store.name(*arguments)`."""
    return getattr(store, name)(*arguments)


def engine_for(settings: "Settings", release: Path, manifest: dict) -> EngineClient:
    """A client of the engine serving `release`, started (and owned by this process) if none runs.
    Raises StoreUnavailable when the release cannot be loaded."""
    folder = engine_folder(release)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _listening(folder / SOCKET):
            memory = settings.sparql_max_memory_mb * 2**20 * max(1, settings.sparql_slots + settings.sparql_express_slots)
            keeper = start_engine(Plan(partial(_loaded, release, settings.memory_store_max_triples, manifest), memory,
                                       settings.sparql_max_answer_mb * 2**20, settings.engine == SHARED), folder)
            with _keepers_lock:
                _keepers[folder] = keeper
    return EngineClient(folder)


def _loaded(release: Path, memory_max_triples: int, manifest: dict) -> Callable[..., Any]:
    """The engine's work on `release`, loaded (in the keeper or the engine)."""
    return partial(applied, EmbeddedStore(release, memory_max_triples, manifest))


def _listening(path: Path) -> bool:
    """Whether a keeper listens at `path` (a socket left by a dead one is removed)."""
    import socket

    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
        return True
    except FileNotFoundError:
        return False
    except OSError:
        path.unlink(missing_ok=True)
        return False
    finally:
        probe.close()


def stop_engine_of(release: Path) -> None:
    """Stop the engine serving `release`, if this process started it."""
    with _keepers_lock:
        keeper = _keepers.pop(engine_folder(release), None)
    if keeper is not None:
        keeper.stop()


def stop_engines_but(kept: Iterable[Path]) -> None:
    """Stop the engines this process started, but those serving the releases `kept`."""
    folders = {engine_folder(release) for release in kept}
    with _keepers_lock:
        leaving = [folder for folder in _keepers if folder not in folders]
        stopped = [_keepers.pop(folder) for folder in leaving]
    for keeper in stopped:
        keeper.stop()


class EngineStore:
    """One release, held by the shared engine; what the web layer asks (store.Store) is asked there."""

    on_disk = False
    # How the server came to serve this release (served_release.Decision), when it was decided on.
    decision: "Decision | None" = None

    def __init__(self, engine: EngineClient, release: Path, manifest: dict) -> None:
        self.engine = engine
        describe_release(self, release, manifest)

    def _ask(self, name: str, *arguments: Any) -> Any:
        return self.engine.run((method_of, name, *arguments), OWN_QUESTION_SECONDS)

    def in_engine(self, function: Callable[..., Any], *arguments: Any, timeout: float) -> Any:
        """`function(the engine's store, *arguments)`, evaluated in the engine (a function of a module,
        sent by its name), for work on the whole release that is better done where the store is."""
        return self.engine.run((function, *arguments), timeout)

    def exists(self, iri: URIRef) -> bool:
        """See store.Store."""
        return self._ask("exists", iri)

    def document(self, iri: URIRef) -> Graph:
        """See store.Store."""
        return graph_of(self.document_triples(iri))

    def document_triples(self, iri: URIRef) -> list[ox.Triple]:
        """See store.Store."""
        return self._ask("document_triples", iri)

    def graph_names(self) -> list[URIRef]:
        """See store.Store."""
        return self._ask("graph_names")

    def subjects_under(self, prefix: str) -> list[URIRef]:
        """See store.Store."""
        return self._ask("subjects_under", prefix)

    def labels(self, iris: set[URIRef]) -> Graph:
        """See store.Store."""
        return graph_of(self._ask("_described_triples", iris, LABEL_PREDICATES))

    def select(self, query: str) -> list[dict[str, object]]:
        """See store.Store."""
        return self._ask("select", query)

    def select_values(self, query: str) -> list[tuple[str, ...]]:
        """See store.Store."""
        return self._ask("select_values", query)

    def select_rows(self, query: str) -> Iterator[tuple[str, ...]]:
        """See store.Store (the rows come in one answer: what asks for many rows runs in the engine)."""
        return iter(self.select_values(query))

    def sparql(self, query: "QueryText", default_graphs: list[str] | None, named_graphs: list[str] | None,
               results_type: str, graph_type: str, max_rows: int) -> SparqlAnswer:
        """See store.Store (the endpoint asks through its own request, web/sparql.py, for the answer file)."""
        return self._ask("sparql", query, default_graphs, named_graphs, results_type, graph_type, max_rows)
