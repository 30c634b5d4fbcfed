"""Running the shapes: on pyshacl-turbo where it may (shacl_turbo.py), else on pySHACL, in this process or
with the shapes shared out among a pool of processes.

`run_shacl` validates a graph against shapes and reads the engine's results (validation_report.py).
With more than one job, `shape_partitions` splits the shapes into groups that can be validated
apart, and each process validates the whole graph against one group. pyshacl's SPARQL constraints
are parsed once each, and planned to start from the focus node (`_QueryCachingGraph`).
"""

import functools
import logging
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, URIRef, Variable
from rdflib.namespace import OWL, RDF, RDFS, SH
from rdflib.term import Node

from .pool import map_in_forked_pool
from .rdf_files import SourceIndex
from .shacl_turbo import TARGET_PREDICATES, FastData, graph_store, run_turbo, usable
from .validation_report import ValidationResult, read_result

_LOG = logging.getLogger(__name__)


def run_shacl(graph: Graph | ox.Store | FastData, shapes: Graph, index: SourceIndex, prefixes: dict[str, str],
              jobs: int = 1, fast: bool = True) -> list[ValidationResult]:
    """The results of validating `graph` against `shapes`, in no particular order.

    The fast engine validates when it may (`fast` and shacl_turbo.usable), in one process: alone it
    gains more than a pool would. Otherwise pySHACL does (`run_pyshacl`).
    """
    if fast and usable(shapes):
        return run_turbo(graph if isinstance(graph, (ox.Store, FastData)) else graph_store(graph), shapes, index,
                         prefixes, turbo_groups(shapes) if jobs > 1 else None, jobs)
    if not isinstance(graph, Graph):
        raise TypeError("pySHACL validates an rdflib graph, not an Oxigraph store")
    return run_pyshacl(graph, shapes, index, prefixes, jobs)


def run_pyshacl(graph: Graph, shapes: Graph, index: SourceIndex, prefixes: dict[str, str],
                jobs: int = 1) -> list[ValidationResult]:
    """The results of validating `graph` against `shapes` with pySHACL, the reference, in no particular
    order; with `jobs` > 1 the shapes are shared out among that many processes (see `shape_partitions`)."""
    work = _Work(graph, shapes, index, prefixes)
    partitions = shape_partitions(shapes) if jobs > 1 else None
    if partitions is None or len(partitions) < 2:
        return work.run(None)
    return _run_in_pool(work, partitions, jobs)


@dataclass(frozen=True)
class _Work:
    """What validating needs: the data, the shapes (dated), and how to report a result."""

    graph: Graph
    shapes: Graph
    index: SourceIndex
    prefixes: dict[str, str]

    def run(self, shape_names: list[str] | None) -> list[ValidationResult]:
        """Run pyshacl with the shapes named (all of them if None) and read its results."""
        import pyshacl  # here, not at the top: the server imports this module, and would wait for it

        data = _QueryCachingGraph(store=self.graph.store, identifier=self.graph.identifier,
                                  namespace_manager=self.graph.namespace_manager)
        _, results_graph, _ = pyshacl.validate(
            data,
            shacl_graph=self.shapes,
            inference="none",
            advanced=True,
            allow_warnings=True,
            inplace=True,
            use_shapes=shape_names,
        )
        report_node = results_graph.value(predicate=RDF.type, object=SH.ValidationReport, any=False)
        # Only the report's own results: those nested under sh:detail explain a result, they are not one.
        return [
            read_result(results_graph, node, self.shapes, self.index, self.prefixes)
            for node in results_graph.objects(report_node, SH.result)
        ]


_CLASSES = (RDFS.Class, OWL.Class)
# The predicates whose values are shapes: one shape, or a list of them.
_SHAPE_PREDICATES = (SH.property, SH.node, URIRef(SH + "not"), SH.qualifiedValueShape)
_SHAPE_LIST_PREDICATES = (URIRef(SH + "and"), URIRef(SH + "or"), SH.xone)


