"""The editor's forms (issue 20): the form shapes of each kind (GET /edit/forms/<kind>.ttl), the choices
of a class (the served release's instances, for shacl-form's class instance provider), and the pages
of a form, new or filled from the partnership's file. The pages post what the form produced to
/edit/partnership/<name>/check and /save (edit_save.py); nothing here changes anything.

Behind edit_guard.guard, like every page under /edit/; registered by editing.py when editing is configured.
"""

import json
import uuid
from dataclasses import dataclass

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from rdflib import DCTERMS, RDF, RDFS, Graph, Literal, URIRef

from ..editing.blocks import parse_turtle
from ..editing.form_shapes import KINDS, form_shapes
from ..editing.form_terms import LANGUAGES, RP, TIME
from ..editing.form_values import empty_texts, file_choices, form_classes, form_values, kind_of
from ..namespaces import CANONICAL_BASE, prefixes_for, rebase_iri
from . import store
from .edit import PARTNERSHIP_PATH
from .edit_guard import guarded, signed_in_editor
from .edit_listing import form_sources, partnership_file_text
from .i18n import WORDS, current_language

blueprint = Blueprint("edit_forms", __name__, url_prefix="/edit")
guarded(blueprint)
FORMS = "lodpub_form_shapes"
NEW_PARTNERSHIP = "new"
# At most this many choices of one class: a select of more helps nobody (and bounds the answer).
MAX_CHOICES = 2000


@dataclass(frozen=True)
class PageForm:
    """One form of a page of several: its kind, the word that heads it, and the optional part of the
    page it belongs to (the editor ticks a part in, or leaves it out; "": always sent)."""

    kind: str
    heading: str
    part: str = ""


# The forms of a new partnership's page, by the role of their resource, in the order an office thinks
# of them. A partnership mostly begins with the signing of an agreement: that part is optional, as a
# first status may have no event that began it (negotiations).
NEW_PARTNERSHIP_FORMS = {
    "partner": PageForm("partner", "edit_form_new_partner"),
    "partnership": PageForm("partnership", "edit_form_kind_partnership"),
    "agreement": PageForm("agreement", "edit_form_agreement", part="edit_form_part_signing"),
    "signing": PageForm("event", "edit_form_signing", part="edit_form_part_signing"),
    "status": PageForm("status", "edit_form_first_status"),
}
LIBEREC_REGION = URIRef(CANONICAL_BASE + "id/region/liberec-region")
SIGNING_KIND = URIRef(CANONICAL_BASE + "vocabulary/event-kinds/signing")
# How a new partnership's resources are linked by the page: (subject's role, property, object's role,
# whether the subject's field of the property is hidden, as what it could choose is being made).
# The partnership and the agreement keep their fields of partners and parties: more may take part.
NEW_PARTNERSHIP_LINKS = [
    ("partnership", RP.partner, "partner", False),
    ("agreement", RP.party, "partner", False),
    ("agreement", RP.establishes, "partnership", True),
    ("signing", RP.agreement, "agreement", True),
    ("signing", RP.partnership, "partnership", True),
    ("status", RP.partnership, "partnership", True),
    ("status", RP.causedBy, "signing", True),
]
# What a new partnership's forms start with: the Liberec Region as a partner and party, the kind signing.
NEW_PARTNERSHIP_VALUES = [("partnership", RP.partner, LIBEREC_REGION), ("agreement", RP.party, LIBEREC_REGION),
                          ("signing", DCTERMS.type, SIGNING_KIND)]
# A new agreement of a partnership: an agreement is valid only with its signing, and a signing with it.
NEW_AGREEMENT_FORMS = {"agreement": PageForm("agreement", "edit_form_agreement"),
                       "signing": PageForm("event", "edit_form_signing")}
NEW_AGREEMENT_LINKS = [("signing", RP.agreement, "agreement", True)]

INSTANCES = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?instance ?label WHERE {{
  ?instance a ?type . ?type rdfs:subClassOf* <{cls}> .
  FILTER (isIRI(?instance))
  OPTIONAL {{ ?instance rdfs:label ?label FILTER (LANG(?label) IN ("cs", "en")) }}
}} LIMIT {limit}"""

# The named times of a partnership's events and status periods: what an unknown time is ordered by.
TIMES = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX rp: <{base}ontology/>
PREFIX time: <http://www.w3.org/2006/time#>
SELECT DISTINCT ?instance ?label WHERE {{
  ?thing rp:partnership <{partnership}> ; time:hasTime|time:hasBeginning ?time .
  ?time (time:hasBeginning|time:hasEnd)? ?instance .
  FILTER (isIRI(?instance))
  OPTIONAL {{ ?instance rdfs:label ?label FILTER (LANG(?label) IN ("cs", "en")) }}
}} LIMIT {limit}"""



