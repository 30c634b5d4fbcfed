"""The DCAT-AP-CZ catalogue record of the dataset, for the national catalogue (NKOD) to harvest.

What people decide about the dataset (titles, publisher, contact, themes, terms of use) is written
in data/catalogue/; this module completes it with what the build knows: one distribution per dump
(size, SHA-256, format, media type), the SPARQL endpoint as a data service, the temporal coverage
of the data, the version, the time the data last changed and a link to the changelog. Every part of
the record has an IRI below the dataset's (no blank nodes), so that NKOD can dereference it.

The norm is "DCAT-AP-CZ: Rozhraní katalogů otevřených dat", version 2024-05-28; its JSON-LD context
is in standards/ (see standards/PROVENANCE.md) and the JSON-LD of our catalogue documents uses it.
"""

import functools
import json
from datetime import date, datetime
from pathlib import Path

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, RDF, XSD

from ..formats import BY_SUFFIX
from ..namespaces import dataset_iri
from .changes import CHANGELOG_TITLES, changelog_iri
from .statistics import DataStatistics

NORM_CONTEXT_URL = ("https://ofn.gov.cz/dcat-ap-cz-rozhraní-katalogů-otevřených-dat/2024-05-28/kontexty/"
                    "rozhraní-katalogů-otevřených-dat.jsonld")
NORM_CONTEXT_FILE = Path(__file__).resolve().parent / "standards" / "rozhrani-katalogu-otevrenych-dat-2024-05-28.jsonld"
CATALOG_PATH = "id/catalog/lkod"

PU = Namespace("https://data.gov.cz/slovník/podmínky-užití/")
SPDX = Namespace("http://spdx.org/rdf/terms#")
FILE_TYPE = Namespace("http://publications.europa.eu/resource/authority/file-type/")
IANA = "http://www.iana.org/assignments/media-types/"
SPARQL_PROTOCOL = URIRef("https://www.w3.org/TR/sparql11-protocol/")
DATA_THEME = "http://publications.europa.eu/resource/authority/data-theme/"
DCATAP = Namespace("http://data.europa.eu/r5r/")
DCAT_VERSION = URIRef("http://www.w3.org/ns/dcat#version")  # DCAT 3; rdflib knows DCAT 2
DISTRIBUTION_PROPERTIES = (DCTERMS.license, PU.specifikace, DCATAP.availability)

GZIP = URIRef(IANA + "application/gzip")
# DCAT-AP 3.0.1 wants the SPDX algorithm IRI in its https form (its vocabulary shapes check the prefix).
SHA256 = URIRef("https://spdx.org/rdf/terms#checksumAlgorithm_sha256")


@functools.cache
def norm_context() -> dict:
    """The terms of the norm's JSON-LD context (read once; do not modify)."""
    return json.loads(NORM_CONTEXT_FILE.read_text(encoding="utf-8"))["@context"]


def catalogue_record(metadata: Graph, base_iri: str, data: DataStatistics, dumps: list[dict], version: str,
                     modified: datetime) -> Graph:
    """The complete catalogue record: `metadata` (from data/catalogue/) with a distribution for each
    of `dumps` (manifest entries: name, media_type, bytes, sha256), the SPARQL service, the temporal
    coverage of `data`, the version, when the data last changed (`modified`: the build time of the
    release in which they did) and a link to the changelog."""
    record = Graph()
    record += metadata
    dataset = URIRef(dataset_iri(base_iri))
    # The licence, terms of use and availability are written once, for the dataset, but DCAT-AP
    # and the norm give them to each distribution, so they are moved there.
    for_each_distribution = [(p, o) for p in DISTRIBUTION_PROPERTIES for o in metadata.objects(dataset, p)]
    for predicate in DISTRIBUTION_PROPERTIES:
        record.remove((dataset, predicate, None))
    stamp = Literal(modified.strftime("%Y-%m-%dT%H:%M:%SZ"), datatype=XSD.dateTime, normalize=False)
    for described in (dataset, *record.subjects(DCAT.dataset, dataset)):
        record.add((described, DCTERMS.modified, stamp))
    record.add((dataset, DCAT_VERSION, Literal(version)))
    record.add((dataset, OWL.versionInfo, Literal(version)))
    _add_changelog(record, dataset, base_iri)
    _add_temporal_coverage(record, dataset, data)
    for dump in dumps:
        _add_dump(record, dataset, dump, base_iri, for_each_distribution)
    _add_sparql_service(record, dataset, base_iri, for_each_distribution)
    return record


def _add_changelog(record: Graph, dataset: URIRef, base_iri: str) -> None:
    """A link to the changelog: a dcterms:relation, as DCAT-AP's adms:versionNotes is only a text,
    and foaf:page (documentation) may be given once in DCAT-AP-CZ and is the home page."""
    changelog = changelog_iri(base_iri)
    record.add((dataset, DCTERMS.relation, changelog))
    record.add((changelog, RDF.type, FOAF.Document))
    for title in CHANGELOG_TITLES:
        record.add((changelog, DCTERMS.title, title))


