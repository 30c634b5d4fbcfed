"""The fast SHACL engine: pyshacl-turbo (pySHACL's API, its engine in Rust), where it gives pySHACL's results.

pySHACL is the reference (shacl_runner.py). pyshacl-turbo runs instead when it is installed and the shapes
use only the SHACL terms it has been proven on: those of the project's shapes, on which
tests/test_shacl_engines.py runs both engines on the project's data and on every broken fixture and
compares the reports result by result. Shapes that use any other SHACL term (the DCAT-AP shapes of the
catalogue record, another dataset's) are validated by pySHACL.

The data goes to it as N-Triples text of the union of the named graphs, made from the loaded N-Quads lines
(`FastData`): pyshacl-turbo parses its own copy of whatever it is given (an Oxigraph store it would first write out
as text, once per part), and no rdflib graph of the data is made, which at a million triples took longer than the
validation itself. The SPARQL constraints run on an Oxigraph store of the same text, made while the engine works.
"""

import functools
import logging
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SH
from rdflib.term import Node

from .rdf_files import SourceIndex
from .shacl_reads import deal, predicates_read
from .shacl_sparql import batchable, run_batched, without_batched
from .terms import to_oxigraph, to_rdflib
from .validation_report import ValidationResult, read_result

if TYPE_CHECKING:
    from pyshacl_turbo.rdf import Input

_LOG = logging.getLogger(__name__)

# The SHACL terms (local names under sh:) of the project's shapes: the ones the comparison proves the
# engines agree on. A test checks that this is exactly what shapes/*.ttl use, so a new term in the shapes
# is compared before the fast engine may validate it.
PROVEN_TERMS = frozenset((
    "BlankNode ConstraintComponent IRI Info NodeShape PropertyGroup PropertyShape SPARQLConstraint "
    "Literal SPARQLSelectValidator Warning alternativePath class datatype declare description group hasValue in "
    "inversePath languageIn maxCount message minCount name namespace node nodeKind nodeValidator not or order "
    "parameter path pattern prefix prefixes property qualifiedMaxCount qualifiedMinCount qualifiedValueShape "
    "select severity sparql targetClass targetObjectsOf targetSubjectsOf uniqueLang").split())


@functools.cache
def installed() -> bool:
    """True when pyshacl-turbo can be imported (a wheel that does not load on this machine counts as none)."""
    try:
        import pyshacl_turbo  # noqa: F401 (imported when validating, not with this module: the server imports it)
    except ImportError:
        return False
    return True


def shacl_terms(shapes: Graph) -> set[str]:
    """The local names of the SHACL terms (IRIs under sh:) that `shapes` mention anywhere."""
    namespace = str(SH)
    return {term[len(namespace):] for triple in shapes for term in triple
            if isinstance(term, URIRef) and term.startswith(namespace)}


def usable(shapes: Graph) -> bool:
    """True when the fast engine may validate against `shapes`: it is installed, and the shapes use
    only SHACL terms on which it was proven to report what pySHACL reports."""
    return installed() and shacl_terms(shapes) <= PROVEN_TERMS


class FastData:
    """The data the fast path validates, in the forms its two engines read: N-Triples text for pyshacl-turbo, and
    an Oxigraph store of the same triples for the SPARQL constraints and lodpub's own checks, made when first
    asked for (once, by whichever thread asks first), so that it can be made while the engine works."""

    def __init__(self, ntriples: bytes, store: ox.Store | None = None) -> None:
        self.ntriples = ntriples
        self._store = store
        self._making = threading.Lock()
        self._grouped: dict[bytes, list[bytes]] | None = None
        self._grouping = threading.Lock()

    @classmethod
    def of_store(cls, store: ox.Store) -> "FastData":
        """The default graph of `store`."""
        return cls(store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph()), store)

    @property
    def store(self) -> ox.Store:
        """An Oxigraph store holding the triples in its default graph, its blank nodes labelled as in the text
        (the store's own loader would label them anew)."""
        with self._making:
            if self._store is None:
                store = ox.Store()
                store.bulk_extend(ox.parse(self.ntriples, format=ox.RdfFormat.N_TRIPLES))
                self._store = store
            return self._store

    def for_turbo(self, predicates: frozenset[str] | None = None) -> "Input":
        """The text as pyshacl-turbo takes it without writing out a copy first: the triples of `predicates`
        (IRIs), or all of them."""
        from pyshacl_turbo.rdf import Input

        return Input(self.text_of(predicates).decode("utf-8"), "nt", None, {}, preserve_ids=True)

    def text_of(self, predicates: frozenset[str] | None) -> bytes:
        """The triples whose predicate is one of `predicates` (IRIs), or all of them for None, as N-Triples."""
        if predicates is None:
            return self.ntriples
        wanted = {f"<{predicate}>".encode() for predicate in predicates}
        return b"".join(line for predicate, lines in self._by_predicate().items() if predicate in wanted
                        for line in lines)

    def triples_per_predicate(self) -> dict[str, int]:
        """How many triples each predicate (IRI) has."""
        return {predicate[1:-1].decode("utf-8"): len(lines) for predicate, lines in self._by_predicate().items()}

    def _by_predicate(self) -> dict[bytes, list[bytes]]:
        """The lines of the text by their predicate (as written, in angle brackets); made once."""
        with self._grouping:
            if self._grouped is None:
                grouped: dict[bytes, list[bytes]] = {}
                for line in self.ntriples.splitlines(keepends=True):
                    grouped.setdefault(line.split(b" ", 2)[1], []).append(line)
                self._grouped = grouped
            return self._grouped


