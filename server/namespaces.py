"""The namespaces of the dataset: its canonical base IRI and the prefixes used when serialising.

The RDF files under ontology/, data/ and shapes/ are written with IRIs under CANONICAL_BASE.
A deployment may publish them under another base IRI; `rebase_iri` and `prefixes_for` translate
our own IRIs to that base and leave every other IRI alone.
"""

import re
from collections.abc import Iterable, Iterator, Mapping

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDFS, SKOS, XSD
from rdflib.term import Node

CANONICAL_BASE = "https://data.kraj-lbc.cz/partnerships/"

# Our own namespaces: the ontology, its concept schemes, the resources by kind, and the shapes.
# They are the prefixes the Turtle files under ontology/, data/ and shapes/ declare.
_OWN_NAMESPACES = {
    "rp": "ontology/",
    "agk": "vocabulary/agreement-kinds/",
    "area": "vocabulary/cooperation-areas/",
    "bk": "vocabulary/body-kinds/",
    "dk": "vocabulary/document-kinds/",
    "evk": "vocabulary/event-kinds/",
    "office": "vocabulary/offices/",
    "prec": "vocabulary/date-precisions/",
    "role": "vocabulary/roles/",
    "st": "vocabulary/statuses/",
    "agr": "id/agreement/",
    "dlg": "id/delegation/",
    "doc": "id/document/",
    "ev": "id/event/",
    "orgn": "id/organisation/",
    "part": "id/participation/",
    "person": "id/person/",
    "place": "id/place/",
    "post": "id/post/",
    "ptn": "id/partnership/",
    "reg": "id/region/",
    "src": "id/source/",
    "stp": "id/status/",
    "t": "id/time/",
    "town": "id/town/",
    "shp": "shapes/",
}

PREFIXES: dict[str, str] = {
    **{prefix: CANONICAL_BASE + path for prefix, path in _OWN_NAMESPACES.items()},
    "dcterms": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "org": "http://www.w3.org/ns/org#",
    "prov": "http://www.w3.org/ns/prov#",
    "adms": "http://www.w3.org/ns/adms#",
    "schema": "https://schema.org/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "time": "http://www.w3.org/2006/time#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "vann": "http://purl.org/vocab/vann/",
    "dcat": "http://www.w3.org/ns/dcat#",
    "void": "http://rdfs.org/ns/void#",
    "sd": "http://www.w3.org/ns/sparql-service-description#",
    "country": "http://publications.europa.eu/resource/authority/country/",
    # What the catalogue record uses besides (DCAT-AP, DCAT-AP-CZ): named here, or rdflib numbers them ns1, ns2…
    "dcatap": "http://data.europa.eu/r5r/",
    "pu": "https://data.gov.cz/slovník/podmínky-užití/",
    "spdx": "http://spdx.org/rdf/terms#",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
}

# Where the dataset itself is described (its VoID and, later, its catalogue record).
DATASET_PATH = "id/dataset/partnerships"

# What may follow the colon of a prefixed name we print: letters, digits, "_", "-" and inner dots.
_LOCAL_NAME = re.compile(r"[\w-]+(?:\.[\w-]+)*", re.UNICODE)


# Where a resource's name for people is found, most specific first (a vCard's formatted name
# names the catalogue's contact point). Documents carry these for every resource they link to.
LABEL_PREDICATES: tuple[URIRef, ...] = (RDFS.label, SKOS.prefLabel, FOAF.name, DCTERMS.title,
                                        URIRef("http://www.w3.org/2006/vcard/ns#fn"))


def rebase_iri(iri: str, old_base: str, new_base: str) -> str:
    """Return `iri` with the leading `old_base` replaced by `new_base`; other IRIs unchanged."""
    if iri.startswith(old_base):
        return new_base + iri[len(old_base):]
    return iri


def dataset_iri(base_iri: str) -> str:
    """The IRI of the dataset published under `base_iri`."""
    return base_iri + DATASET_PATH


def prefixes_for(base_iri: str) -> dict[str, str]:
    """Return the prefix table with our own namespaces moved from CANONICAL_BASE to `base_iri`."""
    return {prefix: rebase_iri(namespace, CANONICAL_BASE, base_iri) for prefix, namespace in PREFIXES.items()}


def shorten_iri(iri: str, prefixes: Mapping[str, str]) -> str:
    """Return `iri` as a prefixed name (`prefix:local`) if a namespace fits, else as `<iri>`.

    The longest matching namespace wins, so `rp:` beats a prefix for the whole base IRI.
    """
    candidates = [
        (namespace, prefix)
        for prefix, namespace in prefixes.items()
        if iri.startswith(namespace) and _LOCAL_NAME.fullmatch(iri[len(namespace):])
    ]
    if not candidates:
        return f"<{iri}>"
    namespace, prefix = max(candidates, key=lambda candidate: len(candidate[0]))
    return f"{prefix}:{iri[len(namespace):]}"


def rebase(graph: Graph, old_base: str, new_base: str) -> Graph:
    """Rewrite, in place, every IRI of `graph` starting with `old_base` to start with `new_base`.

    This covers subjects, predicates, objects, literals' datatypes, the value of xsd:anyURI
    literals (e.g. sh:namespace in SHACL prefix declarations) and the graph's prefix bindings.
    Other literals, even strings that look like IRIs, are left alone.
    Takes a Graph, not a Dataset: rebase each named graph on its own. Returns `graph`.
    """
    if old_base == new_base:
        return graph
    changes = []
    for triple in graph:
        rebased = tuple(_rebase_term(term, old_base, new_base) for term in triple)
        if rebased != triple:
            changes.append((triple, rebased))
    for old_triple, new_triple in changes:
        graph.remove(old_triple)
        graph.add(new_triple)
    for prefix, namespace in list(graph.namespaces()):
        if namespace.startswith(old_base):
            graph.bind(prefix, rebase_iri(namespace, old_base, new_base), override=True, replace=True)
    return graph


def rebased_quads(quads: Iterable[ox.Quad], old_base: str, new_base: str) -> Iterator[ox.Quad]:
    """Oxigraph `quads` with IRIs moved from `old_base` to `new_base`, as `rebase` moves them
    (graph names too), one at a time: a release's dump may be millions of them."""
    for quad in quads:
        yield ox.Quad(*(_rebase_oxigraph_term(term, old_base, new_base) for term in quad))


def _rebase_oxigraph_term(term, old_base: str, new_base: str):
    if isinstance(term, ox.NamedNode):
        return ox.NamedNode(rebase_iri(term.value, old_base, new_base)) if term.value.startswith(old_base) else term
    if isinstance(term, ox.Literal) and not term.language:
        datatype = rebase_iri(term.datatype.value, old_base, new_base)
        lexical = rebase_iri(term.value, old_base, new_base) if datatype == str(XSD.anyURI) else term.value
        if (lexical, datatype) != (term.value, term.datatype.value):
            return ox.Literal(lexical, datatype=ox.NamedNode(datatype))
    return term


def _rebase_term(term: Node, old_base: str, new_base: str) -> Node:
    if isinstance(term, URIRef):
        return URIRef(rebase_iri(term, old_base, new_base))
    if isinstance(term, Literal) and term.datatype is not None:
        datatype = URIRef(rebase_iri(term.datatype, old_base, new_base))
        lexical = rebase_iri(str(term), old_base, new_base) if term.datatype == XSD.anyURI else str(term)
        if (lexical, datatype) == (str(term), term.datatype):
            return term
        return Literal(lexical, datatype=datatype, normalize=False)
    return term
