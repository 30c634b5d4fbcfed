"""The local catalogue (LKOD) harvested over HTTP as the national catalogue (NKOD) harvests it,
through both interfaces of DCAT-AP-CZ 2024-05-28, against a running server.

NKOD's own harvest (its pipeline's queries, run as the pipeline runs them: tests/nkod/) through
each access point, and what NKOD's LKOD validator (datagov-cz/lkod-validator) asks: "DCAT-AP
Dokumenty", the registered catalogue URL and every dcat:dataset IRI in it, fetched with
User-Agent nkod/0.0.1 and Java's default Accept header, following redirects, read as Turtle or
JSON-LD; "DCAT-AP SPARQL Endpoint", ASK {?s ?p ?o}, then the catalogue, then each dataset with
its distributions, terms of use and services (the validator's queries below). And the record as
served, through both, against the DCAT-AP 3.0.1 shapes and ours.
"""

import base64
import hashlib
import json

import nkod.pipeline as nkod
import pyoxigraph as ox
import pytest
import requests
from conftest import proxied_to, running_server
from rdf_documents import parse_document
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT, DCTERMS, RDF, SKOS
from tiers import tiered

from lodpub.config import Settings
from lodpub.describe.dcat import NORM_CONTEXT_URL
from lodpub.describe.served_record import record_query
from lodpub.namespaces import CANONICAL_BASE
from lodpub.validate import load_shapes, validate_graph


@pytest.fixture(scope="module")
def server(server_on_every_store):
    """Every test here runs on the embedded store and on each remote store."""
    return server_on_every_store

NKOD = {**nkod.DOWNLOAD_HEADERS, "Accept-Encoding": "gzip"}
SPDX_CHECKSUM = URIRef("http://spdx.org/rdf/terms#checksum")
SPDX_VALUE = URIRef("http://spdx.org/rdf/terms#checksumValue")

# The LKOD validator's queries (datagov-cz/lkod-validator).
CATALOG_QUERY = """PREFIX dcat: <http://www.w3.org/ns/dcat#>
CONSTRUCT { ?catalog ?catalogPredicate ?catalogObject . }
WHERE { ?catalog a dcat:Catalog ; ?catalogPredicate ?catalogObject . }"""

DATASETS_QUERY = """PREFIX dcat: <http://www.w3.org/ns/dcat#>
SELECT DISTINCT ?dataset WHERE { { ?dataset a dcat:Dataset . } UNION { ?dataset a dcat:DatasetSeries } }"""

DATASET_QUERY = """PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX pu: <https://data.gov.cz/slovník/podmínky-užití/>
CONSTRUCT { <DS> ?p ?o . ?distributionS ?distributionP ?distributionO .
            ?podmínkyS ?podmínkyP ?podmínkyO . ?serviceS ?serviceP ?serviceO . }
WHERE { <DS> ?p ?o .
  OPTIONAL { <DS> dcat:distribution ?distributionS . ?distributionS ?distributionP ?distributionO . }
  OPTIONAL { <DS> dcat:distribution ?distributionS . ?distributionS pu:specifikace ?podmínkyS . ?podmínkyS ?podmínkyP ?podmínkyO . }
  OPTIONAL { <DS> dcat:distribution ?distributionS . ?distributionS dcat:accessService ?serviceS . ?serviceS ?serviceP ?serviceO . } }"""

CHECKSUMS_QUERY = """PREFIX spdx: <http://spdx.org/rdf/terms#>
CONSTRUCT { ?checksum ?p ?o } WHERE { ?distribution spdx:checksum ?checksum . ?checksum ?p ?o }"""

def fetch_as_nkod(url: str) -> Graph:
    """GET `url` as NKOD's harvester does; it reads Turtle and JSON-LD only."""
    response = requests.get(url, headers=NKOD, timeout=60)
    assert response.status_code == 200, (url, response.status_code)
    media_type = response.headers["Content-Type"].split(";")[0]
    assert media_type in ("text/turtle", "application/ld+json"), (url, media_type)
    return parse_document(response.content, "turtle" if media_type == "text/turtle" else "json-ld")


