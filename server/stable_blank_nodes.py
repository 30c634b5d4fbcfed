"""Blank node labels that depend only on a file's content: the same file gives the same N-Quads (and
so the same release version) in every build.

rdflib labels blank nodes at random. Its canonical labelling (rdflib.compare.to_canonical_graph)
labels each blank node by the triples around it, and the file's graph and path are mixed in, to keep
equal-looking blank nodes of two files apart. That labelling grows much faster than the graph: a
file of thousands of blank nodes (a whole dataset in one file) took longer than everything else a
build does. So a file with more than LARGE triples holding blank nodes is labelled one connected
part at a time (blank nodes linked to each other by triples): each part canonically (a part of one
blank node, most of them, needs no search), named by the digest of its canonical form, and parts of
the same form told apart by their number among them (they are alike, so which one is which changes
no triple). Smaller files, ours among them, keep the
labels they always had.
"""

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator

from rdflib import BNode, Graph
from rdflib.compare import to_canonical_graph
from rdflib.term import Node

# Above this many triples with blank nodes, a file's blank nodes are labelled part by part.
LARGE = 1000

Triple = tuple[Node, Node, Node]


def stably_labelled(with_blank_nodes: Graph, salt: str) -> Iterator[Triple]:
    """The triples of `with_blank_nodes` (each holding a blank node) with blank nodes labelled by
    their content and `salt` (the file's graph and path)."""
    if len(with_blank_nodes) <= LARGE:
        yield from _labelled(to_canonical_graph(with_blank_nodes), salt)
        return
    seen: dict[str, int] = defaultdict(int)
    for part in _connected_parts(with_blank_nodes):
        canonical = _alone(part) or list(to_canonical_graph(_graph(part)))
        digest = hashlib.sha256("\n".join(sorted(" ".join(term.n3() for term in triple)
                                                 for triple in canonical)).encode()).hexdigest()
        yield from _labelled(canonical, f"{salt}\n{digest}/{seen[digest]}")
        seen[digest] += 1


# The label of the one blank node of a part that has one: its canonical form needs no search.
_ALONE = BNode("alone")


def _alone(part: list[Triple]) -> list[Triple] | None:
    """The triples of `part` with its blank node labelled _ALONE, when it has one only (most parts:
    a time, an address); else None."""
    blank_nodes = {term for triple in part for term in (triple[0], triple[2]) if isinstance(term, BNode)}
    if len(blank_nodes) != 1:
        return None
    return [tuple(_ALONE if isinstance(term, BNode) else term for term in triple) for triple in part]


def _labelled(canonical: Iterable[Triple], salt: str) -> Iterator[Triple]:
    def stable(term: Node) -> Node:
        if not isinstance(term, BNode):
            return term
        digest = hashlib.sha256(f"{salt}\n{term}".encode()).hexdigest()
        return BNode("b" + digest[:24])  # a letter first, as RDF/XML's rdf:nodeID must be an NCName

    return ((stable(subject), predicate, stable(obj)) for subject, predicate, obj in canonical)


def _connected_parts(triples: Graph) -> list[list[Triple]]:
    """The triples grouped into parts: two triples are in one part when a chain of triples links
    their blank nodes."""
    parent: dict[Node, Node] = {}

    def root(node: Node) -> Node:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for subject, _, obj in triples:
        if isinstance(subject, BNode) and isinstance(obj, BNode):
            parent[root(subject)] = root(obj)
    parts: dict[Node, list[Triple]] = defaultdict(list)
    for triple in triples:
        parts[root(triple[0] if isinstance(triple[0], BNode) else triple[2])].append(triple)
    return list(parts.values())


def _graph(triples: list[Triple]) -> Graph:
    graph = Graph(bind_namespaces="none")
    for triple in triples:
        graph.add(triple)
    return graph
