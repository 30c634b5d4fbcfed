"""The shapes' annotations for the editor's forms (sh:name, sh:description, sh:order, sh:group and the
groups themselves) change nothing that validation reports: the report on the real data, and on every
broken copy the shape tests use, is the same with them and without them."""

from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.namespace import RDF, SH
from test_shapes import FIXTURES, PREFIX_FILE

from lodpub.validate import validate, validate_graph
from lodpub.validation_report import rule_of

ANNOTATIONS = (SH.name, SH.description, SH.order, SH.group)


def without_annotations(shapes: Graph) -> Graph:
    """`shapes` without what only forms read."""
    stripped = Graph(bind_namespaces="none")
    groups = set(shapes.subjects(RDF.type, SH.PropertyGroup))
    stripped += ((subject, predicate, value) for subject, predicate, value in shapes
                 if predicate not in ANNOTATIONS and subject not in groups)
    return stripped


def report_of(report) -> set[tuple]:
    """Everything a result says, in both languages."""
    return {(str(rule_of(result)), str(result.focus_node), result.result_path, result.severity,
             result.message("cs"), result.message("en"), str(result.value)) for result in report.results}


@pytest.fixture(scope="module")
def bare_shapes(project_shapes) -> Graph:
    bare = without_annotations(project_shapes)
    assert len(bare) < len(project_shapes), "the shapes carry no annotation for forms"
    return bare


def test_the_annotations_are_there_in_both_languages(project_shapes):
    names = list(project_shapes.objects(None, SH.name))
    assert {name.language for name in names} == {"cs", "en"}
    for group in project_shapes.subjects(RDF.type, SH.PropertyGroup):
        assert project_shapes.value(group, SH.order) is not None


def test_the_real_data_has_the_same_report(project_dataset, project_shapes, bare_shapes):
    assert report_of(validate(project_dataset, project_shapes)) == report_of(validate(project_dataset, bare_shapes))


@pytest.mark.long
@pytest.mark.parametrize("fixture", sorted(FIXTURES.glob("*.ru")), ids=lambda path: path.stem)
def test_every_broken_copy_has_the_same_report(fixture: Path, project_dataset, project_shapes, bare_shapes):
    graph = Graph()
    graph += project_dataset.union()
    graph.update(PREFIX_FILE.read_text(encoding="utf-8") + fixture.read_text(encoding="utf-8"))
    assert report_of(validate_graph(graph, project_shapes)) == report_of(validate_graph(graph, bare_shapes))