def union_data(quad_lines: Iterable[bytes]) -> FastData:
    """The union of the named graphs of `quad_lines` (N-Quads, in any order) as the fast path reads it."""
    return FastData(b"".join(line[:line.rindex(b" <")] + b" .\n" for line in quad_lines))


def union_store(quad_lines: list[bytes]) -> ox.Store:
    """An Oxigraph store whose default graph is the union of the named graphs of `quad_lines` (N-Quads),
    its blank nodes labelled as in the lines."""
    return union_data(quad_lines).store


def graph_store(graph: Graph) -> ox.Store:
    """An Oxigraph store holding `graph` in its default graph, its terms (blank nodes too) as they are."""
    store = ox.Store()
    store.extend(ox.Quad(*map(to_oxigraph, triple), ox.DefaultGraph()) for triple in graph)
    return store


def run_turbo(data: ox.Store | FastData, shapes: Graph, index: SourceIndex, prefixes: dict[str, str],
              groups: list[set[Node]] | None = None, threads: int = 1) -> list[ValidationResult]:
    """The results of validating `data` (an Oxigraph store's default graph) against `shapes`: the SPARQL constraints
    that shacl_sparql.py runs for all their focus nodes at once, the rest with pyshacl-turbo; read as pySHACL's are.
    With `groups` (sets of the shapes with targets that may be validated apart) and more than one of `threads`,
    the groups are dealt into that many parts, each validated on a thread of its own, from the triples it can read
    (shacl_reads.py). The engine lets go of Python's lock while it works, so the parts run at once, and the SPARQL
    constraints (and the store they need) beside them."""
    import pyshacl_turbo  # here, not at the top: the server imports this module, and would wait for it

    data = data if isinstance(data, FastData) else FastData.of_store(data)
    _LOG.info("validating with pyshacl-turbo")
    batched = batchable(shapes)
    unbatched = without_batched(shapes, batched)

    def results_of(part: tuple[Graph, frozenset[str] | None]) -> list[ValidationResult]:
        part_shapes, predicates = part
        # Each part parses its own copy of the data: of the triples it can read (shacl_reads.py), on its thread.
        # The report's literals as the data holds them (not rewritten to rdflib's canonical forms), as pySHACL gives them.
        _, results_graph, _ = pyshacl_turbo.validate(data.for_turbo(predicates), shacl_graph=part_shapes,
                                                     inference="none",
                                                     advanced=True, allow_warnings=True,
                                                     _normalize_report_literals=False)
        report_node = results_graph.value(predicate=RDF.type, object=SH.ValidationReport, any=False)
        # Only the report's own results: those nested under sh:detail explain a result, they are not one.
        return [_as_in_data(read_result(results_graph, node, shapes, index, prefixes))
                for node in results_graph.objects(report_node, SH.result)]

    work = [(targeting_only(unbatched, part), reads) for part, reads in _parts(data, unbatched, groups, threads)]
    with ThreadPoolExecutor(max_workers=len(work)) as threads:
        outcomes = threads.map(results_of, work)
        beside = run_batched(data.store, shapes, batched, index, prefixes)
        return [result for outcome in outcomes for result in outcome] + beside


def _parts(data: FastData, shapes: Graph, groups: list[set[Node]] | None,
           threads: int) -> list[tuple[set[Node] | None, frozenset[str] | None]]:
    """The shapes with targets dealt into up to `threads` parts, with the predicates each reads (see shacl_reads.deal);
    one part of them all (None), reading everything, without groups or threads."""
    if not groups or len(groups) < 2 or threads < 2:
        return [(None, None)]
    return deal(groups, [predicates_read(shapes, group) for group in groups], data.triples_per_predicate(), threads)


# The predicates by which a shape says which nodes it targets (SHACL Core, and SHACL-AF's sh:target).
TARGET_PREDICATES = (SH.targetClass, SH.targetNode, SH.targetObjectsOf, SH.targetSubjectsOf, SH.target)


def targeting_only(shapes: Graph, kept: set[Node] | None) -> Graph:
    """`shapes` with the targets of every shape but those of `kept` taken away: only `kept` selects focus
    nodes, and the shapes they reach are still there for them. `shapes` as they are for None (all of them)."""
    if kept is None:
        return shapes
    part = Graph(bind_namespaces="none")
    part += shapes
    for target in TARGET_PREDICATES:
        for shape, value in shapes.subject_objects(target):
            if shape not in kept:
                part.remove((shape, target, value))
    return part


def _as_in_data(result: ValidationResult) -> ValidationResult:
    """`result` with its focus node and value written as the data's rdflib graph writes them."""
    return replace(result, focus_node=_as_rdflib_reads(result.focus_node), value=_as_rdflib_reads(result.value))


def _as_rdflib_reads(term: Node | None) -> Node | None:
    """A literal as rdflib reads it from the data: pyshacl-turbo gives a plain string the datatype that
    RDF 1.1 says it has (xsd:string), which rdflib writes as a plain literal."""
    return to_rdflib(to_oxigraph(term)) if isinstance(term, Literal) else term
