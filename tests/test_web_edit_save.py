"""The endpoints that check and save an editor's form (issue 20): their answers, and that nothing but a
signed-in editor's valid, current change touches a file. In process, on a copy of data/ per test."""

import hashlib
import shutil
from pathlib import Path
from urllib.parse import quote

import pytest
from conftest import CHECKOUT
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS, TIME
from test_editing_form_changes import HEADER, meeting
from test_web_edit_auth import Browser, editing_app, signed_in
from test_web_edit_auth import editors_file as editors_file  # a fixture: the editors file with alice

from lodpub.editing.blocks import parse_turtle
from lodpub.editing.form_changes import resource_turtle
from lodpub.namespaces import PREFIXES

EV = PREFIXES["ev"]
SAVE = "/edit/partnership/bursa/save"
CHECK = "/edit/partnership/bursa/check"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
RP = "https://data.kraj-lbc.cz/partnerships/ontology/"


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the checkout's data/ in no git work tree (a save is logged beside the file)."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    return shutil.copytree(CHECKOUT / "data", tmp_path / "data")


@pytest.fixture
def editor(app, editors_file, data: Path) -> Browser:
    """alice, signed in to a publisher whose data folder is the copy."""
    return signed_in(editing_app(app, editors_file, data_dir=data))


def bursa(data: Path) -> bytes:
    return (data / "partnerships" / "bursa.ttl").read_bytes()


def fields(browser: Browser, data: Path, turtle: str, kind: str = "event", subject: str = "", **more) -> dict:
    """The fields a form page posts, based on the file as it is now."""
    revision = hashlib.sha256(bursa(data)).hexdigest()
    token = more.pop("csrf_token") if "csrf_token" in more else browser.token("/edit/")
    return {"csrf_token": token, "turtle": turtle, "kind": kind, "subject": subject,
            "revision": revision, "message": "Nové setkání", **more}


def test_a_new_event_is_saved_and_answered_with_its_iri_and_revision(editor: Browser, data: Path) -> None:
    answer = editor.post(SAVE, fields(editor, data, meeting()))
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["subject"] == EV + "bursa-2012-03-meeting" and body["recorded"] == "log"
    assert body["public"].endswith("/id/event/bursa-2012-03-meeting")
    assert body["revision"] == hashlib.sha256(bursa(data)).hexdigest()
    assert b"ev:bursa-2012-03-meeting" in bursa(data) and b"t:2012-03\n" in bursa(data)
    assert answer.headers["Cache-Control"] == "no-store"


def test_the_revision_may_come_as_if_match(editor: Browser, data: Path) -> None:
    sent = fields(editor, data, meeting())
    revision = sent.pop("revision")
    answer = editor.post(SAVE, sent, headers={"If-Match": f'"{revision}"'})
    assert answer.status_code == 200, answer.get_json()


def test_a_check_gives_the_problems_and_writes_nothing(editor: Browser, data: Path) -> None:
    before = bursa(data)
    answer = editor.post(CHECK, fields(editor, data, meeting()))
    assert answer.status_code == 200
    # Only what the change brings: not the warning the data had before (Bursa's signing names no
    # signatories), which this form cannot mend.
    assert answer.get_json()["problems"] == []
    assert bursa(data) == before


def test_a_check_gives_the_problems_the_change_brings(editor: Browser, data: Path) -> None:
    answer = editor.post(CHECK, fields(editor, data, meeting(labels='"Setkání"@cs')), headers={"Accept-Language": "en"})
    problems = answer.get_json()["problems"]
    assert [problem["message"] for problem in problems if "rdfs:label" in (problem["path"] or "")]
    assert not [problem for problem in problems if "signatories" in problem["message"]]


