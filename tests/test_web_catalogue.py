"""The local catalogue (LKOD) harvested over HTTP as the national catalogue (NKOD) harvests it,
through both interfaces of DCAT-AP-CZ 2024-05-28, against a running server.

"DCAT-AP Dokumenty": NKOD fetches the registered catalogue URL and every dcat:dataset IRI in it,
with User-Agent nkod/0.0.1 and Java's default Accept header, following redirects, and reads
Turtle or JSON-LD. "DCAT-AP SPARQL Endpoint": NKOD's validator asks ASK {?s ?p ?o}, then the
catalogue, then each dataset with its distributions, terms of use and services (the queries
below are those of datagov-cz/lkod-validator and of NKOD's harvesting pipeline).
"""

import base64
import hashlib
import json

import pytest
import requests
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT, RDF

from conftest import proxied_to, running_server
from rdf_documents import parse_document
from server.describe.dcat import NORM_CONTEXT_URL
from server.namespaces import CANONICAL_BASE


@pytest.fixture(scope="module")
def server(server_on_every_store):
    """Every test here runs on the embedded store and on each remote store."""
    return server_on_every_store

JAVA_DEFAULT_ACCEPT = "text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2"
NKOD = {"User-Agent": "nkod/0.0.1", "Accept": JAVA_DEFAULT_ACCEPT, "Accept-Encoding": "gzip"}
SPDX_CHECKSUM = URIRef("http://spdx.org/rdf/terms#checksum")
SPDX_VALUE = URIRef("http://spdx.org/rdf/terms#checksumValue")

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

# What NKOD keeps of a harvested record (the patterns of its harvesting pipeline): a dataset
# missing any of these is dropped, as are distributions and services missing theirs.
ACCEPTED_DATASETS = """PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT DISTINCT ?dataset WHERE {
  ?dataset a dcat:Dataset ; dcterms:title ?title ; dcterms:description ?description ; dcat:theme ?theme ;
    dcterms:accrualPeriodicity ?periodicity ; dcat:keyword ?keyword ; dcterms:spatial ?spatial .
  FILTER(isIRI(?spatial) && isIRI(?theme) && isIRI(?periodicity)) }"""
ACCEPTED_DISTRIBUTIONS = """PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX pu: <https://data.gov.cz/slovník/podmínky-užití/>
SELECT DISTINCT ?distribution WHERE {
  ?dataset dcat:distribution ?distribution .
  ?distribution a dcat:Distribution ; dcat:accessURL ?url ; pu:specifikace ?terms .
  ?terms a pu:Specifikace ; pu:autorské-dílo ?work ; pu:databáze-jako-autorské-dílo ?database ;
    pu:databáze-chráněná-zvláštními-právy ?sui ; pu:osobní-údaje ?personal .
  FILTER(isIRI(?url) && isIRI(?work) && isIRI(?database) && isIRI(?sui) && isIRI(?personal)) }"""
ACCEPTED_SERVICES = """PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT DISTINCT ?service WHERE {
  ?distribution dcat:accessService ?service . ?service a dcat:DataService ; dcterms:title ?title ; dcat:endpointURL ?endpoint .
  FILTER(isIRI(?endpoint)) }"""


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
    """What NKOD's dataset query would return of `graph`, computed locally."""
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


@pytest.mark.parametrize("interface", ["documents", "sparql"])
def test_nkod_keeps_the_dataset_every_distribution_and_the_service(server, interface):
    harvest = harvest_documents if interface == "documents" else harvest_sparql
    _, records = harvest(server + ("id/catalog/lkod" if interface == "documents" else "sparql"))
    (record,) = records.values()
    assert [row[0] for row in record.query(ACCEPTED_DATASETS)] == list(records)
    accepted = {row[0] for row in record.query(ACCEPTED_DISTRIBUTIONS)}
    assert accepted == set(record.objects(next(iter(records)), DCAT.distribution))
    assert len(accepted) == 13  # twelve dumps and the SPARQL endpoint
    assert len(list(record.query(ACCEPTED_SERVICES))) == 1


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
    document = requests.get(server + "id/dataset/partnerships", headers={"Accept": "application/ld+json"},
                            timeout=30).json()["@graph"][0]
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
def server_behind_https_proxy(project_release, tmp_path_factory):
    """The server as deployed: behind a proxy that serves it at the canonical https base."""
    with running_server(project_release.path.parent.parent, tmp_path_factory.mktemp("proxied"),
                        PROXY_HOPS="1") as base:
        yield base


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
