"""Dereferencing: every IRI of the dataset answers, for machines and for people.

Following "Cool URIs for the Semantic Web", a thing and the document about it have different
IRIs: the thing `/id/region/bursa` (likewise `/ontology/Agreement`, `/vocabulary/statuses`,
the named graph `/graph/data`)
answers 303 See Other with the document `/doc/id/region/bursa`, which is negotiated (HTML,
Turtle, JSON-LD, RDF/XML, N-Triples) and has one URL per format (`/doc/id/region/bursa.ttl`).
"""

import json
from urllib.parse import urlencode

import pyoxigraph as ox
from flask import Blueprint, Response, redirect, render_template, request, url_for
from rdflib import Graph, URIRef
from rdflib.namespace import DCAT, OWL, RDF

from ..blank_nodes import stable_graph
from ..describe.dcat import NORM_CONTEXT_URL, norm_context
from ..formats import TURTLE
from ..store.sparql_store import graph_of
from . import canonical_iri, public_base, public_link, public_url, publisher, store
from .documents_ahead import WrittenDocument
from .html import ontology_sections, resource_view, script_safe, value_of
from .i18n import current_language
from .jsonld import JsonLdContext, JsonLdForm, our_context
from .negotiation import (
    HTML,
    JSONLD,
    Format,
    NotAcceptable,
    alternates,
    choose_format,
    format_url,
    offered_listing,
    requested_json_ld_form,
    serialise,
    serialise_triples,
    split_suffix,
    written_from_triples,
)
from .story import story_of
from .timeline import STATUS_COLOURS

blueprint = Blueprint("resources", __name__)

SCHEMES = "SELECT ?scheme WHERE { ?scheme a <http://www.w3.org/2004/02/skos/core#ConceptScheme> }"
VERSION_OF = "SELECT ?ontology WHERE {{ ?ontology <http://www.w3.org/2002/07/owl#versionIRI> <{iri}> }}"


@blueprint.route("/ontology", defaults={"rest": ""})
@blueprint.route("/ontology/<path:rest>")
def ontology_term(rest: str) -> Response:
    """The ontology (`/ontology`) and each of its terms (`/ontology/Agreement`)."""
    return see_document("ontology" + ("/" + rest if rest else ""))


@blueprint.before_app_request
def ontology_namespace() -> Response | None:
    """The ontology's namespace IRI (`/ontology/`) is the ontology's too.

    (Not a route: werkzeug would answer `/ontology` with a redirect to `/ontology/`.)
    """
    return see_document("ontology") if request.path == "/ontology/" else None


@blueprint.route("/vocabulary/<path:rest>")
def vocabulary_term(rest: str) -> Response:
    """A concept scheme (`/vocabulary/statuses`) or concept (`/vocabulary/statuses/active`)."""
    return see_document("vocabulary/" + rest)


@blueprint.route("/id/<path:rest>")
def thing(rest: str) -> Response:
    """A resource of the dataset (`/id/region/bursa`)."""
    return see_document("id/" + rest)


@blueprint.route("/graph/<path:rest>")
def named_graph(rest: str) -> Response:
    """A named graph (`/graph/data`), described as a subset of the dataset: its size and name."""
    return see_document("graph/" + rest)


def see_document(path: str) -> Response:
    """303 See Other from a thing to the document about it (keeping a format suffix and the query).

    A version IRI of the ontology leads to the ontology's document, which is that version.
    """
    bare, fmt = split_suffix(path)
    if not is_iri(canonical_iri(bare)):
        return not_found(choose_or_html(fmt))
    if not store().exists(canonical_iri(bare)):
        versioned = store().select(VERSION_OF.format(iri=canonical_iri(bare)))
        if not versioned:
            return not_found(choose_or_html(fmt))
        bare = str(versioned[0]["ontology"])[len(store().base_iri):]
    target = document_location(bare + (fmt.suffix if fmt else ""))
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    return redirect(target, code=303)


def document_location(path: str) -> str:
    """The public URL of the document at `path` ("id/region/bursa.ttl"), for a 303's Location."""
    return public_link(url_for("resources.document", path=path))


def is_iri(text: str) -> bool:
    """Whether `text` is an IRI (RFC 3987). A path that makes none (`/doc/%22`, `/doc/%`, `/id/a>b`)
    names nothing we describe, and must never reach a store's query: there it would be a syntax
    error, or change the query."""
    try:
        ox.NamedNode(text)
    except ValueError:
        return False
    return True


@blueprint.route("/<path:path>")
def any_thing(path: str) -> Response:
    """Any other IRI under the base that the dataset describes: a dataset other than ours (served
    with `lodpub serve --data`) may lay out its IRIs as it likes. The routes above win."""
    return see_document(path)


@blueprint.route("/doc/<path:path>")
def document(path: str) -> Response:
    """The document about the thing at `path`, in the negotiated format."""
    bare, suffix_format = split_suffix(path)
    return serve_document(canonical_iri(bare), suffix_format, url_for("resources.document", path=bare))