def shape_partitions(shapes: Graph) -> list[list[str]] | None:
    """The shapes split into partitions that can be validated apart, each a sorted list of IRIs;
    None when the shapes cannot be split.

    SHACL's results are those of each shape with targets on each of its focus nodes, so the
    results of validating the whole graph against each such shape alone add up to those of
    validating it against all of them. pyshacl, given shapes by name, follows only the blank
    nodes below them, so a partition names every shape its shapes reach by IRI as well; shapes
    with targets that reach one another share a partition, so that each is validated once.
    The shapes cannot be split when a shape with targets is a blank node (pyshacl selects shapes
    by IRI) or when a shape has SHACL rules (which add to the data every shape sees).
    """
    if (None, SH.rule, None) in shapes:
        return None
    targeting = _shapes_with_targets(shapes)
    if len(targeting) < 2 or any(not isinstance(shape, URIRef) for shape in targeting):
        return None
    reached = {shape: _shapes_reached(shapes, shape) for shape in targeting}
    groups: list[set[Node]] = []
    for shape in sorted(targeting):
        joined = [group for group in groups
                  if any(other in reached[shape] or shape in reached[other] for other in group)]
        merged = {shape}.union(*joined)
        groups = [group for group in groups if group not in joined] + [merged]
    partitions = [sorted({str(node) for shape in group for node in reached[shape] if isinstance(node, URIRef)})
                  for group in groups]
    return sorted(partitions)


def turbo_groups(shapes: Graph) -> list[set[Node]] | None:
    """The shapes with targets in groups that the fast engine's threads may validate apart (those of each partition:
    see shape_partitions); None for shapes that cannot be split, or that target nodes only as classes (implicitly: a
    part could not leave them out)."""
    partitions = shape_partitions(shapes)
    targeting = _shapes_with_targets(shapes)
    if not partitions or any(_declared_targets(shapes, shape) == 0 for shape in targeting):
        return None
    return [{URIRef(iri) for iri in partition} & targeting for partition in partitions]


def _declared_targets(shapes: Graph, shape: Node) -> int:
    """How many targets `shape` declares (none for a shape that targets only as a class)."""
    return sum(1 for predicate in TARGET_PREDICATES for _ in shapes.objects(shape, predicate))


def _shapes_with_targets(shapes: Graph) -> set[Node]:
    """The shapes that target nodes: explicitly, or as classes (an implicit class target)."""
    class_types = set(_CLASSES) | set(shapes.subjects(RDFS.subClassOf, RDFS.Class))
    targeting = {subject for predicate in TARGET_PREDICATES for subject in shapes.subjects(predicate, None)}
    return targeting | {subject for class_type in class_types for subject in shapes.subjects(RDF.type, class_type)
                        if _is_shape(shapes, subject)}


def _shapes_reached(shapes: Graph, shape: Node) -> set[Node]:
    """`shape` and every shape it refers to, directly or through others (sh:property, sh:node, sh:or...)."""
    reached, pending = {shape}, [shape]
    while pending:
        node = pending.pop()
        below = [value for predicate in _SHAPE_PREDICATES for value in shapes.objects(node, predicate)]
        below += [item for predicate in _SHAPE_LIST_PREDICATES for values in shapes.objects(node, predicate)
                  for item in shapes.items(values)]
        pending += [value for value in below if value not in reached]
        reached.update(below)
    return reached


def _is_shape(shapes: Graph, node: Node) -> bool:
    return any((node, RDF.type, kind) in shapes for kind in (SH.NodeShape, SH.PropertyShape))


def _run_in_pool(work: _Work, partitions: list[list[str]], jobs: int) -> list[ValidationResult]:
    """Validate each partition of the shapes in a pool of `jobs` processes; all their results.

    The partitions with the most work go first, so that the longest does not start when the
    others are done.
    """
    workers = min(jobs, len(partitions))
    _LOG.info("validating %d partitions of the shapes in %d processes", len(partitions), workers)
    largest_first = sorted(partitions, key=lambda partition: -_estimated_work(work, partition))
    return [result for results in map_in_forked_pool(_Work.run, largest_first, workers, work) for result in results]


