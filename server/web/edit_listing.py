"""What the editor's page of a partnership lists (issue 20): the resources its FILE describes, by the
kind of form that edits each, the events and status periods in the chronology's order, and the
cooperation areas named. The form shapes' sources, read once per release, are kept here too.
"""

from flask import abort, current_app
from rdflib import URIRef

from ..editing.blocks import parse_turtle
from ..editing.form_terms import Sources, load_sources
from ..editing.form_values import areas, resources_by_kind
from ..editing.save import UnsafeName, load
from ..namespaces import CANONICAL_BASE, rebase_iri
from . import publisher, store
from .story_queries import chronology

SOURCES = "lodpub_form_sources"
CHRONOLOGICAL = ("event", "status")


def form_sources() -> Sources:
    """The shapes and terms of the forms, read once for each release served."""
    kept = current_app.extensions.get(SOURCES)
    if kept is None or kept[0] != store().version:
        kept = (store().version, load_sources(publisher().settings))
        current_app.extensions[SOURCES] = kept
    return kept[1]


def partnership_file_text(name: str) -> tuple[str, str]:
    """The text and revision of partnership `name`'s file; 404 for a name that is no partnership's file."""
    try:
        return load(publisher().settings.data_dir, name)
    except (UnsafeName, FileNotFoundError):
        abort(404)


def partnership_sections(name: str, partnership_iri: str, language: str) -> dict:
    """The resources of the partnership's file by kind (each a list of (IRI, label)), and its areas."""
    text, _ = partnership_file_text(name)
    graph = parse_turtle(text)
    sources = form_sources()
    by_kind = resources_by_kind(sources, graph, language)
    order = _chronological_order(partnership_iri, language)
    for kind in CHRONOLOGICAL:
        # what the release does not hold yet (saved, not published) comes after what it orders
        by_kind[kind].sort(key=lambda item: order.get(str(item[0]), len(order)))
    return {"kinds": by_kind, "areas": areas(graph, sources, language)}


def _chronological_order(partnership_iri: str, language: str) -> dict[str, int]:
    """The position of each event and status change of the partnership in the chronology, by the
    file's IRI (the store's are under the public base)."""
    rows = chronology(URIRef(partnership_iri), language)
    base = store().base_iri
    order: dict[str, int] = {}
    for row in rows:
        order.setdefault(rebase_iri(str(row["event"]), base, CANONICAL_BASE), len(order))
    return order
