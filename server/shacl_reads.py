"""Which triples of the data a part of the shapes can read: those of the predicates its shapes name.

pyshacl-turbo parses its own copy of the data for every validation, and at a million triples that parse is about
half of a part's time. A part of the shapes (shacl_turbo.run_turbo) reads the data only through what its shapes
name: the predicates of their paths (however nested: inverse, alternative, sequence), the classes of sh:class and
sh:targetClass, which the engine finds by rdf:type and rdfs:subClassOf, and the IRIs of their SPARQL queries. A
triple of any other predicate can change no result of the part, so it is left out of the text the part parses.

What the shapes of a part reach is taken generously: every node linked from its shapes with targets, at any depth
(whatever the linking predicate), and every constraint component with a parameter that one of those nodes gives
a value to (a component is not linked from the shapes that use it). Every IRI met on the way counts as a
predicate that may be read. A SPARQL query whose predicate is a variable, or a negated path, may read any
triple: then the part is given all of them (None).
tests/test_shacl_engines.py proves that the parts given less report what pySHACL reports on the whole data.
"""

from collections.abc import Callable, Iterator

from rdflib import BNode, Graph, URIRef, Variable
from rdflib.namespace import OWL, RDF, RDFS, SH
from rdflib.paths import NegatedPath, Path
from rdflib.term import Node

# Read whatever the shapes say: sh:class and sh:targetClass reach a node's classes through these two.
ALWAYS_READ = frozenset((str(RDF.type), str(RDFS.subClassOf)))
_QUERY_PREDICATES = (SH.select, SH.ask, SH.construct, SH.update)


class ReadsAnything(Exception):
    """A query that may read a triple of any predicate."""


def predicates_read(shapes: Graph, targeting: set[Node]) -> frozenset[str] | None:
    """The IRIs (as strings) of the predicates whose triples the shapes `targeting`, validated from `shapes`, can
    read from the data; None when any triple may be read."""
    # A shape that is a class targets its instances, whichever part validates it.
    classes = {node for kind in (RDFS.Class, OWL.Class) for node in shapes.subjects(RDF.type, kind)}
    reached = _linked_from(shapes, set(targeting) | classes)
    reached |= _linked_from(shapes, _components_used(shapes, reached))
    prefixes = declared_prefixes(shapes)
    named = set(ALWAYS_READ)
    try:
        for node in reached:
            for predicate, value in shapes.predicate_objects(node):
                if isinstance(value, URIRef):
                    named.add(str(value))
                elif predicate in _QUERY_PREDICATES:
                    named |= query_iris(str(value), prefixes)
    except ReadsAnything:
        return None
    return frozenset(named)


def _components_used(shapes: Graph, reached: set[Node]) -> set[Node]:
    """The constraint components that a shape of `reached` may use: those with a parameter it gives a value to (a
    component is not linked from the shapes that use it)."""
    given = {predicate for node in reached for predicate in shapes.predicates(node)}
    return {component for component in shapes.subjects(RDF.type, SH.ConstraintComponent)
            if any(path in given for parameter in shapes.objects(component, SH.parameter)
                   for path in shapes.objects(parameter, SH.path))}


def _linked_from(shapes: Graph, start: set[Node]) -> set[Node]:
    """`start` and every node of `shapes` linked from it, at any depth."""
    reached, pending = set(start), list(start)
    while pending:
        for value in shapes.objects(pending.pop(), None):
            if isinstance(value, (URIRef, BNode)) and value not in reached:
                reached.add(value)
                pending.append(value)
    return reached


def declared_prefixes(shapes: Graph) -> dict[str, str]:
    """Every prefix the shapes declare for their SPARQL (sh:declare), whichever query declares it."""
    return {str(shapes.value(declaration, SH.prefix)): str(shapes.value(declaration, SH.namespace))
            for declaration in shapes.objects(None, SH.declare)}


