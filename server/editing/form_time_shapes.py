"""The time of a form (time:hasTime, time:hasBeginning, time:hasEnd): a choice of precision, each with
the value fields its precision has, derived from the shapes' own rule (shp:TimeValueShape's sh:or of
day, month, interval and unknown times). A month is a month input: never a day where the source
gives a month.

Each choice is a node shape whose class is itself (`form:time/month`), so that shacl-form picks the
choice of an existing time by its type; the form's values give each time that type, and the page
replaces it by our vocabulary's (its rdfs:subClassOf here) before sending.
"""

from rdflib import RDF, RDFS, XSD, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import SH
from rdflib.term import Node

from .form_terms import RP, TIME, Sources, field_names

FORM_PATH = "shapes/form/"
TIME_PATHS = (TIME.hasTime, TIME.hasBeginning, TIME.hasEnd)
# What the ends of an interval are: a half-year runs from a month to a month, an interval of days
# from a day to a day (the shapes' shp:Interval-half-year and shp:Interval-days-in-order).
_ENDS = {"half-year": "month", "day-interval": "day"}
# The times an unknown time is ordered after or before (shp:Time-unknown-ordered says so in SPARQL).
_ORDER_PATHS = (TIME.after, TIME.before)


def time_choices(graph: Graph, sources: Sources, base: str) -> list[URIRef]:
    """Add a node shape for each precision a time may have to `graph`; the list of them, in the
    shapes' order (day, month, half-year, interval of days, unknown). `base` is the form namespace."""
    datatypes = _value_datatypes(sources)
    choices: list[URIRef] = []
    for alternative in _alternatives(sources):
        precisions, fields = _read_alternative(sources, alternative)
        for precision in precisions:
            choices.append(_add_choice(graph, sources, base, precision, fields, datatypes))
    return choices


def choice_iri(base: str, precision: URIRef) -> URIRef:
    """The node shape (and form-only class) of the times of `precision`."""
    return URIRef(f"{base}time/{_local(precision)}")


def _alternatives(sources: Sources) -> list[Node]:
    """The members of the sh:or of the node shape that checks a time's value against its precision:
    the one whose every member says which precision it is for."""
    for shape in sorted(sources.shapes.subjects(SH.targetObjectsOf, TIME.hasTime)):
        members = sources.items(sources.value(shape, SH["or"]))
        if members and all(_read_alternative(sources, member)[0] for member in members):
            return members
    return []


def _value_datatypes(sources: Sources) -> dict[Node, Node]:
    """The datatype of each value of a time (time:inXSDDate → xsd:date...), from the time's shapes."""
    found: dict[Node, Node] = {}
    for shape in sources.shapes.subjects(SH.targetObjectsOf, TIME.hasTime):
        for property_shape in sources.shapes.objects(shape, SH.property):
            datatype = sources.value(property_shape, SH.datatype)
            if datatype is not None:
                found[sources.value(property_shape, SH.path)] = datatype
    return found


def _read_alternative(sources: Sources, alternative: Node) -> tuple[list[URIRef], list[URIRef]]:
    """The precisions one alternative allows and the value fields it requires."""
    precisions: list[URIRef] = []
    fields: list[URIRef] = []
    for property_shape in sources.shapes.objects(alternative, SH.property):
        path = sources.value(property_shape, SH.path)
        if path == RP.precision:
            one = sources.value(property_shape, SH.hasValue)
            precisions += [one] if one is not None else sources.items(sources.value(property_shape, SH["in"]))
        elif isinstance(path, URIRef) and int(sources.value(property_shape, SH.minCount) or 0) > 0:
            fields.append(path)
    return precisions, fields


def _add_choice(graph: Graph, sources: Sources, base: str, precision: URIRef, fields: list[URIRef],
                datatypes: dict[Node, Node]) -> URIRef:
    choice = choice_iri(base, precision)
    interval = TIME.hasBeginning in fields
    graph.add((choice, RDF.type, SH.NodeShape))
    graph.add((choice, SH.targetClass, choice))
    graph.add((choice, RDFS.subClassOf, TIME.ProperInterval if interval else TIME.Instant))
    for label in sources.labels(precision):
        graph.add((choice, RDFS.label, label))
    # the precision is given (and shown by its name, one choice): the editor chose it with the choice
    _add_field(graph, sources, choice, RP.precision, 0, {SH.hasValue: precision, SH["in"]: add_list(graph, [precision]),
                                                         SH.nodeKind: SH.IRI, SH.minCount: Literal(1),
                                                         SH.maxCount: Literal(1)})
    for label in sources.labels(precision):
        graph.add((precision, RDFS.label, label))
    for order, path in enumerate(fields, start=1):
        if path in (TIME.hasBeginning, TIME.hasEnd):
            end = URIRef(str(precision).rsplit("/", 1)[0] + "/" + _ENDS[_local(precision)])
            constraint = {SH.node: choice_iri(base, end)}
        else:
            constraint = {SH.datatype: datatypes.get(path, XSD.string)}
        _add_field(graph, sources, choice, path, order, {**constraint, SH.minCount: Literal(1), SH.maxCount: Literal(1)})
    if not fields:
        for order, path in enumerate(_ORDER_PATHS, start=1):
            _add_field(graph, sources, choice, path, order, {SH["class"]: TIME.TemporalEntity, SH.maxCount: Literal(1)})
    return choice


def _add_field(graph: Graph, sources: Sources, shape: URIRef, path: URIRef, order: int,
               constraints: dict[URIRef, Node]) -> None:
    field = BNode()
    graph.add((shape, SH.property, field))
    graph.add((field, SH.path, path))
    graph.add((field, SH.order, Literal(order)))
    for label in field_names(sources, path):
        graph.add((field, SH.name, label))
    for predicate, value in constraints.items():
        graph.add((field, predicate, value))


def _local(iri: Node) -> str:
    return str(iri).rstrip("/").rsplit("/", 1)[-1]


def add_list(graph: Graph, items: list[Node]) -> BNode:
    """An RDF list of `items` in `graph`; its head."""
    head = BNode()
    Collection(graph, head, items)
    return head
