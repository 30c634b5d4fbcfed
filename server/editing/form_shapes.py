"""The shapes graph the editor's form renders (shacl-form) for each kind of resource, derived from our
SHACL shapes, ontology and vocabularies, never written by hand per class.

For a kind's class: the node shapes that target it (or a class it is a subclass of, or the objects of
a property whose values must be of it), and their property shapes with a simple path (an
alternative path of a required label counts as its first member), merged by path. What validation
says in ways a form cannot show becomes what a form can:
- `sh:node shp:EventKind` (membership of a scheme) → `sh:in` the scheme's concepts, with their labels;
- `sh:class` stays: the page's class instance provider offers the partnership's resources;
- the qualified "one in cs, one in en" shapes → one rdf:langString property, `sh:languageIn ("cs"
  "en")`, `sh:uniqueLang`, one value per required language;
- times → a choice of precision, each a nested node shape (form_time_shapes.py).
The root node shape is the class itself, so that shacl-form types the new resource with it.
Nothing of sh:sparql is carried over: the server validates the whole dataset on check and save.
"""

from rdflib import RDF, RDFS, BNode, Graph, Literal, URIRef
from rdflib.namespace import SH
from rdflib.term import Node

from ..namespaces import CANONICAL_BASE, prefixes_for
from .form_terms import LANGUAGES, RP, Sources, field_names
from .form_time_shapes import FORM_PATH, TIME_PATHS, add_list, time_choices

FORM_BASE = CANONICAL_BASE + FORM_PATH
FOAF = "http://xmlns.com/foaf/0.1/"
KINDS: dict[str, URIRef] = {
    "partnership": RP.Partnership,
    "partner": RP.Region,
    "agreement": RP.Agreement,
    "event": RP.Event,
    "status": RP.StatusPeriod,
    "participation": RP.Participation,
    "person": URIRef(FOAF + "Person"),
    "post": URIRef("http://www.w3.org/ns/org#Post"),
    "document": URIRef(FOAF + "Document"),
    "place": URIRef("https://schema.org/Place"),
}
# Where a property shape gives no sh:order, it follows those that do, in the order of the shapes.
_UNORDERED = 100


def form_shapes(sources: Sources, kind: str) -> Graph:
    """The shapes graph of the form for `kind` (a key of KINDS); KeyError for another."""
    cls = KINDS[kind]
    graph = Graph(bind_namespaces="none")
    for prefix, namespace in prefixes_for(CANONICAL_BASE).items():
        graph.bind(prefix, namespace)
    graph.bind("sh", SH)
    graph.bind("form", FORM_BASE)
    graph.add((cls, RDF.type, SH.NodeShape))
    for label in sources.labels(cls):
        graph.add((cls, RDFS.label, label))
    by_path = property_shapes(sources, cls)
    choices = time_choices(graph, sources, FORM_BASE) if set(by_path) & set(TIME_PATHS) else []
    for index, (path, shapes) in enumerate(by_path.items()):
        field = BNode()
        graph.add((cls, SH.property, field))
        _describe(graph, sources, field, path, shapes, _UNORDERED + index)
        _constrain(graph, sources, field, path, shapes, choices)
    return graph


def property_shapes(sources: Sources, cls: URIRef) -> dict[URIRef, list[Node]]:
    """The property shapes that apply to instances of `cls`, by the simple path a form gives them."""
    found: dict[URIRef, list[Node]] = {}
    for node_shape in _node_shapes(sources, cls):
        for property_shape in sources.shapes.objects(node_shape, SH.property):
            if int(sources.value(property_shape, SH.maxCount) or 1) == 0 or _qualified_language(
                    sources, property_shape) is False:
                continue
            for path in _form_paths(sources, property_shape):
                found.setdefault(path, []).append(property_shape)
    return found


def _node_shapes(sources: Sources, cls: URIRef) -> list[Node]:
    """The node shapes targeting `cls` or its superclasses, or the objects of a property of that class."""
    classes = sources.superclasses(cls)
    shapes = sources.shapes
    found = [shape for each in classes for shape in shapes.subjects(SH.targetClass, each)]
    for property_shape in (ps for each in classes for ps in shapes.subjects(SH["class"], each)):
        path = sources.value(property_shape, SH.path)
        if isinstance(path, URIRef):
            found += list(shapes.subjects(SH.targetObjectsOf, path))
    return list(dict.fromkeys(found))


def _form_paths(sources: Sources, property_shape: Node) -> list[URIRef]:
    """The paths a form gives a property shape: its IRI path; for an alternative path, the first
    member when the shape requires a language (the property resources are labelled with), else
    every member; none for inverse or sequence paths."""
    path = sources.value(property_shape, SH.path)
    if isinstance(path, URIRef):
        return [path]
    members = [member for member in sources.items(sources.value(path, SH.alternativePath)) if isinstance(member, URIRef)]
    return members[:1] if _qualified_language(sources, property_shape) else members