@pytest.mark.parametrize("language, words", [("en", "English label"), ("cs", "anglický popisek")])
def test_a_missing_english_label_is_422_at_its_field_in_the_editors_language(
        editor: Browser, data: Path, language: str, words: str) -> None:
    before = bursa(data)
    answer = editor.post(SAVE, fields(editor, data, meeting(labels='"Setkání"@cs')),
                         headers={"Accept-Language": language})
    assert answer.status_code == 422
    problems = answer.get_json()["problems"]
    assert problems and all(problem["severity"] == "Violation" for problem in problems)
    at_label = [problem for problem in problems if "rdfs:label" in (problem["path"] or "")]
    assert at_label and at_label[0]["focus"] == EV + "bursa-2012-03-meeting"
    assert words in at_label[0]["message"], at_label[0]["message"]
    assert bursa(data) == before


def test_a_save_from_an_old_revision_is_409_with_the_diff_and_touches_nothing(editor: Browser, data: Path) -> None:
    sent = fields(editor, data, meeting(), revision="0" * 64)
    before = bursa(data)
    answer = editor.post(SAVE, sent)
    assert answer.status_code == 409
    body = answer.get_json()
    assert body["current_revision"] == hashlib.sha256(before).hexdigest()
    assert "+ev:bursa-2012-03-meeting" in body["diff"]
    assert bursa(data) == before and not (data / "partnerships" / "changes.log").exists()


@pytest.mark.parametrize("changes", [
    {"turtle": "this is { not Turtle"},
    {"kind": "spaceship"},
    {"turtle": HEADER + "[] a rp:Event . [] a rp:Event ."},
    {"turtle": HEADER + 'ev:elsewhere rdfs:label "x"@en .', "subject": EV + "elsewhere"},
    {"turtle": meeting('[ a time:Instant ; rp:precision prec:month ]')},
])
def test_what_cannot_be_applied_is_400_and_touches_nothing(editor: Browser, data: Path, changes: dict) -> None:
    before = bursa(data)
    answer = editor.post(SAVE, {**fields(editor, data, meeting()), **changes})
    assert answer.status_code == 400 and answer.get_json()["error"]
    assert bursa(data) == before


def test_an_existing_event_is_loaded_and_saved_unchanged(editor: Browser, data: Path) -> None:
    event = EV + "bursa-2010-10-06-visit"
    turtle, revision = resource_turtle(data, "bursa", event)
    before = bursa(data)
    answer = editor.post(SAVE, {**fields(editor, data, turtle, subject=event), "revision": revision})
    assert answer.status_code == 200 and answer.get_json()["recorded"] == "unchanged"
    assert bursa(data) == before


def test_without_session_csrf_or_our_origin_nothing_is_touched(app, editors_file, data: Path) -> None:
    edit_app = editing_app(app, editors_file, data_dir=data)
    before = bursa(data)
    stranger = Browser(edit_app)
    assert stranger.post(SAVE, fields(stranger, data, meeting(), csrf_token=stranger.token())).status_code == 401
    editor = signed_in(edit_app)
    assert editor.post(SAVE, {**fields(editor, data, meeting()), "csrf_token": ""}).status_code == 400
    assert editor.post(SAVE, {**fields(editor, data, meeting()), "csrf_token": "forged"}).status_code == 400
    assert editor.post(SAVE, fields(editor, data, meeting()), origin="https://evil.example").status_code == 403
    assert editor.post(SAVE, fields(editor, data, meeting()), origin=None).status_code == 403
    assert bursa(data) == before


@pytest.mark.parametrize("path", ["/edit/partnership/..%2F..%2Fetc%2Fpasswd/save", "/edit/partnership/../save",
                                  "/edit/partnership/BURSA/save", "/edit/partnership/bursa.ttl/save",
                                  "/edit/partnership/no-such-one/save"])
def test_a_name_that_is_no_partnership_is_refused_and_nothing_is_touched(editor: Browser, data: Path, path: str) -> None:
    files = {file: file.read_bytes() for file in data.rglob("*") if file.is_file()}
    answer = editor.post(path, fields(editor, data, meeting()))
    assert answer.status_code in (400, 404, 405)  # 405: no route of /edit/ takes the path at all
    assert {file: file.read_bytes() for file in data.rglob("*") if file.is_file()} == files