def _estimated_work(work: _Work, partition: list[str]) -> int:
    """The work a partition takes, roughly: its focus nodes times its shapes."""
    return sum(_count_targets(work.graph, work.shapes, URIRef(name)) for name in partition) * len(partition)


def _count_targets(graph: Graph, shapes: Graph, shape: URIRef) -> int:
    """How many focus nodes `shape` targets in `graph`, counting a node once per target that selects it."""
    count = sum(1 for _ in shapes.objects(shape, SH.targetNode))
    for target_class in shapes.objects(shape, SH.targetClass):
        for subclass in set(graph.transitive_subjects(RDFS.subClassOf, target_class)):
            count += sum(1 for _ in graph.subjects(RDF.type, subclass))
    for predicate in (SH.targetObjectsOf, SH.targetSubjectsOf):
        for target_predicate in shapes.objects(shape, predicate):
            count += sum(1 for _ in graph.triples((None, target_predicate, None)))
    return count


class _QueryCachingGraph(Graph):
    """A view of a graph that parses each SPARQL query text once, and plans it for its bindings.

    pyshacl runs a SPARQL constraint once per focus node, passing the same query text each time
    with $this (and the constraint's parameters) bound; parsing it dominated the time validation
    took, so the parsed query is kept.
    """

    def query(self, query_object: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(query_object, str):
            # Graph.query(query_object, processor, result, initNs, initBindings, ...): pyshacl
            # passes initBindings by position.
            bindings = kwargs.get("initBindings", args[3] if len(args) > 3 else None) or {}
            query_object = _prepared_query(query_object, frozenset(str(name) for name in bindings))
        return super().query(query_object, *args, **kwargs)


@functools.lru_cache(maxsize=256)
def _prepared_query(text: str, bound: frozenset[str] = frozenset()):
    """The query parsed, its triple patterns ordered to start from the variables `bound`."""
    from rdflib.plugins.sparql import prepareQuery  # (as pyshacl: only when validating)

    query = prepareQuery(text)
    _start_from_bound(query.algebra, {Variable(name) for name in bound})
    return query


def _start_from_bound(node: Any, bound: set[Variable]) -> None:
    """Reorder the triple patterns of every basic graph pattern below `node` (see `_bound_first`).

    rdflib orders a pattern's triples when it parses the query, not knowing that $this will be
    bound, so `?period rp:partnership $this ; a rp:StatusPeriod` starts from every status period
    of the graph, once per focus node: time that grows with the square of the data.
    """
    if isinstance(node, dict) and getattr(node, "name", None) == "BGP":  # an rdflib CompValue
        node["triples"] = _bound_first(node["triples"], bound)
    if isinstance(node, dict):
        # rdflib keeps the translated pattern of a FILTER (NOT) EXISTS in an attribute, not an item.
        children = [*node.values(), *vars(node).values()]
    else:
        children = node if isinstance(node, (list, tuple)) else ()
    for child in children:
        if isinstance(child, (dict, list, tuple)):
            _start_from_bound(child, bound)


def _bound_first(triples: list[tuple[Node, Node, Node]], bound: set[Variable]) -> list[tuple[Node, Node, Node]]:
    """`triples` in the order that leaves the fewest variables to find at each step; of equals,
    the one that mentions a variable already known (it starts from one node, where a class or a
    predicate alone selects many), then the one written first."""
    known, pending, ordered = set(bound), list(triples), []
    while pending:
        def cost(triple: tuple[Node, Node, Node]) -> tuple[int, bool]:
            variables = {term for term in triple if isinstance(term, (Variable, BNode))}
            return len(variables - known), not variables & known

        chosen = min(pending, key=cost)  # min keeps the first of equals
        pending.remove(chosen)
        ordered.append(chosen)
        known.update(term for term in chosen if isinstance(term, (Variable, BNode)))
    return ordered
