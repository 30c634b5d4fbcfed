"""The editor's forms (issue 20), in process on the project's release and files: the form shapes at
/edit/forms/<kind>.ttl, the choices of a class, the partnership's page with what its file describes,
and the form pages (new, and filled from the file), all behind the sign-in."""

import hashlib
import json
import re
from html import unescape
from pathlib import Path
from urllib.parse import quote

import pytest
from rdflib import RDF, Graph, URIRef
from rdflib.namespace import SH
from test_web_edit_auth import Browser, editing_app, editors_file, signed_in  # noqa: F401 - a fixture

CHECKOUT = Path(__file__).resolve().parent.parent
VENDOR = CHECKOUT / "server" / "web" / "static" / "vendor" / "shacl-form"
BASE = "https://data.kraj-lbc.cz/partnerships/"
RP = BASE + "ontology/"
TIME_ENTITY = quote("http://www.w3.org/2006/time#TemporalEntity", safe="")


@pytest.fixture(scope="module")
def edit_app(app, editors_file):
    return editing_app(app, editors_file)


@pytest.fixture(scope="module")
def editor(edit_app) -> Browser:
    return signed_in(edit_app, "192.0.2.7")


def attribute(page: str, element: str, name: str) -> str:
    """The value of attribute `name` of the first `element` of `page`."""
    tag = re.search(rf"<{element}\b[^>]*>", page, re.S).group(0)
    return unescape(re.search(rf'\b{name}="([^"]*)"', tag).group(1))


def test_nothing_of_the_forms_without_a_session(edit_app):
    stranger = Browser(edit_app, "192.0.2.8")
    for path in ("/edit/forms/event.ttl", "/edit/partnership/bursa/new/event", "/edit/new-partnership",
                 f"/edit/partnership/bursa/choices.ttl?class={RP}Partnership",
                 f"/edit/partnership/bursa/edit?subject={BASE}id/event/bursa-2010-10-06-visit"):
        answer = stranger.get(path)
        assert answer.status_code == 302 and answer.headers["Location"].endswith("/edit/login"), path


def test_form_shapes_are_turtle_private_and_the_same_each_time(editor):
    answer = editor.get("/edit/forms/event.ttl")
    assert answer.status_code == 200 and answer.mimetype == "text/turtle"
    assert answer.headers["Cache-Control"] == "no-store"
    graph = Graph().parse(data=answer.get_data(as_text=True), format="turtle")
    assert (URIRef(RP + "Event"), RDF.type, SH.NodeShape) in graph
    assert editor.get("/edit/forms/event.ttl").get_data() == answer.get_data()
    assert editor.get("/edit/forms/nothing.ttl").status_code == 404


def test_choices_of_a_class_are_the_releases_instances_under_the_files_names(editor):
    answer = editor.get(f"/edit/partnership/bursa/choices.ttl?class={RP}TerritorialBody")
    graph = Graph().parse(data=answer.get_data(as_text=True), format="turtle")
    bodies = set(graph.subjects(RDF.type, URIRef(RP + "TerritorialBody")))
    assert {URIRef(BASE + "id/region/bursa"), URIRef(BASE + "id/region/liberec-region")} <= bodies
    times = Graph().parse(data=editor.get(f"/edit/partnership/bursa/choices.ttl?class={TIME_ENTITY}")
                          .get_data(as_text=True), format="turtle")
    assert URIRef(BASE + "id/time/2010-10-06") in set(times.subjects())
    assert URIRef(BASE + "id/time/2009-04-22") not in set(times.subjects())  # Ha Tinh's, not Bursa's
    assert editor.get("/edit/partnership/bursa/choices.ttl?class=%3Cx%3E").status_code == 400


def test_the_partnership_page_lists_what_its_file_describes_with_edit_links(editor):
    page = editor.get("/edit/partnership/bursa?lang=cs").get_data(as_text=True)
    for text in ("Nová událost", "Nový stav", "Şahabettin Harput", "Guvernér provincie Bursa",
                 "Memorandum o spolupráci s tureckou provincií Bursa (2011)", "textil a nanovlákna"):
        assert text in page, text
    assert "/edit/partnership/bursa/new/event" in page and "/edit/partnership/bursa/new/status" in page
    events = re.search(r'id="edit-event".*?</section>', page, re.S).group(0)
    visit_2010 = events.index("bursa-2010-10-06-visit")
    signing_2011 = events.index("bursa-2011-11-01")
    assert visit_2010 < signing_2011  # the chronology's order
    english = editor.get("/edit/partnership/bursa?lang=en").get_data(as_text=True)
    assert "New event" in english and "Governor of Bursa Province" in english
    assert "Nové partnerství" in editor.get("/edit/?lang=cs").get_data(as_text=True)


