"""The SHACL shapes the data was validated with, as documents: `{base}shapes` (the shapes as a
whole, an owl:Ontology) and `{base}shapes/<Shape>` (one rule, e.g. `shapes/Agreement-party`).

Their IRIs are ours, and they are seen: a validation report names its rule by one
(`shp:Agreement-party`), and the shapes say what a correct record must have. So they dereference
like every IRI of ours (303 See Other to `/doc/shapes/…`, negotiated, one URL per format), read
from the shapes file the build publishes in the release (releases.SHAPES_FILE, also served as
`/dumps/shapes.ttl`). They are not loaded into the store: they are not data about the
partnerships, and the SPARQL endpoint's graphs stay the dataset's.
"""

import functools
from pathlib import Path

from flask import Blueprint, Response, redirect, request, url_for
from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF

from ..store.releases import SHAPES_FILE
from . import canonical_iri, store
from .negotiation import NotAcceptable, choose_format, split_suffix
from .resources import choose_or_html, document_location, not_acceptable, not_found, respond_with_graph

blueprint = Blueprint("shapes", __name__)

SHAPES_PATH = "shapes"


@blueprint.route(f"/{SHAPES_PATH}", defaults={"rest": ""})
@blueprint.route(f"/{SHAPES_PATH}<rest>")  # a format suffix: /shapes.ttl
@blueprint.route(f"/{SHAPES_PATH}/<path:rest>", defaults={"slash": "/"})
def shape(rest: str, slash: str = "") -> Response:
    """The shapes (`/shapes`) or one shape (`/shapes/Agreement-party`): 303 See Other to its document."""
    path = SHAPES_PATH + slash + rest
    bare, fmt = split_suffix(path)
    if not _describes(canonical_iri(bare)):
        return not_found(choose_or_html(fmt))
    target = document_location(path)
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    return redirect(target, code=303)


@blueprint.route(f"/doc/{SHAPES_PATH}", defaults={"rest": ""})
@blueprint.route(f"/doc/{SHAPES_PATH}<rest>")
@blueprint.route(f"/doc/{SHAPES_PATH}/<path:rest>", defaults={"slash": "/"})
def document(rest: str, slash: str = "") -> Response:
    """The document about the shapes or a shape, in the negotiated format."""
    bare, forced = split_suffix(SHAPES_PATH + slash + rest)
    iri = canonical_iri(bare)
    if not _describes(iri):
        return not_found(choose_or_html(forced))
    try:
        fmt = choose_format(request, forced)
    except NotAcceptable:
        return not_acceptable()
    return respond_with_graph(shape_document(published_shapes(), iri), iri, fmt,
                              url_for("resources.document", path=bare))


def shape_document(shapes: Graph, iri: URIRef) -> Graph:
    """What the shapes say of `iri`: for the shapes' ontology, all of them; for a shape, its
    triples with the blank nodes they reach (lists, paths), and the triples that point at it or use
    it as their property (a parameter of a constraint, such as shp:notAfter)."""
    if (iri, RDF.type, OWL.Ontology) in shapes:
        return shapes
    document = shapes.cbd(iri)
    for triple in (*shapes.triples((None, None, iri)), *shapes.triples((None, iri, None))):
        document.add(triple)
    return document


def _describes(iri: URIRef) -> bool:
    """Whether the shapes name `iri`, in any place of a triple (every IRI a shape's page links to)."""
    shapes = published_shapes()
    return (iri, None, None) in shapes or (None, iri, None) in shapes or (None, None, iri) in shapes


def published_shapes() -> Graph:
    """The shapes of the served release (its IRIs; do not modify); empty when it has none."""
    return _shapes_in(store().release, store().version)


@functools.lru_cache(maxsize=2)
def _shapes_in(release: Path, version: str) -> Graph:
    shapes = Graph(bind_namespaces="none")
    path = release / SHAPES_FILE
    if path.is_file():
        shapes.parse(path, format="turtle")
    return shapes