@blueprint.route("/doc")
def other_document() -> Response:
    """What the dataset says about an IRI outside its base, e.g. an entry of the EU authority tables
    it uses: `/doc?iri=http://publications.europa.eu/resource/authority/country/TUR` (negotiated
    like every document, or by ?format=). Every triple of the dataset is in some document: those
    about other publishers' IRIs are here. An IRI of ours is sent to its own document."""
    iri = request.args.get("iri", "")
    if iri.startswith(public_base()):
        return redirect(document_location(iri[len(public_base()):]), code=303)
    return serve_document(URIRef(iri), None, url_for("resources.other_document", iri=iri))


class _NoSuchDocument(Exception):
    """The dataset describes nothing at the IRI asked for."""


def serve_document(iri: URIRef, suffix_format: Format | None, document_url: str) -> Response:
    """Answer with the document about `iri`, in the negotiated format: rendered once per release,
    format and language in each worker, and kept (see rendered.py). A kept one is sent without asking
    the store anything: it was rendered, so it exists. 404 for an IRI nothing describes (even when
    no format fits), else 406 when no format fits."""
    try:
        fmt = choose_format(request, suffix_format)
    except NotAcceptable:
        if _describes(iri):
            return not_acceptable()
        return not_found(HTML)
    language = current_language() if fmt is HTML else None
    version = store().version
    written = publisher().written.get(store().base_iri, version, str(iri))
    if written is not None and fmt.serializer == TURTLE.serializer:
        return _written_response(written, fmt, document_url)

    def render() -> bytes:
        if written is not None:  # the document's triples without asking the store
            return render_document(iri, fmt, document_url, written_triples(written))
        if not _describes(iri):
            raise _NoSuchDocument()
        return render_document(iri, fmt, document_url)

    try:
        # Each JSON-LD form is a body of its own (kept.py keys its answers by the whole Accept header).
        key = (version, document_url, fmt.media_type, json_ld_form(fmt), language, _echoed_arguments(fmt))
        body = publisher().documents.get_or_render(key, render, still_valid=lambda: store().version == version)
    except _NoSuchDocument:
        return not_found(fmt)
    return graph_response(body, fmt, document_url, language)


def _written_response(written: WrittenDocument, fmt: Format, document_url: str) -> Response:
    """The answer with a Turtle document written ahead: the same bytes, gzipped the same way, as if
    it had been rendered now (see documents_ahead.py)."""
    response = graph_response(written.turtle(), fmt, document_url, None)
    response.gzipped = written.gzipped  # compression.py sends these rather than gzip the body again
    return response


def written_triples(written: WrittenDocument) -> list[ox.Triple]:
    """The triples of a document written ahead (its blank nodes labelled again alike when it is written)."""
    return [quad.triple for quad in ox.parse(written.turtle(), format=ox.RdfFormat.TURTLE)]


def _echoed_arguments(fmt: Format) -> tuple:
    """The query arguments a page repeats in its links (the language switch keeps `?format=html`),
    so two pages that differ only in them are kept apart; other formats do not echo them."""
    if fmt is not HTML:
        return ()
    return tuple(sorted((name, value) for name, value in request.args.items(multi=True) if name != "lang"))


def _describes(iri: URIRef) -> bool:
    return is_iri(iri) and store().exists(iri)


def render_document(iri: URIRef, fmt: Format, document_url: str, triples: list[ox.Triple] | None = None) -> bytes:
    """The document about `iri` in `fmt` (of its `triples` when they are known, else the store's); for
    people, the ontology has a page of its own."""
    if written_from_triples(fmt):  # straight from the store's terms: no rdflib graph to build
        return serialise_triples(store().document_triples(iri) if triples is None else triples, fmt, public_base())
    graph = store().document(iri) if triples is None else graph_of(triples)
    if fmt is HTML and (iri, RDF.type, OWL.Ontology) in graph:
        return render_graph(graph, iri, fmt, document_url, template="ontology.html", ontology=ontology_page(graph, iri))
    if fmt is HTML and (story := story_of(iri, set(graph.objects(iri, RDF.type)), current_language())):
        return render_graph(graph, iri, fmt, document_url, story=story, colours=STATUS_COLOURS)
    return render_graph(graph, iri, fmt, document_url)


def ontology_page(graph: Graph, ontology: URIRef) -> dict:
    """The ontology page's terms, by section, and the concept schemes that go with it."""
    language = current_language()
    schemes = [row["scheme"] for row in store().select(SCHEMES)]
    labels = store().labels(set(schemes))
    return {
        "sections": ontology_sections(graph, ontology, language, public_base()),
        "schemes": [value_of(labels, URIRef(scheme), language, public_base()) for scheme in sorted(schemes)],
    }


def respond_with_graph(graph: Graph, iri: URIRef, fmt: Format, document_url: str, template: str = "resource.html",
                       **template_values) -> Response:
    """Answer with `graph` about `iri` in `fmt`: its body and negotiation headers."""
    body = render_graph(graph, iri, fmt, document_url, template, **template_values)
    return graph_response(body, fmt, document_url, current_language() if fmt is HTML else None)


