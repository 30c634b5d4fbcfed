"""Check the loaded dataset against the SHACL shapes and report the results readably.

pyshacl returns its results as an RDF graph; `validate` turns that into ValidationResult objects
that also say in which file and on which line the offending resource was written, and
`format_report` prints them, one line per result, in Czech or English.
"""

import functools
import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from rdflib import BNode, Graph, Literal, URIRef, Variable
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, SH, XSD
from rdflib.term import Node

from .config import Settings
from .dataset import LoadedDataset, described_more_than_once
from .namespaces import CANONICAL_BASE, prefixes_for, rebase, shorten_iri
from .pool import map_in_forked_pool
from .rdf_files import SourceIndex, SourceLocation, find_rdf_files, parse_rdf_file

SEVERITIES = ("Violation", "Warning", "Info")

_LOG = logging.getLogger(__name__)

# Where a shape writes "the day of the build" (shp:build-date, under whatever base IRI the shapes
# were moved to); `validate` puts the date in its place. The data's dates are days in the Region.
BUILD_DATE_PATH = "shapes/build-date"
_REGION_TIME_ZONE = ZoneInfo("Europe/Prague")

# An absolute http(s) IRI inside a message text, without the punctuation that may follow it.
_ABSOLUTE_IRI = re.compile(r"https?://[^\s<>\"{}]+?(?=[.,;:!?)]*(?:\s|$))")

# A variable in an sh:message template, such as {?value} or {$this}.
_PLACEHOLDER = re.compile(r"\{[?$]\w+\}")

# How each kind of SHACL property path is written in SPARQL.
_UNARY_PATHS = {
    SH.inversePath: "^{}",
    SH.zeroOrMorePath: "{}*",
    SH.oneOrMorePath: "{}+",
    SH.zeroOrOnePath: "{}?",
}


@dataclass(frozen=True)
class ValidationResult:
    """One sh:ValidationResult; `result_path` is already written as a SPARQL property path."""

    severity: str
    focus_node: Node
    result_path: str | None
    value: Node | None
    source_shape: Node
    source_constraint: Node | None
    source_constraint_component: URIRef
    messages: dict[str, str]
    location: SourceLocation | None

    def message(self, lang: str) -> str:
        """Return the message in `lang`, else in another language, else an empty string."""
        for candidate in (lang, *sorted(self.messages)):
            if candidate in self.messages:
                return self.messages[candidate]
        return ""


@dataclass(frozen=True)
class ValidationReport:
    """All results of one validation, with the prefixes used to print their IRIs."""

    results: list[ValidationResult]
    prefixes: dict[str, str]

    @property
    def conforms(self) -> bool:
        """True when nothing is a Violation: warnings and infos do not fail the dataset."""
        return all(result.severity != "Violation" for result in self.results)

    @property
    def violations(self) -> list[ValidationResult]:
        """The results of severity Violation."""
        return [result for result in self.results if result.severity == "Violation"]

    def counts(self) -> dict[str, int]:
        """Return the number of results of each severity, including the ones that have none."""
        return {severity: sum(r.severity == severity for r in self.results) for severity in SEVERITIES}


def load_shapes(settings: Settings, *parts: str) -> Graph:
    """Load the .ttl files directly in settings.shapes_dir (the data's shapes), or those of `parts`:
    folders or files below it (e.g. "catalogue"), moved to settings.base_iri like the data.

    The shapes name our classes and properties by their canonical IRIs, so without rebasing
    they would target nothing in a dataset published under another base IRI.
    """
    shapes = Graph(bind_namespaces="none")
    roots = [settings.shapes_dir / part for part in parts] or [settings.shapes_dir]
    # A part may be missing; a link to nothing is an error (find_rdf_files), not a part left out.
    paths = [path for root in roots if root.exists() or root.is_symlink()
             for path in find_rdf_files(root, recursive=False)]
    for path in paths:
        if path.suffix != ".ttl":
            continue
        parsed = parse_rdf_file(path)
        shapes += parsed
        for prefix, namespace in parsed.namespaces():
            shapes.bind(prefix, namespace, override=False)
    return rebase(shapes, CANONICAL_BASE, settings.base_iri)


