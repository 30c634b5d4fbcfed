"""Writing one subject in Turtle the way the data's files are written.

A predicate per line, `a` first and rdfs:label next, the objects of one predicate on one line
joined by ` , `, IRIs as prefixed names where the file declares a prefix, blank nodes inline.
"""

import re

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, XSD
from rdflib.term import Node

# A local name that Turtle reads back as written (a conservative subset of PN_LOCAL).
_LOCAL_NAME = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?$")
_INDENT = "    "
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


class Prefixes:
    """The prefixes a file declares: to write IRIs as prefixed names and read them back."""

    def __init__(self, header: Graph) -> None:
        self.namespaces = sorted(((str(ns), prefix) for prefix, ns in header.namespaces()),
                                 key=lambda item: -len(item[0]))
        self.by_prefix = {prefix: ns for ns, prefix in self.namespaces}

    def write(self, iri: URIRef) -> str:
        """`iri` as a prefixed name when a declared prefix fits, else in angle brackets."""
        for namespace, prefix in self.namespaces:
            local = iri[len(namespace):]
            if iri.startswith(namespace) and _LOCAL_NAME.match(local):
                return f"{prefix}:{local}"
        return f"<{iri}>"

    def expand(self, name: str) -> URIRef | None:
        """The IRI a prefixed name (or `a`, or <iri>) stands for; None when it is no such name."""
        if name == "a":
            return RDF.type
        if name.startswith("<") and name.endswith(">"):
            return URIRef(name[1:-1])
        prefix, colon, local = name.partition(":")
        return URIRef(self.by_prefix[prefix] + local) if colon and prefix in self.by_prefix else None


def description(graph: Graph, subject: Node) -> Graph:
    """The triples about `subject`, with those of the blank nodes below it (written inline)."""
    described = Graph(bind_namespaces="none")
    pending, seen = [subject], set()
    while pending:
        node = pending.pop()
        seen.add(node)
        for predicate, obj in graph.predicate_objects(node):
            described.add((node, predicate, obj))
            if isinstance(obj, BNode) and obj not in seen:
                pending.append(obj)
    return described


def render_subject(graph: Graph, subject: URIRef, prefixes: Prefixes, order: list[URIRef]) -> str:
    """The statement about `subject`, ending in " .\\n"; predicates in `order` first, then sorted."""
    lines = _predicate_lines(graph, subject, prefixes, order, _INDENT)
    return prefixes.write(subject) + "\n" + " ;\n".join(lines) + " .\n"


def _predicate_lines(graph: Graph, node: Node, prefixes: Prefixes, order: list[URIRef], indent: str) -> list[str]:
    predicates = set(graph.predicates(node))
    first = [RDF.type, RDFS.label] + [predicate for predicate in order if predicate not in (RDF.type, RDFS.label)]
    ordered = [p for p in first if p in predicates] + sorted(predicates - set(first))
    return [
        indent + _predicate(predicate, prefixes) + " "
        + " , ".join(_object(graph, obj, prefixes) for obj in sorted(graph.objects(node, predicate), key=_object_key))
        for predicate in ordered
    ]


def _predicate(predicate: URIRef, prefixes: Prefixes) -> str:
    return "a" if predicate == RDF.type else prefixes.write(predicate)


def _object_key(node: Node) -> tuple:
    """Objects in a stable order: IRIs, then literals by language (cs before en), then blank nodes."""
    if isinstance(node, Literal):
        return (1, node.language or "", str(node))
    return (2 if isinstance(node, BNode) else 0, "", str(node))


def _object(graph: Graph, obj: Node, prefixes: Prefixes) -> str:
    if isinstance(obj, URIRef):
        return prefixes.write(obj)
    if isinstance(obj, Literal):
        return _literal(obj, prefixes)
    inner = _predicate_lines(graph, obj, prefixes, [], "")
    return "[ " + " ; ".join(inner) + " ]" if inner else "[]"


def _literal(literal: Literal, prefixes: Prefixes) -> str:
    text = '"' + "".join(_ESCAPES.get(char, char) for char in str(literal)) + '"'
    if literal.language:
        return f"{text}@{literal.language}"
    if literal.datatype is not None and literal.datatype != XSD.string:
        return f"{text}^^{prefixes.write(literal.datatype)}"
    return text