def ask_endpoint(endpoint: str, query: str, accept: str) -> requests.Response:
    """POST a query form-encoded, as the validator's SPARQL client does."""
    response = requests.post(endpoint, data={"query": query}, headers={"Accept": accept}, timeout=60)
    assert response.status_code == 200, (query, response.text[:300])
    return response


def harvest_documents(catalog_url: str) -> tuple[Graph, dict[URIRef, Graph]]:
    """The catalogue, and each dataset's record, through "DCAT-AP Dokumenty"."""
    catalog = fetch_as_nkod(catalog_url)
    datasets = list(catalog.objects(URIRef(catalog_url), DCAT.dataset))  # the registered URL is the catalogue
    return catalog, {dataset: fetch_as_nkod(str(dataset)) for dataset in datasets}


def harvest_sparql(endpoint: str) -> tuple[Graph, dict[URIRef, Graph]]:
    """The catalogue, and each dataset's record, through "DCAT-AP SPARQL Endpoint"."""
    detected = ask_endpoint(endpoint, "ASK {?s ?p ?o}", "application/sparql-results+json;q=1.0,application/sparql-results+xml;q=0.7")
    assert detected.json()["boolean"] is True
    catalog = Graph().parse(data=ask_endpoint(endpoint, CATALOG_QUERY, "text/turtle").text, format="turtle")
    listed = ask_endpoint(endpoint, DATASETS_QUERY, "application/sparql-results+json").json()
    datasets = [URIRef(row["dataset"]["value"]) for row in listed["results"]["bindings"]]
    records = {}
    for dataset in datasets:
        answer = ask_endpoint(endpoint, DATASET_QUERY.replace("<DS>", f"<{dataset}>"), "text/turtle")
        records[dataset] = Graph().parse(data=answer.text, format="turtle")
    return catalog, records


# The same triples as DATASET_QUERY, as a union: rdflib evaluates the three OPTIONALs as a cross
# product (hundreds of millions of rows for thirteen distributions), a union in milliseconds.
LOCAL_DATASET_QUERY = """PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX pu: <https://data.gov.cz/slovník/podmínky-užití/>
CONSTRUCT { <DS> ?p ?o . ?distributionS ?distributionP ?distributionO .
            ?podmínkyS ?podmínkyP ?podmínkyO . ?serviceS ?serviceP ?serviceO . }
WHERE { { <DS> ?p ?o . }
  UNION { <DS> dcat:distribution ?distributionS . ?distributionS ?distributionP ?distributionO . }
  UNION { <DS> dcat:distribution/pu:specifikace ?podmínkyS . ?podmínkyS ?podmínkyP ?podmínkyO . }
  UNION { <DS> dcat:distribution/dcat:accessService ?serviceS . ?serviceS ?serviceP ?serviceO . } }"""


def construct(graph: Graph, query: str) -> Graph:
    """The graph `query` (a CONSTRUCT) makes of `graph`."""
    result = Graph()
    result += graph.query(query)
    return result


def dataset_record(graph: Graph, dataset: str) -> Graph:
    """What the validator's dataset query would return of `graph`, computed locally."""
    return construct(graph, LOCAL_DATASET_QUERY.replace("<DS>", f"<{dataset}>"))


def test_both_interfaces_give_the_complete_identical_record(server):
    catalog_url = server + "id/catalog/lkod"
    document_catalog, document_records = harvest_documents(catalog_url)
    sparql_catalog, sparql_records = harvest_sparql(server + "sparql")
    assert list(document_records) == [URIRef(server + "id/dataset/partnerships")]
    assert list(sparql_records) == list(document_records)  # no other dcat:Dataset in the endpoint
    assert isomorphic(construct(document_catalog, CATALOG_QUERY), sparql_catalog)
    for dataset, document in document_records.items():
        from_documents = dataset_record(document, dataset)
        assert isomorphic(from_documents, sparql_records[dataset])
        assert len(from_documents) > 300


