"""The embedded store: a release held in memory by Oxigraph (pyoxigraph), nothing to start.

Everything but evaluating a query is shared with the remote store (sparql_store.SparqlStore).
A release is loaded only when the files it loads have the SHA-256 the build recorded.
"""

import json
from datetime import datetime
from pathlib import Path

import pyoxigraph as ox
from rdflib import URIRef

from . import QueryError, StoreUnavailable
from .releases import DamagedFile, manifest_entries, read_verified
from .sparql_store import (
    CATALOGUE_GRAPH,
    DESCRIPTION_GRAPH,
    Answer,
    SparqlStore,
    literals_oxigraph_changes,
    names_a_dataset,
)


class EmbeddedStore(SparqlStore):
    """One release (dist/current or another release folder) loaded into memory.

    Its named graphs come from the release's N-Quads dump; its VoID (void.ttl) goes into the
    named graph {base}graph/description, its catalogue record (catalogue.ttl) into
    {base}graph/catalogue. The default graph of a query is the union of them all.
    Raises StoreUnavailable when the release is missing, or a file it loads fails its checksum.
    """

    def __init__(self, release: Path) -> None:
        if not (release / "manifest.json").is_file():
            raise StoreUnavailable(f"no release at {release}: run 'lodpub build' first")
        manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
        self.release = release.resolve()
        self.manifest = manifest
        self.base_iri: str = manifest["base_iri"]
        self.version: str = manifest["version"]
        self.built_at = datetime.fromisoformat(manifest["built_at"].replace("Z", "+00:00"))
        self.triple_count: int = manifest["triples"]
        self.oxigraph = ox.Store()
        files = release_files(release, self.base_iri)
        _check_files(self.release, manifest)
        for path, rdf_format, graph in files:
            self.oxigraph.bulk_load(path=str(path), format=rdf_format, **({"to_graph": graph} if graph else {}))
        self.written_literals = literals_oxigraph_changes([(path, rdf_format) for path, rdf_format, _ in files])

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
            read_verified(release, name, recorded.get(name, ""))
        except DamagedFile as damage:
            raise StoreUnavailable(f"release {release.name} cannot be served: {damage}") from damage