def validate(dataset: LoadedDataset, shapes: Graph, now: datetime | None = None, jobs: int = 1,
             union: Graph | None = None) -> ValidationReport:
    """Validate the union of all named graphs against `shapes` with SHACL (and SHACL-AF).

    The union includes the ontology, so rdfs:subClassOf is visible to sh:targetClass; nothing
    is inferred beyond that. `now` (timezone-aware; default: the current time) is the build time
    that nothing which happened may come after. `jobs` processes share the shapes (see
    `validate_graph`); `union` is dataset.union(), when the caller has it already.
    """
    prefixes = _report_prefixes(dataset, shapes)
    union = union if union is not None else dataset.union()
    report = validate_graph(union, shapes, dataset.index, prefixes, now, jobs)
    checked = [
        result
        for rule, check in ((DESCRIBED_ONCE_RULE, _described_more_than_once), (LINK_TARGET_RULE, _links_to_nothing))
        if (URIRef(dataset.base_iri + rule), SH.message, None) in shapes
        for result in check(URIRef(dataset.base_iri + rule), union, dataset, shapes, prefixes)
    ]
    return ValidationReport(sorted(report.results + checked, key=_canonical_order), prefixes)


# The rules lodpub checks itself, below the shapes' namespace. Shapes that give a rule its messages
# (as shapes/partnerships.ttl does) have it checked; another dataset's shapes need not.
DESCRIBED_ONCE_RULE = "shapes/Resource-described-once"
LINK_TARGET_RULE = "shapes/Resource-link-target"


def _described_more_than_once(rule: URIRef, union: Graph, dataset: LoadedDataset, shapes: Graph,
                              prefixes: dict[str, str]) -> list[ValidationResult]:
    """One Violation per IRI described in several blocks, placed at the second block."""
    return [
        _lodpub_result(rule, subject, shapes, {"places": ", ".join(map(str, blocks))}, None, None, blocks[1])
        for subject, blocks in described_more_than_once(dataset).items()
    ]


def _links_to_nothing(rule: URIRef, union: Graph, dataset: LoadedDataset, shapes: Graph,
                      prefixes: dict[str, str]) -> list[ValidationResult]:
    """One Violation per link to an IRI under the base IRI that is the subject of no triple.

    A version IRI (owl:versionIRI) is left alone: the ontology describes its versions itself.
    """
    described = set(union.subjects())
    return [
        _lodpub_result(rule, subject, shapes, {"value": _render_term(obj, prefixes)}, _render_term(predicate, prefixes),
                       obj, dataset.index.location_of(subject))
        for subject, predicate, obj in sorted(union)
        if isinstance(obj, URIRef) and obj.startswith(dataset.base_iri) and obj not in described
        and predicate != OWL.versionIRI
    ]


def _lodpub_result(rule: URIRef, focus: Node, shapes: Graph, fill: dict[str, str], path: str | None,
                   value: Node | None, location: SourceLocation | None) -> ValidationResult:
    """A Violation of a rule lodpub checks itself, its messages (from the shapes) filled in."""
    messages = {}
    for template in shapes.objects(rule, SH.message):
        text = _PLACEHOLDER.sub(lambda match: fill.get(match.group(0)[2:-1], match.group(0)), str(template))
        messages[getattr(template, "language", None) or ""] = text
    return ValidationResult("Violation", focus, path, value, rule, None, rule, messages, location)


def validate_graph(
    graph: Graph,
    shapes: Graph,
    index: SourceIndex | None = None,
    prefixes: dict[str, str] | None = None,
    now: datetime | None = None,
    jobs: int = 1,
) -> ValidationReport:
    """Validate one graph against `shapes`; `index` says where its subjects were written, if known.

    The graph is validated in place (nothing is inferred, so nothing is added to it). `now` is
    the build time, as in `validate`. With `jobs` > 1 the shapes are shared out among that many
    processes, each validating the whole graph against its shapes (see `shape_partitions`); the
    report is the same as one process's, in the same order.
    """
    shapes = _on_build_date(shapes, build_date(now))
    prefixes = prefixes if prefixes is not None else {**prefixes_for(CANONICAL_BASE), "sh": str(SH)}
    work = _Work(graph, shapes, index or SourceIndex(), prefixes)
    partitions = shape_partitions(shapes) if jobs > 1 else None
    if partitions is None or len(partitions) < 2:
        results = work.run(None)
    else:
        results = _run_in_pool(work, partitions, jobs)
    return ValidationReport(sorted(results, key=_canonical_order), prefixes)


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
            _read_result(results_graph, node, self.shapes, self.index, self.prefixes)
            for node in results_graph.objects(report_node, SH.result)
        ]


