"""The VoID description of the dataset: its size, partitions, vocabularies, dumps and licence."""

from collections import Counter
from datetime import datetime

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, VOID, XSD

from ..namespaces import PREFIXES, dataset_iri

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")

LICENCE = URIRef("https://creativecommons.org/licenses/by/4.0/")
PUBLISHER = URIRef("https://rpp-opendata.egon.gov.cz/odrpp/zdroj/orgán-veřejné-moci/70891508")
TITLE = {
    "cs": "Mezinárodní partnerství Libereckého kraje",
    "en": "International partnerships of the Liberec Region",
}
DESCRIPTION = {
    "cs": "Partnerství Libereckého kraje se zahraničními regiony jako propojená otevřená data: dohody a jejich "
          "signatáři, události ve vývoji spolupráce, stav v čase, oblasti spolupráce a dokumenty, převzaté ze "
          "stránky kraje „Uzavřená dohoda“.",
    "en": "The Liberec Region's partnerships with regions abroad as linked open data: agreements and their "
          "signatories, the events in the life of each cooperation, status over time, cooperation areas and "
          "documents, taken from the Region's web page “Uzavřená dohoda”.",
}


def void_description(
    data: Graph, base_iri: str, dump_names: list[str], version: str, built_at: datetime, source: URIRef,
    graph_sizes: dict[str, int],
) -> Graph:
    """Describe `data` (the union of the published graphs) as a void:Dataset under `base_iri`.

    Each named graph (IRI -> triples in `graph_sizes`) is a subset; the SPARQL endpoint queries
    their union. Counts are exact; partitions and subsets are blank nodes, as nobody links to them.
    """
    dataset = URIRef(dataset_iri(base_iri))
    graph = Graph(bind_namespaces="none")
    graph.bind("void", VOID)
    graph.bind("dcterms", DCTERMS)
    add = graph.add
    add((dataset, RDF.type, VOID.Dataset))
    for language in ("cs", "en"):
        add((dataset, DCTERMS.title, Literal(TITLE[language], lang=language)))
        add((dataset, DCTERMS.description, Literal(DESCRIPTION[language], lang=language)))
    add((dataset, DCTERMS.publisher, PUBLISHER))
    add((dataset, DCTERMS.license, LICENCE))
    add((dataset, DCTERMS.source, source))
    add((dataset, DCTERMS.modified, Literal(built_at.strftime("%Y-%m-%dT%H:%M:%SZ"), datatype=XSD.dateTime)))
    add((dataset, OWL.versionInfo, Literal(version)))
    add((dataset, VOID.uriSpace, Literal(base_iri + "id/", datatype=XSD.anyURI)))  # typed, so it is rebased
    add((dataset, VOID.triples, Literal(len(data))))
    entities = {s for s in data.subjects() if isinstance(s, URIRef) and str(s).startswith(base_iri + "id/")}
    add((dataset, VOID.entities, Literal(len(entities))))
    add((dataset, VOID.distinctSubjects, Literal(len(set(data.subjects())))))
    add((dataset, VOID.distinctObjects, Literal(len(set(data.objects())))))
    add((dataset, VOID.sparqlEndpoint, URIRef(base_iri + "sparql")))
    for name in dump_names:
        add((dataset, VOID.dataDump, URIRef(f"{base_iri}dumps/{name}")))
    for name, size in sorted(graph_sizes.items()):
        subset = BNode()
        add((dataset, VOID.subset, subset))
        add((subset, RDF.type, VOID.Dataset))
        add((subset, SD.name, URIRef(name)))
        add((subset, VOID.triples, Literal(size)))
    for vocabulary in _vocabularies(data):
        add((dataset, VOID.vocabulary, URIRef(vocabulary)))
    _add_partitions(graph, dataset, data)
    return graph


def _vocabularies(data: Graph) -> list[str]:
    """The namespaces (from the prefix table) of the classes and properties `data` uses."""
    terms = set(data.predicates()) | set(data.objects(None, RDF.type))
    return sorted(
        {namespace for namespace in PREFIXES.values() if any(str(term).startswith(namespace) for term in terms)}
    )


def _add_partitions(graph: Graph, dataset: URIRef, data: Graph) -> None:
    classes = Counter(cls for _, cls in data.subject_objects(RDF.type))
    for cls, count in sorted(classes.items()):
        partition = BNode()
        graph.add((dataset, VOID.classPartition, partition))
        graph.add((partition, VOID["class"], cls))
        graph.add((partition, VOID.entities, Literal(count)))
    properties = Counter(data.predicates())
    for prop, count in sorted(properties.items()):
        partition = BNode()
        graph.add((dataset, VOID.propertyPartition, partition))
        graph.add((partition, VOID.property, prop))
        graph.add((partition, VOID.triples, Literal(count)))
    graph.add((dataset, VOID.classes, Literal(len(classes))))
    graph.add((dataset, VOID.properties, Literal(len(properties))))