def _add_temporal_coverage(record: Graph, dataset: URIRef, data: DataStatistics) -> None:
    """From the first to the last day the data dates (a month counts from its first to its last day)."""
    days = [date.fromisoformat(value) for value in data.dates]
    for month in data.months:
        year, number = int(month[:4]), int(month[5:7])
        following = date(year + number // 12, number % 12 + 1, 1)
        days += [date(year, number, 1), date.fromordinal(following.toordinal() - 1)]
    if not days:
        return
    coverage = URIRef(f"{dataset}/temporal-coverage")
    record.add((dataset, DCTERMS.temporal, coverage))
    record.add((coverage, RDF.type, DCTERMS.PeriodOfTime))
    record.add((coverage, DCAT.startDate, Literal(min(days).isoformat(), datatype=XSD.date)))
    record.add((coverage, DCAT.endDate, Literal(max(days).isoformat(), datatype=XSD.date)))


def _add_dump(record: Graph, dataset: URIRef, dump: dict, base_iri: str,
              for_each_distribution: list[tuple[URIRef, URIRef]]) -> None:
    name = dump["name"]
    compressed = name.endswith(".gz")
    suffix = Path(name[:-3] if compressed else name).suffix
    fmt = BY_SUFFIX[suffix]
    file_type, media_type, label = fmt.eu_file_type, fmt.media_type, fmt.label
    distribution = URIRef(f"{dataset}/distribution/{name.replace('.', '-')}")
    download = URIRef(f"{base_iri}dumps/{name}")
    gzip_note = (" (gzip)", ", komprimovaný gzipem", ", compressed with gzip") if compressed else ("", "", "")
    add = record.add
    _add_distribution(record, dataset, distribution, download, for_each_distribution,
                      title=label + gzip_note[0],
                      description_cs=f"Celá datová sada v RDF ({label}{gzip_note[1]}).",
                      description_en=f"The whole dataset in RDF ({label}{gzip_note[2]}).")
    add((distribution, DCAT.downloadURL, download))
    add((distribution, DCTERMS.format, FILE_TYPE[file_type]))
    add((distribution, DCAT.mediaType, URIRef(IANA + media_type)))
    if compressed:
        add((distribution, DCAT.compressFormat, GZIP))
    add((distribution, DCAT.byteSize, Literal(dump["bytes"], datatype=XSD.nonNegativeInteger)))
    checksum = URIRef(f"{distribution}/checksum")
    add((distribution, SPDX.checksum, checksum))
    add((checksum, RDF.type, SPDX.Checksum))
    add((checksum, SPDX.algorithm, SHA256))
    add((checksum, SPDX.checksumValue, Literal(dump["sha256"], datatype=XSD.hexBinary)))


def _add_distribution(record: Graph, dataset: URIRef, distribution: URIRef, access: URIRef,
                      for_each_distribution: list[tuple[URIRef, URIRef]], title: str, description_cs: str,
                      description_en: str) -> None:
    """What every distribution has: its title and description, access URL, and the dataset's
    licence, terms of use and availability."""
    add = record.add
    add((dataset, DCAT.distribution, distribution))
    add((distribution, RDF.type, DCAT.Distribution))
    # One title: a format's name reads the same in Czech and English ("Turtle", "SPARQL endpoint"),
    # and NKOD's harvest query multiplies each value by all the others (docs/consumers.md, "The catalogue for
    # NKOD"). The descriptions, which differ, are in both languages.
    add((distribution, DCTERMS.title, Literal(title, lang="cs")))
    add((distribution, DCTERMS.description, Literal(description_cs, lang="cs")))
    add((distribution, DCTERMS.description, Literal(description_en, lang="en")))
    add((distribution, DCAT.accessURL, access))
    for predicate, value in for_each_distribution:
        add((distribution, predicate, value))


def _add_sparql_service(record: Graph, dataset: URIRef, base_iri: str,
                        for_each_distribution: list[tuple[URIRef, URIRef]]) -> None:
    endpoint = URIRef(base_iri + "sparql")
    service = URIRef(f"{dataset}/service/sparql")
    distribution = URIRef(f"{dataset}/distribution/sparql")
    add = record.add
    _add_distribution(record, dataset, distribution, endpoint, for_each_distribution, title="SPARQL endpoint",
                      description_cs="Celá datová sada k dotazování jazykem SPARQL.",
                      description_en="The whole dataset, to query with SPARQL.")
    add((distribution, DCTERMS.format, FILE_TYPE.SPARQLQ))
    add((distribution, DCAT.accessService, service))
    add((service, RDF.type, DCAT.DataService))
    add((service, DCTERMS.title, Literal("SPARQL endpoint partnerství Libereckého kraje", lang="cs")))
    add((service, DCTERMS.title, Literal("SPARQL endpoint of the Liberec Region's partnerships", lang="en")))
    add((service, DCAT.endpointURL, endpoint))
    add((service, DCAT.endpointDescription, endpoint))
    add((service, DCTERMS.conformsTo, SPARQL_PROTOCOL))
    add((service, DCAT.servesDataset, dataset))
    # What DCAT-AP recommends a data service says, as the dataset says it (of the themes, the EU
    # data themes: the EuroVoc concepts describe the data, not the service).
    for predicate in (DCTERMS.publisher, DCAT.contactPoint, DCAT.keyword):
        for value in record.objects(dataset, predicate):
            add((service, predicate, value))
    for theme in record.objects(dataset, DCAT.theme):
        if str(theme).startswith(DATA_THEME):
            add((service, DCAT.theme, theme))
    for predicate, value in for_each_distribution:
        if predicate == DCTERMS.license:
            add((service, predicate, value))
