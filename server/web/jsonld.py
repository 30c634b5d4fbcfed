"""JSON-LD documents: compacted with a published context, and shaped as a tree around their subject.

Two contexts are in use: ours (`/context.jsonld`, our prefixes and language maps), and for
catalogue records the DCAT-AP-CZ norm's, whose Czech terms NKOD and its validator expect.

Every document is read whole by JSON-LD 1.0 and 1.1 processors alike: its nodes are in a
top-level "@graph" (a JSON-LD 1.1 keyword such as "@included" would be dropped, silently, by a
1.0 reader). Its first node is the document's subject, with its parts nested inside it (a dataset
with its distributions, each with its checksum and terms of use, as in the norm's examples):
nodes whose IRI is below the subject's (like {dataset}/distribution/...), wherever they are
referred to, and blank nodes where they are referred to once. The other nodes follow, by IRI.

As plain JSON: every node's "@id" (and every reference to a node) is a full IRI, which a browser
can open; types are in "@type"; every property's value, and "@type", is an array, and so is each
language's entry in a language map, however many values there are.

A client may ask for another form by the profiles of JSON-LD 1.1 §9 (`JsonLdForm`): expanded (no
context, full IRIs everywhere) and flattened (every node at the top, none nested).
"""

import json
from collections import Counter
from dataclasses import dataclass

from rdflib import Graph
from rdflib.plugins.serializers.jsonld import Converter
from rdflib.plugins.shared.jsonld.context import Context

from ..namespaces import prefixes_for

PROFILE_NAMESPACE = "http://www.w3.org/ns/json-ld#"


@dataclass(frozen=True)
class JsonLdContext:
    """A JSON-LD context: the URL documents refer to, and its terms (to compact with)."""

    url: str
    terms: dict


@dataclass(frozen=True)
class JsonLdForm:
    """The form of a JSON-LD document: expanded (no context) or compacted, flattened (no node
    nested in another) or shaped as a tree. The default is compacted and shaped as a tree."""

    expanded: bool = False
    flattened: bool = False

    @property
    def profile(self) -> str:
        """The profile URIs that name this form (the Content-Type's `profile` parameter)."""
        names = (["flattened"] if self.flattened else []) + ["expanded" if self.expanded else "compacted"]
        return " ".join(PROFILE_NAMESPACE + name for name in names)


COMPACTED = JsonLdForm()


def form_for_profiles(profiles: str) -> JsonLdForm:
    """The form a `profile` parameter asks for: a space-separated list of profile URIs, of which
    those JSON-LD does not define are ignored. Compacted wins over expanded when both are listed."""
    names = {uri[len(PROFILE_NAMESPACE):] for uri in profiles.split() if uri.startswith(PROFILE_NAMESPACE)}
    return JsonLdForm(expanded="expanded" in names and "compacted" not in names, flattened="flattened" in names)


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


class _NodeIrisInFull(Context):
    """A context that compacts keys and types (to terms and compact IRIs) but never a node's IRI:
    "reg:bursa" means nothing to a browser, "https://…/id/region/bursa" opens."""

    def shrink_iri(self, iri: str) -> str:
        return str(iri)


def to_json_ld(graph: Graph, context: JsonLdContext, subject: str | None = None,
               form: JsonLdForm = COMPACTED) -> bytes:
    """`graph` as a JSON-LD document in `form` (see the module's doc): compacted with `context`
    and referring to it by its URL unless expanded; with `subject`, that node first."""
    terms = {} if form.expanded else context.terms
    nodes = [_with_arrays(node, _Keys(terms)) for node in _node_objects(graph, None if form.expanded else terms)]
    ordered = order_nodes(nodes, subject, _Keys(terms), nest=not form.flattened)
    document = ordered if form.expanded else {"@context": context.url, "@graph": ordered}
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")


