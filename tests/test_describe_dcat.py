"""The catalogue record the build writes (DCAT-AP-CZ), against the official shapes and the norm,
as written (catalogue.ttl) and as the release serves it (describe/served_record.py).

Shapes: DCAT-AP 3.0.1 (SEMIC), the Czech drafts, and ours of what the national catalogue's
validator checks; all vendored in shapes/ (see shapes/standards/PROVENANCE.md).
"""

import dataclasses
import shutil
from collections import Counter
from datetime import date
from pathlib import Path

import pyshacl
import pytest
from nkod.pipeline import Registration, generated_query, values_clause
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, SH, TIME, XSD

from lodpub.build import ValidationFailed, build
from lodpub.describe.served_record import served_record
from lodpub.store.embedded import EmbeddedStore

SHAPES = Path(__file__).resolve().parents[1] / "shapes"
PU = Namespace("https://data.gov.cz/slovník/podmínky-užití/")
SPDX = Namespace("http://spdx.org/rdf/terms#")
BASE = "https://data.kraj-lbc.cz/partnerships/"
CATALOG = URIRef(BASE + "id/catalog/lkod")
DATASET = URIRef(BASE + "id/dataset/partnerships")
RPP = "https://rpp-opendata.egon.gov.cz/odrpp/zdroj/orgán-veřejné-moci/"
DCAT_AP_3 = ["standards/dcat-ap-3.0.1/html-shacl-shapes.ttl", "standards/dcat-ap-3.0.1/html-shacl-range.ttl",
             "standards/dcat-ap-3.0.1/html-shacl-mdr-vocabularies.shape.ttl"]
CZECH_DRAFTS = ["standards/dcat-ap-cz/otevrena-data-draft-shacl.ttl", "standards/dcat-ap-cz/rozhrani-katalogu-dat-draft-shacl.ttl",
                "standards/dcat-ap-cz/dcat-ap-cz-zakladni-draft-shacl.ttl"]


def shapes(*files: str) -> Graph:
    graph = Graph()
    for name in files:
        graph.parse(SHAPES / name)
    return graph


def results(graph: Graph, shape_graph: Graph) -> list[dict]:
    """Every top-level result of validating `graph` (not the details of nested shapes): severity,
    path and focus node."""
    _, report, _ = pyshacl.validate(graph, shacl_graph=shape_graph, inference="none", allow_warnings=True)
    return [{"severity": str(report.value(result, SH.resultSeverity)).rsplit("#", 1)[-1],
             "path": report.value(result, SH.resultPath), "focus": report.value(result, SH.focusNode)}
            for result in report.objects(None, SH.result)]


@pytest.fixture(scope="module")
def record(project_release) -> Graph:
    return Graph().parse(project_release.path / "catalogue.ttl")


def violations(found: list[dict]) -> list[dict]:
    return [result for result in found if result["severity"] == "Violation"]


@pytest.mark.parametrize("shape_file", DCAT_AP_3)
def test_dcat_ap_3_0_1_mandatory_range_and_vocabulary_shapes_find_no_violation(record, shape_file):
    assert violations(results(record, shapes(shape_file))) == []


def test_dcat_ap_3_0_1_recommended_warnings_are_only_what_no_source_gives(record):
    """17 warnings, each documented in README.md: no bounding box or centroid for the seven places
    (the authority tables give none), no issue date of the catalogue (not known), and no licence
    type for the two Czech terms-of-use statements (they are not licences)."""
    found = results(record, shapes("standards/dcat-ap-3.0.1/html-shacl-shapes_recommended.ttl"))
    assert {result["severity"] for result in found} == {"Warning"}
    kinds = Counter((str(result["path"]).rsplit("/", 1)[-1].rsplit("#", 1)[-1], _kind(record, result["focus"]))
                    for result in found)
    assert kinds == Counter({("bbox", "Location"): 7, ("centroid", "Location"): 7, ("issued", "Catalog"): 1,
                             ("type", "LicenseDocument"): 2})
    untyped = {result["focus"] for result in found if str(result["path"]).endswith("/type")}
    assert all(str(focus).startswith("https://data.gov.cz/podmínky-užití/") for focus in untyped)


def _kind(record: Graph, node) -> str:
    kinds = {str(kind).rsplit("/", 1)[-1].rsplit("#", 1)[-1] for kind in record.objects(node, RDF.type)}
    return "Location" if "Location" in kinds else min(kinds)


