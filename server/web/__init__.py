"""The web layer: one blueprint per public surface, sharing the helpers below.

Every request is answered from the store in canonical IRIs (the release's base IRI); before a
graph or a link leaves the server it is moved to the base the request came to (`public_base`),
so that a server at http://127.0.0.1:5000/ serves links that work at http://127.0.0.1:5000/.
"""

import time
from dataclasses import dataclass, field

from flask import current_app, request
from rdflib import Graph, URIRef

from ..blank_nodes import stable_graph
from ..config import Settings
from ..namespaces import rebase_iri, rebased_copy
from ..store import Store
from .rendered import RenderedDocuments


@dataclass
class Publisher:
    """What the app serves: its settings and store, and when it started."""

    settings: Settings
    store: Store
    started: float = field(default_factory=time.time)
    documents: RenderedDocuments = field(init=False)

    def __post_init__(self) -> None:
        self.documents = RenderedDocuments(self.settings.document_cache_mb * 2**20)


def publisher() -> Publisher:
    """The Publisher of the current app."""
    return current_app.extensions["lodpub"]


def store() -> Store:
    """The store of the current app."""
    return publisher().store


def public_base() -> str:
    """The base IRI as seen by this request, e.g. http://127.0.0.1:5000/ (always ends with /)."""
    return request.url_root


def to_public(graph: Graph) -> Graph:
    """A copy of `graph` with our IRIs moved from the canonical base to the request's, and its
    blank nodes labelled and triples ordered the same in every process (see blank_nodes.py)."""
    return stable_graph(rebased_copy(graph, store().base_iri, public_base()))


def public_iri(iri: str) -> str:
    """`iri` as seen by this request."""
    return rebase_iri(str(iri), store().base_iri, public_base())


def canonical_iri(path: str) -> URIRef:
    """The canonical IRI of a path below the base, e.g. "id/region/bursa"."""
    return URIRef(store().base_iri + path)


def document_path(iri: str) -> str | None:
    """The path of the document about one of our IRIs ("doc/id/region/bursa"), None for others."""
    base = store().base_iri
    return "doc/" + str(iri)[len(base):] if str(iri).startswith(base) else None
