"""Reading a Turtle or N-Triples file with Oxigraph's parser into the N-Triples lines rdflib would write.

rdflib's parser takes about fifty times as long as Oxigraph's, and reading the files was most of the
time a build of a million triples took. The release must not change with the parser: its N-Quads
are hashed into its version and published. So the lines are written as rdflib's N-Triples writer
writes them (rdflib.plugins.serializers.nt), with each typed literal in the form rdflib reads it in
(rdflib rewrites "…Z" to "…+00:00", "01"^^xsd:integer to "1", "1"^^xsd:boolean to "true").

Oxigraph keeps two things differently, and a file whose text may hold them is left to rdflib: a
language tag's capitals (Oxigraph writes "cs-CZ" as "cs-cz") and an explicit ^^xsd:string (which
RDF 1.1 makes the same as none, but rdflib writes). So is a file Oxigraph refuses (rdflib then says
what is wrong, or reads what it accepts), one with an IRI that rdflib could not write, and one with
what RDF 1.2 adds and rdflib does not read (a triple term, written `<<( )>>` or made by an annotation
`{| |}` or a reifier `~`; a literal's base direction, "…"@en--ltr), which rdflib then refuses.
"""

import re
from dataclasses import dataclass
from functools import lru_cache

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

from .data_errors import NOT_IN_IRI
from .namespaces import CANONICAL_BASE

# rdflib's names of the formats read here, and Oxigraph's.
_FORMATS = {"turtle": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES}
# A language tag with a capital (after either quote), or a datatype ending in "string": what only rdflib
# keeps as written. Each begins with text that `re` looks for far faster than a class of characters.
_CAPITAL_TAGS = (re.compile(r'"@[A-Za-z0-9-]*[A-Z]'), re.compile(r"'@[A-Za-z0-9-]*[A-Z]"))
_STRING_TYPE = re.compile(r"\^\^\S*string")
_XSD_STRING, _XSD_ANY_URI = str(XSD.string), str(XSD.anyURI)


@dataclass(frozen=True)
class OxigraphRead:
    """A file as read by Oxigraph: the N-Triples lines of its triples without blank nodes (as rdflib
    writes them, moved to the base IRI), its triples with blank nodes as an rdflib graph (to be
    labelled stably), its subject IRIs and its prefixes (both as written, under the canonical base)."""

    lines: list[bytes]
    with_blank_nodes: Graph
    subjects: set[URIRef]
    prefixes: list[tuple[str, str]]


def read_with_oxigraph(base_iri: str, path_iri: str, text: str, rdflib_format: str,
                       subjects: bool = True) -> OxigraphRead | None:
    """The file of `text` (in rdflib's `rdflib_format`, its relative IRIs resolved against `path_iri`)
    read by Oxigraph, moved from the canonical base to `base_iri`; None when it is for rdflib to read.
    Its `subjects` are gathered only when asked for (for where they were written)."""
    oxigraph_format = _FORMATS.get(rdflib_format)
    if oxigraph_format is None or kept_by_rdflib_only(text):
        return None
    try:
        parser = ox.parse(text.encode("utf-8"), format=oxigraph_format, base_iri=path_iri)
        quads = list(parser)
        prefixes = list(parser.prefixes.items()) if oxigraph_format == ox.RdfFormat.TURTLE else []
    except (SyntaxError, ValueError):
        return None
    named = {URIRef(subject.value) for subject in {quad.subject for quad in quads} if type(subject) is ox.NamedNode} \
        if subjects else set()
    write = _Writer(base_iri)
    lines, with_blank_nodes = [], Graph(bind_namespaces="none")
    try:
        for subject, predicate, obj, _ in quads:
            if type(subject) is ox.BlankNode or type(obj) is ox.BlankNode:
                with_blank_nodes.add((write.rdflib(subject), URIRef(write.iri(predicate.value)), write.rdflib(obj)))
            else:
                lines.append(f"<{_moved(subject.value, base_iri)}> <{_moved(predicate.value, base_iri)}> "
                             f"{write.object(obj)} .".encode())
    except _NotWritable:
        return None
    # Two ways of writing one literal (01 and 1) give one line, as a graph holds one triple.
    return OxigraphRead(list(dict.fromkeys(lines)), with_blank_nodes, named, prefixes)


def kept_by_rdflib_only(text: str) -> bool:
    """Whether `text` may hold what only rdflib keeps as written (see _CAPITAL_TAGS, _STRING_TYPE)."""
    double, single = _CAPITAL_TAGS
    return bool(double.search(text) or ("'@" in text and single.search(text))
                or ("string" in text and _STRING_TYPE.search(text)))


class _NotWritable(ValueError):
    """A term that rdflib cannot write as read, or does not read (its reader says where it is)."""


class _Writer:
    """Writes Oxigraph terms as rdflib writes them, with IRIs moved from the canonical base to `base_iri`
    (as namespaces.rebase moves them: also the text of an xsd:anyURI literal)."""

    def __init__(self, base_iri: str) -> None:
        self.base_iri = base_iri

    def iri(self, iri: str) -> str:
        """`iri` moved to the base IRI; _NotWritable when rdflib could not write it."""
        return _moved(iri, self.base_iri)

    def object(self, term: ox.NamedNode | ox.Literal) -> str:
        """An object as rdflib's N-Triples writer writes it."""
        if type(term) is ox.NamedNode:
            return f"<{_moved(term.value, self.base_iri)}>"
        _check_rdflib_term(term)
        if term.language:
            return f"{_quoted(term.value)}@{term.language}"
        datatype = term.datatype.value
        if datatype == _XSD_STRING:
            return _quoted(term.value)
        lexical = self.iri(term.value) if datatype == _XSD_ANY_URI else lexical_form(term.value, datatype)
        return f"{_quoted(lexical)}^^<{self.iri(datatype)}>"

    def rdflib(self, term: ox.NamedNode | ox.BlankNode | ox.Literal) -> Node:
        """A term as the rdflib term rdflib's parser would have made of it, moved to the base IRI."""
        if isinstance(term, ox.BlankNode):
            return BNode(term.value)
        if isinstance(term, ox.NamedNode):
            return URIRef(self.iri(term.value))
        _check_rdflib_term(term)
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        if datatype == _XSD_STRING:
            return Literal(term.value)
        if datatype == _XSD_ANY_URI:
            return Literal(self.iri(term.value), datatype=XSD.anyURI)
        return Literal(lexical_form(term.value, datatype), datatype=URIRef(self.iri(datatype)), normalize=False)


def _check_rdflib_term(term: ox.Literal | ox.Triple) -> None:
    """_NotWritable unless `term` is a literal rdflib reads: not a triple term, nor of a base direction
    (RDF 1.2), which rdflib's writer would lose."""
    if type(term) is not ox.Literal or term.direction is not None:
        raise _NotWritable(str(term))


@lru_cache(maxsize=1 << 18)
def _moved(iri: str, base_iri: str) -> str:
    if NOT_IN_IRI.search(iri):
        raise _NotWritable(iri)
    return base_iri + iri[len(CANONICAL_BASE):] if iri.startswith(CANONICAL_BASE) else iri


def _quoted(text: str) -> str:
    """A literal's text quoted as rdflib's N-Triples writer quotes it (its _quote_encode)."""
    return '"' + text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"').replace("\r", "\\r") + '"'


@lru_cache(maxsize=65536)
def lexical_form(lexical: str, datatype: str) -> str:
    """The lexical form in which rdflib reads a literal of `datatype` written as `lexical`."""
    return str(Literal(lexical, datatype=URIRef(datatype)))
