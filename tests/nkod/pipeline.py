"""NKOD's harvest of a local catalogue, run as its pipeline "07.1 Harvestace LKOD a formulářů,
aktualizace uživatelského rozhraní" runs it, with its own queries (kept verbatim beside this file,
see PROVENANCE.md), each evaluated where the pipeline evaluates it: the queries it sends to an
LKOD on our server, over HTTP as RDF4J's SPARQL client sends them; the queries it runs on what it
fetched, locally (on Oxigraph here; on RDF4J's in-memory store in LinkedPipes ETL).

The pipeline's own data (the registration record, the publisher from the data-box register) is
stood in for by `Registration`: the least the queries need, with values of the Liberec Region.
"""

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pyoxigraph as ox
import requests

FOLDER = Path(__file__).resolve().parent

DCAT = "http://www.w3.org/ns/dcat#"
NKOD = "https://data.gov.cz/slovník/nkod/"
CHUNKED = "https://etl.linkedpipes.com/plugins/t-filestochunked/"
DATA_BOXES = "https://data.gov.cz/slovník/datové-schránky/"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")

# What RDF4J's SPARQLRepository sends with a graph query (RDFFormat.getAcceptParams: Turtle, the
# preferred format, unqualified; other formats 0.8, those without prefixes 0.7, RDF/XML 0.4).
RDF4J_GRAPH_ACCEPT = ("application/rdf+xml;q=0.4, application/xml;q=0.4, text/xml;q=0.4, "
                      "application/n-triples;q=0.7, text/plain;q=0.7, text/turtle, application/x-turtle, "
                      "text/n3;q=0.8, text/rdf+n3;q=0.8, application/trig;q=0.8, application/x-trig;q=0.8, "
                      "application/n-quads;q=0.7, text/x-nquads;q=0.7, text/nquads;q=0.7, "
                      "application/ld+json;q=0.8, application/x-binary-rdf;q=0.8, application/trix;q=0.8")
# RDF4J sends a query by GET unless the URL would be longer than this; then as a POST form.
RDF4J_MAXIMUM_URL_LENGTH = 4083
# LinkedPipes ETL's HTTP downloads (e-httpGetFiles) are Java's: its default Accept, and the
# User-Agent header the pipeline configures.
DOWNLOAD_HEADERS = {"User-Agent": "nkod/0.0.1", "Accept": "text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2"}


def query(name: str) -> str:
    """The pipeline's query kept in this folder as `name`, verbatim."""
    return (FOLDER / name).read_text(encoding="utf-8")