def _node_objects(graph: Graph, terms: dict | None) -> list[dict]:
    """Every subject of `graph` as a node object, none nested: compacted with `terms`, or expanded
    (full IRIs and value objects) without. Literals keep their lexical form (no native numbers)."""
    converter = Converter(_NodeIrisInFull(terms), False, False)  # (terms None: no context, expanded)
    converter.use_native_types = False  # rdflib writes 1.50 as 1.5 with a context: another literal
    result = converter.convert(graph)
    if isinstance(result, list):
        return result
    return result.get(converter.context.graph_key, [result])


class _Keys:
    """The keywords as `terms` spell them (the norm says "iri" for "@id", "typ" for "@type"), and
    which terms are language maps."""

    def __init__(self, terms: dict) -> None:
        aliases = {value: term for term, value in terms.items() if isinstance(value, str) and value.startswith("@")}
        self.id, self.type = aliases.get("@id", "@id"), aliases.get("@type", "@type")
        self.value, self.list = aliases.get("@value", "@value"), aliases.get("@list", "@list")
        self.language_maps = {term for term, value in terms.items()
                              if isinstance(value, dict) and value.get("@container") == "@language"}


def _with_arrays(node: dict, keys: _Keys) -> dict:
    """`node` with every property's value, and its types, as arrays (nested nodes likewise)."""
    shaped = {}
    for key, value in node.items():
        if key == keys.id:
            shaped[key] = value
        elif key in keys.language_maps and isinstance(value, dict):
            shaped[key] = {language: _as_list(texts) for language, texts in value.items()}
        else:
            shaped[key] = [_item_with_arrays(item, keys) for item in _as_list(value)]
    return shaped


def _item_with_arrays(item, keys: _Keys):
    if not isinstance(item, dict) or keys.value in item:
        return item
    if keys.list in item:
        return {keys.list: [_item_with_arrays(member, keys) for member in item[keys.list]]}
    return _with_arrays(item, keys)


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def order_nodes(nodes: list[dict], subject: str | None, keys: _Keys, nest: bool = True) -> list[dict]:
    """The node of `subject` first (its parts nested in it when `nest`: see the module's doc),
    then the others by IRI."""
    by_iri = {node[keys.id]: node for node in nodes if keys.id in node}
    root = by_iri.get(subject) if subject is not None else None
    placed = set()
    if root is not None and nest:
        references = Counter(iri for node in nodes for iri in _references(node, keys) if iri in by_iri)
        nested = {iri for iri in by_iri if iri.startswith((subject + "/", subject + "#"))
                  or (iri.startswith("_:") and references[iri] == 1)}
        placed = _nest(root, by_iri, nested, {subject}, keys)
    first = [root] if root is not None else []
    return first + [node for iri, node in sorted(by_iri.items()) if iri not in placed and node is not root]


def _nest(node: dict, by_iri: dict, nested: set, ancestors: set, keys: _Keys) -> set:
    """Replace, in `node`, each reference to a node to nest by that node (recursively, never into
    its own ancestors); return the IRIs of the nodes placed."""
    placed = set()
    for key, values in node.items():
        if key.startswith("@") or key in (keys.id, keys.type) or not isinstance(values, list):
            continue
        for index, item in enumerate(values):
            iri = _reference(item, keys)
            if iri not in nested or iri in ancestors:
                continue
            child = dict(by_iri[iri])
            placed |= {iri} | _nest(child, by_iri, nested, ancestors | {iri}, keys)
            values[index] = child
    return placed


def _references(node: dict, keys: _Keys) -> list[str]:
    return [iri for key, values in node.items() if not key.startswith("@") and key not in (keys.id, keys.type)
            and isinstance(values, list) for item in values if (iri := _reference(item, keys)) is not None]


def _reference(item, keys: _Keys) -> str | None:
    """The IRI a value refers to: a node reference {"@id": ...}, or a string under an @id-typed term.

    (A plain string under a term that is not @id-typed would be a literal; comparing it with the
    nodes' IRIs is harmless, as no literal of ours equals a node's IRI.)
    """
    if isinstance(item, dict) and set(item) == {keys.id}:
        return item[keys.id]
    return item if isinstance(item, str) else None
