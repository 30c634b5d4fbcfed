"""Validation machinery: reading pyshacl's results and printing them (not the project's shapes)."""

import dataclasses
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rdflib import Graph, Namespace, URIRef

from lodpub.config import load_settings
from lodpub.data_errors import DataFileError
from lodpub.dataset import load_dataset
from lodpub.rdf_files import SourceLocation
from lodpub.shacl_runner import shape_partitions
from lodpub.validate import load_shapes, validate, validate_graph
from lodpub.validation_report import ValidationResult, format_report, rule_of

CANONICAL = "https://data.kraj-lbc.cz/partnerships/"
ELSEWHERE = "http://localhost:8080/lod/"
SH = Namespace("http://www.w3.org/ns/shacl#")

TITLE_2015 = '    dcterms:title "Dohoda o spolupráci"@cs , "Cooperation agreement"@en ;'
TITLE_2011 = '    dcterms:title "Memorandum o spolupráci"@cs , "Memorandum of cooperation"@en ;'


def bursa_file(mini: Path) -> Path:
    return mini / "data" / "partnerships" / "bursa.ttl"


def line_of(path: Path, text: str) -> int:
    return path.read_text(encoding="utf-8").splitlines().index(text) + 1


def edit(path: Path, old: str, new: str) -> None:
    content = path.read_text(encoding="utf-8")
    assert old in content
    path.write_text(content.replace(old, new, 1), encoding="utf-8")


def run_validation(settings):
    return validate(load_dataset(settings), load_shapes(settings))


def test_warnings_do_not_fail_validation(mini_settings, mini):
    report = run_validation(mini_settings)

    assert report.conforms
    assert report.counts() == {"Violation": 0, "Warning": 1, "Info": 0}
    assert report.results == [
        ValidationResult(
            severity="Warning",
            focus_node=URIRef(CANONICAL + "id/agreement/bursa-2015"),
            result_path="dcterms:description",
            value=None,
            source_shape=URIRef(CANONICAL + "shapes/Record-description"),
            source_constraint=None,
            source_constraint_component=SH.MinCountConstraintComponent,
            messages={"cs": "Záznam by měl mít popis.", "en": "A record should have a description."},
            location=SourceLocation(bursa_file(mini), line_of(bursa_file(mini), "agr:bursa-2015")),
        )
    ]


def test_violation_result_has_focus_path_shape_location_and_both_messages(mini_settings, mini):
    edit(bursa_file(mini), TITLE_2015 + "\n", "")

    report = run_validation(mini_settings)

    assert not report.conforms
    [violation] = [result for result in report.results if result.severity == "Violation"]
    # The shape targets rp:Record; the agreement is one only through rdfs:subClassOf in the ontology.
    assert violation.focus_node == URIRef(CANONICAL + "id/agreement/bursa-2015")
    assert violation.result_path == "dcterms:title"
    assert violation.source_shape == URIRef(CANONICAL + "shapes/Record-title")
    assert violation.source_constraint_component == SH.MinCountConstraintComponent
    assert violation.messages == {"cs": "Záznam musí mít název.", "en": "A record must have a title."}
    assert violation.location == SourceLocation(bursa_file(mini), line_of(bursa_file(mini), "agr:bursa-2015"))


@pytest.mark.parametrize("base_iri", [CANONICAL, ELSEWHERE])
def test_sparql_constraints_work_under_any_base_iri(mini_settings, mini, base_iri):
    edit(bursa_file(mini), "rp:partner reg:bursa ;", "rp:partner st:active ;")
    settings = dataclasses.replace(mini_settings, base_iri=base_iri)

    report = run_validation(settings)

    [violation] = [result for result in report.results if result.severity == "Violation"]
    assert violation.focus_node == URIRef(base_iri + "id/agreement/bursa-2011")
    assert violation.value == URIRef(base_iri + "vocabulary/statuses/active")
    assert violation.source_constraint_component == SH.SPARQLConstraintComponent
    assert violation.result_path is None
    # pyshacl drops the language tags of SPARQL messages; they are recovered from the shape.
    assert violation.messages == {
        "cs": "Partner dohody musí být územní celek.",
        "en": "The partner of an agreement must be a territorial body.",
    }
    assert violation.location.line == line_of(bursa_file(mini), "agr:bursa-2011")