def test_dcat_ap_3_0_1_vocabulary_warnings_are_the_czech_norms_choices(record):
    """The norm wants the publisher from the Czech RPP register and the spatial coverage from RÚIAN,
    and we add EuroVoc themes: DCAT-AP's vocabulary shapes warn (not more) about each."""
    found = results(record, shapes("standards/dcat-ap-3.0.1/html-shacl-mdr-vocabularies.shape.ttl"))
    warned = {(str(result["path"]).rsplit("/", 1)[-1].rsplit("#", 1)[-1], str(value))
              for result in found for value in [_value_of(record, result)]}
    assert {path for path, _ in warned} == {"publisher", "spatial", "theme"}
    assert all(value.startswith((RPP, "https://linked.cuzk.cz/resource/ruian/", "http://eurovoc.europa.eu/"))
               for _, value in warned)


def _value_of(record: Graph, result: dict):
    values = list(record.objects(result["focus"], result["path"]))
    allowed = [v for v in values if str(v).startswith((RPP, "https://linked.cuzk.cz/", "http://eurovoc.europa.eu/"))]
    return allowed[0] if allowed else values[0]


def test_our_shapes_of_the_national_catalogues_checks_find_no_violation(record):
    assert violations(results(record, shapes("catalogue/lkod.ttl"))) == []


def without_czech(subject: str, predicate: URIRef) -> str:
    """An update removing the Czech values of `predicate` from `subject` (an IRI or a pattern's variable)."""
    return f"DELETE {{ {subject} <{predicate}> ?v }} WHERE {{ {subject} <{predicate}> ?v FILTER(lang(?v) = 'cs') }}"


MUTATIONS = {
    "no Czech title of the dataset": without_czech(f"<{DATASET}>", DCTERMS.title),
    "publisher outside the RPP register": f"DELETE {{ <{DATASET}> <{DCTERMS.publisher}> ?p }} INSERT {{ <{DATASET}> <{DCTERMS.publisher}> <https://example.org/agent> }} WHERE {{ <{DATASET}> <{DCTERMS.publisher}> ?p }}",
    "no EU data theme": f"DELETE {{ <{DATASET}> <{DCAT.theme}> ?t }} WHERE {{ <{DATASET}> <{DCAT.theme}> ?t FILTER(STRSTARTS(STR(?t), 'http://publications.europa.eu/')) }}",
    "frequency outside the EU table": f"DELETE {{ <{DATASET}> <{DCTERMS.accrualPeriodicity}> ?f }} INSERT {{ <{DATASET}> <{DCTERMS.accrualPeriodicity}> <https://example.org/often> }} WHERE {{ <{DATASET}> <{DCTERMS.accrualPeriodicity}> ?f }}",
    "no RÚIAN spatial": f"DELETE {{ <{DATASET}> <{DCTERMS.spatial}> ?s }} WHERE {{ <{DATASET}> <{DCTERMS.spatial}> ?s FILTER(STRSTARTS(STR(?s), 'https://linked.cuzk.cz/')) }}",
    "no Czech keyword": without_czech(f"<{DATASET}>", DCAT.keyword),
    "a distribution without access URL": f"DELETE WHERE {{ <{DATASET}/distribution/partnerships-ttl> <{DCAT.accessURL}> ?u }}",
    "a distribution without terms of use": f"DELETE WHERE {{ <{DATASET}/distribution/partnerships-nt> <{PU.specifikace}> ?t }}",
    "terms of use without personal data": f"DELETE WHERE {{ ?t <{PU['osobní-údaje']}> ?v }}",
    "a data service without endpoint URL": f"DELETE WHERE {{ <{DATASET}/service/sparql> <{DCAT.endpointURL}> ?e }}",
    "a data service without Czech title": without_czech(f"<{DATASET}/service/sparql>", DCTERMS.title),
    "an e-mail that is not a mailto: IRI": "DELETE { ?c <http://www.w3.org/2006/vcard/ns#hasEmail> ?e } INSERT { ?c <http://www.w3.org/2006/vcard/ns#hasEmail> 'podatelna@kraj-lbc.cz' } WHERE { ?c <http://www.w3.org/2006/vcard/ns#hasEmail> ?e }",
    "a blank-node distribution": f"INSERT DATA {{ <{DATASET}> <{DCAT.distribution}> [ a <{DCAT.Distribution}> ] }}",
    "the catalogue without Czech description": without_czech(f"<{CATALOG}>", DCTERMS.description),
    "a country named as in another version of its table": "INSERT DATA { <http://publications.europa.eu/resource/"
        "authority/country/TUR> <http://www.w3.org/2004/02/skos/core#prefLabel> 'Turkey'@en }",  # the 2018 table's
}


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_our_shapes_catch_what_the_national_catalogue_rejects(record, mutation):
    broken = Graph()
    broken += record
    broken.update(MUTATIONS[mutation])
    assert set(broken) != set(record)
    assert violations(results(broken, shapes("catalogue/lkod.ttl"))), mutation