def test_the_partnership_page_offers_a_new_record_of_each_kind_and_each_opens(editor):
    page = editor.get("/edit/partnership/bursa?lang=en").get_data(as_text=True)
    for kind in ("person", "post", "participation", "document", "place"):
        section = re.search(rf'id="edit-{kind}".*?</section>', page, re.S).group(0)
        assert f"/edit/partnership/bursa/new/{kind}" in section, kind
        form = editor.get(f"/edit/partnership/bursa/new/{kind}?lang=en")
        assert form.status_code == 200 and f"/edit/forms/{kind}.ttl" in form.get_data(as_text=True), kind
    agreements = re.search(r'id="edit-agreement".*?</section>', page, re.S).group(0)
    assert "/edit/partnership/bursa/new-agreement" in agreements


def test_a_new_agreement_page_has_the_agreement_and_its_signing_linked(editor):
    page = editor.get("/edit/partnership/bursa/new-agreement?lang=en").get_data(as_text=True)
    forms = re.findall(r"<shacl-form\b[^>]*>", page, re.S)
    assert [attribute(form, "shacl-form", "data-shapes-url") for form in forms] == [
        "/edit/forms/agreement.ttl", "/edit/forms/event.ttl"]
    agreement, signing = (attribute(form, "shacl-form", "data-values-subject") for form in forms)
    values = Graph().parse(data=attribute(forms[0], "shacl-form", "data-values"), format="turtle")
    assert (URIRef(agreement), URIRef(RP + "establishes"), URIRef(BASE + "id/partnership/bursa")) in values
    assert set(values.objects(URIRef(agreement), URIRef(RP + "party"))) == {
        URIRef(BASE + "id/region/bursa"), URIRef(BASE + "id/region/liberec-region")}
    panel = re.search(r'<form id="edit-form".*?</form>', page, re.S).group(0)
    assert json.loads(attribute(panel, "form", "data-links")) == [[signing, RP + "agreement", agreement, True]]
    assert attribute(panel, "form", "action") == "/edit/partnership/bursa/save"
    assert 'name="kind" value="agreement"' in panel
    assert editor.get("/edit/partnership/nothing/new-agreement").status_code == 404


def test_a_new_event_form_belongs_to_the_partnership_and_names_no_other_host(editor):
    page = editor.get("/edit/partnership/bursa/new/event?lang=cs").get_data(as_text=True)
    assert attribute(page, "shacl-form", "data-shapes-url") == "/edit/forms/event.ttl"
    assert attribute(page, "shacl-form", "data-language") == "cs"
    assert 'data-ignore-owl-imports=""' in page
    subject = attribute(page, "shacl-form", "data-values-subject")
    assert subject.startswith("urn:uuid:")
    values = Graph().parse(data=attribute(page, "shacl-form", "data-values"), format="turtle")
    assert (URIRef(subject), URIRef(RP + "partnership"), URIRef(BASE + "id/partnership/bursa")) in values
    form = re.search(r'<form id="edit-form".*?</form>', page, re.S).group(0)
    assert attribute(form, "form", "action") == "/edit/partnership/bursa/save"
    assert attribute(form, "form", "data-check-url") == "/edit/partnership/bursa/check"
    for field in ("csrf_token", "revision", "subject", "kind"):
        assert f'name="{field}"' in form
    assert 'name="kind" value="event"' in form
    assert re.search(r'name="revision" value="[0-9a-f]{64}"', form)
    assert re.search(r'name="subject" value=""', form)
    assert 'name="message"' in form
    classes = json.loads(attribute(form, "form", "data-form-classes"))
    assert classes[BASE + "shapes/form/time/month"] == "http://www.w3.org/2006/time#Instant"
    for source in re.findall(r'(?:src|href)="([^"]+)"', page):
        assert not source.startswith(("http:", "https:", "//")) or source.startswith(BASE), source


