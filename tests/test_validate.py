"""Validation machinery: reading pyshacl's results and printing them (not the project's shapes)."""

import dataclasses
from pathlib import Path

import pytest
from rdflib import Graph, Namespace, URIRef

from server.dataset import SourceLocation, load_dataset
from server.validate import ValidationResult, format_report, load_shapes, validate

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