def test_the_czech_drafts_object_only_to_our_second_language(record):
    """The drafts allow one dct:title and dct:description; ours come in Czech and English, as in
    the norm's own examples. Names (vcard:fn, pu:autor, pu:autor-databáze) are given once, as the
    drafts want. Keeping only the Czech texts leaves nothing to object to."""
    objected = {str(result["path"]) for result in violations(results(record, shapes(*CZECH_DRAFTS)))}
    assert objected == {str(DCTERMS.title), str(DCTERMS.description)}
    czech_only = Graph()
    czech_only += (triple for triple in record if not (isinstance(triple[2], Literal) and triple[2].language == "en"))
    assert violations(results(czech_only, shapes(*CZECH_DRAFTS))) == []


def test_every_part_of_the_record_has_an_iri(record):
    assert not [triple for triple in record if isinstance(triple[0], BNode) or isinstance(triple[2], BNode)]


def test_each_dump_is_a_distribution_with_its_size_checksum_format_and_terms_of_use(record, project_release):
    dumps = [entry for entry in project_release.manifest["files"]]
    distributions = {str(url).rsplit("/", 1)[-1]: d for d, url in record.subject_objects(DCAT.downloadURL)}
    assert set(distributions) == {entry["name"] for entry in dumps}
    for entry in dumps:
        distribution = distributions[entry["name"]]
        assert record.value(distribution, DCAT.byteSize) == Literal(entry["bytes"], datatype=XSD.nonNegativeInteger)
        assert record.value(distribution, DCAT.byteSize).datatype == XSD.nonNegativeInteger
        checksum = record.value(distribution, SPDX.checksum)
        assert str(record.value(checksum, SPDX.checksumValue)) == entry["sha256"]
        assert str(record.value(distribution, DCTERMS.format)).startswith("http://publications.europa.eu/resource/authority/file-type/")
        assert str(record.value(distribution, DCAT.mediaType)).startswith("http://www.iana.org/assignments/media-types/")
        assert record.value(distribution, DCAT.accessURL) == record.value(distribution, DCAT.downloadURL)
        terms = record.value(distribution, PU.specifikace)
        assert {p for p, _ in record.predicate_objects(terms)} >= {
            PU["autorské-dílo"], PU["databáze-jako-autorské-dílo"], PU["databáze-chráněná-zvláštními-právy"],
            PU["osobní-údaje"]}
        assert record.value(terms, PU["osobní-údaje"]) == URIRef("https://data.gov.cz/podmínky-užití/obsahuje-osobní-údaje/")


def test_the_sparql_endpoint_is_a_data_service_behind_a_distribution(record):
    (service,) = record.subjects(RDF.type, DCAT.DataService)
    endpoint = URIRef(BASE + "sparql")
    assert record.value(service, DCAT.endpointURL) == endpoint
    assert record.value(service, DCAT.endpointDescription) == endpoint
    assert record.value(service, DCTERMS.conformsTo) == URIRef("https://www.w3.org/TR/sparql11-protocol/")
    assert {title.language for title in record.objects(service, DCTERMS.title)} == {"cs", "en"}
    (distribution,) = record.subjects(DCAT.accessService, service)
    assert (DATASET, DCAT.distribution, distribution) in record


def test_the_temporal_coverage_runs_from_the_first_to_the_last_date_of_the_data(record, built_graph):
    days = [date.fromisoformat(str(value)) for value in built_graph.objects(None, TIME.inXSDDate)]
    months = [str(value) for value in built_graph.objects(None, TIME.inXSDgYearMonth)]
    coverage = record.value(DATASET, DCTERMS.temporal)
    start = date.fromisoformat(str(record.value(coverage, DCAT.startDate)))
    end = date.fromisoformat(str(record.value(coverage, DCAT.endDate)))
    assert start <= min(days) and end >= max(days)
    assert start in days or start.isoformat()[:7] in months
    assert end in days or end.isoformat()[:7] in months


def test_the_catalogue_and_dataset_say_what_the_norm_requires_in_czech_and_english(record):
    for subject in (CATALOG, DATASET):
        for predicate in (DCTERMS.title, DCTERMS.description):
            assert {text.language for text in record.objects(subject, predicate)} == {"cs", "en"}
        assert str(record.value(subject, DCTERMS.publisher)) == RPP + "70891508"
    assert (CATALOG, DCAT.dataset, DATASET) in record
    assert record.value(DATASET, DCTERMS.accrualPeriodicity) == URIRef("http://publications.europa.eu/resource/authority/frequency/IRREG")
    assert URIRef("https://linked.cuzk.cz/resource/ruian/vusc/78") in set(record.objects(DATASET, DCTERMS.spatial))
    assert record.value(DATASET, DCTERMS.conformsTo) == URIRef(BASE + "ontology")
    contact = record.value(CATALOG, DCAT.contactPoint)
    assert str(record.value(contact, URIRef("http://www.w3.org/2006/vcard/ns#hasEmail"))).startswith("mailto:")
    assert record.value(DATASET, DCTERMS.modified).datatype == XSD.dateTime
    assert record.value(DATASET, URIRef("http://www.w3.org/ns/dcat#version")) is not None


