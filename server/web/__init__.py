"""The web layer: one blueprint per public surface, sharing the helpers below.

The server publishes under one base, the public base (settings.public_base_iri): the store holds
the release mapped to it (public_release.py), so every graph, answer and file is served as the
store and the release folder give it, and every link and redirect is built from that base
(`public_url`), never from the Host a request names. An unexpected Host costs nothing.
"""

import time
from dataclasses import dataclass, field

from flask import current_app, request
from rdflib import URIRef

from ..config import Settings
from ..store import Store
from .documents_ahead import WrittenDocuments
from .rendered import RenderedDocuments


@dataclass
class Publisher:
    """What the app serves: its settings and store, and when it started."""

    settings: Settings
    store: Store
    started: float = field(default_factory=time.time)
    documents: RenderedDocuments = field(init=False)
    written: WrittenDocuments = field(init=False)

    def __post_init__(self) -> None:
        self.documents = RenderedDocuments(self.settings.document_cache_mb * 2**20)
        self.written = WrittenDocuments(self.settings.output_dir)


def publisher() -> Publisher:
    """The Publisher of the current app."""
    return current_app.extensions["lodpub"]


def store() -> Store:
    """The store of the current app."""
    return publisher().store


def public_base() -> str:
    """The base the server publishes under, e.g. https://data.kraj-lbc.cz/partnerships/ (ends with /):
    the store's, whatever Host the request names."""
    return store().base_iri


def public_url(path: str) -> str:
    """The URL of `path` below the public base ("doc/id/region/bursa"; no leading slash)."""
    return public_base() + path


def public_link(url_path: str) -> str:
    """The public URL of a path of this app as url_for gives it (with the script root a proxy names,
    "/lk/doc/x"): the public base and the path below it ("doc/x")."""
    return public_url(url_path[len(request.script_root):].lstrip("/"))


def canonical_iri(path: str) -> URIRef:
    """Our IRI of a path below the (public) base, e.g. "id/region/bursa"."""
    return URIRef(public_url(path))


def document_path(iri: str) -> str | None:
    """The path of the document about one of our IRIs ("doc/id/region/bursa"), None for others."""
    base = store().base_iri
    return "doc/" + str(iri)[len(base):] if str(iri).startswith(base) else None