def test_format_report_sorts_by_file_and_line_and_speaks_both_languages(mini_settings, mini):
    bursa = bursa_file(mini)
    line_2011, line_2015 = line_of(bursa, "agr:bursa-2011"), line_of(bursa, "agr:bursa-2015")
    edit(bursa, TITLE_2015 + "\n", "")
    edit(bursa, TITLE_2011 + "\n", "")
    edit(bursa, "rp:partner reg:bursa ;", "rp:partner st:active ;")
    report = run_validation(mini_settings)

    assert format_report(report, "en").splitlines() == [
        f"{bursa}:{line_2011}: Violation [shp:Agreement-partner] agr:bursa-2011: "
        "The partner of an agreement must be a territorial body. (value: st:active)",
        f"{bursa}:{line_2011}: Violation [shp:Record-title / dcterms:title] agr:bursa-2011: A record must have a title.",
        f"{bursa}:{line_2015 - 1}: Violation [shp:Record-title / dcterms:title] agr:bursa-2015: "
        "A record must have a title.",
        f"{bursa}:{line_2015 - 1}: Warning [shp:Record-description / dcterms:description] agr:bursa-2015: "
        "A record should have a description.",
        "Summary: 3 Violation, 1 Warning, 0 Info; the dataset does not conform.",
    ]
    assert "agr:bursa-2011: Partner dohody musí být územní celek. (value: st:active)" in format_report(report, "cs")
    assert "agr:bursa-2011: Záznam musí mít název." in format_report(report, "cs")


def test_paths_are_written_as_sparql_paths_and_unknown_sources_as_such(mini_settings):
    shapes = Graph().parse(
        format="turtle",
        data=f"""
            @prefix sh:      <http://www.w3.org/ns/shacl#> .
            @prefix rdfs:    <http://www.w3.org/2000/01/rdf-schema#> .
            @prefix dcterms: <http://purl.org/dc/terms/> .
            @prefix rp:      <{CANONICAL}ontology/> .
            @prefix reg:     <{CANONICAL}id/region/> .

            [] a sh:NodeShape ;
                sh:targetNode reg:bursa ;
                sh:property
                    [ sh:path [ sh:inversePath rp:partner ] ; sh:maxCount 0 ] ,
                    [ sh:path ( [ sh:inversePath rp:partner ] dcterms:title ) ; sh:maxCount 0 ] ,
                    [ sh:path [ sh:alternativePath ( rdfs:label dcterms:title ) ] ; sh:maxCount 0 ] ,
                    [ sh:path [ sh:oneOrMorePath ( [ sh:inversePath rp:partner ] rp:partner ) ] ; sh:maxCount 0 ] .

            [] a sh:NodeShape ;
                sh:targetNode reg:nowhere ;
                sh:property [ sh:path rdfs:label ; sh:minCount 1 ] .
        """,
    )

    report = validate(load_dataset(mini_settings), shapes)

    assert {result.result_path for result in report.results} == {
        "^rp:partner",
        "^rp:partner/dcterms:title",
        "(rdfs:label|dcterms:title)",
        "(^rp:partner/rp:partner)+",
        "rdfs:label",
    }
    [nowhere] = [result for result in report.results if result.focus_node == URIRef(CANONICAL + "id/region/nowhere")]
    assert nowhere.location is None
    assert list(nowhere.messages) == [""]  # pyshacl's own message, which has no language
    assert format_report(report).splitlines()[-2].startswith(
        "(no source): Violation [sh:MinCountConstraintComponent / rdfs:label] reg:nowhere: "
    )


def test_message_falls_back_to_another_language():
    result = ValidationResult(
        severity="Warning",
        focus_node=URIRef("http://example.org/a"),
        result_path=None,
        value=None,
        source_shape=URIRef("http://example.org/shape"),
        source_constraint=None,
        source_constraint_component=SH.MinCountConstraintComponent,
        messages={"cs": "Jen česky."},
        location=None,
    )

    assert result.message("cs") == "Jen česky."
    assert result.message("en") == "Jen česky."


# --- the office's mistakes in the real data, through the command line ----------------------------

CHECKOUT = Path(__file__).resolve().parent.parent

# A second Pavel Novák, minted with the first one's IRI in another partnership's file.
SECOND_PAVEL_NOVAK = """
person:pavel-novak
    a foaf:Person ;
    foaf:name "Pavel Novák" ;
    rdfs:label "Pavel Novák"@cs , "Pavel Novák"@en .
"""

