"""The changelog: what each release changed, as a page for people and as RDF for machines.

The build writes the changelog into each release (changes.ttl: every release up to that one, see
describe/changes.py). It is not loaded into the store, so it is read from the served release's
folder, and it answers like every document:

- `{base}changes`: the changelog, negotiated (HTML, Turtle, JSON-LD, RDF/XML, N-Triples; a suffix
  such as `/changes.ttl`, `?format=`, or Accept);
- `{base}id/release/<version>` and its parts (`…/added`, `…/removed`, their named-graph subsets):
  303 See Other to `/doc/id/release/…`, the document about it;
- `{base}changes/<version>/added.nq`, `…/removed.nq`: the patch of a release still on disk.
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from flask import Blueprint, Response, abort, redirect, request, url_for
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, VOID

from ..describe.changes import (
    ADMS,
    CHANGELOG_FILE,
    CHANGELOG_PATH,
    PATCH_FILES,
    RELEASE_PATH,
    SD,
    changelog,
    changelog_iri,
    read_changelog,
    stored_release,
)
from ..namespaces import LABEL_PREDICATES
from ..store import served_copy
from . import canonical_iri, public_base, public_link, publisher, store
from .html import Value, value_of
from .i18n import current_language
from .negotiation import HTML, Format, NotAcceptable, choose_format, split_suffix
from .resources import choose_or_html, not_acceptable, not_found, respond_with_graph

blueprint = Blueprint("changelog", __name__)

# The page lists this many of a release's changed resources; its document lists them all.
RESOURCES_SHOWN = 100


@blueprint.route(f"/{CHANGELOG_PATH}", defaults={"suffix": ""})
@blueprint.route(f"/{CHANGELOG_PATH}<suffix>")
def changes(suffix: str) -> Response:
    """The changelog, newest release first: a page, or RDF."""
    bare, forced = split_suffix(CHANGELOG_PATH + suffix)
    if bare != CHANGELOG_PATH:
        abort(404)
    return _answer(with_term_labels(current_changelog()), changelog_iri(store().base_iri), forced,
                   url_for("changelog.changes", suffix=""), "changelog.html",
                   lambda graph: {"releases": release_views(graph, current_language())})


@blueprint.route(f"/{RELEASE_PATH}<path:rest>")
def release(rest: str) -> Response:
    """A release (or a part of its record): 303 See Other to the document about it."""
    bare, fmt = split_suffix(rest)
    if not _in_changelog(canonical_iri(RELEASE_PATH + bare)):
        return not_found(choose_or_html(fmt))
    target = public_link(url_for("changelog.release_document", rest=rest))
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    return redirect(target, code=303)


@blueprint.route(f"/doc/{RELEASE_PATH}<path:rest>", endpoint="release_document")
def release_document(rest: str) -> Response:
    """The document about a release: its entry in the changelog."""
    bare, forced = split_suffix(rest)
    iri = canonical_iri(RELEASE_PATH + bare)
    if not _in_changelog(iri):
        return not_found(choose_or_html(forced))
    return _answer(with_term_labels(entry_document(current_changelog(), iri)), iri, forced,
                   url_for("changelog.release_document", rest=bare))


def _answer(graph: Graph, iri: URIRef, forced: Format | None, document_url: str, template: str = "resource.html",
            page_values: Callable[[Graph], dict] = lambda graph: {}) -> Response:
    """`graph` about `iri` in the negotiated format; a page is `template` with `page_values` of the
    graph as the request sees it."""
    try:
        fmt = choose_format(request, forced)
    except NotAcceptable:
        return not_acceptable()
    values = page_values(graph) if fmt is HTML else {}
    return respond_with_graph(graph, iri, fmt, document_url, template=template, **values)


@blueprint.route(f"/{CHANGELOG_PATH}/<version>/<kind>.nq")
def patch(version: str, kind: str) -> Response:
    """The quads a release added or removed (`kind`), as N-Quads, while the release is kept."""
    kept = version in _versions(current_changelog()) and kind in PATCH_FILES
    found = stored_release(_published_folder(version)) if kept else None
    data = found.intact_file(PATCH_FILES[kind]) if found is not None else None
    if data is None:
        return Response(f"Not found: no {kind} quads of release {version} are kept here.\n", status=404,
                        mimetype="text/plain")
    return Response(data, mimetype="application/n-quads")


def _published_folder(version: str) -> Path:
    """The folder of release `version` as published under the public base (the served one's, or an
    older release's copy, written once when first asked for: public_release.py)."""
    if version == store().version:
        return store().release
    settings = publisher().settings
    release = settings.output_dir / "releases" / version
    return served_copy(settings, release)[0] if (release / "manifest.json").is_file() else release


# --- the changelog and the documents in it ------------------------------------------------------


def current_changelog() -> Graph:
    """The changelog of the served release (its IRIs; do not modify)."""
    return _changelog_of(store().release, store().version, store().base_iri)


@functools.lru_cache(maxsize=8)
def _changelog_of(release: Path, version: str, base_iri: str) -> Graph:
    """The changelog in `release`; a release built before changelogs were kept has an empty one."""
    path = release / CHANGELOG_FILE
    recorded = read_changelog(path.read_bytes()) if path.is_file() else Graph()
    return changelog(recorded, Graph(), Graph(), base_iri)


def _in_changelog(iri: URIRef) -> bool:
    return (iri, None, None) in current_changelog()


def _versions(log: Graph) -> set[str]:
    return {str(version) for version in log.objects(None, OWL.versionInfo)}


def entry_document(log: Graph, release: URIRef) -> Graph:
    """What the changelog says of `release` (or of a part of its record): its triples and those of
    its parts (…/added and below), what links to it, and the labels of everything it links to."""
    prefix = str(release) + "/"
    document = Graph()
    for subject in {release, *(s for s in log.subjects(unique=True) if str(s).startswith(prefix))}:
        document += log.triples((subject, None, None))
    document += log.triples((None, None, release))
    linked = {node for node in document.all_nodes() if isinstance(node, URIRef)}
    for node in linked:
        for predicate in LABEL_PREDICATES:
            document += log.triples((node, predicate, None))
    return document


def with_term_labels(graph: Graph) -> Graph:
    """A copy of `graph` with the labels of its properties and classes, as documents have them."""
    terms = set(graph.predicates()) | set(graph.objects(None, RDF.type))
    document = Graph()
    document += graph
    document += store().labels(terms)
    return document


# --- the page --------------------------------------------------------------------------------------


@dataclass
class GraphCount:
    """The triples a release added and removed in one named graph."""

    graph: Value
    added: int = 0
    removed: int = 0


@dataclass
class ReleaseView:
    """One release as the changelog page shows it."""

    version: str
    page: str
    built_at: str
    data_modified: str
    notes: str
    previous: Value | None = None
    added: int | None = None
    removed: int | None = None
    graphs: list[GraphCount] = field(default_factory=list)
    resources: list[Value] = field(default_factory=list)
    more_resources: int = 0
    patches: list[tuple[str, str]] = field(default_factory=list)


def release_views(log: Graph, language: str) -> list[ReleaseView]:
    """The releases of the changelog `log` (public IRIs), newest first, for a page in `language`."""
    base = public_base()
    releases = sorted(log.objects(changelog_iri(base), PROV.hadMember),
                      key=lambda iri: str(log.value(iri, PROV.generatedAtTime)), reverse=True)
    views = [_release_view(log, iri, language, base) for iri in releases]
    _unlink_resources_gone(views)
    return views


def _release_view(log: Graph, iri: URIRef, language: str, base: str) -> ReleaseView:
    previous = log.value(iri, PROV.wasRevisionOf)
    view = ReleaseView(
        version=str(log.value(iri, OWL.versionInfo)),
        page=url_for("changelog.release_document", rest=str(iri)[len(base + RELEASE_PATH):]),
        built_at=_when(log.value(iri, PROV.generatedAtTime)),
        data_modified=_when(log.value(iri, DCTERMS.modified)),
        notes=_text_in(log, iri, ADMS.versionNotes, language),
        previous=value_of(log, previous, language, base) if previous is not None else None,
    )
    resources = sorted((value_of(log, resource, language, base) for resource in log.objects(iri, DCTERMS.references)),
                       key=lambda value: value.text.lower())
    view.resources, view.more_resources = resources[:RESOURCES_SHOWN], max(0, len(resources) - RESOURCES_SHOWN)
    graphs: dict[URIRef, GraphCount] = {}
    for quad_set in log.objects(iri, DCTERMS.relation):
        kind = str(quad_set).rsplit("/", 1)[-1]
        setattr(view, kind, int(log.value(quad_set, VOID.triples)))
        view.patches.append((kind, str(log.value(quad_set, VOID.dataDump))))
        for subset in log.objects(quad_set, VOID.subset):
            name = log.value(subset, SD.name)
            count = graphs.setdefault(name, GraphCount(value_of(log, name, language, base)))
            setattr(count, kind, int(log.value(subset, VOID.triples)))
    view.graphs = sorted(graphs.values(), key=lambda count: count.graph.text)
    view.patches.sort()
    return view


def _unlink_resources_gone(views: list[ReleaseView]) -> None:
    """Unlink the resources of ours that the served release no longer describes (one query for all)."""
    shown = {value.href for view in views for value in view.resources if value.href}
    ours = {iri for iri in shown if iri.startswith(public_base())}
    described: set[str] = set()
    if ours:
        values = " ".join(f"<{iri}>" for iri in ours)
        query = f"SELECT ?s WHERE {{ VALUES ?s {{ {values} }} FILTER EXISTS {{ ?s ?p ?o }} }}"
        described = {str(row["s"]) for row in store().select(query)}
    for view in views:
        view.resources = [Value(value.text) if value.href in ours and value.href not in described
                          else value for value in view.resources]


def _when(moment: Literal | None) -> str:
    """A build time for people: "2026-11-27 19:05 UTC"."""
    if moment is None:
        return ""
    return f"{datetime.fromisoformat(str(moment).replace('Z', '+00:00')):%Y-%m-%d %H:%M} UTC"


def _text_in(graph: Graph, node: URIRef, predicate: URIRef, language: str) -> str:
    texts = list(graph.objects(node, predicate))
    chosen = next((text for text in texts if getattr(text, "language", None) == language), texts[0] if texts else "")
    return str(chosen)