def test_the_dataset_links_its_changelog(record):
    changelog = URIRef(BASE + "changes")
    assert record.value(DATASET, DCTERMS.relation) == changelog
    assert (changelog, RDF.type, FOAF.Document) in record
    assert {title.language for title in record.objects(changelog, DCTERMS.title)} == {"cs", "en"}


# --- The record as the release serves it ----------------------------------------------------


@pytest.fixture(scope="module")
def served(project_release) -> dict[str, Graph]:
    """The record as the release serves it: {"documents": ..., "SPARQL": ...} (served_record)."""
    return served_record(EmbeddedStore(project_release.path))


@pytest.mark.parametrize("shape_file", DCAT_AP_3 + ["catalogue/lkod.ttl"])
@pytest.mark.parametrize("view", ["documents", "SPARQL"])
def test_the_record_as_served_finds_no_violation(served, view, shape_file):
    assert violations(results(served[view], shapes(shape_file))) == []


@pytest.mark.parametrize("view", ["documents", "SPARQL"])
def test_the_record_as_served_warns_of_nothing_the_file_does_not(record, served, view):
    """What the server merges into the record (the VoID, the labels and schemes of what it links
    to) adds no warning of the recommended or vocabulary shapes to those of catalogue.ttl."""
    for shape_file in ("standards/dcat-ap-3.0.1/html-shacl-shapes_recommended.ttl",
                       "standards/dcat-ap-3.0.1/html-shacl-mdr-vocabularies.shape.ttl"):
        warned = Counter((result["path"], result["focus"]) for result in results(served[view], shapes(shape_file)))
        assert warned == Counter((result["path"], result["focus"]) for result in results(record, shapes(shape_file)))


def test_a_release_whose_record_is_invalid_only_as_served_is_not_published(project_settings, tmp_path):
    """The VoID once said dcterms:source of the dataset (a page, where DCAT-AP 3.0.1 wants a
    dcat:Dataset): catalogue.ttl was valid, the dataset's IRI served an invalid record. A data
    file that says the same now stops the build, and nothing is published."""
    project = tmp_path / "project"
    for part in ("ontology", "data", "shapes"):
        shutil.copytree(getattr(project_settings, f"{part}_dir"), project / part)
    (project / "data" / "said-of-the-dataset.ttl").write_text(
        f"<{DATASET}> <{DCTERMS.source}> <{BASE}id/source/uzavrene-dohody> .\n", encoding="utf-8")
    settings = dataclasses.replace(project_settings, ontology_dir=project / "ontology", data_dir=project / "data",
                                   shapes_dir=project / "shapes", output_dir=tmp_path / "dist")

    with pytest.raises(ValidationFailed) as caught:
        build(settings)

    assert "as served" in caught.value.where
    assert {(str(v.focus_node), v.result_path) for v in caught.value.report.violations} == {(str(DATASET), "dcterms:source")}
    assert not (settings.output_dir / "current").exists()


# --- What NKOD's harvest costs --------------------------------------------------------------

# The most solutions the WHERE clause of NKOD's record query (tests/nkod/sparql-3-record-query.rq)
# may have on our record. It joins every value of the dataset with every other (titles x
# descriptions x themes x keywords x places x the contact's types and names) and with every
# distribution's (title x authors, and the service's titles and contact): Oxigraph makes the
# CONSTRUCT at about 12 µs a solution (bench/README.md, "NKOD's harvest"), so this many take some
# 2 s of the endpoint's 10 s, leaving room for a busy machine. The record's 62 720 leave room for
# more places, themes and keywords; its 1 254 400 with names and format titles in two languages
# took 15 s, and NKOD got a 503.
NKOD_RECORD_QUERY_SOLUTIONS = 150_000


def test_nkod_record_query_multiplies_the_record_within_its_budget(project_release):
    record_query = generated_query("sparql-3-record-query.rq", Registration(BASE + "sparql", "DcatApSparql"))
    record_query = record_query.replace("${VALUES}", values_clause("dataset", [str(DATASET)]))
    prologue, where = record_query.split("CONSTRUCT", 1)[0], record_query.split("\nWHERE {", 1)[1]
    counting = prologue + "SELECT (COUNT(*) AS ?solutions) WHERE {" + where  # NKOD's WHERE, counted
    store = EmbeddedStore(project_release.path).oxigraph
    (row,) = store.query(counting, use_default_graph_as_union=True)
    assert 0 < int(row["solutions"].value) <= NKOD_RECORD_QUERY_SOLUTIONS
