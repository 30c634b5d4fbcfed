"""The formats a document is offered in, and which one a request gets.

One table serves every document, the dumps' media types and the 406 listing. The choice is, in
order: a file suffix in the URL (`/doc/id/region/bursa.ttl`), the `format` query parameter
(`?format=ttl`, `?format=text/turtle`), then the Accept header with its q-values, parsed by
werkzeug. A client that accepts anything (`*/*`) gets HTML, the first format of the table.
"""

import json
from dataclasses import dataclass

from flask import Request
from rdflib import Graph

from ..namespaces import prefixes_for


@dataclass(frozen=True)
class Format:
    """One representation: its short name, media type, file suffix and rdflib serialiser."""

    key: str
    media_type: str
    suffix: str
    serializer: str | None  # None: rendered from a template, not serialised
    label: str
    aliases: tuple[str, ...] = ()


HTML = Format("html", "text/html", ".html", None, "HTML")
TURTLE = Format("ttl", "text/turtle", ".ttl", "turtle", "Turtle", ("turtle",))
JSONLD = Format("jsonld", "application/ld+json", ".jsonld", "json-ld", "JSON-LD", ("json-ld", "json"))
RDFXML = Format("rdf", "application/rdf+xml", ".rdf", "xml", "RDF/XML", ("rdfxml", "xml"))
NTRIPLES = Format("nt", "application/n-triples", ".nt", "nt", "N-Triples", ("ntriples", "n-triples"))

FORMATS: tuple[Format, ...] = (HTML, TURTLE, JSONLD, RDFXML, NTRIPLES)
RDF_FORMATS = tuple(fmt for fmt in FORMATS if fmt.serializer)
BY_SUFFIX = {fmt.suffix: fmt for fmt in FORMATS}

# Media types some clients send for these formats; matched as the format itself.
_ALTERNATIVE_MEDIA_TYPES = {
    "application/x-turtle": TURTLE,
    "application/xml": RDFXML,
    "text/xml": RDFXML,
    "application/json": JSONLD,
    "text/plain": NTRIPLES,
}


class NotAcceptable(Exception):
    """No offered format is acceptable to the client."""


def split_suffix(path: str) -> tuple[str, Format | None]:
    """Split a known format suffix off `path`: ("id/region/bursa", TURTLE) for "id/region/bursa.ttl"."""
    for suffix, fmt in BY_SUFFIX.items():
        if path.endswith(suffix):
            return path[: -len(suffix)], fmt
    return path, None


def choose_format(request: Request, forced: Format | None = None) -> Format:
    """The format for this request: the suffix's, else ?format=, else the best by Accept.

    Raises NotAcceptable when ?format= names no format we have, or the Accept header rules out
    every one.
    """
    if forced is not None:
        return forced
    asked = request.args.get("format")
    if asked:
        return _format_named(asked)
    if not request.accept_mimetypes:
        return HTML
    offered = [fmt.media_type for fmt in FORMATS] + list(_ALTERNATIVE_MEDIA_TYPES)
    best = request.accept_mimetypes.best_match(offered)
    if best is None:
        raise NotAcceptable()
    return _ALTERNATIVE_MEDIA_TYPES.get(best) or next(fmt for fmt in FORMATS if fmt.media_type == best)


def _format_named(name: str) -> Format:
    name = name.strip().lower()
    for fmt in FORMATS:
        if name in (fmt.key, fmt.media_type, fmt.suffix.lstrip("."), *fmt.aliases):
            return fmt
    if name in _ALTERNATIVE_MEDIA_TYPES:
        return _ALTERNATIVE_MEDIA_TYPES[name]
    raise NotAcceptable()


def offered_listing() -> str:
    """The formats on offer, one per line, for a 406 response."""
    lines = [f"{fmt.media_type}  (?format={fmt.key}, suffix {fmt.suffix})" for fmt in FORMATS]
    return "Not acceptable. This document is offered as:\n" + "\n".join(lines) + "\n"


def alternates(document_url: str) -> str:
    """A Link header value naming each format's URL of the document at `document_url`."""
    return ", ".join(
        f'<{document_url}{fmt.suffix}>; rel="alternate"; type="{fmt.media_type}"' for fmt in FORMATS
    )


def json_ld_context(base_iri: str) -> dict:
    """The JSON-LD context we publish: our prefixes, and language maps for the texts we give in cs and en."""
    prefixes = prefixes_for(base_iri)
    context: dict = dict(sorted(prefixes.items()))
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


def serialise(graph: Graph, fmt: Format, base_iri: str, context_url: str) -> bytes:
    """Serialise `graph` (its IRIs already under `base_iri`) in an RDF format.

    JSON-LD is compacted with our context and then refers to it by `context_url`, so that every
    document shares one published context.
    """
    for prefix, namespace in prefixes_for(base_iri).items():
        graph.bind(prefix, namespace, override=True, replace=True)
    if fmt is JSONLD:
        compacted = json.loads(graph.serialize(format="json-ld", context=json_ld_context(base_iri), auto_compact=True))
        compacted["@context"] = context_url
        return json.dumps(compacted, ensure_ascii=False, indent=2).encode("utf-8")
    return graph.serialize(format=fmt.serializer, encoding="utf-8")