def _qualified_language(sources: Sources, property_shape: Node) -> str | bool | None:
    """The language a qualified shape requires (`sh:qualifiedValueShape [ sh:languageIn ( "cs" ) ]`),
    False for a qualified shape of something else, None for a shape that is not qualified."""
    qualified = sources.value(property_shape, SH.qualifiedValueShape)
    if qualified is None:
        return None
    languages = sources.items(sources.value(qualified, SH.languageIn))
    return str(languages[0]) if len(languages) == 1 else False


def _describe(graph: Graph, sources: Sources, field: BNode, path: URIRef, shapes: list[Node], order: int) -> None:
    """The field's path, names, hints, order and group: the shapes' annotations, else the ontology's label."""
    graph.add((field, SH.path, path))
    names = _annotations(sources, shapes, SH.name) or field_names(sources, path)
    for name in names:
        graph.add((field, SH.name, name))
    for hint in _annotations(sources, shapes, SH.description):
        graph.add((field, SH.description, hint))
    orders = [int(value) for shape in shapes for value in sources.shapes.objects(shape, SH.order)]
    graph.add((field, SH.order, Literal(min(orders, default=order))))
    group = next((value for shape in shapes for value in sources.shapes.objects(shape, SH.group)), None)
    if group is not None:
        graph.add((field, SH.group, group))
        for triple in sources.shapes.triples((group, None, None)):
            graph.add(triple)


def _annotations(sources: Sources, shapes: list[Node], predicate: URIRef) -> list[Literal]:
    found = {value: None for shape in shapes for value in sources.shapes.objects(shape, predicate)
             if isinstance(value, Literal) and value.language in LANGUAGES}
    return list(found)


def _constrain(graph: Graph, sources: Sources, field: BNode, path: URIRef, shapes: list[Node],
               choices: list[URIRef]) -> None:
    """The field's counts, value kind and choices."""
    minimum = max((int(value) for shape in shapes for value in sources.shapes.objects(shape, SH.minCount)), default=0)
    maxima = [int(value) for shape in shapes for value in sources.shapes.objects(shape, SH.maxCount)]
    for predicate in (SH.datatype, SH.pattern, SH.nodeKind, SH["class"]):
        for value in {value for shape in shapes for value in sources.shapes.objects(shape, predicate)}:
            graph.add((field, predicate, value))
    languages = _languages(sources, shapes)
    if languages is not None:
        graph.add((field, SH.datatype, RDF.langString))
        graph.add((field, SH.languageIn, add_list(graph, [Literal(language) for language in LANGUAGES])))
        graph.add((field, SH.uniqueLang, Literal(True)))
        minimum, maxima = max(minimum, len(languages)), [len(LANGUAGES)]
    elif path in TIME_PATHS and choices:
        graph.add((field, SH["or"], add_list(graph, [_option(graph, choice) for choice in choices])))
    _choices(graph, sources, field, shapes)
    if minimum:
        graph.add((field, SH.minCount, Literal(minimum)))
    if maxima:
        graph.add((field, SH.maxCount, Literal(min(maxima))))


def _languages(sources: Sources, shapes: list[Node]) -> list[str] | None:
    """The languages a value is required in, when the field is a text in languages; else None."""
    required = [language for shape in shapes if isinstance(language := _qualified_language(sources, shape), str)]
    allowed = [shape for shape in shapes if sources.value(shape, SH.languageIn) is not None]
    return list(dict.fromkeys(required)) if required or allowed else None


def _option(graph: Graph, choice: URIRef) -> BNode:
    """An sh:or option of a nested node shape, labelled as the node shape is."""
    option = BNode()
    graph.add((option, SH.node, choice))
    for label in graph.objects(choice, RDFS.label):
        graph.add((option, RDFS.label, label))
    return option


def _choices(graph: Graph, sources: Sources, field: BNode, shapes: list[Node]) -> None:
    """A scheme's concepts for a scheme's membership (`sh:in`); a choice of classes for an sh:or of them."""
    for shape in shapes:
        for node in sources.shapes.objects(shape, SH.node):
            scheme = sources.scheme_of(node)
            if scheme is None:
                continue
            concepts = sources.scheme_concepts(scheme)
            graph.add((field, SH["in"], add_list(graph, concepts)))
            graph.add((field, SH.nodeKind, SH.IRI))  # else shacl-form sends the chosen concept as a string
            for concept in concepts:
                for label in sources.labels(concept):
                    graph.add((concept, RDFS.label, label))
        alternatives = [sources.value(member, SH["class"]) for member in sources.items(sources.value(shape, SH["or"]))]
        if alternatives and all(alternatives):
            graph.add((field, SH["or"], add_list(graph, [_class_option(graph, sources, cls) for cls in alternatives])))


def _class_option(graph: Graph, sources: Sources, cls: Node) -> BNode:
    option = BNode()
    graph.add((option, SH["class"], cls))
    for label in sources.labels(cls):
        graph.add((option, RDFS.label, label))
    return option