# (file, text, replacement): one mistake each, none hiding another.
MISTAKES = [
    # a link to a delegation whose name is mistyped
    ("bursa.ttl", "    rp:delegation dlg:bursa-2010 ;", "    rp:delegation dlg:bursa-201 ;"),
    # a missing Czech label, a missing English one
    ("bursa.ttl", '    rdfs:label "Lidie Vajnerová"@cs , "Lidie Vajnerová"@en', '    rdfs:label "Lidie Vajnerová"@en'),
    ("bursa.ttl", '    rdfs:label "Şahabettin Harput"@cs , "Şahabettin Harput"@en', '    rdfs:label "Şahabettin Harput"@cs'),
    # a day where the source gives a month (April 2005)
    ("valle-d-aosta.ttl", 'time:inXSDgYearMonth "2005-04"^^xsd:gYearMonth', 'time:inXSDDate "2005-04-01"^^xsd:date'),
    # a signing moved to the future, name and value alike
    ("more-og-romsdal.ttl", "2001-11-28", "2999-11-28"),
    # the same IRI minted again in another file
    ("ha-tinh.ttl", "\n# ---", SECOND_PAVEL_NOVAK + "\n# ---"),
]


@pytest.fixture(scope="module")
def mistaken_data(tmp_path_factory) -> Path:
    """A copy of ontology/ and data/ with every mistake of MISTAKES made."""
    root = tmp_path_factory.mktemp("mistaken")
    for folder in ("ontology", "data"):
        shutil.copytree(CHECKOUT / folder, root / folder)
    for name, old, new in MISTAKES:
        path = root / "data" / "partnerships" / name
        text = path.read_text(encoding="utf-8")
        assert old in text, (name, old)
        path.write_text(text.replace(old, new, 1 if old.startswith("\n") else -1), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def mistaken_report(mistaken_data) -> dict[str, subprocess.CompletedProcess]:
    """`lodpub validate` on the mistaken copy, in English and in Czech."""
    return {
        lang: subprocess.run(
            [sys.executable, "-m", "lodpub.cli", "validate", "--ontology", str(mistaken_data / "ontology"),
             "--data", str(mistaken_data / "data"), "--lang", lang],
            cwd=CHECKOUT, capture_output=True, text=True, timeout=120,
            env={name: value for name, value in os.environ.items() if not name.startswith("LODPUB_")},
        )
        for lang in ("en", "cs")
    }


def place(data: Path, name: str, first_line: str, occurrence: int = 0) -> str:
    """`path:line` of the `occurrence`-th line of data/partnerships/`name` that is `first_line`."""
    path = data / "data" / "partnerships" / name
    lines = [n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if line == first_line]
    return f"{path}:{lines[occurrence]}"


def expected_lines(data: Path) -> dict[str, list[str]]:
    """What the office must read, by language: place, rule, resource, what is wrong and what to do."""
    visit = place(data, "bursa.ttl", "ev:bursa-2010-10-06-visit")
    novak = [place(data, "bursa.ttl", "person:pavel-novak"), place(data, "ha-tinh.ttl", "person:pavel-novak")]
    vajnerova, harput = place(data, "bursa.ttl", "person:lidie-vajnerova"), place(data, "bursa.ttl", "person:sahabettin-harput")
    april, signing = place(data, "valle-d-aosta.ttl", "t:2005-04"), place(data, "more-og-romsdal.ttl", "ev:more-og-romsdal-2999-11-28-signing")
    return {
        "en": [
            f"{visit}: Violation [shp:Resource-link-target / rp:delegation] ev:bursa-2010-10-06-visit: The link leads to "
            "dlg:bursa-201 and nothing in the data describes it. Correct the typo in the link, or describe that resource "
            "(in a block starting with its name); terms and classes are in ontology/. (value: dlg:bursa-201)",
            f"{vajnerova}: Violation [shp:Resource-label-cs / (rdfs:label|skos:prefLabel)] person:lidie-vajnerova: "
            'The Czech label is missing: add rdfs:label "…"@cs to the block (skos:prefLabel for a concept).',
            f"{harput}: Violation [shp:Resource-label-en / (rdfs:label|skos:prefLabel)] person:sahabettin-harput: "
            'The English label is missing: add rdfs:label "…"@en to the block (skos:prefLabel for a concept).',
            f"{april}: Violation [shp:TimeValueShape] t:2005-04: The time's value does not match its precision: ",
            f"{signing}: Violation [shp:HappenedShape / time:hasTime] ev:more-og-romsdal-2999-11-28-signing: The date "
            "(time:inXSDDate or time:inXSDgYearMonth) is in the future, but this has happened",
            f"{novak[1]}: Violation [shp:Resource-described-once] person:pavel-novak: This resource is described in more "
            f"than one place: {novak[0]}, {novak[1]}. If these are two different things, give one of them a new name (IRI); "
            "if it is the same thing, keep one description in one file (every file may link to it).",
        ],
        "cs": [
            f"{visit}: Violation [shp:Resource-link-target / rp:delegation] ev:bursa-2010-10-06-visit: Odkaz vede na "
            "dlg:bursa-201, který nic v datech nepopisuje. Opravte překlep v odkazu",
            f"{vajnerova}: Violation [shp:Resource-label-cs / (rdfs:label|skos:prefLabel)] person:lidie-vajnerova: "
            'Chybí český popisek: doplňte do bloku rdfs:label "…"@cs',
            f"{harput}: Violation [shp:Resource-label-en / (rdfs:label|skos:prefLabel)] person:sahabettin-harput: "
            'Chybí anglický popisek: doplňte do bloku rdfs:label "…"@en',
            f"{april}: Violation [shp:TimeValueShape] t:2005-04: Hodnota času neodpovídá jeho přesnosti: ",
            f"{signing}: Violation [shp:HappenedShape / time:hasTime] ev:more-og-romsdal-2999-11-28-signing: Datum "
            "(time:inXSDDate nebo time:inXSDgYearMonth) je v budoucnosti, ale událost se už stala",
            f"{novak[1]}: Violation [shp:Resource-described-once] person:pavel-novak: Tento zdroj je popsán na více "
            f"místech: {novak[0]}, {novak[1]}. Jsou-li to dvě různé věci, dejte jedné z nich nové jméno (IRI)",
        ],
    }


@pytest.mark.parametrize("lang", ["en", "cs"])
def test_each_mistake_is_named_with_its_place_and_what_to_do(mistaken_report, mistaken_data, lang):
    result = mistaken_report[lang]
    assert result.returncode == 1, result.stderr
    output = result.stdout.splitlines()

    for expected in expected_lines(mistaken_data)[lang]:
        assert any(line.startswith(expected) for line in output), f"{expected}\n\n{result.stdout}"


def test_the_future_signing_is_also_a_future_status_and_nothing_else_is_reported(mistaken_report, mistaken_data):
    output = mistaken_report["en"].stdout.splitlines()
    beginning = place(mistaken_data, "more-og-romsdal.ttl", "stp:more-og-romsdal-1-signed")
    assert any(line.startswith(f"{beginning}: Violation [shp:HappenedShape / time:hasBeginning] "
                               "stp:more-og-romsdal-1-signed: ") for line in output)
    # each mistake once (the duplicate's two labels in each language count as one value each)
    rules = sorted(line.split("[")[1].split("]")[0] for line in output if ": Violation [" in line)
    assert not [line for line in output if "(value: stp:" in line or "(value: t:" in line]  # the focus, again
    assert rules == sorted([
        "shp:Resource-link-target / rp:delegation", "shp:Event-delegation / rp:delegation",
        "shp:Resource-label-cs / (rdfs:label|skos:prefLabel)", "shp:Resource-label-en / (rdfs:label|skos:prefLabel)",
        "shp:TimeValueShape", "shp:HappenedShape / time:hasTime", "shp:HappenedShape / time:hasBeginning",
        "shp:Resource-described-once",
    ])


# --- validating in a pool of processes -----------------------------------------------------------

BUILT_ON = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def mistaken_loaded(mistaken_data):
    """The mistaken copy, loaded, and its shapes."""
    settings = load_settings(ontology_dir=mistaken_data / "ontology", data_dir=mistaken_data / "data")
    return load_dataset(settings), load_shapes(settings)


def test_a_pool_reports_every_mistake_exactly_as_one_process_does(mistaken_loaded, caplog):
    loaded, shapes = mistaken_loaded
    # The pool is pySHACL's (the fast engine runs alone, see test_shacl_engines.py).
    alone = validate(loaded, shapes, now=BUILT_ON, jobs=1, fast=False)

    with caplog.at_level("INFO", logger="lodpub.shacl_runner"):
        pooled = validate(loaded, shapes, now=BUILT_ON, jobs=2, fast=False)

    partitions = shape_partitions(shapes)
    assert f"validating {len(partitions)} partitions of the shapes in 2 processes" in caplog.messages
    assert pooled.results == alone.results
    assert format_report(pooled, "cs") == format_report(alone, "cs")
    # The mistakes lie in shapes of several partitions, not only the first one...
    shapes_broken = {str(result.source_shape) for result in pooled.violations}
    broken_partitions = {n for n, partition in enumerate(partitions) if shapes_broken & set(partition)}
    assert len(broken_partitions) >= 3 and min(broken_partitions) > 0
    # ...and those seen only across files are found too: a link from bursa.ttl to nothing, and an
    # IRI described in two partnerships' files.
    rules = {rule_of(result).rsplit("/", 1)[1] for result in pooled.violations}
    assert {"Resource-link-target", "Resource-described-once"} <= rules


def test_the_fast_engine_reports_every_mistake_exactly_as_pyshacl_does(mistaken_loaded, caplog):
    loaded, shapes = mistaken_loaded

    with caplog.at_level("INFO", logger="lodpub.shacl_turbo"):
        fast = validate(loaded, shapes, now=BUILT_ON)
    reference = validate(loaded, shapes, now=BUILT_ON, fast=False)

    assert "validating with pyshacl-turbo" in caplog.messages
    assert len(fast.violations) >= 8 and fast.results == reference.results
    assert format_report(fast, "cs") == format_report(reference, "cs")


def test_a_build_that_validates_in_a_pool_reports_what_validate_reports(mistaken_report, mistaken_data, tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "lodpub.cli", "build", "--ontology", str(mistaken_data / "ontology"),
         "--data", str(mistaken_data / "data"), "--output", str(tmp_path / "dist")],
        cwd=CHECKOUT, capture_output=True, text=True, timeout=120,
        env={name: value for name, value in os.environ.items() if not name.startswith("LODPUB_")}
        | {"LODPUB_BUILD_JOBS": "2"},
    )

    assert built.returncode == 1, built.stderr
    assert built.stdout == mistaken_report["en"].stdout
    assert not (tmp_path / "dist").exists()

