"""SHACL-SPARQL constraints run by Oxigraph once for all their focus nodes, reported as pySHACL reports them.

pySHACL (and pyshacl-turbo) run a SPARQL constraint once per focus node, with $this bound. Oxigraph
plans a query before it knows $this, and starts some of ours (`EXISTS` in a `BIND`, `FILTER NOT EXISTS`) from
every node of a class: at a million triples, time that grows with the square of the data. So a constraint of a
targeted node shape is run here once, its focus nodes joined in first (a sub-select of the shape's targets),
which gives each focus node the rows that binding $this gives it. Two of our queries are slow even so; they
run in the formulations of FORMULATIONS, the same conditions written as sub-selects that Oxigraph evaluates
once. tests/test_shacl_engines.py proves the results equal to pySHACL's on the project's data and on every
broken fixture. What this module does not take (`batchable`) is left to the engine.
"""

import re
from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SH
from rdflib.term import Node

from .rdf_files import SourceIndex
from .terms import to_rdflib
from .validation_report import ValidationResult, read_result

# A query of ours (its words, however spaced) and the same query written as Oxigraph evaluates it well.
FORMULATIONS = {
    " ".join(original.split()): formulation for original, formulation in (
        ("""SELECT $this WHERE {
            FILTER NOT EXISTS { $this rp:partner ?body . FILTER NOT EXISTS { ?body a rp:Region } }
            FILTER NOT EXISTS { ?period rp:partnership $this ; a rp:StatusPeriod }
        }""", """SELECT $this WHERE {
            OPTIONAL { SELECT DISTINCT $this (true AS ?partnerNotRegion)
                       WHERE { $this rp:partner ?body . MINUS { ?body a rp:Region } } }
            OPTIONAL { SELECT DISTINCT $this (true AS ?periodFound) WHERE { ?period rp:partnership $this ; a rp:StatusPeriod } }
            FILTER (!BOUND(?partnerNotRegion) && !BOUND(?periodFound))
        }"""),
        ("""SELECT $this (rp:status AS ?path) (?status AS ?value) WHERE {
            $this rp:status ?status .
            FILTER (?status IN (st:signed, st:signed-and-initialled, st:notice-given))
            BIND (EXISTS { $this rp:causedBy ?signing . ?signing a rp:Signing } AS ?bySigning)
            BIND (EXISTS { $this rp:causedBy ?signing . ?signing a rp:Signing ; rp:participation ?initialling .
                           ?initialling prov:hadRole role:initialler } AS ?initialled)
            BIND (EXISTS { $this rp:causedBy ?notice . ?notice dcterms:type evk:notice-of-termination } AS ?byNotice)
            FILTER ((?status = st:signed && (!?bySigning || ?initialled))
                    || (?status = st:signed-and-initialled && !?initialled)
                    || (?status = st:notice-given && !?byNotice))
        }""", """SELECT $this (rp:status AS ?path) (?status AS ?value) WHERE {
            $this rp:status ?status .
            FILTER (?status IN (st:signed, st:signed-and-initialled, st:notice-given))
            OPTIONAL { SELECT DISTINCT $this (true AS ?signingFound)
                       WHERE { $this rp:causedBy ?signing . ?signing a rp:Signing } }
            OPTIONAL { SELECT DISTINCT $this (true AS ?initialledFound)
                       WHERE { $this rp:causedBy ?signing . ?signing a rp:Signing ; rp:participation ?initialling .
                               ?initialling prov:hadRole role:initialler } }
            OPTIONAL { SELECT DISTINCT $this (true AS ?noticeFound)
                       WHERE { $this rp:causedBy ?notice . ?notice dcterms:type evk:notice-of-termination } }
            BIND (BOUND(?signingFound) AS ?bySigning)
            BIND (BOUND(?initialledFound) AS ?initialled)
            BIND (BOUND(?noticeFound) AS ?byNotice)
            FILTER ((?status = st:signed && (!?bySigning || ?initialled))
                    || (?status = st:signed-and-initialled && !?initialled)
                    || (?status = st:notice-given && !?byNotice))
        }"""),
    )
}

# A query that projects $this first, and has no sub-select of its own that could hide a $this.
_THIS_FIRST = re.compile(r"^\s*SELECT\s+(?:DISTINCT\s+)?[$?]this\b", re.IGNORECASE)
_SELECT = re.compile(r"\bSELECT\b", re.IGNORECASE)
# Variables pySHACL binds or refuses beside $this, and the one that reports a failure: left to the engine.
_OTHER_BOUND = re.compile(r"[$?](?:currentShape|shapesGraph|PATH|failure)\b")
_TARGETS = {
    SH.targetClass: "{{ ?this a/<" + str(RDFS.subClassOf) + ">* {} }}",
    SH.targetNode: "{{ VALUES ?this {{ {} }} }}",
    SH.targetSubjectsOf: "{{ ?this {} ?targetObject }}",
    SH.targetObjectsOf: "{{ ?targetSubject {} ?this }}",
}
_SHAPE_OBJECTS = (SH.property, SH.node, SH["not"], SH.qualifiedValueShape, RDF.first)


@dataclass(frozen=True)
class Batched:
    """A SPARQL constraint of a node shape, and the query that runs it for all the shape's focus nodes."""

    shape: URIRef
    constraint: Node
    query: str
    prefixes: dict[str, str]


