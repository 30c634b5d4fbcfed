"""RDF terms between the two libraries: rdflib (parsing, shaping, SHACL) and Oxigraph (storing,
querying, writing). Literals keep the form they were written in."""

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node


class QuotedTriple(ValueError):
    """A quoted triple (RDF-star) where only IRIs, blank nodes and literals are supported."""


def to_rdflib(term) -> Node:
    """An Oxigraph term as an rdflib term (a plain string stays plain, as rdflib reads it).
    Raises QuotedTriple for an RDF-star triple term."""
    if isinstance(term, ox.Triple):
        raise QuotedTriple("answers holding quoted triples (RDF-star) are not supported")
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    datatype = term.datatype.value
    if datatype == str(XSD.string):
        return Literal(term.value)
    # As written: rdflib would otherwise rewrite the lexical form (e.g. "…Z" to "…+00:00").
    return Literal(term.value, datatype=URIRef(datatype), normalize=False)


def to_oxigraph(term: Node):
    """An rdflib term as an Oxigraph term."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if term.language:
        return ox.Literal(str(term), language=term.language)
    return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype or XSD.string)))