def test_shapes_are_validated_apart_only_when_each_one_with_targets_has_an_iri():
    def shapes_of(turtle: str) -> Graph:
        return Graph().parse(format="turtle", data="""
            @prefix sh:   <http://www.w3.org/ns/shacl#> .
            @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
            @prefix ex:   <http://example.org/> .
            ex:Named a sh:NodeShape ; sh:targetClass ex:Thing ; sh:property [ sh:path ex:p ; sh:minCount 1 ] .
            ex:ImplicitClass a sh:NodeShape , rdfs:Class ; sh:property [ sh:path ex:q ; sh:maxCount 1 ] .
            """ + turtle)

    assert shape_partitions(shapes_of("")) == [["http://example.org/ImplicitClass"], ["http://example.org/Named"]]
    # a shape named by another travels with it (pyshacl would leave it out), and shapes with
    # targets that reach one another are validated together, so that each is validated once
    linked = shapes_of("""
        ex:Named sh:property ex:Named-label .
        ex:Named-label sh:path ex:label ; sh:minCount 1 .
        ex:Other a sh:NodeShape ; sh:targetNode ex:x ; sh:or ( [ sh:node ex:ImplicitClass ] ex:Named-label ) .
        """)
    assert shape_partitions(linked) == [
        ["http://example.org/ImplicitClass", "http://example.org/Named-label", "http://example.org/Other"],
        ["http://example.org/Named", "http://example.org/Named-label"],
    ]
    assert shape_partitions(shapes_of("[] a sh:NodeShape ; sh:targetNode ex:x ; sh:class ex:Thing .")) is None
    assert shape_partitions(shapes_of("ex:Named sh:rule [ a sh:TripleRule ] .")) is None