def test_a_5_mb_form_is_413(editor: Browser, data: Path) -> None:
    before = bursa(data)
    answer = editor.post(SAVE, fields(editor, data, meeting() + "#" * (5 * 1024 * 1024)))
    assert answer.status_code == 413
    assert bursa(data) == before


NEW_PARTNERSHIP = HEADER + """@prefix reg: <https://data.kraj-lbc.cz/partnerships/id/region/> .
    @prefix bk: <https://data.kraj-lbc.cz/partnerships/vocabulary/body-kinds/> .
    @prefix country: <http://publications.europa.eu/resource/authority/country/> .
    _:p a rp:Partnership ; rp:partner reg:liberec-region , _:partner ;
       rdfs:label "Partnerství Libereckého kraje a provincie Antalya"@cs ,
                  "Partnership of the Liberec Region and Antalya Province"@en .
    _:partner a rp:Region ; dcterms:type bk:province ; rp:country country:TUR ;
       rdfs:label "Antalya"@cs , "Antalya Province"@en .
    [] a rp:StatusPeriod ; rp:partnership _:p ; rp:status st:stagnating ;
       time:hasBeginning [ a time:Instant ; rp:precision prec:unknown ; time:after t:2011-11-01 ] ;
       rp:reason "Důvod."@cs , "Reason."@en ;
       rdfs:label "Antalya: stagnuje"@cs , "Antalya: stagnating"@en ."""


def test_a_new_partnership_gets_a_new_file_named_by_its_partner(
        editor: Browser, data: Path) -> None:
    sent = {**fields(editor, data, NEW_PARTNERSHIP, kind="partnership"), "revision": ""}
    checked = editor.post("/edit/new-partnership/check", sent)
    assert checked.status_code == 200, checked.get_json()
    assert [problem for problem in checked.get_json()["problems"] if problem["severity"] == "Violation"] == []
    assert not (data / "partnerships" / "antalya-province.ttl").exists()
    answer = editor.post("/edit/new-partnership/save", sent)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["subject"] == PREFIXES["ptn"] + "antalya-province"
    created = (data / "partnerships" / "antalya-province.ttl").read_text(encoding="utf-8")
    assert created.startswith("@prefix") and "ptn:antalya-province\n" in created
    assert "t:2011-11-01\n" in created  # the time it uses, described in its file as in the others
    assert "stp:antalya-province-1-stagnating\n" in created
    again = editor.post("/edit/new-partnership/save", {**sent, "csrf_token": editor.token("/edit/")})
    assert again.status_code == 200  # the same form again: its names are taken, so new ones are made
    assert again.get_json()["subject"] == PREFIXES["ptn"] + "antalya-province-2"
    assert (data / "partnerships" / "antalya-province.ttl").read_text(encoding="utf-8") == created


def test_a_new_partnership_without_its_status_is_422_and_no_file_is_made(editor: Browser, data: Path) -> None:
    turtle = NEW_PARTNERSHIP.split("    [] a rp:StatusPeriod")[0]
    sent = {**fields(editor, data, turtle, kind="partnership"), "revision": ""}
    answer = editor.post("/edit/new-partnership/save", sent)
    assert answer.status_code == 422
    assert any(problem["focus"] == PREFIXES["ptn"] + "antalya-province" for problem in answer.get_json()["problems"])
    assert not (data / "partnerships" / "antalya-province.ttl").exists()