@dataclass(frozen=True)
class Registration:
    """What NKOD holds of a registered LKOD: its record (registered by data message, saved as
    `file_name`) of the catalogue `catalogue` at `access_point` of `kind` ("DcatApSparql" for an
    endpoint, "DcatApLkod" for the catalogue's IRI, "DCAT-AP Dokumenty"), and the publisher, from
    the register of data boxes (its IČO becomes the base of NKOD's IRIs)."""

    access_point: str
    kind: str
    catalogue: str = "https://data.gov.cz/zdroj/lkod/70891508/partnerships"
    file_name: str = "registrace-lkod.jsonld.txt"
    publisher: str = "https://rpp-opendata.egon.gov.cz/odrpp/zdroj/orgán-veřejné-moci/70891508"
    publisher_name: str = "Liberecký kraj"
    company_number: str = "70891508"

    def graph(self) -> list[ox.Quad]:
        """The registration and publisher triples the pipeline's queries read."""
        catalogue, box, message = (ox.NamedNode(self.catalogue), ox.NamedNode(self.catalogue + "/datová-schránka"),
                                   ox.NamedNode(self.catalogue + "/datová-zpráva"))
        file_name = ox.Literal(self.file_name)
        return [ox.Quad(*triple) for triple in (
            (catalogue, RDF_TYPE, ox.NamedNode(DCAT + "Catalog")),
            (catalogue, RDF_TYPE, ox.NamedNode(NKOD + self.kind)),
            (catalogue, ox.NamedNode(DCAT + "endpointURL"), ox.NamedNode(self.access_point)),
            (catalogue, ox.NamedNode(CHUNKED + "fileName"), file_name),
            (message, ox.NamedNode(NKOD + "jméno-souboru"), file_name),
            (message, ox.NamedNode(NKOD + "datová-schránka-poskytovatele"), box),
            (message, ox.NamedNode(NKOD + "datová-zpráva-přijata"),
             ox.Literal("2026-01-05T09:00:00", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#dateTime"))),
            (ox.NamedNode(self.publisher), ox.NamedNode(DATA_BOXES + "datová-schránka"), box),
            (ox.NamedNode(self.publisher), ox.NamedNode("http://purl.org/goodrelations/v1#legalName"),
             ox.Literal(self.publisher_name)),
            (ox.NamedNode(self.publisher), ox.NamedNode("http://www.w3.org/2004/02/skos/core#notation"),
             ox.Literal(self.company_number)),
        )]


def store_of(*parts: list[ox.Quad] | list[ox.Triple]) -> ox.Store:
    """A store holding `parts` in its default graph (as a LinkedPipes ETL component's input)."""
    store = ox.Store()
    for part in parts:
        store.extend(ox.Quad(item.subject, item.predicate, item.object) for item in part)
    return store


def construct(name: str, *inputs: list) -> list[ox.Triple]:
    """The pipeline's CONSTRUCT `name` over `inputs`, as a t-sparqlConstruct or linker evaluates it."""
    return list(store_of(*inputs).query(query(name)))


def generated_query(name: str, registration: Registration) -> str:
    """The query that the pipeline's query `name` writes for `registration` (the object of its
    task's esl:query)."""
    (text,) = [triple.object.value for triple in construct(name, registration.graph())
               if triple.predicate.value.endswith("#query")]
    return text


def values_clause(variable: str, iris: list[str]) -> str:
    """The VALUES block e-sparqlEndpointChunkedList puts for ${VALUES}: a table with one column,
    named after the CSV header the dataset list was written with, its IRIs one row each."""
    rows = "".join(f"  ( <{iri}> ) \n" for iri in iris)
    return f"VALUES (?{variable}  ) \n {{{rows} }} \n"


def send(endpoint: str, text: str, **parameters: str) -> requests.Response:
    """A graph query sent as RDF4J's SPARQLRepository sends it (with its own queryLn and infer
    parameters and those given, e.g. a timeout), by GET or, when long, by POST form."""
    form = {"query": text, "queryLn": "SPARQL", "infer": "false", **parameters}
    url = f"{endpoint}?{urlencode(form)}"
    headers = {"Accept": RDF4J_GRAPH_ACCEPT}
    if len(url) > RDF4J_MAXIMUM_URL_LENGTH:
        return requests.post(endpoint, data=form, headers=headers, timeout=120)
    return requests.get(url, headers=headers, timeout=120)


def parsed(response: requests.Response) -> list[ox.Triple]:
    """The triples of an RDF answer, in the format its Content-Type names (Turtle or JSON-LD)."""
    media_type = response.headers["Content-Type"].split(";")[0].strip()
    formats = {"text/turtle": ox.RdfFormat.TURTLE, "application/ld+json": ox.RdfFormat.JSON_LD}
    return [quad.triple for quad in ox.parse(response.content, format=formats[media_type], base_iri=response.url)]


@dataclass
class SparqlHarvest:
    """What each step of the harvest through "DCAT-AP SPARQL Endpoint" got."""

    list_answer: list[ox.Triple]
    record_query: str
    record_answer: requests.Response
    nkod_record: list[ox.Triple]


def harvest_sparql(endpoint: str) -> SparqlHarvest:
    """NKOD's harvest of the LKOD registered with the SPARQL endpoint `endpoint`: the list of
    datasets (e-sparqlEndpointList), the record query for them, VALUES put in as
    e-sparqlEndpointChunkedList does and sent with its timeout parameter, then NKOD's record
    made of the answer (the pipeline's linker, on the answer and the registration)."""
    registration = Registration(endpoint, "DcatApSparql")
    listed = send(endpoint, generated_query("sparql-1-list-query.rq", registration))
    listed.raise_for_status()
    list_answer = parsed(listed)
    (row_query,) = [triple.object.value for triple in construct("sparql-2-dataset-list.rq", list_answer)
                    if triple.predicate.value.endswith("#query")]
    datasets = [solution["dataset"].value for solution in store_of(list_answer).query(row_query)]
    record_query = generated_query("sparql-3-record-query.rq", registration).replace(
        "${VALUES}", values_clause("dataset", datasets))
    answer = send(endpoint, record_query, timeout="10000")
    nkod_record = []
    if answer.status_code == 200:
        linked = construct("sparql-4-registration-link.rq", registration.graph())
        nkod_record = construct("sparql-5-nkod-record.rq", parsed(answer), linked, registration.graph())
    return SparqlHarvest(list_answer, record_query, answer, nkod_record)


@dataclass
class DocumentsHarvest:
    """What each step of the harvest through "DCAT-AP Dokumenty" got."""

    catalogue: list[ox.Triple]
    datasets: dict[str, list[ox.Triple]]
    nkod_record: list[ox.Triple]


def harvest_documents(catalogue_url: str) -> DocumentsHarvest:
    """NKOD's harvest of the LKOD registered with its catalogue's IRI `catalogue_url`: the
    catalogue downloaded, each dataset it lists (dcat:dataset of the registered IRI itself)
    downloaded, and NKOD's record made of each (the pipeline's series update and linkers)."""
    registration = Registration(catalogue_url, "DcatApLkod")
    download = construct("documents-1-catalogue-download.rq", registration.graph())
    catalogue = fetch(catalogue_url)
    dataset_downloads = construct("documents-2-dataset-download.rq", download, catalogue)
    datasets = {triple.object.value: fetch(triple.object.value) for triple in dataset_downloads
                if triple.predicate.value == DCAT + "dataset"}
    nkod_record = []
    for document in datasets.values():
        chunk = store_of(document)
        chunk.update(query("documents-3-series-as-dataset.ru"))
        chunk_triples = [quad.triple for quad in chunk]
        linked = construct("documents-4-registration-link.rq", chunk_triples, dataset_downloads)
        nkod_record += construct("documents-5-nkod-record.rq", chunk_triples, linked, registration.graph())
    return DocumentsHarvest(catalogue, datasets, nkod_record)


def fetch(url: str) -> list[ox.Triple]:
    """A document downloaded as the pipeline downloads it (redirects followed), in RDF."""
    response = requests.get(url, headers=DOWNLOAD_HEADERS, timeout=60)
    response.raise_for_status()
    return parsed(response)
