"""The statistics of a release's data, read from its N-Triples lines, against rdflib's own reading."""

from collections import Counter

from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS, TIME

from lodpub.dataset import load_dataset
from lodpub.describe.statistics import DataStatistics


def test_statistics_of_the_lines_are_those_of_the_graph(project_settings):
    loaded = load_dataset(project_settings)
    union = loaded.union()

    statistics = DataStatistics.of_lines(loaded.triple_lines())

    assert statistics.triples == len(union)
    assert len(statistics.subjects) == len(set(union.subjects()))
    assert statistics.distinct_objects == len(set(union.objects()))
    assert statistics.classes == Counter(str(cls) for cls in union.objects(None, RDF.type))
    assert statistics.properties == Counter(str(predicate) for predicate in union.predicates())
    assert sorted(statistics.dates) == sorted(str(day) for day in union.objects(None, TIME.inXSDDate))
    assert sorted(statistics.months) == sorted(str(month) for month in union.objects(None, TIME.inXSDgYearMonth))
    assert statistics.dates and statistics.months  # the project data has both precisions


def test_labels_are_those_of_classes_and_properties_in_a_language(project_settings):
    loaded = load_dataset(project_settings)
    union = loaded.union()

    statistics = DataStatistics.of_lines(loaded.triple_lines())

    terms = {*statistics.classes, *statistics.properties}
    expected = {str(term): sorted(label for label in union.objects(term, RDFS.label)
                                  if isinstance(label, Literal) and label.language)
                for term in union.subjects(RDFS.label) if str(term) in terms}
    assert {term: sorted(labels) for term, labels in statistics.labels.items()} == \
        {term: labels for term, labels in expected.items() if labels}
    assert any(label.language == "cs" for labels in statistics.labels.values() for label in labels)


def test_subjects_are_counted_under_a_prefix_and_looked_up(project_settings):
    loaded = load_dataset(project_settings)
    union = loaded.union()
    resources = project_settings.base_iri + "id/"

    statistics = DataStatistics.of_lines(loaded.triple_lines())

    assert statistics.subjects_under(resources) == len({s for s in union.subjects() if str(s).startswith(resources)})
    described = next(str(s) for s in union.subjects() if str(s).startswith(resources))
    assert statistics.describes(described)
    assert not statistics.describes(resources + "no-such-thing")
    only_an_object = next(o for o in union.objects() if isinstance(o, URIRef) and (o, None, None) not in union)
    assert not statistics.describes(str(only_an_object))