@pytest.mark.parametrize("changes", [
    {"turtle": ""},
    {"turtle": HEADER + '[] a rp:Event ; rdfs:label "x"@en . [] rdfs:label "loose"@en .'},
    {"turtle": meeting('"2012"')},
    {"turtle": meeting('[ a time:Instant ; rp:precision prec:day ; time:inXSDDate "yesterday" ]')},
    {"turtle": meeting('[ rp:precision prec:half-year ; time:hasBeginning [ rp:precision prec:month ] ]')},
    {"turtle": meeting('<urn:uuid:6f1c0d3e-8a51-4c1e-9d1e-2a6f3b5c7d90>')},
    {"turtle": HEADER + "<relative> a rp:Event ."},
    {"kind": ""},
    {"subject": "not an IRI at all"},
    {"revision": ""},
    {"message": "x" * 10000 + "\n\r\0"},
])
def test_no_form_is_answered_with_500_nor_leaves_a_part_of_a_file(editor: Browser, data: Path, changes: dict) -> None:
    before = bursa(data)
    for path in (CHECK, SAVE):
        answer = editor.post(path, {**fields(editor, data, meeting()), **changes})
        assert answer.status_code in (200, 400, 409, 422), (path, answer.status_code, answer.get_data(as_text=True))
        assert answer.is_json
    assert not [file.name for file in (data / "partnerships").iterdir() if file.name.startswith(".")]
    if bursa(data) != before:
        assert parse_turtle(bursa(data).decode("utf-8"))  # a whole file, when a save went through


def test_in_git_a_save_is_a_commit_by_the_editor_with_the_message(editor: Browser, data: Path) -> None:
    import subprocess

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(data), *args], check=True, capture_output=True, text=True,
                              env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
                                   "GIT_COMMITTER_EMAIL": "t@example.org", "PATH": "/usr/bin:/bin",
                                   "GIT_CEILING_DIRECTORIES": str(data.parent)}).stdout

    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "data")
    answer = editor.post(SAVE, fields(editor, data, meeting(), message="Setkání v březnu\0"))
    assert answer.status_code == 200 and answer.get_json()["recorded"] == "git"
    assert git("log", "-1", "--format=%an <%ae>|%s") == "alice <alice@editors.invalid>|Setkání v březnu\n"
    assert git("status", "--porcelain") == ""


def test_what_the_form_has_no_field_for_stays(editor: Browser, data: Path, app) -> None:
    """The event form has no field for the larger event a signing was part of (schema:superEvent): a save
    of what the form shows (as the browser sends it) leaves it, and saved as loaded leaves the file byte
    for byte."""
    from rdflib import URIRef

    from lodpub.editing.form_save import offered_properties

    signing = URIRef(EV + "bursa-2011-11-01-signing")
    turtle, _ = resource_turtle(data, "bursa", str(signing))
    loaded = parse_turtle(turtle)
    offered = offered_properties(app.extensions["lodpub"].settings, "event")
    shown = [(s, p, o) for s, p, o in loaded if s != signing or p in offered]
    super_event = URIRef("https://schema.org/superEvent")
    assert super_event not in offered and len(shown) < len(loaded)  # the form does not show everything
    form = parse_turtle("")
    for triple in shown:
        form.add(triple)
    before = bursa(data)
    unchanged = editor.post(SAVE, fields(editor, data, form.serialize(format="turtle"), subject=str(signing)))
    assert unchanged.status_code == 200 and unchanged.get_json()["recorded"] == "unchanged"
    assert bursa(data) == before
    label = next(o for o in form.objects(signing, URIRef(RDFS_LABEL)) if o.language == "en")
    form.remove((signing, URIRef(RDFS_LABEL), label))
    form.add((signing, URIRef(RDFS_LABEL), type(label)("Signing of the memorandum with Bursa", lang="en")))
    changed = editor.post(SAVE, fields(editor, data, form.serialize(format="turtle"), subject=str(signing)))
    assert changed.status_code == 200, changed.get_json()
    after = parse_turtle(bursa(data).decode("utf-8"))
    assert set(after.objects(signing, super_event)) == {URIRef(EV + "bursa-2011-visit")}
    # what the form has fields for now (the agreement, where it happened) is the form's, as sent
    for predicate in ("rp:agreement", "prov:atLocation"):
        namespace, local = predicate.split(":")
        iri = URIRef(PREFIXES[namespace] + local)
        assert set(after.objects(signing, iri)) == set(loaded.objects(signing, iri)) != set(), predicate
    assert b"Signing of the memorandum with Bursa" in bursa(data)


