"""The editor's form shapes (issue 20) are derived from the project's shapes, ontology and vocabularies:
each kind's graph parses, names its fields in cs and en, orders them, offers a scheme's concepts where
the shapes require membership of it, and carries nothing the form cannot run (no SPARQL)."""

from pathlib import Path

import pytest
from rdflib import RDF, RDFS, SKOS, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, SH

from lodpub.config import load_settings
from lodpub.editing.form_shapes import FORM_BASE, KINDS, form_shapes
from lodpub.editing.form_terms import RP, TIME, load_sources

CHECKOUT = Path(__file__).resolve().parent.parent
DCTERMS = "http://purl.org/dc/terms/"
VOCABULARY = "https://data.kraj-lbc.cz/partnerships/vocabulary/"


@pytest.fixture(scope="module")
def sources():
    return load_sources(load_settings(project_dir=CHECKOUT))


@pytest.fixture(scope="module")
def forms(sources) -> dict[str, Graph]:
    return {kind: form_shapes(sources, kind) for kind in KINDS}


def fields(graph: Graph, shape: URIRef) -> dict[URIRef, URIRef]:
    """The property shapes of `shape`, by path."""
    return {graph.value(field, SH.path): field for field in graph.objects(shape, SH.property)}


def in_use(sources, scheme: URIRef) -> set[URIRef]:
    """The concepts of `scheme` that are not deprecated."""
    return {concept for concept in sources.terms.subjects(SKOS.inScheme, scheme)
            if (concept, OWL.deprecated, Literal(True)) not in sources.terms}


def items(graph: Graph, head) -> list:
    return list(Collection(graph, head))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_parses_again_and_names_and_orders_every_field(forms, kind):
    text = forms[kind].serialize(format="turtle")
    graph = Graph().parse(data=text, format="turtle")
    shapes = set(graph.subjects(RDF.type, SH.NodeShape))
    assert KINDS[kind] in shapes
    assert fields(graph, KINDS[kind]), f"{kind}: no field"
    for shape in shapes:
        for field in graph.objects(shape, SH.property):
            languages = {name.language for name in graph.objects(field, SH.name)}
            assert languages == {"cs", "en"}, (kind, graph.value(field, SH.path))
            assert graph.value(field, SH.order) is not None, (kind, graph.value(field, SH.path))
    assert not list(graph.triples((None, SH.sparql, None)))
    assert not list(graph.triples((None, SH.select, None)))


def test_scheme_membership_becomes_the_schemes_concepts_with_their_labels(forms, sources):
    graph = forms["event"]
    kinds = items(graph, graph.value(fields(graph, RP.Event)[URIRef(DCTERMS + "type")], SH["in"]))
    scheme = URIRef(VOCABULARY + "event-kinds")
    assert set(kinds) == in_use(sources, scheme)
    assert URIRef(VOCABULARY + "event-kinds/termination") not in kinds  # deprecated: no longer offered
    assert URIRef(VOCABULARY + "event-kinds/visit") in kinds
    assert Literal("návštěva", lang="cs") in set(graph.objects(URIRef(VOCABULARY + "event-kinds/visit"), RDFS.label))
    status = forms["status"]
    statuses = items(status, status.value(fields(status, RP.StatusPeriod)[RP.status], SH["in"]))
    assert set(statuses) == in_use(sources, URIRef(VOCABULARY + "statuses"))


def test_labels_in_both_languages_are_one_text_field_per_language(forms):
    graph = forms["event"]
    for path in (RDFS.label, URIRef(DCTERMS + "description")):
        field = fields(graph, RP.Event)[path]
        assert graph.value(field, SH.datatype) == RDF.langString
        assert [str(language) for language in items(graph, graph.value(field, SH.languageIn))] == ["cs", "en"]
        assert graph.value(field, SH.minCount).toPython() == 2
        assert graph.value(field, SH.uniqueLang).toPython() is True
    assert SKOS.prefLabel not in fields(graph, RP.Event)  # the alternative of a concept's label is not asked


def test_a_time_is_a_choice_of_precision_each_with_its_own_value(forms):
    graph = forms["event"]
    time = fields(graph, RP.Event)[TIME.hasTime]
    assert graph.value(time, SH.maxCount).toPython() == 1
    choices = [graph.value(option, SH.node) for option in items(graph, graph.value(time, SH["or"]))]
    assert [str(choice)[len(FORM_BASE):] for choice in choices] == [
        "time/day", "time/month", "time/half-year", "time/day-interval", "time/unknown"]
    month = fields(graph, choices[1])
    assert graph.value(month[TIME.inXSDgYearMonth], SH.datatype) == URIRef("http://www.w3.org/2001/XMLSchema#gYearMonth")
    assert TIME.inXSDDate not in month  # never a day where the source gives a month
    assert graph.value(month[RP.precision], SH.hasValue) == URIRef(VOCABULARY + "date-precisions/month")
    half_year = fields(graph, choices[2])
    assert graph.value(half_year[TIME.hasBeginning], SH.node) == choices[1]
    assert graph.value(choices[2], RDFS.subClassOf) == TIME.ProperInterval
    unknown = fields(graph, choices[4])
    assert graph.value(unknown[TIME.after], SH["class"]) == TIME.TemporalEntity
    status = forms["status"]
    assert status.value(fields(status, RP.StatusPeriod)[TIME.hasBeginning], SH["or"]) is not None


def test_classes_stay_choices_and_required_counts_are_kept(forms):
    graph = forms["agreement"]
    agreement = fields(graph, RP.Agreement)
    assert graph.value(agreement[RP.party], SH["class"]) == RP.TerritorialBody
    assert graph.value(agreement[RP.party], SH.minCount).toPython() == 2
    assert graph.value(agreement[RP.establishes], SH.maxCount).toPython() == 1
    assert URIRef(DCTERMS + "title") in agreement
    # the signing is said by an event pointing at the agreement (an inverse path): not a field
    assert all(isinstance(path, URIRef) for path in agreement)
    document = forms["document"]  # DocumentShape targets the objects of rp:document, whose values are documents
    assert URIRef(DCTERMS + "type") in fields(document, URIRef("http://xmlns.com/foaf/0.1/Document"))


def test_unknown_kind_is_refused(sources):
    with pytest.raises(KeyError):
        form_shapes(sources, "../../etc/passwd")


def test_a_status_offers_the_event_that_began_it(forms):
    """"signed" and "notice given" need the event that began them: the status form has that field."""
    status = forms["status"]
    cause = fields(status, RP.StatusPeriod)[RP.causedBy]
    assert status.value(cause, SH["class"]) == URIRef("https://schema.org/Event")
    assert {name.language for name in status.objects(cause, SH.name)} == {"cs", "en"}


def test_the_sources_are_read_again_only_when_a_file_changed(mini_settings):
    """Every check and save of a form asks for the sources: they are read once for each state of the files."""
    first = load_sources(mini_settings)
    assert load_sources(mini_settings) is first
    shapes_file = next(mini_settings.shapes_dir.glob("*.ttl"))
    shapes_file.write_text(shapes_file.read_text(encoding="utf-8") + "\n# a change\n", encoding="utf-8")
    again = load_sources(mini_settings)
    assert again is not first and len(again.shapes) == len(first.shapes)
