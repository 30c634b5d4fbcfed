"""The store behind the publisher: what the web layer asks of it, and where a release comes from.

`Store` is the interface; `embedded.EmbeddedStore` (in process, the default) implements it over a
release written by `lodpub build`. A remote SPARQL 1.1 store will implement the same interface.
The store knows nothing of HTTP: it answers with rdflib graphs, always in canonical IRIs (the
base IRI of the release); moving them to the host a request came to is the web layer's business.
"""

from datetime import datetime
from typing import Protocol

from rdflib import Graph, URIRef


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
        """The document about `iri` (see EmbeddedStore.document for its shape); empty if unknown."""

    def description(self) -> Graph:
        """The description of the dataset (its VoID)."""

    def subjects_under(self, prefix: str) -> list[URIRef]:
        """Every subject IRI that starts with `prefix`, sorted."""

    def labels(self, iris: set[URIRef]) -> Graph:
        """The rdfs:label and skos:prefLabel triples of `iris`."""

    def select(self, query: str) -> list[dict[str, object]]:
        """Run a SPARQL SELECT over all graphs; each row maps variable names to bound values."""