PARTNER, PARTNERSHIP, PERIOD = (f"urn:uuid:00000000-0000-4000-8000-00000000000{n}" for n in (1, 2, 3))


def three_forms(partner_labels: str = '"Antalya"@cs , "Antalya Province"@en') -> str:
    """What the new partnership's page posts: its three forms' graphs (each resource a urn:uuid:) and
    the links the page makes between them, a month-precision beginning as the status form sends it."""
    return NEW_PARTNERSHIP.split("    _:p a rp:Partnership")[0] + f"""
    <{PARTNER}> a rp:Region ; dcterms:type bk:province ; rp:country country:TUR ;
        rdfs:label {partner_labels} .
    <{PARTNERSHIP}> a rp:Partnership ; rp:partner reg:liberec-region , <{PARTNER}> ;
        rdfs:label "Partnerství Libereckého kraje a provincie Antalya"@cs ,
                   "Partnership of the Liberec Region and Antalya Province"@en .
    <{PERIOD}> a rp:StatusPeriod ; rp:partnership <{PARTNERSHIP}> ; rp:status st:stagnating ;
        time:hasBeginning [ a time:Instant ; rp:precision prec:month ;
                            time:inXSDgYearMonth "2026-11"^^xsd:gYearMonth ] ;
        rp:reason "Spolupráce stagnuje."@cs , "The cooperation has stagnated."@en ;
        rdfs:label "Antalya: stagnuje"@cs , "Antalya: stagnating"@en ."""


def test_the_three_forms_of_a_new_partnership_save_one_file_that_describes_the_new_region(
        editor: Browser, data: Path) -> None:
    sent = {**fields(editor, data, three_forms(), kind="partnership"), "revision": ""}
    answer = editor.post("/edit/new-partnership/save", sent)
    assert answer.status_code == 200, answer.get_json()
    created = (data / "partnerships" / "antalya-province.ttl").read_text(encoding="utf-8")
    graph = parse_turtle(created)
    region = URIRef(PREFIXES["reg"] + "antalya-province")
    assert (region, RDFS.label, Literal("Antalya Province", lang="en")) in graph
    assert (URIRef(PREFIXES["ptn"] + "antalya-province"), URIRef(RP + "partner"), region) in graph
    period = URIRef(PREFIXES["stp"] + "antalya-province-1-stagnating")
    assert (period, URIRef(RP + "partnership"), URIRef(PREFIXES["ptn"] + "antalya-province")) in graph
    assert "urn:uuid" not in created
    blocks = [created.index(f"\n{name}\n") for name in
              ("ptn:antalya-province", "reg:antalya-province", "stp:antalya-province-1-stagnating")]
    assert blocks == sorted(blocks)  # in the data's order: the partnership, its partner, its status


AGREEMENT, SIGNING = (f"urn:uuid:00000000-0000-4000-8000-00000000000{n}" for n in (4, 5))