def render_graph(graph: Graph, iri: URIRef, fmt: Format, document_url: str, template: str = "resource.html",
                 **template_values) -> bytes:
    """`graph` about `iri` written in `fmt`: for people, an HTML page from `template` in the
    request's language, with the graph in JSON-LD inside. Its blank nodes are labelled, and its
    triples ordered, the same in every process (see blank_nodes.py)."""
    public_graph = stable_graph(graph)
    shown_iri = iri
    json_ld_context = json_ld_context_for(public_graph, shown_iri)
    if fmt is not HTML:
        return serialise(public_graph, fmt, public_base(), json_ld_context, str(shown_iri), json_ld_form(fmt))
    json_ld = serialise(public_graph, JSONLD, public_base(), json_ld_context, str(shown_iri))
    view = resource_view(public_graph, shown_iri, current_language(), public_base(), script_safe(json_ld.decode()))
    return render_template(template, view=view, graph=public_graph, document_url=document_url,
                           canonical_url=canonical_page_url(document_url),
                           sparql_query=urlencode({"query": f"DESCRIBE <{shown_iri}>"}), **template_values).encode()


def canonical_page_url(document_url: str) -> str:
    """The page's rel=canonical: the document's HTML URL (`/doc/id/region/bursa.html`). Not the
    thing's IRI, which answers 303 (a search engine wants a URL that answers 200 with this page),
    nor `/doc/id/region/bursa`, whose answer depends on Accept (Turtle to a client that sends none).
    (`document_url` holds the path prefix a proxy adds, which the public base holds already.)"""
    return public_link(format_url(document_url, HTML))


def json_ld_form(fmt: Format) -> JsonLdForm | None:
    """The form of JSON-LD the request asks for (by its Accept header's profile), None for other formats."""
    return requested_json_ld_form(request) if fmt is JSONLD else None


def graph_response(body: bytes, fmt: Format, document_url: str, language: str | None) -> Response:
    """The response carrying a document `body` in `fmt`, with its negotiation headers; JSON-LD
    says which form it is in by the profile parameter of its media type."""
    form = json_ld_form(fmt)
    response = Response(body, mimetype=fmt.media_type)
    if form:
        response.headers["Content-Type"] = f'{fmt.media_type}; profile="{form.profile}"'
    if language:
        response.headers["Content-Language"] = language
    response.vary.add("Accept")
    response.headers["Content-Location"] = format_url(document_url, fmt)
    response.headers["Link"] = alternates(public_link(document_url), fmt)
    return response


# Documents about these are catalogue records, written in JSON-LD with the DCAT-AP-CZ norm's context.
CATALOGUE_CLASSES = (DCAT.Catalog, DCAT.Dataset, DCAT.Distribution, DCAT.DataService)


def json_ld_context_for(graph: Graph, iri: URIRef) -> JsonLdContext:
    """The context of the JSON-LD document about `iri`: the norm's for a catalogue record, else ours."""
    if any((iri, RDF.type, cls) in graph for cls in CATALOGUE_CLASSES):
        return JsonLdContext(NORM_CONTEXT_URL, norm_context())
    return our_context(public_base())


def choose_or_html(forced: Format | None) -> Format:
    """The format an error is told in: the one asked for, else HTML when nothing fits."""
    try:
        return choose_format(request, forced)
    except NotAcceptable:
        return HTML


def not_found(fmt: Format) -> Response:
    """404 in the format the client asked for (an HTML page for browsers)."""
    # Percent-encoded (a control character of the path could end a comment), below the public base.
    iri = public_url(request.base_url[len(request.url_root):])
    if fmt is HTML:
        body = render_template("error.html", title_key="not_found_title", text_key="not_found_text", iri=iri)
        response = Response(body, status=404, mimetype="text/html")
    else:
        response = Response(_empty_document(fmt, f"Not found: {iri}"), status=404, mimetype=fmt.media_type)
    response.vary.add("Accept")
    return response


def not_acceptable() -> Response:
    """406 listing the formats on offer."""
    response = Response(offered_listing(), status=406, mimetype="text/plain")
    response.vary.add("Accept")
    response.headers["Link"] = alternates(public_url(request.path.lstrip("/")))
    return response


def _empty_document(fmt: Format, message: str) -> bytes:
    """A valid, empty document in `fmt` that carries `message` where the format allows."""
    if fmt is JSONLD:
        document = {"@context": {"error": "http://www.w3.org/2000/01/rdf-schema#comment"}, "error": message}
        return json.dumps(document).encode("utf-8")
    if fmt.serializer == "xml":
        return ('<?xml version="1.0" encoding="utf-8"?>\n<!-- ' + message.replace("--", "- -") +
                ' -->\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>\n').encode("utf-8")
    return f"# {message}\n".encode()
