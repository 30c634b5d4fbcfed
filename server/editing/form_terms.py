"""What the form shapes are derived from (form_shapes.py): our SHACL shapes and the terms (the ontology,
its vocabularies, the authority tables' entries), read from the project's files, not from a release.

Shapes and terms keep the canonical IRIs the files use, since a form edits the files.
"""

from dataclasses import dataclass
from pathlib import Path

from rdflib import RDF, RDFS, SKOS, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, SH
from rdflib.term import Node

from ..config import Settings
from ..namespaces import CANONICAL_BASE
from ..rdf_files import find_rdf_files, parse_rdf_file

RP = Namespace(CANONICAL_BASE + "ontology/")
TIME = Namespace("http://www.w3.org/2006/time#")
LANGUAGES = ("cs", "en")
# The authority tables whose entries are chosen in forms (the countries of rp:country).
AUTHORITY_TABLES = ("eu-tables.ttl",)


@dataclass(frozen=True)
class Sources:
    """The shapes graph and the terms graph the form shapes are derived from."""

    shapes: Graph
    terms: Graph

    def items(self, node: Node | None) -> list[Node]:
        """The members of the RDF list at `node` in the shapes (none for None)."""
        return [] if node is None else list(Collection(self.shapes, node))

    def value(self, subject: Node, predicate: URIRef) -> Node | None:
        """One object of `subject` `predicate` in the shapes."""
        return self.shapes.value(subject, predicate)

    def labels(self, term: Node) -> list[Literal]:
        """The cs and en labels of `term` in the terms (skos:prefLabel, else rdfs:label)."""
        for predicate in (SKOS.prefLabel, RDFS.label):
            found = [label for label in self.terms.objects(term, predicate)
                     if isinstance(label, Literal) and label.language in LANGUAGES]
            if found:
                return sorted(found, key=lambda label: LANGUAGES.index(label.language))
        return []

    def superclasses(self, cls: URIRef) -> list[URIRef]:
        """`cls` and the classes it is a subclass of, nearest first."""
        found = [cls]
        for current in found:
            found += [parent for parent in self.terms.objects(current, RDFS.subClassOf)
                      if isinstance(parent, URIRef) and parent not in found]
        return found

    def scheme_concepts(self, scheme: URIRef) -> list[URIRef]:
        """The concepts of `scheme` a form may offer (deprecated ones left out), by their Czech label."""
        concepts = [concept for concept in self.terms.subjects(SKOS.inScheme, scheme)
                    if isinstance(concept, URIRef) and (concept, OWL.deprecated, Literal(True)) not in self.terms]
        return sorted(concepts, key=lambda concept: (str(next(iter(self.labels(concept)), concept)).lower(), concept))

    def scheme_of(self, node_shape: Node) -> URIRef | None:
        """The scheme a membership shape (`sh:property [ sh:path skos:inScheme ; sh:hasValue S ]`) names."""
        for property_shape in self.shapes.objects(node_shape, SH.property):
            if self.value(property_shape, SH.path) == SKOS.inScheme:
                scheme = self.value(property_shape, SH.hasValue)
                return scheme if isinstance(scheme, URIRef) else None
        return None


def load_sources(settings: Settings) -> Sources:
    """Our shapes (settings.shapes_dir, not rebased) and the terms: the ontology folder with its
    vocabularies, and the authority tables of the data folder; read again only when one of those
    files changed (every check and save of a form asks for them)."""
    shape_files = sorted(path for path in find_rdf_files(settings.shapes_dir, recursive=False) if path.suffix == ".ttl")
    authorities = settings.data_dir / "authorities"
    term_files = (sorted(path for path in find_rdf_files(settings.ontology_dir) if path.suffix == ".ttl")
                  + [authorities / name for name in AUTHORITY_TABLES if (authorities / name).is_file()])
    key = (len(shape_files), tuple(_state(path) for path in shape_files + term_files))
    if _LOADED.get("key") != key:
        _LOADED.update(key=key, sources=Sources(_read(shape_files), _read(term_files)))
    return _LOADED["sources"]


# The sources last read, with the state of the files they were read from (one entry: settings rarely differ).
_LOADED: dict = {}


def _state(path: Path) -> tuple[str, int, int]:
    status = path.stat()
    return str(path), status.st_mtime_ns, status.st_size


def _read(paths: list[Path]) -> Graph:
    graph = Graph(bind_namespaces="none")
    for path in paths:
        graph += parse_rdf_file(path)
    return graph


def field_names(sources: Sources, path: URIRef) -> list[Literal]:
    """A field's names from its property's labels, with a capital first letter: the ontology writes a
    property's label in lower case ("selected partner"), a form's field starts with a capital."""
    return [Literal(label[:1].upper() + label[1:], lang=label.language) for label in sources.labels(path)]


def is_class(sources: Sources, term: Node) -> bool:
    """Whether the terms declare `term` a class."""
    return (term, RDF.type, OWL.Class) in sources.terms or (term, RDF.type, RDFS.Class) in sources.terms