def signed_forms() -> str:
    """What the new partnership's page posts with its optional part ticked in: the agreement and the
    signing it began with, the first status "signed" begun by it, on the signing's day."""
    return three_forms().split(f"    <{PERIOD}>")[0] + f"""
    @prefix agk: <https://data.kraj-lbc.cz/partnerships/vocabulary/agreement-kinds/> .
    <{AGREEMENT}> a rp:Agreement ; dcterms:type agk:memorandum ;
        dcterms:title "Memorandum o spolupráci mezi Libereckým krajem a provincií Antalya"@cs ;
        rp:party reg:liberec-region , <{PARTNER}> ; rp:establishes <{PARTNERSHIP}> ;
        rdfs:label "Memorandum s Antalyí"@cs , "Memorandum with Antalya"@en .
    <{SIGNING}> a rp:Event ; dcterms:type evk:signing ; rp:agreement <{AGREEMENT}> ;
        rp:partnership <{PARTNERSHIP}> ;
        time:hasTime [ a time:Instant ; rp:precision prec:day ; time:inXSDDate "2026-11-20"^^xsd:date ] ;
        dcterms:description "Podpis memoranda."@cs , "The signing of the memorandum."@en ;
        rdfs:label "Podpis memoranda s Antalyí"@cs , "Signing of the memorandum with Antalya"@en .
    <{PERIOD}> a rp:StatusPeriod ; rp:partnership <{PARTNERSHIP}> ; rp:status st:signed ;
        rp:causedBy <{SIGNING}> ;
        time:hasBeginning [ a time:Instant ; rp:precision prec:day ; time:inXSDDate "2026-11-20"^^xsd:date ] ;
        rp:reason "Memorandum bylo podepsáno."@cs , "The memorandum was signed."@en ;
        rdfs:label "Antalya: podepsáno"@cs , "Antalya: signed"@en ."""


def test_a_new_partnership_that_began_with_a_signing_is_signed_by_it(editor: Browser, data: Path) -> None:
    sent = {**fields(editor, data, signed_forms(), kind="partnership"), "revision": ""}
    checked = editor.post("/edit/new-partnership/check", sent).get_json()["problems"]
    assert [problem for problem in checked if problem["severity"] == "Violation"] == []
    answer = editor.post("/edit/new-partnership/save", {**sent, "csrf_token": editor.token("/edit/")})
    assert answer.status_code == 200, answer.get_json()
    graph = parse_turtle((data / "partnerships" / "antalya-province.ttl").read_text(encoding="utf-8"))
    signing = URIRef(EV + "antalya-province-2026-11-20-signing")
    assert (signing, RDF.type, URIRef(RP + "Signing")) in graph  # a signing is an rp:Signing, as the data types it
    period = URIRef(PREFIXES["stp"] + "antalya-province-1-signed")
    assert graph.value(period, URIRef(RP + "causedBy")) == signing
    # the period begins at the signing's time: one named day, not a copy
    assert graph.value(period, TIME.hasBeginning) == graph.value(signing, TIME.hasTime) == URIRef(
        PREFIXES["t"] + "2026-11-20")
    agreement = graph.value(signing, URIRef(RP + "agreement"))
    assert graph.value(agreement, URIRef(RP + "establishes")) == URIRef(PREFIXES["ptn"] + "antalya-province")


def test_a_new_agreement_and_its_signing_are_saved_together(editor: Browser, data: Path) -> None:
    """An agreement is valid only with its signing, and a signing with its agreement: one page saves both."""
    turtle = HEADER + f"""@prefix agk: <https://data.kraj-lbc.cz/partnerships/vocabulary/agreement-kinds/> .
    @prefix reg: <https://data.kraj-lbc.cz/partnerships/id/region/> .
    @prefix ptn: <https://data.kraj-lbc.cz/partnerships/id/partnership/> .
    <{AGREEMENT}> a rp:Agreement ; dcterms:type agk:agreement ; rp:establishes ptn:bursa ;
        dcterms:title "Dohoda o spolupráci v cestovním ruchu"@cs ; rp:party reg:liberec-region , reg:bursa ;
        rdfs:label "Dohoda o cestovním ruchu s Bursou"@cs , "Tourism agreement with Bursa"@en .
    <{SIGNING}> a rp:Event ; dcterms:type evk:signing ; rp:agreement <{AGREEMENT}> ;
        time:hasTime [ a time:Instant ; rp:precision prec:month ; time:inXSDgYearMonth "2026-10"^^xsd:gYearMonth ] ;
        dcterms:description "Podpis dohody."@cs , "The signing of the agreement."@en ;
        rdfs:label "Podpis dohody o cestovním ruchu"@cs , "Signing of the tourism agreement"@en ."""
    answer = editor.post(SAVE, fields(editor, data, turtle, kind="agreement"))
    assert answer.status_code == 200, answer.get_json()
    graph = parse_turtle(bursa(data).decode("utf-8"))
    signing = URIRef(EV + "bursa-2026-10-signing")
    assert (signing, RDF.type, URIRef(RP + "Signing")) in graph
    assert graph.value(signing, URIRef(RP + "partnership")) == URIRef(PREFIXES["ptn"] + "bursa")
    agreement = graph.value(signing, URIRef(RP + "agreement"))
    assert agreement == URIRef(answer.get_json()["subject"]) and str(agreement).startswith(PREFIXES["agr"])