@blueprint.route("/forms/<kind>.ttl")
def shapes_of(kind: str) -> Response:
    """The form shapes of `kind`, derived once per release served."""
    if kind not in KINDS:
        abort(404)
    return Response(_form(kind)[1], mimetype="text/turtle")


def _form(kind: str) -> tuple[Graph, str]:
    """The form shapes of `kind` and their Turtle, kept for the release served."""
    kept = current_app.extensions.get(FORMS)
    if kept is None or kept[0] != store().version:
        kept = (store().version, {})
        current_app.extensions[FORMS] = kept
    if kind not in kept[1]:
        graph = form_shapes(form_sources(), kind)
        kept[1][kind] = (graph, graph.serialize(format="turtle"))
    return kept[1][kind]


@blueprint.route("/partnership/<name>/choices.ttl")
@blueprint.route("/choices.ttl", defaults={"name": None})
def choices(name: str | None) -> Response:
    """The instances of the class `?class=` in the served release, labelled, as the form's files name them;
    for time:TemporalEntity, the named times of partnership `name`. With `name`, also those its file
    describes, saved but perhaps not yet published (a new event, chosen as the cause of a new status).
    404 when `name` has no file (it goes into the query, so it must be a partnership's name)."""
    text = partnership_file_text(name)[0] if name is not None else ""
    cls = request.args.get("class", "")
    if not cls.startswith(("http://", "https://")) or any(character in cls for character in "<>\"{} \n"):
        abort(400)
    base = store().base_iri
    if cls == str(TIME.TemporalEntity):
        if name is None:
            return Response("", mimetype="text/turtle")
        query = TIMES.format(base=base, partnership=f"{base}{PARTNERSHIP_PATH}{name}", limit=MAX_CHOICES)
    else:
        query = INSTANCES.format(cls=rebase_iri(cls, CANONICAL_BASE, base), limit=MAX_CHOICES)
    found = Graph(bind_namespaces="none")
    for row in store().select(query):
        instance = URIRef(rebase_iri(str(row["instance"]), base, CANONICAL_BASE))
        found.add((instance, RDF.type, URIRef(cls)))
        if row.get("label") is not None:
            found.add((instance, RDFS.label, Literal(str(row["label"]), lang=row["label"].language)))
    if text:
        found += file_choices(parse_turtle(text), form_sources(), URIRef(cls))
    return Response(found.serialize(format="turtle"), mimetype="text/turtle")


@blueprint.route("/partnership/<name>/new/<kind>")
def new(name: str, kind: str) -> str:
    """An empty form of `kind` for partnership `name` (an event or status belongs to it already)."""
    if kind not in KINDS:
        abort(404)
    _, revision = partnership_file_text(name)
    subject = URIRef(f"urn:uuid:{uuid.uuid4()}")
    values = empty_texts(_form(kind)[0], KINDS[kind], subject)
    if kind in ("event", "status"):
        values.add((subject, RP.partnership,
                    URIRef(f"{CANONICAL_BASE}{PARTNERSHIP_PATH}{name}")))
    return _form_page(name, kind, [_form_entry(kind, subject, values)], revision, new=True)


@blueprint.route("/new-partnership")
def new_partnership() -> str:
    """The empty forms of a new partner, its partnership with the Liberec Region, the agreement and
    signing it began with (optional) and the first status period, one after another (the file is made
    when they are saved together)."""
    return _several_forms(NEW_PARTNERSHIP, "partnership", "", NEW_PARTNERSHIP_FORMS, NEW_PARTNERSHIP_LINKS,
                          NEW_PARTNERSHIP_VALUES)


@blueprint.route("/partnership/<name>/new-agreement")
def new_agreement(name: str) -> str:
    """The empty forms of a new agreement of partnership `name` and its signing, saved together: the
    agreement establishes the partnership and its parties are the partnership's partners, to start with."""
    text, revision = partnership_file_text(name)
    partnership = URIRef(f"{CANONICAL_BASE}{PARTNERSHIP_PATH}{name}")
    partners = parse_turtle(text).objects(partnership, RP.partner)
    values = [("agreement", RP.establishes, partnership), ("signing", DCTERMS.type, SIGNING_KIND)]
    values += [("agreement", RP.party, partner) for partner in sorted(partners) if isinstance(partner, URIRef)]
    return _several_forms(name, "agreement", revision, NEW_AGREEMENT_FORMS, NEW_AGREEMENT_LINKS, values)