def test_the_catalogue_in_json_ld_uses_the_norms_context_and_terms(server):
    response = requests.get(server + "id/catalog/lkod", headers={"Accept": "application/ld+json"}, timeout=30)
    assert response.json()["@context"] == NORM_CONTEXT_URL
    document = response.json()["@graph"][0]  # the record first; labels of what it uses after it
    assert document["iri"] == server + "id/catalog/lkod"
    assert document["typ"] == ["Katalog"]
    assert document["datová_sada"] == [server + "id/dataset/partnerships"]
    assert document["název"]["cs"] and document["popis"]["cs"]
    assert document["kontaktní_bod"][0]["e-mail"][0].startswith("mailto:")
    turtle = requests.get(server + "id/catalog/lkod", headers={"Accept": "text/turtle"}, timeout=30)
    assert isomorphic(parse_document(response.content, "json-ld"), Graph().parse(data=turtle.text, format="turtle"))


def test_the_dataset_in_json_ld_holds_its_distributions_terms_and_service(server):
    response = requests.get(server + "id/dataset/partnerships", headers={"Accept": "application/ld+json"}, timeout=30)
    turtle = requests.get(server + "id/dataset/partnerships", headers={"Accept": "text/turtle"}, timeout=30)
    assert isomorphic(parse_document(response.content, "json-ld"), Graph().parse(data=turtle.text, format="turtle"))
    document = response.json()["@graph"][0]
    assert document["iri"] == server + "id/dataset/partnerships"
    assert "Datová sada" in document["typ"]
    distributions = document["distribuce"]
    assert len(distributions) == 13 and all(isinstance(d, dict) for d in distributions)
    assert all(d["podmínky_užití"][0]["osobní_údaje"] == ["https://data.gov.cz/podmínky-užití/obsahuje-osobní-údaje/"]
               for d in distributions)
    (service,) = [d["přístupová_služba"][0] for d in distributions if "přístupová_služba" in d]
    assert service["přístupový_bod"] == [server + "sparql"]
    assert service["název"]["cs"]
    assert {"cs", "en"} <= set(document["klíčové_slovo"])


@pytest.mark.parametrize("interface", ["documents", "sparql"])
def test_sizes_and_checksums_are_those_of_the_files_served(server, interface):
    """At another base than the canonical one the dumps' IRIs are moved, so are their bytes: the
    record says what is served here."""
    harvest = harvest_documents if interface == "documents" else harvest_sparql
    _, records = harvest(server + ("id/catalog/lkod" if interface == "documents" else "sparql"))
    (record,) = records.values()
    if interface == "sparql":  # NKOD's record query stops at the checksum's IRI; a consumer asks on
        record += Graph().parse(format="turtle", data=ask_endpoint(server + "sparql", CHECKSUMS_QUERY, "text/turtle").text)
    downloads = list(record.subject_objects(DCAT.downloadURL))
    assert len(downloads) == 12
    for distribution, url in downloads:
        served = requests.get(str(url), timeout=30).content
        assert int(record.value(distribution, DCAT.byteSize)) == len(served), url
        checksum = record.value(distribution, SPDX_CHECKSUM)
        assert str(record.value(checksum, SPDX_VALUE)) == hashlib.sha256(served).hexdigest(), url


@pytest.fixture(scope="module")
@tiered("served")
def server_behind_https_proxy(project_release, tmp_path_factory):
    """The server as deployed: behind a proxy that serves it at the canonical https base."""
    with running_server(project_release.path.parent.parent, tmp_path_factory.mktemp("proxied"),
                        PROXY_HOPS="1", PUBLIC_BASE=CANONICAL_BASE) as base:
        yield base


@pytest.mark.served
def test_behind_the_proxy_the_record_is_the_one_the_build_validated(server_behind_https_proxy, project_release):
    headers = {**NKOD, **proxied_to(CANONICAL_BASE)}
    response = requests.get(server_behind_https_proxy + "id/dataset/partnerships", headers=headers, timeout=30,
                            allow_redirects=False)
    assert response.status_code == 303
    assert response.headers["Location"] == CANONICAL_BASE + "doc/id/dataset/partnerships"
    document = requests.get(server_behind_https_proxy + "doc/id/dataset/partnerships", headers=headers, timeout=30)
    served = Graph().parse(data=document.text, format="turtle")
    built = Graph().parse(project_release.path / "catalogue.ttl")
    void = Graph().parse(project_release.path / "void.ttl")
    dataset = CANONICAL_BASE + "id/dataset/partnerships"
    record, validated = set(dataset_record(served, dataset)), set(dataset_record(built, dataset))
    assert validated <= record  # every triple, literals as written, at the canonical IRIs
    assert record - validated <= set(void)  # the rest is the dataset's VoID description


