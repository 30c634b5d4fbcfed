"""The validation report: its results, read from pyshacl's results graph, and their wording.

pyshacl returns its results as an RDF graph; `read_result` turns one into a ValidationResult that
also says in which file and on which line the offending resource was written, and `format_report`
prints them, one line per result, in Czech or English, IRIs written as prefixed names and SHACL
property paths in SPARQL's syntax.
"""

import json
import re
from dataclasses import dataclass

from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH, XSD
from rdflib.term import Node

from .namespaces import shorten_iri
from .rdf_files import SourceIndex, SourceLocation

SEVERITIES = ("Violation", "Warning", "Info")

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


def read_result(
    graph: Graph, node: Node, shapes: Graph, index: SourceIndex, prefixes: dict[str, str]
) -> ValidationResult:
    """The result `node` of pyshacl's results graph `graph`, placed where `index` says its focus node was written."""
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
    {?var} placeholders (pyshacl-turbo also that of a shape's messages for a constraint component
    defined in SPARQL), so such a message takes the language of the sh:message (in the shapes, of the
    constraint, else of the shape) it matches; the IRIs filled in are shortened to prefixed names.
    """
    rule = graph.value(node, SH.sourceConstraint) or graph.value(node, SH.sourceShape)
    templates = list(shapes.objects(rule, SH.message)) if rule is not None else []
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


def render_term(node: Node, prefixes: dict[str, str]) -> str:
    """`node` as the report writes it: a prefixed name where a prefix fits, a literal as in Turtle, _:label."""
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
    rule = render_term(rule_of(result), prefixes)
    if result.result_path:
        rule += f" / {result.result_path}"
    where = str(result.location) if result.location else "(no source)"
    focus = render_term(result.focus_node, prefixes)
    line = f"{where}: {result.severity} [{rule}] {focus}: {result.message(lang)}"
    if result.value is not None and result.value != result.focus_node:  # a node shape's value is its focus
        line += f" (value: {render_term(result.value, prefixes)})"
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


def canonical_order(result: ValidationResult) -> tuple:
    """A total order of results (the report's order then depends on neither pyshacl nor the pool)."""
    return (
        *_sort_key(result),
        str(result.source_constraint),
        str(result.source_constraint_component),
        sorted(result.messages.items()),
    )


def lodpub_result(rule: URIRef, focus: Node, shapes: Graph, fill: dict[str, str], path: str | None,
                  value: Node | None, location: SourceLocation | None) -> ValidationResult:
    """A Violation of a rule lodpub checks itself, its messages (from the shapes) filled in."""
    messages = {}
    for template in shapes.objects(rule, SH.message):
        text = _PLACEHOLDER.sub(lambda match: fill.get(match.group(0)[2:-1], match.group(0)), str(template))
        messages[getattr(template, "language", None) or ""] = text
    return ValidationResult("Violation", focus, path, value, rule, None, rule, messages, location)