def batchable(shapes: Graph) -> list[Batched]:
    """The SPARQL constraints of `shapes` that this module runs: those of node shapes that have targets and
    an IRI, that no shape refers to, whose query projects $this and binds nothing else in advance."""
    batched = []
    for shape, constraint in sorted(shapes.subject_objects(SH.sparql)):
        text = shapes.value(constraint, SH.select)
        if text is None or not _takes(shapes, shape, str(text)):
            continue
        query = FORMULATIONS.get(" ".join(str(text).split()), str(text))
        batched.append(Batched(shape, constraint, _for_focus_nodes(shapes, shape, query), _prefixes(shapes, constraint)))
    return batched


def _takes(shapes: Graph, shape: Node, text: str) -> bool:
    """True when the constraint `text` of `shape` can run here for all its focus nodes at once."""
    targeted = any((shape, target, None) in shapes for target in _TARGETS)
    referred = any((None, predicate, shape) in shapes for predicate in _SHAPE_OBJECTS)
    a_class = any((shape, RDF.type, kind) in shapes for kind in (RDFS.Class, OWL.Class))  # targets itself too
    return (isinstance(shape, URIRef) and targeted and not referred and not a_class and (shape, SH.path, None) not in shapes
            and (shape, SH.deactivated, None) not in shapes and _THIS_FIRST.match(text) is not None
            and len(_SELECT.findall(text)) == 1 and _OTHER_BOUND.search(text) is None)


def _for_focus_nodes(shapes: Graph, shape: Node, query: str) -> str:
    """`query` with the focus nodes of `shape` joined in first, in its outermost group."""
    targets = " UNION ".join(template.format(value.n3()) for predicate, template in _TARGETS.items()
                             for value in sorted(shapes.objects(shape, predicate)))
    start = query.index("{") + 1
    return f"{query[:start]}\n{{ SELECT DISTINCT ?this WHERE {{ {targets} }} }}\n{query[start:]}"


def _prefixes(shapes: Graph, constraint: Node) -> dict[str, str]:
    """The prefixes the constraint declares (sh:prefixes, then sh:declare), as pySHACL reads them."""
    return {str(shapes.value(declaration, SH.prefix)): str(shapes.value(declaration, SH.namespace))
            for source in shapes.objects(constraint, SH.prefixes)
            for declaration in shapes.objects(source, SH.declare)}


def without_batched(shapes: Graph, batched: list[Batched]) -> Graph:
    """A copy of `shapes` without the constraints of `batched`, for the engine that runs the rest."""
    rest = Graph(bind_namespaces="none")
    rest += shapes
    for item in batched:
        rest.remove((item.shape, SH.sparql, item.constraint))
    return rest


def run_batched(store: ox.Store, shapes: Graph, batched: list[Batched], index: SourceIndex,
                prefixes: dict[str, str]) -> list[ValidationResult]:
    """The results of the constraints of `batched` on the default graph of `store`."""
    return [result for item in batched for result in _results(store, shapes, item, index, prefixes)]


def _results(store: ox.Store, shapes: Graph, item: Batched, index: SourceIndex,
             prefixes: dict[str, str]) -> list[ValidationResult]:
    """One result per distinct row, as pySHACL makes it from the rows of each focus node."""
    solutions = store.query(item.query, prefixes=item.prefixes)
    names = [variable.value for variable in solutions.variables]
    rows, seen = [], set()
    for solution in solutions:
        row = {name: to_rdflib(solution[name]) for name in names if solution[name] is not None}
        if frozenset(row.items()) not in seen:  # pySHACL reports a row repeated once
            seen.add(frozenset(row.items()))
            rows.append(row)
    report = Graph()
    return [read_result(report, _result_node(report, shapes, item, row), shapes, index, prefixes) for row in rows]


def _result_node(report: Graph, shapes: Graph, item: Batched, row: dict[str, Node]) -> BNode:
    """The result of `row` written into `report` as pySHACL writes it; its node."""
    focus = row.pop("this")
    path, value = row.pop("path", None), row.pop("value", None)
    value = focus if value is None else value  # a node shape's result is about its focus node
    node = BNode()
    for predicate, obj in ((RDF.type, SH.ValidationResult), (SH.sourceConstraintComponent, SH.SPARQLConstraintComponent),
                           (SH.sourceShape, item.shape), (SH.resultSeverity, shapes.value(item.shape, SH.severity)
                                                          or SH.Violation),
                           (SH.focusNode, focus), (SH.value, value), (SH.resultPath, path),
                           (SH.sourceConstraint, item.constraint)):
        if obj is not None:
            report.add((node, predicate, obj))
    bound = {**row, "this": focus, **({"path": path} if path is not None else {}), "value": value}
    own = list(shapes.objects(item.shape, SH.message))
    for message in own + [message for message in shapes.objects(item.constraint, SH.message) if message not in own]:
        report.add((node, SH.resultMessage, Literal(_filled_in(str(message), bound))))
    return node


def _filled_in(message: str, bound: dict[str, Node]) -> str:
    """`message` with its {?var} and {$var} filled in as pySHACL fills them (and so without its language)."""
    for name, value in bound.items():
        message = re.sub(f"{{[?$]{name}}}", str(value), message)
    return message