def test_the_home_page_and_void_lead_to_the_catalogue(server):
    home = requests.get(server, headers={"Accept": "text/html"}, timeout=30).text
    assert 'href="/doc/id/catalog/lkod"' in home and 'href="/doc/id/dataset/partnerships"' in home
    void = Graph().parse(data=requests.get(server + ".well-known/void", headers={"Accept": "text/turtle"},
                                           timeout=30).text, format="turtle")
    assert (URIRef(server + "id/catalog/lkod"), DCAT.dataset, URIRef(server + "id/dataset/partnerships")) in void
    assert (URIRef(server + "id/catalog/lkod"), RDF.type, DCAT.Catalog) in void


def test_the_validator_in_a_browser_may_read_the_catalogue(server):
    """NKOD's validator runs in the browser, so the catalogue answers cross-origin requests."""
    response = requests.get(server + "id/catalog/lkod", headers={"Origin": "https://datagov-cz.github.io"}, timeout=30)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    preflight = requests.options(server + "sparql", headers={
        "Origin": "https://datagov-cz.github.io", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"}, timeout=30)
    assert preflight.status_code in (200, 204)
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]


def test_the_catalogue_file_at_another_base_matches_the_dumps_served(server):
    catalogue = Graph().parse(data=requests.get(server + "dumps/catalogue.ttl", timeout=30).text, format="turtle")
    for distribution, url in catalogue.subject_objects(DCAT.downloadURL):
        served = requests.get(str(url), timeout=30).content
        checksum = catalogue.value(distribution, SPDX_CHECKSUM)
        assert str(catalogue.value(checksum, SPDX_VALUE)) == hashlib.sha256(served).hexdigest()
    manifest = json.loads(requests.get(server + "dumps/manifest.json", timeout=30).text)
    assert manifest["base_iri"] == server


@pytest.mark.served
def test_behind_the_proxy_each_dump_is_sent_from_the_file_the_build_wrote(server_behind_https_proxy,
                                                                          project_release):
    headers = proxied_to(CANONICAL_BASE)
    manifest = json.loads((project_release.path / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["files"] + manifest["description"]:
        url = server_behind_https_proxy + "dumps/" + entry["name"]
        response = requests.get(url, headers=headers, timeout=30)
        assert response.status_code == 200, entry["name"]
        assert response.content == (project_release.path / entry["name"]).read_bytes()
        assert int(response.headers["Content-Length"]) == entry["bytes"]
        digest = base64.b64encode(bytes.fromhex(entry["sha256"])).decode()
        assert response.headers["Repr-Digest"] == f"sha-256=:{digest}:"
        again = requests.get(url, headers={**headers, "If-None-Match": response.headers["ETag"]}, timeout=30)
        assert again.status_code == 304 and again.content == b""
        head = requests.head(url, headers=headers, timeout=30)
        assert head.status_code == 200 and head.content == b""
        assert int(head.headers["Content-Length"]) == entry["bytes"]
    listed = requests.get(server_behind_https_proxy + "dumps/manifest.json", headers=headers, timeout=30).json()
    assert listed == manifest


# --- NKOD's own harvest (its pipeline's queries, tests/nkod/) --------------------------------


@pytest.fixture(scope="module")
def nkod_through_sparql(server) -> nkod.SparqlHarvest:
    """NKOD's harvest of the catalogue registered with its SPARQL endpoint."""
    return nkod.harvest_sparql(server + "sparql")


@pytest.fixture(scope="module")
def nkod_through_documents(server) -> nkod.DocumentsHarvest:
    """NKOD's harvest of the catalogue registered with its IRI ("DCAT-AP Dokumenty")."""
    return nkod.harvest_documents(server + "id/catalog/lkod")


def test_nkod_lists_our_one_dataset_through_the_endpoint(server, nkod_through_sparql):
    listed = {triple.object.value for triple in nkod_through_sparql.list_answer
              if triple.predicate.value == str(DCAT.dataset)}
    assert listed == {server + "id/dataset/partnerships"}


def test_nkod_record_query_is_answered_within_the_endpoints_bounds(nkod_through_sparql):
    """The query NKOD sends, whose WHERE clause multiplies the record's values (see
    test_describe_dcat.NKOD_RECORD_QUERY_SOLUTIONS), is answered whole: the embedded and Oxigraph
    servers here run with the default bounds (10 s, 10 000 triples), Virtuoso's with a minute."""
    answer = nkod_through_sparql.record_answer
    assert answer.status_code == 200, answer.text[:300]
    assert answer.headers["Content-Type"].startswith("text/turtle")
    assert "X-SPARQL-Truncated" not in answer.headers
    assert len(nkod_through_sparql.record_query) > nkod.RDF4J_MAXIMUM_URL_LENGTH  # so it went as a POST form


def test_nkod_makes_the_same_record_from_either_access_point(server, nkod_through_sparql, nkod_through_documents):
    """Apart from the tag of the access point, one difference: the dataset's document also says
    that our catalogue lists it, which NKOD copies as a dcat:dataset of our catalogue's IRI."""
    through_sparql, through_documents = set(nkod_through_sparql.nkod_record), set(nkod_through_documents.nkod_record)
    tag = "https://data.gov.cz/slovník/nkod/typ-datové-sady-dle-zdroje/"
    (only_sparql,) = through_sparql - through_documents
    nkod_dataset = only_sparql.subject.value
    assert (only_sparql.predicate.value, only_sparql.object.value) == (str(RDF.type), tag + "SPARQL")
    assert {(t.subject.value, t.predicate.value, t.object.value) for t in through_documents - through_sparql} == {
        (nkod_dataset, str(RDF.type), tag + "DokumentyDCAT"), (server + "id/catalog/lkod", str(DCAT.dataset), nkod_dataset)}


@pytest.mark.parametrize("access_point", ["sparql", "documents"])
def test_nkod_keeps_the_whole_record_in_both_languages(nkod_through_sparql, nkod_through_documents, access_point):
    harvest = nkod_through_sparql if access_point == "sparql" else nkod_through_documents
    record = Graph().parse(data=ox.serialize(harvest.nkod_record, format=ox.RdfFormat.N_TRIPLES), format="nt")
    (dataset,) = record.subjects(RDF.type, DCAT.Dataset)
    for predicate in (DCTERMS.title, DCTERMS.description):
        assert {value.language for value in record.objects(dataset, predicate)} == {"cs", "en"}
    counts = {predicate: len(set(record.objects(dataset, predicate)))
              for predicate in (DCAT.theme, DCAT.keyword, DCTERMS.spatial, DCAT.distribution)}
    assert counts == {DCAT.theme: 7, DCAT.keyword: 10, DCTERMS.spatial: 7, DCAT.distribution: 13}
    distributions = set(record.objects(dataset, DCAT.distribution))
    assert all(record.value(d, URIRef("https://data.gov.cz/slovník/podmínky-užití/specifikace")) for d in distributions)
    (service,) = record.objects(None, DCAT.accessService)
    assert {title.language for title in record.objects(service, DCTERMS.title)} == {"cs", "en"}
    (catalogue_record,) = record.subjects(RDF.type, DCAT.CatalogRecord)
    assert record.value(catalogue_record, DCTERMS.conformsTo) == URIRef("https://semiceu.github.io/DCAT-AP/releases/3.0.0")


def test_nkod_keeps_no_byte_size_or_checksum(nkod_through_sparql):
    """NKOD rebuilds the record from a fixed list of properties, which has neither: so where DCAT-AP
    2.1.1 (to which data.europa.eu converts what it harvests from NKOD) contradicts 3.0.1 (the byte
    size's datatype, the checksum's algorithm), nothing of ours reaches it (README, "How the
    record reaches data.europa.eu")."""
    predicates = {triple.predicate.value for triple in nkod_through_sparql.nkod_record}
    assert str(DCAT.accessURL) in predicates
    assert not predicates & {str(DCAT.byteSize), "http://spdx.org/rdf/terms#checksum"}


# --- The record as served is valid DCAT-AP, through both interfaces -------------------------

DCAT_AP_3 = ("standards/dcat-ap-3.0.1/html-shacl-shapes.ttl", "standards/dcat-ap-3.0.1/html-shacl-range.ttl",
             "standards/dcat-ap-3.0.1/html-shacl-mdr-vocabularies.shape.ttl")


def served_through_documents(address: str, base: str, headers: dict[str, str]) -> Graph:
    """The catalogue's document and those of the datasets it lists, merged, from the server at
    `address` that serves `base` (a harvester of documents gets these)."""
    def fetch(iri: str) -> Graph:
        response = requests.get(address + "doc/" + iri[len(base):], headers={**headers, "Accept": "text/turtle"},
                                timeout=30)
        assert response.status_code == 200, iri
        return Graph().parse(data=response.text, format="turtle")
    catalogue = fetch(base + "id/catalog/lkod")
    merged = Graph()
    merged += catalogue
    for dataset in catalogue.objects(URIRef(base + "id/catalog/lkod"), DCAT.dataset):
        merged += fetch(str(dataset))
    return merged


def served_through_sparql(address: str, base: str, headers: dict[str, str]) -> Graph:
    """The resources the catalogue graph names, with what the endpoint says of them (served_record)."""
    answer = requests.post(address + "sparql", data={"query": record_query(base)},
                           headers={**headers, "Accept": "text/turtle"}, timeout=60)
    assert answer.status_code == 200 and "X-SPARQL-Truncated" not in answer.headers, answer.text[:300]
    return Graph().parse(data=answer.text, format="turtle")


SERVED = {"documents": served_through_documents, "sparql": served_through_sparql}


def violations_of(graph: Graph, *shape_files: str) -> list[tuple[str, str | None]]:
    report = validate_graph(graph, load_shapes(Settings(), *shape_files))
    return [(str(result.focus_node), result.result_path) for result in report.violations]


@pytest.mark.parametrize("interface", SERVED)
def test_the_record_as_served_is_valid_dcat_ap_3_0_1(server, interface):
    served = SERVED[interface](server, server, {})
    assert len(served) > 400
    assert violations_of(served, *DCAT_AP_3) == []


@pytest.mark.parametrize("interface", SERVED)
@pytest.mark.served
def test_behind_the_proxy_the_record_as_served_passes_our_shapes_of_nkod_too(server_behind_https_proxy, interface):
    """At the canonical https base, as deployed (our shapes want https URLs, which a test server
    on loopback has not)."""
    served = SERVED[interface](server_behind_https_proxy, CANONICAL_BASE, proxied_to(CANONICAL_BASE))
    assert violations_of(served, *DCAT_AP_3, "catalogue") == []


def test_the_dataset_document_gives_the_scheme_of_every_concept_it_links_to(server):
    """A validator of the document alone checks the controlled vocabularies as one of the endpoint can."""
    document = fetch_as_nkod(server + "id/dataset/partnerships")
    dataset = URIRef(server + "id/dataset/partnerships")
    parts = {dataset, *document.objects(dataset, DCAT.distribution)}
    linked = {value for part in parts for predicate in (DCAT.theme, DCTERMS.language, DCTERMS.accrualPeriodicity,
                                                       DCTERMS.spatial, DCTERMS.format, DCTERMS.license)
              for value in document.objects(part, predicate)}
    rows = requests.post(server + "sparql", headers={"Accept": "application/sparql-results+json"}, timeout=30, data={
        "query": "SELECT ?concept ?scheme WHERE { VALUES ?concept { " + " ".join(f"<{iri}>" for iri in linked)
                 + " } ?concept <http://www.w3.org/2004/02/skos/core#inScheme> ?scheme }"}).json()["results"]["bindings"]
    in_endpoint = {(URIRef(row["concept"]["value"]), URIRef(row["scheme"]["value"])) for row in rows}
    assert len({concept for concept, _ in in_endpoint}) >= 15  # themes, languages, frequency, countries, formats
    assert {(concept, scheme) for concept in linked for scheme in document.objects(concept, SKOS.inScheme)} == in_endpoint
    licence_kind = document.value(URIRef("https://creativecommons.org/licenses/by/4.0/"), DCTERMS.type)
    assert document.value(licence_kind, SKOS.inScheme) == URIRef("http://purl.org/adms/licencetype/1.0")
