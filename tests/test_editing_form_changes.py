"""What a form produced, applied to a partnership's file and saved: names, times, provenance, the chain of
status periods; on a copy of data/ in tmp_path, validated with the real shapes."""

import shutil
from pathlib import Path

import pytest
from conftest import CHECKOUT
from rdflib import BNode, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, RDF, RDFS, TIME

from lodpub.config import Settings
from lodpub.editing.blocks import parse_turtle, read_blocks
from lodpub.editing.changes import Author
from lodpub.editing.form_changes import FormError, apply_form, parse_form, resource_turtle
from lodpub.editing.form_save import Form, check_form, save_form
from lodpub.editing.names import RELEASE_DUMP
from lodpub.editing.save import load
from lodpub.editing.times import PREC, RP, day_interval_time, day_time, half_year_time, month_time
from lodpub.editing.turtle_style import description
from lodpub.namespaces import PREFIXES
from lodpub.validate import load_shapes

EDITOR = Author("Eva Nová", "eva.nova@kraj-lbc.cz")
EV, T, STP = (PREFIXES[prefix] for prefix in ("ev", "t", "stp"))
REGION = URIRef(PREFIXES["reg"] + "liberec-region")
HEADER = """@prefix rp: <https://data.kraj-lbc.cz/partnerships/ontology/> .
@prefix evk: <https://data.kraj-lbc.cz/partnerships/vocabulary/event-kinds/> .
@prefix prec: <https://data.kraj-lbc.cz/partnerships/vocabulary/date-precisions/> .
@prefix st: <https://data.kraj-lbc.cz/partnerships/vocabulary/statuses/> .
@prefix t: <https://data.kraj-lbc.cz/partnerships/id/time/> .
@prefix ev: <https://data.kraj-lbc.cz/partnerships/id/event/> .
@prefix time: <http://www.w3.org/2006/time#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
"""
MONTH = '[ a time:Instant ; rp:precision prec:month ; time:inXSDgYearMonth "2012-03"^^xsd:gYearMonth ]'


def meeting(time: str = MONTH, labels: str = '"Setkání s podnikateli"@cs , "Meeting with entrepreneurs"@en') -> str:
    """A form's new meeting of Bursa at `time`."""
    return HEADER + f"""[] a rp:Event ; dcterms:type evk:meeting ; time:hasTime {time} ;
        rdfs:label {labels} ;
        dcterms:description "Setkání."@cs , "A meeting."@en ."""


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings for a copy of the checkout's data/ (no git work tree: changes are logged) and no release."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    shutil.copytree(CHECKOUT / "data", tmp_path / "data")
    return Settings(project_dir=tmp_path, shapes_dir=CHECKOUT / "shapes", output_dir=tmp_path / "dist")


@pytest.fixture(scope="module")
def shapes() -> object:
    """The project's shapes, loaded once."""
    return load_shapes(Settings())


def saved_event(settings: Settings, shapes, turtle: str) -> tuple[URIRef, str]:
    """Save a new event of Bursa from `turtle`; its IRI and the file's new text."""
    _, revision = load(settings.data_dir, "bursa")
    done = save_form(settings, "bursa", Form(turtle, "event", None), revision, EDITOR, "Nové setkání", "en", shapes)
    return done.subject, done.saved.path.read_text(encoding="utf-8")


def test_a_new_event_of_a_month_is_named_dated_at_the_month_and_described_once(settings: Settings, shapes) -> None:
    subject, text = saved_event(settings, shapes, meeting())
    assert subject == URIRef(EV + "bursa-2012-03-meeting")
    graph = parse_turtle(text)
    assert graph.value(subject, TIME.hasTime) == URIRef(T + "2012-03")
    assert graph.value(subject, RP.partnership) == URIRef(PREFIXES["ptn"] + "bursa")
    assert (subject, RDF.type, RP.Event) in graph and (subject, DCTERMS.source, REGION) in graph
    month = URIRef(T + "2012-03")
    assert set(graph.objects(month, RDFS.label)) == {Literal("březen 2012", lang="cs"), Literal("March 2012", lang="en")}
    assert graph.value(month, RP.precision) == PREC.month  # a month stays a month, never a day of it
    assert sum(block.subject == month for block in read_blocks(text).blocks) == 1
    assert [p for p in check_form(settings, "bursa", Form(meeting(), "event", None), "en", shapes)
            if p.severity == "Violation"] == []