def test_a_new_partnership_form_posts_to_the_endpoints_that_make_its_file(editor):
    page = editor.get("/edit/new-partnership?lang=en").get_data(as_text=True)
    form = re.search(r'<form id="edit-form".*?</form>', page, re.S).group(0)
    assert attribute(form, "form", "action") == "/edit/new-partnership/save"
    assert attribute(form, "form", "data-check-url") == "/edit/new-partnership/check"
    assert "<h1>New partnership</h1>" in page
    for url in ("/edit/new-partnership/save", "/edit/new-partnership/check"):  # endpoints that exist
        assert editor.post(url, {"csrf_token": editor.token("/edit/"), "turtle": "not turtle", "kind": "partnership",
                                 "subject": "", "revision": "", "message": "x"}).status_code == 400


def test_an_existing_event_is_filled_from_the_file_with_its_time_at_its_precision(editor):
    event = BASE + "id/event/bursa-2010-10-06-visit"
    page = editor.get(f"/edit/partnership/bursa/edit?subject={event}").get_data(as_text=True)
    assert attribute(page, "shacl-form", "data-values-subject") == event
    values = Graph().parse(data=attribute(page, "shacl-form", "data-values"), format="turtle")
    time = URIRef(BASE + "id/time/2010-10-06")
    assert (URIRef(event), URIRef("http://www.w3.org/2006/time#hasTime"), time) in values
    assert (time, RDF.type, URIRef(BASE + "shapes/form/time/day")) in values
    form = re.search(r'<form id="edit-form".*?</form>', page, re.S).group(0)
    assert json.loads(attribute(page, "shacl-form", "data-lodpub-types")) == [RP + "Visit"]
    assert re.search(rf'name="subject" value="{re.escape(event)}"', form)
    assert editor.get(f"/edit/partnership/bursa/edit?subject={BASE}id/nothing/here").status_code == 404
    assert editor.get("/edit/partnership/..%2F..%2Fetc/edit?subject=x").status_code == 404


def test_the_vendored_component_is_the_one_its_notice_names():
    notice = (VENDOR / "NOTICE.md").read_text(encoding="utf-8")
    digest = hashlib.sha256((VENDOR / "form-default.js").read_bytes()).hexdigest()
    assert "1.4.6" in notice and digest in notice
    assert (VENDOR / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")


def test_a_new_partnership_page_has_the_forms_of_its_partner_itself_its_signing_and_first_status(editor):
    page = editor.get("/edit/new-partnership?lang=en").get_data(as_text=True)
    forms = re.findall(r"<shacl-form\b[^>]*>", page, re.S)
    assert [attribute(form, "shacl-form", "data-shapes-url") for form in forms] == [
        "/edit/forms/partner.ttl", "/edit/forms/partnership.ttl", "/edit/forms/agreement.ttl",
        "/edit/forms/event.ttl", "/edit/forms/status.ttl"]
    assert re.findall(r"<h2>([^<]*)</h2>", page) == [
        "The new partner", "The partnership", "The agreement", "The signing of the agreement", "The first status"]
    partner, partnership, agreement, signing, status = (attribute(form, "shacl-form", "data-values-subject")
                                                        for form in forms)
    liberec = URIRef(BASE + "id/region/liberec-region")
    values = [Graph().parse(data=attribute(form, "shacl-form", "data-values"), format="turtle") for form in forms]
    assert (URIRef(partnership), URIRef(RP + "partner"), liberec) in values[1]
    assert (URIRef(agreement), URIRef(RP + "party"), liberec) in values[2]
    assert (URIRef(signing), URIRef("http://purl.org/dc/terms/type"),
            URIRef(BASE + "vocabulary/event-kinds/signing")) in values[3]
    panel = re.search(r'<form id="edit-form".*?</form>', page, re.S).group(0)
    links = json.loads(attribute(panel, "form", "data-links"))
    assert [partnership, RP + "partner", partner, False] in links
    assert [status, RP + "partnership", partnership, True] in links
    assert [status, RP + "causedBy", signing, True] in links
    assert [signing, RP + "agreement", agreement, True] in links
    assert all(node.startswith("urn:uuid:") for node in (partner, partnership, agreement, signing, status))
    # the agreement and its signing are one optional part, left out until the editor ticks it in
    blocks = re.findall(r'<div class="edit-form-block"([^>]*)>', page)
    assert [" hidden" in block for block in blocks] == [False, False, True, True, False]
    assert len(re.findall(r'class="edit-part-choice"', page)) == 1
