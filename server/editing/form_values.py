"""What a form is filled with, from the partnership's FILE (the source, not the served release): the
resources the file describes, by the kind of form that edits each, and one resource's description
with its nested nodes and the times it uses, as the form's values.

Each time is given the form-only class of its precision (form_time_shapes.choice_iri), so that shacl-form
opens the choice the time has; the page replaces those classes by our vocabulary's before sending.
"""

from rdflib import RDF, RDFS, SKOS, BNode, Graph, Literal, URIRef
from rdflib.namespace import SH
from rdflib.term import Node

from .blocks import parse_turtle
from .form_shapes import FORM_BASE, KINDS
from .form_terms import LANGUAGES, RP, TIME, Sources
from .form_time_shapes import TIME_PATHS, choice_iri

# The order of the partnership's page; "event" and "status" are listed apart, in the chronology's order.
LISTED_KINDS = ("partner", "agreement", "event", "status", "person", "post", "participation", "document", "place")
AREA_PATHS = (URIRef("http://purl.org/dc/terms/subject"), RP.pursuedArea, RP.proposedArea)


def kind_of(sources: Sources, types: list[Node]) -> str | None:
    """The kind of form that edits a resource of `types` (the most specific class first), if any."""
    for each in types:
        if isinstance(each, URIRef):
            for cls in sources.superclasses(each):
                for kind, kind_class in KINDS.items():
                    if kind_class == cls:
                        return kind
    return None


def resources_by_kind(sources: Sources, graph: Graph, language: str) -> dict[str, list[tuple[URIRef, str]]]:
    """The named resources `graph` describes, by the kind of their form, each with its label in `language`."""
    found: dict[str, list[tuple[URIRef, str]]] = {kind: [] for kind in LISTED_KINDS}
    for subject in sorted({subject for subject in graph.subjects(RDF.type) if isinstance(subject, URIRef)}):
        kind = kind_of(sources, list(graph.objects(subject, RDF.type)))
        if kind in found:
            found[kind].append((subject, label_in(graph, subject, language)))
    return found


def areas(graph: Graph, sources: Sources, language: str) -> list[str]:
    """The cooperation areas the file's agreements and events name, by their label in `language`."""
    used = {area for path in AREA_PATHS for area in graph.objects(None, path)}
    return sorted(label_in(sources.terms, area, language) for area in used)


def label_in(graph: Graph, subject: Node, language: str) -> str:
    """The label of `subject` in `language`, else in another of ours, else its IRI."""
    labels = {label.language: str(label) for predicate in (SKOS.prefLabel, RDFS.label)
              for label in graph.objects(subject, predicate)}
    for each in (language, *LANGUAGES):
        if each in labels:
            return labels[each]
    return str(subject)


def form_values(text: str, subject: URIRef) -> Graph:
    """The description of `subject` in the file `text`: its statements, those of its blank nodes, and of
    the named times it uses (their labels left out: save labels times), each time typed for the form."""
    graph = parse_turtle(text)
    values = Graph(bind_namespaces="none")
    for prefix, namespace in graph.namespaces():
        values.bind(prefix, namespace)
    values.bind("form", FORM_BASE)
    _copy(graph, values, subject, {subject})
    return values


def _copy(graph: Graph, values: Graph, node: Node, seen: set[Node]) -> None:
    for predicate, value in graph.predicate_objects(node):
        values.add((node, predicate, value))
        if predicate in TIME_PATHS:
            _copy_time(graph, values, value, seen)
        elif isinstance(value, BNode) and value not in seen:
            seen.add(value)
            _copy(graph, values, value, seen)


def _copy_time(graph: Graph, values: Graph, time: Node, seen: set[Node]) -> None:
    if time in seen:
        return
    seen.add(time)
    precision = graph.value(time, RP.precision)
    if isinstance(precision, URIRef):
        values.add((time, RDF.type, choice_iri(FORM_BASE, precision)))
    for predicate, value in graph.predicate_objects(time):
        if predicate != RDFS.label:
            values.add((time, predicate, value))
        if predicate in TIME_PATHS:
            _copy_time(graph, values, value, seen)


def empty_texts(shapes: Graph, root: URIRef, subject: URIRef) -> Graph:
    """An empty text in each of our languages for each text field of the form `root` of `shapes`, so
    that a new form shows one field per language (shacl-form shows one field, whatever sh:minCount)."""
    values = Graph(bind_namespaces="none")
    for field in shapes.objects(root, SH.property):
        if shapes.value(field, SH.languageIn) is not None:
            for language in LANGUAGES:
                values.add((subject, shapes.value(field, SH.path), Literal("", lang=language)))
    return values


def form_classes(shapes: Graph) -> dict[str, str]:
    """The form-only classes of `shapes` and the class of our vocabulary each stands for."""
    return {str(choice): str(cls) for choice, _, cls in shapes.triples((None, RDFS.subClassOf, None))
            if str(choice).startswith(FORM_BASE)}


def file_choices(graph: Graph, sources: Sources, cls: URIRef) -> Graph:
    """The choices of class `cls` that partnership file `graph` describes (saved, perhaps not yet
    published), as the choices endpoint gives them: each typed `cls`, with its cs and en labels; for
    time:TemporalEntity, the named times its events and status periods have."""
    if cls == TIME.TemporalEntity:
        found = {time for prop in (TIME.hasTime, TIME.hasBeginning) for time in graph.objects(None, prop)}
        found |= {part for time in set(found) for prop in (TIME.hasBeginning, TIME.hasEnd)
                  for part in graph.objects(time, prop)}
    else:
        found = {subject for subject, kind in graph.subject_objects(RDF.type)
                 if isinstance(kind, URIRef) and cls in sources.superclasses(kind)}
    choices = Graph(bind_namespaces="none")
    for instance in found:
        if isinstance(instance, URIRef):
            choices.add((instance, RDF.type, cls))
            for label in graph.objects(instance, RDFS.label):
                if isinstance(label, Literal) and label.language in LANGUAGES:
                    choices.add((instance, RDFS.label, label))
    return choices
