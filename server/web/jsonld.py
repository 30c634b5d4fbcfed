"""JSON-LD documents: compacted with a published context, and shaped as a tree around their subject.

Two contexts are in use: ours (`/context.jsonld`, our prefixes and language maps), and for
catalogue records the DCAT-AP-CZ norm's, whose Czech terms NKOD and its validator expect.

rdflib writes a flat list of nodes. A reader expects the document's subject at the top with its
parts inside it (a dataset with its distributions, each with its checksum and terms of use), as
in the norm's examples, so `shape_as_tree` nests the subject's parts (nodes whose IRI is below the
subject's, like {dataset}/distribution/...) wherever they are referred to, and blank nodes where
they are referred to once; other things stay references, described in "@included".
"""

import json
from collections import Counter
from dataclasses import dataclass

from rdflib import Graph

from ..namespaces import prefixes_for


@dataclass(frozen=True)
class JsonLdContext:
    """A JSON-LD context: the URL documents refer to, and its terms (to compact with)."""

    url: str
    terms: dict


def our_context_terms(base_iri: str) -> dict:
    """The terms of the JSON-LD context we publish: our prefixes, and language maps for the texts
    we give in cs and en."""
    context: dict = dict(sorted(prefixes_for(base_iri).items()))
    language_maps = {
        "label": "rdfs:label",
        "comment": "rdfs:comment",
        "prefLabel": "skos:prefLabel",
        "altLabel": "skos:altLabel",
        "definition": "skos:definition",
        "title": "dcterms:title",
        "description": "dcterms:description",
        "reason": "rp:reason",
    }
    for term, iri in language_maps.items():
        context[term] = {"@id": iri, "@container": "@language"}
    return context


def our_context(base_iri: str) -> JsonLdContext:
    """Our published JSON-LD context, served at /context.jsonld under `base_iri`."""
    return JsonLdContext(base_iri + "context.jsonld", our_context_terms(base_iri))


def to_json_ld(graph: Graph, context: JsonLdContext, subject: str | None = None) -> bytes:
    """`graph` as a JSON-LD document compacted with `context` and referring to it by its URL;
    with `subject`, shaped as a tree rooted at that node."""
    compacted = json.loads(graph.serialize(format="json-ld", context=context.terms, auto_compact=True))
    compacted.pop("@context", None)
    in_stable_order(compacted, context.terms)
    if subject is not None:
        compacted = shape_as_tree(compacted, subject, context.terms)
    document = {"@context": context.url, **compacted}
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


def in_stable_order(compacted: dict, terms: dict) -> None:
    """Sort the nodes of a compacted document by their id, in place: rdflib lists them in the
    order of a set, which differs between processes (and a document must be the same bytes in
    each; see blank_nodes.py). The nodes of "@graph" are a set, so the order says nothing."""
    id_key = _keyword_alias("@id", terms)
    if isinstance(compacted.get("@graph"), list):
        compacted["@graph"].sort(key=lambda node: (str(node.get(id_key, "")), json.dumps(node, sort_keys=True)))


def shape_as_tree(compacted: dict, subject: str, terms: dict) -> dict:
    """Nest the nodes of a compacted document under the node of `subject` (see the module's doc)."""
    id_key = _keyword_alias("@id", terms)
    nodes = compacted.get("@graph", [compacted] if id_key in compacted else [])
    by_iri = {_expand(node[id_key], terms): node for node in nodes if id_key in node}
    root = by_iri.get(subject)
    if root is None:
        return compacted
    references = Counter(iri for node in nodes for iri in _references(node, id_key, terms) if iri in by_iri)
    nested = {iri for iri in by_iri if iri.startswith((subject + "/", subject + "#"))
              or (iri.startswith("_:") and references[iri] == 1)}
    placed = {subject} | _nest(root, by_iri, nested, {subject}, id_key, terms)
    rest = [node for iri, node in by_iri.items() if iri not in placed]
    return {**root, "@included": rest} if rest else root


def _nest(node: dict, by_iri: dict, nested: set, ancestors: set, id_key: str, terms: dict) -> set:
    """Replace, in `node`, each reference to a node to nest by that node (recursively, never into
    its own ancestors); return the IRIs of the nodes placed."""
    placed = set()
    for key, value in node.items():
        if key.startswith("@") or key == id_key:
            continue
        values = value if isinstance(value, list) else [value]
        for index, item in enumerate(values):
            iri = _reference(item, id_key, terms)
            if iri not in nested or iri in ancestors:
                continue
            child = dict(by_iri[iri])
            placed |= {iri} | _nest(child, by_iri, nested, ancestors | {iri}, id_key, terms)
            values[index] = child
        if not isinstance(value, list):
            node[key] = values[0]
    return placed


def _references(node: dict, id_key: str, terms: dict) -> list[str]:
    return [iri for key, value in node.items() if not key.startswith("@") and key != id_key
            for item in (value if isinstance(value, list) else [value])
            if (iri := _reference(item, id_key, terms)) is not None]


def _reference(item, id_key: str, terms: dict) -> str | None:
    """The IRI a value refers to: a node reference {"@id": ...}, or a string under an @id-typed term.

    (A plain string under a term that is not @id-typed would be a literal; comparing it with the
    nodes' IRIs is harmless, as no literal of ours equals a node's IRI.)
    """
    if isinstance(item, dict) and set(item) == {id_key}:
        return _expand(item[id_key], terms)
    if isinstance(item, str):
        return _expand(item, terms)
    return None


def _expand(value: str, terms: dict) -> str:
    """Expand a compact IRI ("dcat:Dataset") by the context's prefixes; others are returned as they are."""
    prefix, colon, rest = value.partition(":")
    if colon and not rest.startswith("//") and isinstance(terms.get(prefix), str):
        return terms[prefix] + rest
    return value


def _keyword_alias(keyword: str, terms: dict) -> str:
    """The term the context uses for a JSON-LD keyword (the norm says "iri" for "@id")."""
    return next((term for term, value in terms.items() if value == keyword), keyword)
