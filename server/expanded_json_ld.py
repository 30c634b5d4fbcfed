"""Triples written as expanded JSON-LD, streaming: for the JSON-LD dump and SPARQL graph answers.

Oxigraph's JSON-LD writer (pyoxigraph 0.5) writes rdf:type as a property like any other, so a
reader that frames or filters by "@type" finds no node of any type. This writer gives each node's
types in "@type", and is otherwise as plain as expanded JSON-LD is: full IRIs, every value an
array of value objects or node references, no context to fetch, valid JSON-LD 1.0 and 1.1.

Consecutive triples of one subject make one node object, so a sorted input (the N-Triples dump)
gives one object per subject; a subject met again later gets another object with the same "@id",
which every JSON-LD processor merges. One node is held at a time.
"""

import json
from collections.abc import Iterable, Iterator
from itertools import groupby
from typing import BinaryIO

import pyoxigraph as ox

from .terms import QuotedTriple

RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def node_objects(triples: Iterable[ox.Triple]) -> Iterator[dict]:
    """One expanded node object per run of triples with the same subject.

    Raises QuotedTriple for an RDF-star triple term, which JSON-LD cannot hold.
    """
    for subject, run in groupby(triples, key=lambda triple: triple.subject):
        node: dict = {"@id": _node_id(subject)}
        for triple in run:
            if triple.predicate == RDF_TYPE and isinstance(triple.object, ox.NamedNode):
                node.setdefault("@type", []).append(triple.object.value)
            else:
                node.setdefault(triple.predicate.value, []).append(_value(triple.object))
        yield node


def write(triples: Iterable[ox.Triple], output: BinaryIO) -> None:
    """Write `triples` to `output` as an expanded JSON-LD document: an array, one node a line."""
    output.write(b"[")
    for index, node in enumerate(node_objects(triples)):
        output.write((",\n" if index else "\n").encode())
        output.write(json.dumps(node, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    output.write(b"\n]\n")


def serialised(triples: Iterable[ox.Triple]) -> bytes:
    """`triples` as an expanded JSON-LD document (see `write`)."""
    nodes = (json.dumps(node, ensure_ascii=False, separators=(",", ":")) for node in node_objects(triples))
    return ("[\n" + ",\n".join(nodes) + "\n]\n").encode("utf-8")


def _node_id(term) -> str:
    if isinstance(term, ox.NamedNode):
        return term.value
    if isinstance(term, ox.BlankNode):
        return "_:" + term.value
    raise QuotedTriple("JSON-LD cannot hold quoted triples (RDF-star)")


def _value(term) -> dict:
    if not isinstance(term, ox.Literal):
        return {"@id": _node_id(term)}
    if term.language:
        return {"@value": term.value, "@language": term.language}
    if term.datatype.value == XSD_STRING:
        return {"@value": term.value}
    return {"@value": term.value, "@type": term.datatype.value}