# The predicates by which a shape says which nodes it targets (SHACL Core, and SHACL-AF's sh:target).
_TARGET_PREDICATES = (SH.targetClass, SH.targetNode, SH.targetObjectsOf, SH.targetSubjectsOf, SH.target)
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


def _shapes_with_targets(shapes: Graph) -> set[Node]:
    """The shapes that target nodes: explicitly, or as classes (an implicit class target)."""
    class_types = set(_CLASSES) | set(shapes.subjects(RDFS.subClassOf, RDFS.Class))
    targeting = {subject for predicate in _TARGET_PREDICATES for subject in shapes.subjects(predicate, None)}
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


def build_date(now: datetime | None = None) -> date:
    """The day of the build in the Region (Europe/Prague), whose days the data's dates are."""
    return (now or datetime.now(UTC)).astimezone(_REGION_TIME_ZONE).date()


def _on_build_date(shapes: Graph, day: date) -> Graph:
    """`shapes`, or a copy of it in which every shp:build-date is the date `day`."""
    placeholders = [
        (subject, predicate, obj)
        for subject, predicate, obj in shapes
        if isinstance(obj, URIRef) and obj.endswith("/" + BUILD_DATE_PATH)
    ]
    if not placeholders:
        return shapes
    dated = Graph(bind_namespaces="none")
    dated += shapes
    for subject, predicate, obj in placeholders:
        dated.remove((subject, predicate, obj))
        dated.add((subject, predicate, Literal(day)))
    return dated


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


def format_report(report: ValidationReport, lang: str = "en") -> str:
    """Print the report: one line per result, sorted by file and line, then a summary line.

    A line reads `file:line: Severity [shape / path] focus: message (value: v)`; the message is
    in `lang` when the shape gives one in it.
    """
    results = sorted(report.results, key=_sort_key)
    lines = [_format_result(result, report.prefixes, lang) for result in results]
    counts = ", ".join(f"{count} {severity}" for severity, count in report.counts().items())
    verdict = "conforms" if report.conforms else "does not conform"
    lines.append(f"Summary: {counts}; the dataset {verdict}.")
    return "\n".join(lines)


def _report_prefixes(dataset: LoadedDataset, shapes: Graph) -> dict[str, str]:
    """The prefix table, completed by the prefixes the data and shape files declare."""
    declared = {prefix: str(namespace) for prefix, namespace in shapes.namespaces()}
    return {**declared, **dataset.prefixes, **prefixes_for(dataset.base_iri), "sh": str(SH)}


def _read_result(
    graph: Graph, node: Node, shapes: Graph, index: SourceIndex, prefixes: dict[str, str]
) -> ValidationResult:
    focus = graph.value(node, SH.focusNode)
    path = graph.value(node, SH.resultPath)
    return ValidationResult(
        severity=str(graph.value(node, SH.resultSeverity)).removeprefix(str(SH)),
        focus_node=focus,
        result_path=_render_path(graph, path, prefixes) if path is not None else None,
        value=graph.value(node, SH.value),
        source_shape=graph.value(node, SH.sourceShape),
        source_constraint=graph.value(node, SH.sourceConstraint),
        source_constraint_component=graph.value(node, SH.sourceConstraintComponent),
        messages=_messages(graph, node, shapes, prefixes),
        location=index.location_of(focus),
    )


def _messages(graph: Graph, node: Node, shapes: Graph, prefixes: dict[str, str]) -> dict[str, str]:
    """The result's messages by language tag ("" for none); of two in one language, the first sorted wins.

    pyshacl drops the language tag of a SPARQL constraint's messages when it fills in their
    {?var} placeholders, so such a message takes the language of the sh:message (in the shapes)
    it matches; the IRIs filled in are shortened to prefixed names.
    """
    constraint = graph.value(node, SH.sourceConstraint)
    templates = list(shapes.objects(constraint, SH.message)) if constraint is not None else []
    messages: dict[str, str] = {}
    for message in sorted(graph.objects(node, SH.resultMessage)):
        language = getattr(message, "language", None) or _language_of_template(str(message), templates)
        messages.setdefault(language or "", _shorten_iris_in(str(message), prefixes))
    return messages