def test_a_visit_is_typed_as_the_data_types_visits(settings: Settings) -> None:
    form = parse_form(meeting().replace("evk:meeting", "evk:visit"))
    text, _ = load(settings.data_dir, "bursa")
    applied = apply_form(parse_turtle(text), form, "event", None, set())
    assert set(applied.graph.objects(applied.subject, RDF.type)) == {RP.Visit}
    assert applied.subject == URIRef(EV + "bursa-2012-03-visit")


def test_an_event_saved_as_it_was_leaves_the_file_byte_for_byte(settings: Settings, shapes) -> None:
    event = EV + "bursa-2010-10-06-visit"
    before = (settings.data_dir / "partnerships" / "bursa.ttl").read_bytes()
    turtle, revision = resource_turtle(settings.data_dir, "bursa", event)
    done = save_form(settings, "bursa", Form(turtle, "event", event), revision, EDITOR, "nic", "cs", shapes)
    assert done.saved.recorded == "unchanged"
    assert (settings.data_dir / "partnerships" / "bursa.ttl").read_bytes() == before


def test_an_unknown_time_stays_a_blank_node_after_a_named_time(settings: Settings, shapes) -> None:
    unknown = "[ a time:Instant ; rp:precision prec:unknown ; time:after t:2011-11-01 ]"
    subject, text = saved_event(settings, shapes, meeting(unknown))
    assert subject == URIRef(EV + "bursa-meeting")
    graph = parse_turtle(text)
    time = graph.value(subject, TIME.hasTime)
    assert isinstance(time, BNode)
    assert graph.value(time, TIME.after) == URIRef(T + "2011-11-01")


def test_a_new_status_period_follows_the_current_one(settings: Settings, shapes) -> None:
    turtle = HEADER + """[] a rp:StatusPeriod ; rp:status st:ended ;
        time:hasBeginning [ a time:Instant ; rp:precision prec:day ; time:inXSDDate "2024-05-02"^^xsd:date ] ;
        rp:reason "Spolupráce ukončena."@cs , "Cooperation ended."@en ;
        rdfs:label "Bursa: ukončeno 2. května 2024"@cs , "Bursa: ended on 2 May 2024"@en ."""
    _, revision = load(settings.data_dir, "bursa")
    done = save_form(settings, "bursa", Form(turtle, "status", None), revision, EDITOR, "Nový stav", "cs", shapes)
    graph = parse_turtle(done.saved.path.read_text(encoding="utf-8"))
    assert done.subject == URIRef(STP + "bursa-3-ended")
    assert graph.value(done.subject, TIME.intervalMetBy) == URIRef(STP + "bursa-2-stagnating")
    assert set(graph.objects(URIRef(T + "2024-05-02"), RDFS.label)) == {Literal("2. května 2024", lang="cs"),
                                                                      Literal("2 May 2024", lang="en")}


def test_a_name_of_an_earlier_release_is_never_given_again(settings: Settings) -> None:
    release = settings.output_dir / "2026-01-01T000000Z"
    release.mkdir(parents=True)
    taken = f"<{EV}bursa-2012-03-meeting> <{RDFS.label}> \"gone\"@en <{PREFIXES['rp']}g> .\n"
    (release / RELEASE_DUMP).write_text(taken, encoding="utf-8")
    from lodpub.editing.form_save import taken_iris

    text, _ = load(settings.data_dir, "bursa")
    applied = apply_form(parse_turtle(text), parse_form(meeting()), "event", None, taken_iris(settings))
    assert applied.subject == URIRef(EV + "bursa-2012-03-meeting-2")


