"""For harvesters and caches: the dumps, the VoID description, the JSON-LD context, robots.txt,
and the sitemap.

A dump is served as the release folder of the store holds it (the release mapped to the public
base: public_release.py), sent from its file in parts, whatever Host a request names. A file whose
bytes on disk are not those that were written is not served: its URL answers 503 and says why.
"""

import base64
import json
from collections.abc import Iterable
from pathlib import Path
from xml.sax.saxutils import escape

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from rdflib import URIRef
from werkzeug.exceptions import RequestedRangeNotSatisfiable
from werkzeug.wsgi import wrap_file

from ..describe.changes import RELEASE_PATH
from ..describe.dcat import NORM_CONTEXT_FILE
from ..namespaces import dataset_iri
from ..store.manifest import completion_failure
from ..store.releases import DamagedFile
from . import public_base, store
from .changelog import current_changelog
from .jsonld import our_context_terms
from .negotiation import NotAcceptable, choose_format, split_suffix
from .provisional import is_provisional
from .resources import not_acceptable, respond_with_graph
from .served import checked_files, file_as_written, pending_dumps, served_bytes, served_files, withheld_files
from .shapes import SHAPES_PATH, published_shapes

blueprint = Blueprint("harvest", __name__)
# When a harvester may ask again for a dump that is still being written.
DUMP_RETRY_SECONDS = 60


@blueprint.route("/dumps/")
def dumps() -> Response:
    """The dumps of the current release, with their sizes and SHA-256, as a page."""
    files = served_files(store().release)
    listing = [{"name": name, "media_type": fact.media_type, "bytes": fact.size, "sha256": fact.sha256}
               for name, fact in files.items()]
    return Response(render_template("dumps.html", files=listing), mimetype="text/html")


@blueprint.route("/dumps/<name>")
def dump(name: str) -> Response:
    """One file of the current release, with Content-Length and its SHA-256 (Digest headers), whole
    or a byte range of it."""
    release = store().release
    if name in pending_dumps(release):
        return _being_written(name, completion_failure(release))
    files = served_files(release)
    withheld = withheld_files(release).get(name)
    if name not in files and withheld is None and name not in checked_files(release)[0]:
        abort(404)
    if withheld is None:
        try:  # read, and checked against the build's SHA-256, now: it may have changed since
            fact, path = files[name], file_as_written(release, name)
            body = _file_body(path) if path else served_bytes(release, name)
        except (DamagedFile, KeyError, OSError):  # (KeyError: it had changed when the facts were learnt)
            withheld = f"release {store().version}: {name} changed on disk after it was checked"
    if withheld is not None:
        current_app.logger.error("not serving %s", withheld)
        return _unavailable(withheld)
    response = Response(body, mimetype=fact.media_type, direct_passthrough=path is not None)
    response.content_length = fact.size
    digest = base64.b64encode(bytes.fromhex(fact.sha256)).decode()
    response.headers["Repr-Digest"] = f"sha-256=:{digest}:"
    response.headers["Digest"] = f"SHA-256={digest}"
    response.set_etag(fact.sha256)
    response.last_modified = store().built_at  # If-Range may name the date instead of the tag
    try:  # Range (206, or 416 when no range fits), If-Range: an interrupted download resumes
        return response.make_conditional(request, accept_ranges=True, complete_length=fact.size)
    except RequestedRangeNotSatisfiable:
        response.close()  # the file it was to be sent from
        raise


def _being_written(name: str, failure: str | None) -> Response:
    """503 for a dump the server is still writing (it answers before its dumps exist: dump_completion.py),
    or could not write (`failure` says why)."""
    if failure is not None:
        return _unavailable(f"{name} of release {store().version} could not be written: {failure}")
    return Response(f"Service unavailable: {name} of release {store().version} is still being written. The server "
                    "answers before its dumps are written; this one is listed in /dumps/, manifest.json and "
                    f"SHA256SUMS once it is written and checked. Ask again in a minute.\n", 503,
                    {"Retry-After": str(DUMP_RETRY_SECONDS), "Cache-Control": "no-store"}, mimetype="text/plain")


def _unavailable(reason: str) -> Response:
    """503 for a file that is not served until the release is repaired or replaced, saying why."""
    return Response(f"Service unavailable: {reason}. The file is not served until the release is repaired or "
                    "replaced.\n", 503, {"Retry-After": "3600", "Cache-Control": "no-store"}, mimetype="text/plain")


def _file_body(path: Path) -> Iterable[bytes]:
    """The bytes of the file at `path`, sent in parts (by the server's sendfile where it has one)."""
    return wrap_file(request.environ, open(path, "rb"))


@blueprint.route("/.well-known/void", defaults={"suffix": ""})
@blueprint.route("/.well-known/void<suffix>")
def void(suffix: str) -> Response:
    """The VoID description of the dataset, negotiated like every document."""
    _, forced = split_suffix(suffix)
    if suffix and forced is None:
        abort(404)
    try:
        fmt = choose_format(request, forced)
    except NotAcceptable:
        return not_acceptable()
    iri = URIRef(dataset_iri(store().base_iri))
    return respond_with_graph(store().document(iri), iri, fmt, url_for("harvest.void", suffix=""))


@blueprint.route("/context.jsonld")
def context() -> Response:
    """The JSON-LD context every JSON-LD document of ours refers to."""
    body = json.dumps({"@context": our_context_terms(public_base())}, ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/ld+json")


# The DCAT-AP-CZ norm's context, which catalogue records refer to by the norm's URL (see docs/consumers.md,
# "JSON-LD"): served here too, byte for byte, for clients that cannot reach ofn.gov.cz.
NORM_CONTEXT_PATH = "/contexts/" + NORM_CONTEXT_FILE.name


@blueprint.route(NORM_CONTEXT_PATH)
def norm_context_copy() -> Response:
    """Our copy of the DCAT-AP-CZ norm's JSON-LD context (server/describe/standards/), as published."""
    return Response(NORM_CONTEXT_FILE.read_bytes(), mimetype="application/ld+json")


@blueprint.route("/robots.txt")
def robots() -> Response:
    """Every page may be crawled (the sitemap lists them); the SPARQL endpoint is for queries, not crawlers."""
    body = f"User-agent: *\nAllow: /\nDisallow: /sparql\nSitemap: {public_base()}sitemap.xml\n"
    return Response(body, mimetype="text/plain")


@blueprint.route("/sitemap.xml")
def sitemap() -> Response:
    """Every page there is: the home page, the changelog, the VoID, and the page (document) of every
    resource, term, concept, named graph, shape and release. Each answers 200."""
    base = store().base_iri
    described = [iri for root in ("id/", "ontology", "vocabulary/") for iri in store().subjects_under(base + root)]
    described += store().graph_names()
    described += sorted(iri for iri in set(published_shapes().subjects()) | set(current_changelog().subjects())
                        if isinstance(iri, URIRef) and str(iri).startswith((base + SHAPES_PATH, base + RELEASE_PATH)))
    paths = list(dict.fromkeys(str(iri)[len(base):] for iri in described))
    # (The changelog and the VoID are the release's: the provisional release has neither yet.)
    described_by_release = [] if is_provisional() else [public_base() + "changes", public_base() + ".well-known/void"]
    urls = [public_base(), *described_by_release, *(f"{public_base()}doc/{path}" for path in paths)]
    lastmod = store().built_at.strftime("%Y-%m-%d")
    entries = "".join(f"<url><loc>{escape(url)}</loc><lastmod>{lastmod}</lastmod></url>\n" for url in urls)
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{entries}</urlset>\n')
    return Response(body, mimetype="application/xml")
