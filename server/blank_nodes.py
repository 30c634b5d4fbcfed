"""Blank node labels and triple order that depend on the triples only, so that a document is the same
bytes in every process (a strong ETag names bytes; see web/http.py).

A store labels blank nodes afresh in each process that loads a release, and rdflib makes up labels
of its own; written as they come, the same document differs between two workers. Here each blank
node is labelled by a digest of what is around it: its own triples, then, step by step, those of
its neighbours (colour refinement, as in graph isomorphism tests), until the labels stop telling
more nodes apart. Blank nodes still alike after that are alike in everything the triples say (in
trees, as ours are: unknown times, checksums, lists), so which of them gets which numbered label
does not change the triples written.
"""

import hashlib
from collections.abc import Callable, Hashable, Iterable

import pyoxigraph as ox
from rdflib import BNode, Graph

Term = Hashable


def stable_labels(triples: list[tuple[Term, Term, Term]], is_blank: Callable[[Term], bool],
                  text: Callable[[Term], str]) -> dict[Term, str]:
    """{blank node: its label} for the blank nodes of `triples`, from their surroundings only;
    `text` writes a term that is not a blank node (the same term, the same text)."""
    around: dict[Term, list[tuple[str, str, Term]]] = {}
    for subject, predicate, obj in triples:
        if is_blank(subject):
            around.setdefault(subject, []).append(("out", text(predicate), obj))
        if is_blank(obj):
            around.setdefault(obj, []).append(("in", text(predicate), subject))
    colour = dict.fromkeys(around, "")
    kinds = 1
    for _ in range(len(around) + 1):
        colour = {node: _digest([colour[node], *sorted(
            f"{direction} {predicate} {colour[other] if is_blank(other) else text(other)}"
            for direction, predicate, other in edges)]) for node, edges in around.items()}
        if len(set(colour.values())) == kinds:
            break
        kinds = len(set(colour.values()))
    labels, seen = {}, {}
    for node in sorted(around, key=lambda node: colour[node]):
        alike = seen.setdefault(colour[node], 0)
        seen[colour[node]] += 1
        labels[node] = f"b{colour[node][:16]}" + (f"n{alike}" if alike else "")
    return labels


def _digest(parts: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def stable_triples(triples: Iterable[ox.Triple]) -> list[ox.Triple]:
    """Oxigraph `triples` with stable blank node labels, sorted."""
    triples = list(triples)
    labels = stable_labels(triples, lambda term: isinstance(term, ox.BlankNode), str)
    if labels:
        def relabelled(term):
            return ox.BlankNode(labels[term]) if isinstance(term, ox.BlankNode) else term

        triples = [ox.Triple(relabelled(triple.subject), triple.predicate, relabelled(triple.object))
                   for triple in triples]
    return sorted(triples, key=lambda triple: (str(triple.subject), str(triple.predicate), str(triple.object)))


def stable_graph(graph: Graph) -> Graph:
    """A copy of `graph` (with its prefixes) with stable blank node labels, its triples added in
    sorted order (rdflib's writers follow the order triples were added in)."""
    triples = list(graph)
    labels = stable_labels(triples, lambda term: isinstance(term, BNode), lambda term: term.n3())
    stable = Graph(store="SimpleMemory", bind_namespaces="none")  # it iterates in the order triples were added
    for prefix, namespace in graph.namespaces():
        stable.bind(prefix, namespace, override=True, replace=True)

    def relabelled(term):
        return BNode(labels[term]) if isinstance(term, BNode) else term

    stable.addN(sorted(((relabelled(s), p, relabelled(o), stable) for s, p, o in triples),
                       key=lambda quad: (quad[0].n3(), quad[1].n3(), quad[2].n3())))
    return stable
