"""The formats a document is offered in, and which one a request gets.

The formats are those of the one table (lodpub.formats) that the endpoint, the stores and the
dumps share; a document is offered in DOCUMENT_FORMATS, listed so in a 406. The choice is, in
order: a file suffix in the URL (`/doc/id/region/bursa.ttl`), the `format` query parameter
(`?format=ttl`, `?format=text/turtle`), then the Accept header with its q-values, parsed by
werkzeug; parameters other than q (`text/turtle;charset=utf-8`, a JSON-LD `profile`) do not
stop a type from matching. A client that sends no Accept header, or accepts anything alike
(`*/*`), gets Turtle, the first format of the table: it is a program, as browsers ask for text/html
by name. Harvesters that cannot negotiate (HARVESTERS) never get HTML.
"""

import re
from dataclasses import replace
from functools import lru_cache

import pyoxigraph as ox
from flask import Request
from rdflib import Graph
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header, parse_options_header

from ..blank_nodes import stable_triples
from ..formats import DOCUMENT_FORMATS, HTML, JSONLD, NQUADS, NTRIPLES, TRIG, TURTLE, Format
from ..namespaces import prefixes_for
from .jsonld import COMPACTED, JsonLdContext, JsonLdForm, form_for_profiles, to_json_ld

# User agents that get data whatever their Accept header says. The national catalogue's harvester
# (NKOD, "nkod/0.0.1") sends Java's default Accept header, which puts text/html first.
HARVESTERS = ("nkod/",)
FORMATS = DOCUMENT_FORMATS
RDF_FORMATS = tuple(fmt for fmt in FORMATS if fmt.serializer)
BY_SUFFIX = {fmt.suffix: fmt for fmt in FORMATS}

# Formats whose documents are the bytes of one of ours, answered under the media type asked for,
# so that a reader of that format takes them: a Turtle document is an N3 document and a TriG one
# (its triples in the default graph), an N-Triples document an N-Quads one. They are other names
# of the same bytes, not alternates of their own, so neither the pages nor the Link header list them.
SAME_BYTES_AS: dict[str, Format] = {
    "text/n3": replace(TURTLE, media_type="text/n3", label="N3: the Turtle document"),
    TRIG.media_type: replace(TURTLE, media_type=TRIG.media_type, label="TriG: the Turtle document"),
    NQUADS.media_type: replace(NTRIPLES, media_type=NQUADS.media_type, label="N-Quads: the N-Triples document"),
}
# Other media types some clients send for our formats (application/x-turtle, text/xml, ...).
_ALTERNATIVE_MEDIA_TYPES = [alias for fmt in FORMATS for alias in fmt.aliases if "/" in alias and alias not in SAME_BYTES_AS]


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
    return format_for(request.headers.get("Accept", ""), request.user_agent.string or "")


def format_for(accept: str, user_agent: str) -> Format:
    """The format a request with these Accept and User-Agent headers gets, by Accept (see choose_format)."""
    return _format_for(accept, (user_agent or "").lower().startswith(HARVESTERS))


@lru_cache(maxsize=256)  # clients send the same few headers
def _format_for(accept: str, harvester: bool) -> Format:
    accepted = accepted_types_of(accept)
    if not accepted:
        return FORMATS[0]
    # Ours first: a client that takes Turtle and TriG alike (Jena) gets Turtle.
    offered = ([fmt.media_type for fmt in FORMATS if not (harvester and fmt is HTML)]
               + list(_ALTERNATIVE_MEDIA_TYPES) + list(SAME_BYTES_AS))
    best = accepted.best_match(offered)
    if best is None:
        raise NotAcceptable()
    return SAME_BYTES_AS.get(best) or _format_named(best)


def accepted_types(request: Request) -> MIMEAccept:
    """The request's Accept header, parsed leniently: each media range with its quality, without
    its other parameters.

    Java's HTTP client (and so many harvesters) sends "text/html, image/gif, image/jpeg, *; q=.2,
    */*; q=.2" by default; werkzeug drops "q=.2" (RFC 9110 wants "0.2") and the bare "*", which
    would leave only images and HTML. Read as meant, the client accepts anything at 0.2.
    werkzeug matches a range with parameters only to a type with the same ones, so that
    "text/turtle;charset=utf-8" (the very type we send) or a JSON-LD profile would find nothing:
    the parameters are dropped (the JSON-LD writer reads a profile from the header itself).
    """
    return accepted_types_of(request.headers.get("Accept", ""))


def accepted_types_of(header: str) -> MIMEAccept:
    """An Accept header's value, parsed as `accepted_types` parses a request's."""
    header = re.sub(r"(;\s*q\s*=\s*)\.", r"\g<1>0.", header)
    header = re.sub(r"(^|,)\s*\*\s*(?=;|,|$)", r"\1*/*", header)
    return MIMEAccept([(value.split(";", 1)[0].strip(), quality)
                       for value, quality in parse_accept_header(header, MIMEAccept)])


