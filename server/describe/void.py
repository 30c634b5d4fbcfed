"""The VoID description of the dataset: its size, partitions, vocabularies, dumps and licence."""

import hashlib
from collections.abc import Callable
from datetime import datetime

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, VOID, XSD

from ..namespaces import PREFIXES, dataset_iri, prefixes_for, shorten_iri
from .statistics import DataStatistics

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")

# What VoID repeats of the catalogue record about the dataset, when there is one.
SUMMARY_PROPERTIES = (DCTERMS.title, DCTERMS.description, DCTERMS.publisher, DCTERMS.license)


def dataset_summary(catalogue: Graph, base_iri: str) -> Graph:
    """The dataset's title, description, publisher and licence as its catalogue record (data/catalogue/)
    gives them; for a dataset without one, only a title naming where it is published (nothing
    more is known of it)."""
    dataset = URIRef(dataset_iri(base_iri))
    summary = Graph()
    for predicate in SUMMARY_PROPERTIES:
        for value in catalogue.objects(dataset, predicate):
            summary.add((dataset, predicate, value))
    if not len(summary):
        summary.add((dataset, DCTERMS.title, Literal(f"Datová sada na {base_iri}", lang="cs")))
        summary.add((dataset, DCTERMS.title, Literal(f"Dataset published at {base_iri}", lang="en")))
    return summary


def void_description(
    data: DataStatistics, base_iri: str, dump_names: list[str], version: str, built_at: datetime, source: URIRef | None,
    graph_sizes: dict[str, int], summary: Graph, description_graph: str | None = None,
    held_elsewhere: Callable[[Graph], int] = lambda graph: 0,
) -> Graph:
    """Describe the data (the union of the published graphs, of which `data` are the statistics)
    as a void:Dataset under `base_iri`,
    with `summary` (see dataset_summary) for its title, description, publisher and licence, and
    `source` (when given) as the page it was derived from (prov:wasDerivedFrom).

    Each named graph (IRI -> triples in `graph_sizes`) is a subset; the SPARQL endpoint queries
    their union; the graph's IRI is the subset's, so that it dereferences. `description_graph` names
    the graph this description is loaded into: it is a subset too, counting its own triples but the
    `held_elsewhere` (those another graph holds, which a store loads only there). Counts are exact. Partitions have IRIs under the
    dataset's (…/class/rp-Agreement), not blank nodes: the dataset IRI is also the catalogue's
    dcat:Dataset, and DCAT-AP-CZ wants its record without blank nodes.
    """
    dataset = URIRef(dataset_iri(base_iri))
    graph = Graph(bind_namespaces="none")
    graph.bind("void", VOID)
    graph.bind("dcterms", DCTERMS)
    add = graph.add
    add((dataset, RDF.type, VOID.Dataset))
    graph += summary
    if source is not None:  # the page the data was taken from, when the data describes it
        # prov:wasDerivedFrom, not dcterms:source: the dataset IRI is also the catalogue record's
        # dcat:Dataset, and DCAT-AP 3.0.1 gives dct:source the range dcat:Dataset (a page is none).
        # PROV says what is meant, that the data's content was taken from the page, as
        # data/provenance.ttl says of the data graph; dcterms:relation would only say "related".
        graph.bind("prov", PROV)
        add((dataset, PROV.wasDerivedFrom, source))
    add((dataset, DCTERMS.modified, Literal(built_at.strftime("%Y-%m-%dT%H:%M:%SZ"), datatype=XSD.dateTime)))
    add((dataset, OWL.versionInfo, Literal(version)))
    add((dataset, VOID.uriSpace, Literal(base_iri + "id/", datatype=XSD.anyURI)))  # typed, so it is rebased
    add((dataset, VOID.triples, Literal(data.triples)))
    add((dataset, VOID.entities, Literal(data.subjects_under(base_iri + "id/"))))
    add((dataset, VOID.distinctSubjects, Literal(len(data.subjects))))
    add((dataset, VOID.distinctObjects, Literal(data.distinct_objects)))
    add((dataset, VOID.sparqlEndpoint, URIRef(base_iri + "sparql")))
    for name in dump_names:
        add((dataset, VOID.dataDump, URIRef(f"{base_iri}dumps/{name}")))
    for name, size in sorted(graph_sizes.items()):
        _add_subset(graph, dataset, name, size)
    for vocabulary in _vocabularies(data):
        add((dataset, VOID.vocabulary, URIRef(vocabulary)))
    _add_partitions(graph, dataset, data, prefixes_for(base_iri))
    if description_graph is not None:
        _add_subset(graph, dataset, description_graph, None)
        # Its size is known once it is complete, and counts the one triple that states it.
        graph.add((URIRef(description_graph), VOID.triples, Literal(len(graph) + 1 - held_elsewhere(graph))))
    return graph


def _add_subset(graph: Graph, dataset: URIRef, name: str, size: int | None) -> None:
    """The named graph `name` as a subset of `dataset`: its name and (when given) its size."""
    subset = URIRef(name)  # the graph's name names the subset too, so it dereferences
    graph.add((dataset, VOID.subset, subset))
    graph.add((subset, RDF.type, VOID.Dataset))
    graph.add((subset, SD.name, subset))
    if size is not None:
        graph.add((subset, VOID.triples, Literal(size)))


def _vocabularies(data: DataStatistics) -> list[str]:
    """The namespaces (from the prefix table) of the classes and properties the data uses."""
    terms = [*data.properties, *data.classes]
    return sorted({namespace for namespace in PREFIXES.values() if any(term.startswith(namespace) for term in terms)})


def _part(dataset: URIRef, kind: str, term: URIRef, prefixes: dict[str, str]) -> URIRef:
    """The IRI of the partition of `dataset` for class or property `term`: its prefixed name
    (rp:Agreement -> …/class/rp-Agreement), or a digest of its IRI when no prefix fits."""
    name = shorten_iri(str(term), prefixes)
    if name.startswith("<"):
        name = hashlib.sha1(str(term).encode("utf-8")).hexdigest()[:16]
    return URIRef(f"{dataset}/{kind}/{name.replace(':', '-')}")


def _add_partitions(graph: Graph, dataset: URIRef, data: DataStatistics, prefixes: dict[str, str]) -> None:
    for kind, link, counted, count_property in (("class", VOID["class"], data.classes, VOID.entities),
                                                ("property", VOID.property, data.properties, VOID.triples)):
        for term, count in sorted(counted.items()):
            partition = _part(dataset, kind, URIRef(term), prefixes)
            graph.add((dataset, VOID[f"{kind}Partition"], partition))
            graph.add((partition, link, URIRef(term)))
            graph.add((partition, count_property, Literal(count)))
            _label_partition(graph, partition, term, count, data.labels.get(term, []), prefixes)
    graph.add((dataset, VOID.classes, Literal(len(data.classes))))
    graph.add((dataset, VOID.properties, Literal(len(data.properties))))


def _label_partition(graph: Graph, partition: URIRef, term: str, count: int, labels: list[Literal],
                     prefixes: dict[str, str]) -> None:
    """Name the partition for people: the term's label in each language it has ("dohoda: 5"),
    else its prefixed name."""
    for label in labels or [Literal(shorten_iri(term, prefixes))]:
        graph.add((partition, RDFS.label, Literal(f"{label}: {count}", lang=label.language)))