def _several_forms(name: str, kind: str, revision: str, forms: dict[str, PageForm],
                   links: list[tuple[str, URIRef, str, bool]], values: list[tuple[str, URIRef, URIRef]]) -> str:
    """A page of several empty `forms` (by the role of their resource) saved together as one new `kind`
    into partnership `name`'s file: each starts with `values` (role, property, value), and the page
    links their resources by `links` (subject's role, property, object's role, whether it is hidden)."""
    nodes = {role: URIRef(f"urn:uuid:{uuid.uuid4()}") for role in forms}
    graphs = {role: empty_texts(_form(form.kind)[0], KINDS[form.kind], nodes[role]) for role, form in forms.items()}
    for role, prop, value in values:
        graphs[role].add((nodes[role], prop, value))
    entries = [_form_entry(form.kind, nodes[role], graphs[role], heading=form.heading, part=form.part)
               for role, form in forms.items()]
    linked = [[str(nodes[subject]), str(prop), str(nodes[obj]), hidden] for subject, prop, obj, hidden in links]
    return _form_page(name, kind, entries, revision, new=True, links=linked)


@blueprint.route("/partnership/<name>/edit")
def edit(name: str) -> str:
    """The form of the resource `?subject=` of partnership `name`'s file, filled from the file."""
    text, revision = partnership_file_text(name)
    subject = URIRef(request.args.get("subject", ""))
    values = form_values(text, subject)
    types = list(values.objects(subject, RDF.type))
    kind = kind_of(form_sources(), types)
    if kind is None:
        abort(404)
    return _form_page(name, kind, [_form_entry(kind, subject, values, types)], revision, new=False,
                      subject=str(subject))


def _title_key(kind: str, new: bool) -> str:
    """The word that heads the form: what is being made ("New event"), else that a record is edited."""
    if new and f"edit_form_new_{kind}" in WORDS:
        return f"edit_form_new_{kind}"
    return "edit_form_new_title" if new else "edit_form_edit_title"


def _form_entry(kind: str, subject: URIRef, values: Graph, types: list | None = None, heading: str = "",
                part: str = "") -> dict:
    """One form of a page: its shapes, root class, values and subject, the classes an existing resource
    keeps, and the word that heads it on a page of several forms, and the optional part it belongs to."""
    return {"kind": kind, "heading": heading, "part": part, "shapes_url": url_for("edit_forms.shapes_of", kind=kind),
            "root": str(KINDS[kind]), "values_subject": str(subject),
            "values_turtle": values.serialize(format="turtle") if len(values) else "",
            "types": json.dumps([str(each) for each in types or []])}


def _form_page(name: str, kind: str, forms: list[dict], revision: str, new: bool, subject: str = "",
               links: list | None = None) -> str:
    """The page of `forms` (the first of kind `kind`, or several posted as one graph, linked by `links`:
    [subject, property, object, whether the subject's field of the property is hidden] of their nodes),
    saved into partnership `name`'s file."""
    language = current_language()
    classes: dict = {}
    for form in forms:
        classes.update(form_classes(_form(form["kind"])[0]))
    page = {
        "name": name, "kind": kind, "new": new, "revision": revision, "title_key": _title_key(kind, new),
        "subject": subject, "forms": forms, "links": json.dumps(links or []),
        "choices_url": (url_for("edit_forms.choices", name=name) if name != NEW_PARTNERSHIP
                        else url_for("edit_forms.choices")),
        # A new partnership has no file yet: its form posts to the endpoints that make one.
        "check_url": (url_for("edit_save.check", name=name) if name != NEW_PARTNERSHIP
                      else url_for("edit_save.check_new")),
        "save_url": (url_for("edit_save.save", name=name) if name != NEW_PARTNERSHIP
                     else url_for("edit_save.save_new")),
        "changes_url": url_for("edit_review.changes"),
        "form_classes": json.dumps(classes),
        "prefixes": json.dumps(prefixes_for(CANONICAL_BASE)),
        "language": language if language in LANGUAGES else LANGUAGES[0],
    }
    return render_template("edit_form.html", editor=signed_in_editor(), page=page)