# --- the day of the build -------------------------------------------------------------------------

EVENTS = """
@prefix rdfs:    <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd:     <http://www.w3.org/2001/XMLSchema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix time:    <http://www.w3.org/2006/time#> .
@prefix rp:      <https://data.kraj-lbc.cz/partnerships/ontology/> .
@prefix evk:     <https://data.kraj-lbc.cz/partnerships/vocabulary/event-kinds/> .
@prefix ev:      <https://data.kraj-lbc.cz/partnerships/id/event/> .
@prefix stp:     <https://data.kraj-lbc.cz/partnerships/id/status/> .

rp:Visit rdfs:subClassOf rp:Event .
ev:day a rp:Visit ; time:hasTime [ time:inXSDDate "2026-11-28"^^xsd:date ] .
ev:month a rp:Event ; time:hasTime [ time:inXSDgYearMonth "2026-11"^^xsd:gYearMonth ] .
ev:interval a rp:Event ; time:hasTime [ time:hasBeginning [ time:inXSDgYearMonth "2026-07"^^xsd:gYearMonth ] ;
                                        time:hasEnd [ time:inXSDgYearMonth "2026-12"^^xsd:gYearMonth ] ] .
ev:planned a rp:Event ; dcterms:type evk:planned-meeting ; time:hasTime [ time:inXSDDate "2027-01-01"^^xsd:date ] .
ev:not-held a rp:Event ; rp:tookPlace false ; time:hasTime [ time:inXSDDate "2027-01-01"^^xsd:date ] .
ev:planned-and-held a rp:Event ; dcterms:type evk:planned-meeting ; rp:tookPlace true ;
    time:hasTime [ time:inXSDDate "2027-01-01"^^xsd:date ] .
stp:period a rp:StatusPeriod ; time:hasBeginning [ time:inXSDDate "2026-11-29"^^xsd:date ] .
"""


