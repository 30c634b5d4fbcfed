"""The SHACL shapes: the real data conforms, and each broken variant of it fails as expected.

Each file in tests/fixtures/invalid/ is a SPARQL Update that breaks the real data in one way,
headed by the results validation must then report, one per line:

    # expect: <rule> <focus node> <result path or -> [<severity>]

where <rule> is the named SHACL shape or SPARQL constraint that reports it. Among the results
the fixture adds, those on the expected focus nodes must be exactly the expected ones.
"""

import re
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SH

from lodpub.namespaces import PREFIXES as TABLE
from lodpub.namespaces import shorten_iri
from lodpub.validate import validate, validate_graph
from lodpub.validation_report import format_report, rule_of

FIXTURES = Path(__file__).parent / "fixtures" / "invalid"
PREFIX_FILE = FIXTURES / "prefixes.rq"
PREFIXES = dict(re.findall(r"^PREFIX (\w*):\s+<([^>]+)>", PREFIX_FILE.read_text(encoding="utf-8"), re.M))
EXPECT = re.compile(r"^# expect: (\S+) (\S+) (\S+)(?: (Violation|Warning|Info))?$", re.M)

# The parameters of a node shape that constrain the focus node itself (not through sh:property).
NODE_LEVEL_CONSTRAINTS = (SH["or"], SH["and"], SH["not"], SH.xone, SH.node, SH["class"], SH.nodeKind)


def result_key(result) -> tuple[str, str, str, str]:
    """A result as a fixture states it: rule, focus node, path (in SPARQL syntax) and severity."""
    return (str(rule_of(result)), str(result.focus_node), result.result_path or "-", result.severity)


def expectations(fixture: Path) -> set[tuple[str, str, str, str]]:
    return {
        (str(expand(rule)), str(expand(focus)), path, severity or "Violation")
        for rule, focus, path, severity in EXPECT.findall(fixture.read_text(encoding="utf-8"))
    }


def expand(prefixed_name: str) -> URIRef:
    prefix, local = prefixed_name.split(":", 1)
    return URIRef(PREFIXES[prefix] + local)


@pytest.fixture(scope="module")
def baseline(project_dataset, project_shapes):
    """The results the real data already has (only notes, see the next test)."""
    return validate(project_dataset, project_shapes)


def test_real_data_conforms_with_only_the_expected_notes(baseline):
    assert baseline.conforms
    # The source names no signatories for these two signings.
    notes = {
        ("shp:Signing-signatories", "ev:novy-bor-mednogorsk-2007-06-16-signing"),
        ("shp:Signing-signatories", "ev:orenburg-oblast-2012-05-24-signing"),
    }
    assert {result_key(result) for result in baseline.results} == {
        (str(expand(rule)), str(expand(focus)), "rp:participation/prov:hadRole", "Info") for rule, focus in notes
    }


def test_every_result_of_the_real_data_names_its_file_and_line(baseline):
    for result in baseline.results:
        assert result.location is not None and result.location.line is not None
        assert result.location.path.name == "orenburg-oblast.ttl"


@pytest.mark.parametrize("fixture", sorted(FIXTURES.glob("*.ru")), ids=lambda path: path.stem)
def test_broken_data_fails_with_the_expected_result(fixture, project_dataset, project_shapes, baseline):
    expected = expectations(fixture)
    assert expected, f"{fixture.name} has no '# expect:' line"
    graph = Graph()
    graph += project_dataset.union()
    graph.update(PREFIX_FILE.read_text(encoding="utf-8") + fixture.read_text(encoding="utf-8"))

    report = validate_graph(graph, project_shapes)

    before = {result_key(result) for result in baseline.results}
    added = {result_key(result) for result in report.results} - before
    focus_nodes = {focus for _, focus, _, _ in expected}
    assert {key for key in added if key[1] in focus_nodes} == expected
    reported = {lang: format_report(report, lang) for lang in ("cs", "en")}
    for result in report.results:
        if result_key(result) in expected:
            assert result.message("cs") and result.message("en") and result.message("cs") != result.message("en")
            for lang, text in reported.items():
                line = f"[{shorten_iri(rule_of(result), TABLE)}"
                line += f" / {result.result_path}] " if result.result_path else "] "
                line += f"{shorten_iri(result.focus_node, TABLE)}: {result.message(lang)}"
                assert line in text


def rules_of_the_shapes(shapes: Graph) -> set[str]:
    """Every rule that can report a result: property shapes, SPARQL constraints, and targeted node
    shapes that constrain the focus node themselves."""
    targets = (SH.targetClass, SH.targetNode, SH.targetObjectsOf, SH.targetSubjectsOf)
    rules = set(shapes.subjects(RDF.type, SH.PropertyShape)) | set(shapes.subjects(RDF.type, SH.SPARQLConstraint))
    # The parameters of our own constraint components constrain the focus node too.
    parameters = {shapes.value(parameter, SH.path) for parameter in shapes.objects(None, SH.parameter)}
    for shape in shapes.subjects(RDF.type, SH.NodeShape):
        targeted = any((shape, target, None) in shapes for target in targets)
        constraints = (*NODE_LEVEL_CONSTRAINTS, *parameters)
        if targeted and any((shape, constraint, None) in shapes for constraint in constraints):
            rules.add(shape)
    return {str(rule) for rule in rules if isinstance(rule, URIRef)}


def test_every_rule_has_a_broken_fixture(project_shapes):
    covered = {rule for fixture in FIXTURES.glob("*.ru") for rule, _, _, _ in expectations(fixture)}
    assert rules_of_the_shapes(project_shapes) - covered == set()


def test_the_fixtures_only_name_rules_that_exist(project_shapes):
    rules = rules_of_the_shapes(project_shapes)
    named = {rule for fixture in FIXTURES.glob("*.ru") for rule, _, _, _ in expectations(fixture)}
    assert named - rules == set()


def test_every_rule_speaks_czech_and_english(project_shapes):
    """Each rule's message exists in both languages (on the rule, or on its node shape)."""
    for rule in rules_of_the_shapes(project_shapes):
        languages = {message.language for message in project_shapes.objects(URIRef(rule), SH.message)}
        assert languages == {"cs", "en"}, rule