def test_a_time_no_longer_used_is_removed_and_one_still_used_stays(settings: Settings) -> None:
    event = EV + "bursa-2011-visit"
    turtle, _ = resource_turtle(settings.data_dir, "bursa", event)
    form = parse_form(turtle)
    form.remove((URIRef(event), TIME.hasTime, None))
    month = BNode()
    form.add((URIRef(event), TIME.hasTime, month))
    form.add((month, RP.precision, PREC.month))
    form.add((month, TIME.inXSDgYearMonth, Literal("2011-10", datatype=URIRef(PREFIXES["xsd"] + "gYearMonth"))))
    text, _ = load(settings.data_dir, "bursa")
    graph = apply_form(parse_turtle(text), form, "event", event, set()).graph
    assert (URIRef(T + "2011-10-31--2011-11-01"), None, None) not in graph
    assert (URIRef(T + "2011-10-31"), None, None) not in graph
    assert (URIRef(T + "2011-11-01"), None, None) in graph  # the signing's day
    assert graph.value(URIRef(event), TIME.hasTime) == URIRef(T + "2011-10")


def test_an_edited_event_keeps_the_participations_its_form_does_not_show(settings: Settings) -> None:
    event = URIRef(EV + "bursa-2010-10-06-visit")
    turtle, _ = resource_turtle(settings.data_dir, "bursa", event)
    form = parse_form(turtle)
    form.set((event, RDFS.label, Literal("Návštěva z Bursy", lang="cs")))
    text, _ = load(settings.data_dir, "bursa")
    before = parse_turtle(text)
    graph = apply_form(before, form, "event", event, set()).graph
    participation = URIRef(PREFIXES["part"] + "bursa-2010-10-06-visit-harput")
    assert isomorphic(description(graph, participation), description(before, participation))
    assert (event, DCTERMS.source, REGION) in graph


@pytest.mark.parametrize("turtle, subject", [
    ("not turtle at all {", None),
    (HEADER + "[] a rp:Event . [] a rp:Event .", None),
    (HEADER + "ev:x rdfs:label \"x\"@en .", EV + "x"),
    (meeting('[ rp:precision prec:month ; time:inXSDgYearMonth "2012-13" ]'), None),
])
def test_what_cannot_be_applied_is_a_form_error(settings: Settings, turtle: str, subject: str | None) -> None:
    text, _ = load(settings.data_dir, "bursa")
    with pytest.raises(FormError):
        apply_form(parse_turtle(text), parse_form(turtle), "event", subject, set())


def test_the_times_are_labelled_and_described_as_the_data_describes_them() -> None:
    from datetime import date

    made = [day_time(date(2010, 10, 6)), month_time(2005, 4), half_year_time(2011, 1),
            day_interval_time(date(2011, 10, 31), date(2011, 11, 1))]
    data = parse_turtle((CHECKOUT / "data" / "partnerships" / "bursa.ttl").read_text(encoding="utf-8"))
    for path in ("valle-d-aosta.ttl", "ha-tinh.ttl"):
        data += parse_turtle((CHECKOUT / "data" / "partnerships" / path).read_text(encoding="utf-8"))
    for iri, graph in made:
        expected = description(data, iri)
        for part in graph.objects(iri, None):
            if str(part).startswith(T):
                expected += description(data, part)
        assert isomorphic(graph, expected), iri


def test_a_new_file_is_never_written_over_one_that_exists(tmp_path: Path) -> None:
    from lodpub.editing.form_save import _create

    path = tmp_path / "antalya.ttl"
    _create(path, b"first\n")
    with pytest.raises(FileExistsError):
        _create(path, b"second\n")
    assert path.read_bytes() == b"first\n" and [file.name for file in tmp_path.iterdir()] == ["antalya.ttl"]