@pytest.mark.parametrize(("now", "in_the_future"), [
    # 23:59 on 28 November in Prague (UTC+1)
    (datetime(2026, 11, 28, 22, 59, tzinfo=UTC), {"planned-and-held", "period"}),
    # 00:30 on 29 November in Prague, though still the 28th in UTC
    (datetime(2026, 11, 28, 23, 30, tzinfo=UTC), {"planned-and-held"}),
    # a month earlier: this month's day and month, and the half-year that has begun, are not past yet
    (datetime(2026, 10, 31, 12, 0, tzinfo=UTC), {"planned-and-held", "period", "day", "month"}),
])
def test_what_happened_may_not_lie_after_the_build_day_in_the_region(project_shapes, now, in_the_future):
    graph = Graph().parse(data=EVENTS, format="turtle")

    report = validate_graph(graph, project_shapes, now=now)

    happened = [result for result in report.results if str(rule_of(result)).endswith("/HappenedShape")]
    assert {str(result.focus_node).rsplit("/", 1)[1] for result in happened} == in_the_future


def test_lodpub_checks_links_only_for_shapes_that_give_the_rule_its_messages(mini_settings, mini, project_shapes):
    edit(bursa_file(mini), "rp:partner reg:bursa ;", "rp:partner reg:bursa , reg:nowhere ;")
    rule = URIRef(CANONICAL + "shapes/Resource-link-target")
    own_shapes = load_shapes(mini_settings)
    with_rule = Graph()
    with_rule += own_shapes
    with_rule += project_shapes.triples((rule, None, None))

    without = run_validation(mini_settings)
    report = validate(load_dataset(mini_settings), with_rule)

    assert not [result for result in without.results if result.source_shape == rule]
    [broken] = [result for result in report.results if result.source_shape == rule]
    assert (broken.focus_node, broken.result_path, broken.value) == (
        URIRef(CANONICAL + "id/agreement/bursa-2011"), "rp:partner", URIRef(CANONICAL + "id/region/nowhere"))
    assert broken.message("en").startswith("The link leads to reg:nowhere and nothing in the data describes it.")


def test_shapes_behind_a_link_to_nothing_are_an_error_not_left_out(mini_settings, tmp_path):
    """A missing part of the shapes is allowed; a part linked to a folder that is gone would leave
    the catalogue record unchecked without a word."""
    (mini_settings.shapes_dir / "catalogue").symlink_to(tmp_path / "unmounted" / "catalogue")

    assert len(load_shapes(mini_settings, "standards")) == 0
    with pytest.raises(DataFileError, match="does not exist"):
        load_shapes(mini_settings, "catalogue")
