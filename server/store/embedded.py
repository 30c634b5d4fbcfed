"""The embedded store: a release held in memory with rdflib, nothing to start or configure."""

import json
from datetime import datetime
from pathlib import Path

from rdflib import BNode, Dataset, Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from . import StoreUnavailable

LABELS = (RDFS.label, SKOS.prefLabel)


class EmbeddedStore:
    """One release (dist/current or another release folder) loaded into memory.

    The release's named graphs come from its N-Quads dump; its VoID from void.ttl.
    """

    def __init__(self, release: Path) -> None:
        if not (release / "manifest.json").is_file():
            raise StoreUnavailable(f"no release at {release}: run 'lodpub build' first")
        manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
        self.release = release.resolve()
        self.base_iri: str = manifest["base_iri"]
        self.version: str = manifest["version"]
        self.built_at = datetime.fromisoformat(manifest["built_at"].replace("Z", "+00:00"))
        self.manifest = manifest
        self.dataset = Dataset(default_union=True)
        self.dataset.parse(release / "partnerships.nq", format="nquads")
        self.union = Graph()
        for graph in self.dataset.graphs():
            self.union += graph
        self.triple_count = len(self.union)
        self._description = Graph().parse(release / "void.ttl", format="turtle")

    def exists(self, iri: URIRef) -> bool:
        return (iri, None, None) in self.union or (iri, None, None) in self._description

    def description(self) -> Graph:
        return self._description

    def subjects_under(self, prefix: str) -> list[URIRef]:
        subjects = set(self.union.subjects()) | set(self._description.subjects())
        return sorted(s for s in subjects if isinstance(s, URIRef) and str(s).startswith(prefix))

    def labels(self, iris: set[URIRef]) -> Graph:
        graph = Graph()
        for iri in iris:
            for predicate in LABELS:
                for label in self.union.objects(iri, predicate):
                    graph.add((iri, predicate, label))
        return graph

    def select(self, query: str) -> list[dict[str, object]]:
        result = self.union.query(query)
        return [{str(var): row[var] for var in result.vars if row[var] is not None} for row in result]

    def document(self, iri: URIRef) -> Graph:
        """The document about `iri`, so that a client can display it without further requests.

        - the resource's own triples, with the triples of the blank nodes they reach;
        - the labels (and types) of every resource it links to, and the labels of its properties;
        - the triples that link to it from other resources, with those resources' labels;
        - for the ontology, every term it defines; for a concept scheme, every concept in it;
          for the dataset, its VoID description.
        """
        document = Graph()
        sources = (self.union, self._description)
        for source in sources:
            _add_closure(document, source, iri)
        if (iri, RDF.type, OWL.Ontology) in self.union:
            for term in self.union.subjects(RDFS.isDefinedBy, iri):
                _add_closure(document, self.union, term)
        if (iri, RDF.type, SKOS.ConceptScheme) in self.union:
            for concept in self.union.subjects(SKOS.inScheme, iri):
                _add_closure(document, self.union, concept)
        for source in sources:
            for subject, predicate in source.subject_predicates(iri):
                if subject != iri:
                    document.add((subject, predicate, iri))
        linked = {node for node in document.all_nodes() if isinstance(node, URIRef) and node != iri}
        document += self.labels(linked | set(document.predicates()))
        for node in linked:
            for cls in self.union.objects(node, RDF.type):
                document.add((node, RDF.type, cls))
        return document


def _add_closure(document: Graph, source: Graph, node: URIRef | BNode) -> None:
    """Add the triples of `node` and, recursively, of the blank nodes they lead to."""
    pending = [node]
    seen = set()
    while pending:
        subject = pending.pop()
        if subject in seen:
            continue
        seen.add(subject)
        for triple in source.triples((subject, None, None)):
            document.add(triple)
            if isinstance(triple[2], BNode):
                pending.append(triple[2])