def test_a_problem_is_said_in_the_forms_words_without_the_files_terms(editor: Browser, data: Path) -> None:
    """A status "signed" begun by no signing: the message names no term in parentheses, as `validate`
    does for those who edit the files."""
    from lodpub.web.edit_save import form_message

    assert form_message("A cause (rp:causedBy) must be an event (rp:Event).") == "A cause must be an event."
    assert form_message("Kept (2011) and (rp:a / prov:b)") == "Kept (2011) and"
    status = HEADER + """[] a rp:StatusPeriod ; rp:status st:signed ; time:hasBeginning t:2011-11-01 ;
        rp:reason "Podepsáno."@cs , "Signed."@en ; rdfs:label "Bursa: podepsáno"@cs , "Bursa: signed"@en ."""
    problems = editor.post(CHECK, fields(editor, data, status, kind="status")).get_json()["problems"]
    matching = [problem for problem in problems if "stagnating" not in problem["message"]
                and problem["path"] == "rp:status"]
    assert matching and all("(rp:" not in problem["message"] for problem in problems), problems


def test_a_new_regions_missing_english_name_is_422_at_its_field_in_its_form(editor: Browser, data: Path) -> None:
    sent = {**fields(editor, data, three_forms('"Antalya"@cs'), kind="partnership"), "revision": ""}
    checked = editor.post("/edit/new-partnership/check", sent)
    problems = checked.get_json()["problems"]
    assert [problem["node"] for problem in problems if problem["severity"] == "Violation"] == [PARTNER]
    assert "rdfs:label" in problems[0]["path"] and "English" in problems[0]["message"]
    # only what the new file brings: not the warnings the other partnerships' files had before
    assert all(problem["node"] in (PARTNER, PARTNERSHIP, PERIOD) for problem in problems), problems
    answer = editor.post("/edit/new-partnership/save", {**sent, "csrf_token": editor.token("/edit/")})
    assert answer.status_code == 422
    at_partner = [problem for problem in answer.get_json()["problems"] if problem["node"] == PARTNER]
    assert at_partner and all("rdfs:label" in problem["path"] for problem in at_partner), answer.get_json()
    assert not list((data / "partnerships").glob("antalya*"))


def test_a_saved_event_not_yet_published_is_offered_as_a_cause(editor: Browser, data: Path) -> None:
    """A new status begun by a new event: the event, saved but not published, is among the choices."""
    choices = f"/edit/partnership/bursa/choices.ttl?class={quote('https://schema.org/Event', safe='')}"
    before = parse_turtle(editor.get(choices).get_data(as_text=True))
    meeting_iri = URIRef(EV + "bursa-2012-03-meeting")
    assert (meeting_iri, None, None) not in before
    assert URIRef(EV + "bursa-2011-11-01-signing") in set(before.subjects())  # from the release
    assert editor.post(SAVE, fields(editor, data, meeting())).status_code == 200
    after = parse_turtle(editor.get(choices).get_data(as_text=True))
    assert {label.language for label in after.objects(meeting_iri, RDFS.label)} == {"cs", "en"}
    assert set(before.subjects()) < set(after.subjects())