def _shorten_iris_in(text: str, prefixes: dict[str, str]) -> str:
    """Write the absolute IRIs in `text` as prefixed names where a prefix fits."""
    return _ABSOLUTE_IRI.sub(lambda match: shorten_iri(match.group(0), prefixes).strip("<>"), text)


def _language_of_template(message: str, templates: list[Node]) -> str | None:
    """The language of the first message template that, placeholders filled in, gives `message`."""
    for template in templates:
        pattern = ".*?".join(re.escape(part) for part in _PLACEHOLDER.split(str(template)))
        if getattr(template, "language", None) and re.fullmatch(pattern, message, re.DOTALL):
            return template.language
    return None


def _render_path(graph: Graph, path: Node, prefixes: dict[str, str], nested: bool = False) -> str:
    """Write a SHACL property path in SPARQL syntax, e.g. `^rp:partner/(skos:prefLabel|rdfs:label)`.

    `nested` is set under ^, *, + and ?, where a sequence needs parentheses.
    """
    if isinstance(path, URIRef):
        return shorten_iri(path, prefixes)
    if graph.value(path, RDF.first) is not None:
        sequence = "/".join(_render_path(graph, step, prefixes, nested) for step in Collection(graph, path))
        return f"({sequence})" if nested else sequence
    alternatives = graph.value(path, SH.alternativePath)
    if alternatives is not None:
        steps = [_render_path(graph, step, prefixes) for step in Collection(graph, alternatives)]
        return "(" + "|".join(steps) + ")"
    for predicate, template in _UNARY_PATHS.items():
        inner = graph.value(path, predicate)
        if inner is not None:
            return template.format(_render_path(graph, inner, prefixes, nested=True))
    return f"_:{path}"


def _render_term(node: Node, prefixes: dict[str, str]) -> str:
    if isinstance(node, URIRef):
        return shorten_iri(node, prefixes)
    if isinstance(node, Literal):
        text = json.dumps(str(node), ensure_ascii=False)
        if node.language:
            return f"{text}@{node.language}"
        if node.datatype is not None and node.datatype != XSD.string:
            return f"{text}^^{shorten_iri(node.datatype, prefixes)}"
        return text
    return f"_:{node}"


def rule_of(result: ValidationResult) -> Node:
    """The rule a result broke: a named SPARQL constraint, else a named shape, else the constraint kind."""
    for candidate in (result.source_constraint, result.source_shape):
        if isinstance(candidate, URIRef):
            return candidate
    return result.source_constraint_component


def _format_result(result: ValidationResult, prefixes: dict[str, str], lang: str) -> str:
    rule = _render_term(rule_of(result), prefixes)
    if result.result_path:
        rule += f" / {result.result_path}"
    where = str(result.location) if result.location else "(no source)"
    focus = _render_term(result.focus_node, prefixes)
    line = f"{where}: {result.severity} [{rule}] {focus}: {result.message(lang)}"
    if result.value is not None and result.value != result.focus_node:  # a node shape's value is its focus
        line += f" (value: {_render_term(result.value, prefixes)})"
    return line


def _sort_key(result: ValidationResult) -> tuple:
    """Order by file and line (results without a source last), then severity, then the rest."""
    location = result.location
    file_and_line = (str(location.path), location.line or 0) if location else ("", 0)
    severity_rank = SEVERITIES.index(result.severity) if result.severity in SEVERITIES else len(SEVERITIES)
    return (
        location is None,
        *file_and_line,
        severity_rank,
        str(result.focus_node),
        str(result.source_shape),
        result.result_path or "",
        str(result.value),
    )


def _canonical_order(result: ValidationResult) -> tuple:
    """A total order of results (the report's order then depends on neither pyshacl nor the pool)."""
    return (
        *_sort_key(result),
        str(result.source_constraint),
        str(result.source_constraint_component),
        sorted(result.messages.items()),
    )