def query_iris(text: str, prefixes: dict[str, str]) -> set[str]:
    """Every IRI the SPARQL query `text` names; ReadsAnything when it may read a triple of any predicate (or
    cannot be read here)."""
    from rdflib.plugins.sparql import prepareQuery  # (as pySHACL: only when validating)

    try:
        algebra = prepareQuery(text, initNs=prefixes).algebra
    except Exception as error:  # a query rdflib cannot parse: no telling what it reads
        raise ReadsAnything(text) from error
    return {str(term) for term in _terms(algebra) if isinstance(term, URIRef)}


def _terms(node: object) -> Iterator[object]:
    """The terms below a node of rdflib's SPARQL algebra; ReadsAnything at a triple pattern whose predicate is a
    variable, or a negated path."""
    if isinstance(node, NegatedPath):
        raise ReadsAnything(str(node))
    if isinstance(node, Path):
        children: list[object] = [*getattr(node, "args", ()), getattr(node, "path", None)]
    elif isinstance(node, dict):  # an rdflib CompValue; a FILTER (NOT) EXISTS keeps its pattern in an attribute
        if getattr(node, "name", None) == "BGP" and any(isinstance(p, Variable) for _, p, _ in node["triples"]):
            raise ReadsAnything("a triple pattern with a variable predicate")
        children = [*node.values(), *vars(node).values()]
    elif isinstance(node, (list, tuple, set)):
        children = list(node)
    else:
        yield node
        return
    for child in children:
        yield from _terms(child)


def deal(groups: list[set[Node]], reads: list[frozenset[str] | None], counts: dict[str, int],
         parts: int) -> list[tuple[set[Node], frozenset[str] | None]]:
    """`groups` of shapes with targets (those that `reads` say read those predicates) dealt into up to `parts` parts,
    each with what it reads, so that the part that reads the most triples (`counts`: triples per predicate) reads as
    few as it can, and all of them together as few: the largest first, each into the part where it makes the
    smallest, then one group at a time moved where that lowers the two.

    Parsing the triples a part reads is most of a part's time, and a part of groups that read the same predicates
    parses them once."""
    everything = sum(counts.values())

    def size(read: frozenset[str] | None) -> int:
        return everything if read is None else sum(counts.get(predicate, 0) for predicate in read)

    sizes = [size(read) for read in reads]
    dealt: list[list[int]] = [[] for _ in range(min(parts, len(groups)))]
    for group in sorted(range(len(groups)), key=lambda group: (-sizes[group], group)):
        min(dealt, key=lambda part: (size(_union(reads, [*part, group])), size(_union(reads, part)))).append(group)
    dealt = _improved(dealt, lambda part: size(_union(reads, part)))
    return [(set().union(*(groups[group] for group in part)), _union(reads, part)) for part in dealt if part]


def _union(reads: list[frozenset[str] | None], part: list[int]) -> frozenset[str] | None:
    """What the groups of `part` read together (None: everything)."""
    chosen = [reads[group] for group in part]
    return None if None in chosen else frozenset().union(*chosen)


def _improved(dealt: list[list[int]], size: Callable[[list[int]], int]) -> list[list[int]]:
    """`dealt` with groups moved, one at a time, to another part while that lowers the largest part's size, or the
    sum of the sizes."""
    def score(parts: list[list[int]]) -> tuple[int, int]:
        sizes = [size(part) for part in parts]
        return max(sizes), sum(sizes)

    better = True
    while better:
        better = next((trial for trial in _moves(dealt) if score(trial) < score(dealt)), None)
        dealt = better or dealt
    return dealt


def _moves(dealt: list[list[int]]) -> Iterator[list[list[int]]]:
    """`dealt` with one group moved to another part, every way that leaves no part empty."""
    for source, part in enumerate(dealt):
        for group in part if len(part) > 1 else ():
            for target in range(len(dealt)):
                if target != source:
                    trial = [[other for other in each if other != group] for each in dealt]
                    trial[target].append(group)
                    yield trial