def requested_json_ld_form(request: Request) -> JsonLdForm:
    """The JSON-LD form the request asks for by the `profile` parameter of its most preferred
    application/ld+json entry in Accept (JSON-LD 1.1 §9: `...#expanded`, `...#flattened`,
    `...#compacted`, several separated by spaces); compacted when it names none."""
    best: tuple[float, str] = (0.0, "")
    for entry in request.headers.get("Accept", "").split(","):
        media_type, parameters = parse_options_header(entry)
        try:
            quality = float(parameters.get("q", "1"))
        except ValueError:
            continue
        if media_type == JSONLD.media_type and quality > best[0]:
            best = (quality, parameters.get("profile", ""))
    return form_for_profiles(best[1]) if best[1] else COMPACTED


def _format_named(name: str) -> Format:
    name = name.strip().lower()
    fmt = next((fmt for fmt in FORMATS if fmt.named(name)), None)
    if fmt is None:
        raise NotAcceptable()
    return fmt


def offered_listing() -> str:
    """The formats on offer, one per line, for a 406 response."""
    lines = [f"{fmt.media_type}  (?format={fmt.key}, suffix {fmt.suffix})" for fmt in FORMATS]
    lines += [f"{media_type}  ({fmt.label})" for media_type, fmt in SAME_BYTES_AS.items()]
    return "Not acceptable. This document is offered as:\n" + "\n".join(lines) + "\n"


def format_url(document_url: str, fmt: Format) -> str:
    """The URL of the document at `document_url` in `fmt`: with the format's suffix, or, for a URL
    with a query (`/doc?iri=...`), with ?format=."""
    return f"{document_url}&format={fmt.key}" if "?" in document_url else document_url + fmt.suffix


def alternates(document_url: str, served: Format | None = None) -> str:
    """A Link header value naming each format's URL of the document at `document_url`.

    The JSON-LD variant names only the page for people: pyld's document loader (3.3) fails on a
    response with more than one rel="alternate" link, and a JSON-LD client has no use for the
    other formats' URLs (they are on every other variant, and on the page).
    """
    listed = (HTML,) if served is JSONLD else FORMATS
    return ", ".join(
        f'<{format_url(document_url, fmt)}>; rel="alternate"; type="{fmt.media_type}"' for fmt in listed
    )


# The formats Oxigraph writes from triples as well as rdflib writes them from a graph, ten times
# faster (by serialiser: N3 is written as Turtle).
_WRITTEN_BY_OXIGRAPH = {TURTLE.serializer, NTRIPLES.serializer}


def written_from_triples(fmt: Format) -> bool:
    """Whether `serialise_triples` writes `fmt` (else a graph goes through `serialise`)."""
    return fmt.serializer in _WRITTEN_BY_OXIGRAPH


def serialise_triples(triples: list[ox.Triple], fmt: Format, base_iri: str) -> bytes:
    """Serialise Oxigraph `triples` (their IRIs already under `base_iri`) in Turtle or N-Triples,
    with the prefixes of ours they use, grouped by subject, the same bytes in every process."""
    ordered = stable_triples(triples)
    iris = {term.value for triple in ordered
            for term in (triple.subject, triple.predicate, triple.object) if isinstance(term, ox.NamedNode)}
    namespaces = {_namespace_of(iri) for iri in iris}
    used = {prefix: namespace for prefix, namespace in prefixes_for(base_iri).items() if namespace in namespaces}
    return ox.serialize(ordered, format=fmt.oxigraph, prefixes=used)


def _namespace_of(iri: str) -> str:
    """`iri` up to its last / or # (an IRI whose prefix ends elsewhere is just written in full)."""
    return iri[:max(iri.rfind("/"), iri.rfind("#")) + 1]


def serialise(graph: Graph, fmt: Format, base_iri: str, context: JsonLdContext, subject: str | None = None,
              json_ld_form: JsonLdForm = COMPACTED) -> bytes:
    """Serialise `graph` (its IRIs already under `base_iri`) in an RDF format.

    JSON-LD is in `json_ld_form`: by default compacted with `context` and referring to it by its
    URL, so that documents share one published context (ours, or a standard's such as the
    DCAT-AP-CZ norm's), and with `subject` shaped as a tree around that node.
    """
    for prefix, namespace in prefixes_for(base_iri).items():
        graph.bind(prefix, namespace, override=True, replace=True)
    if fmt is JSONLD:
        return to_json_ld(graph, context, subject, json_ld_form)
    return graph.serialize(format=fmt.serializer, encoding="utf-8")
