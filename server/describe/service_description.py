"""The SPARQL 1.1 Service Description of the endpoint: what it speaks, answers in, and holds."""

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, VOID

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS = Namespace("http://www.w3.org/ns/formats/")

RESULT_FORMATS = ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                  "Turtle", "N-Triples", "RDF_XML", "JSON-LD")

GRAPH_TITLES = {
    "graph/data": ("Data: partnerships, agreements, events, people, places", "Data: partnerství, dohody, události, osoby, místa"),
    "graph/ontology": ("The ontology and the labels of the reused terms", "Ontologie a popisky převzatých termínů"),
    "graph/vocabularies": ("The controlled vocabularies (SKOS)", "Řízené slovníky (SKOS)"),
    "graph/authorities": ("Facts of public registers: EU table entries, links and codes (Wikidata, NUTS, RÚIAN, RPP, ISO 3166-2)",
                          "Údaje veřejných registrů: záznamy tabulek EU, odkazy a kódy (Wikidata, NUTS, RÚIAN, RPP, ISO 3166-2)"),
    "graph/description": ("The description of the dataset (VoID)", "Popis datové sady (VoID)"),
    "graph/catalogue": ("The catalogue record of the dataset (DCAT-AP-CZ)", "Katalogizační záznam datové sady (DCAT-AP-CZ)"),
}


def service_description(endpoint: str, base_iri: str, graph_sizes: dict[str, int], limits: dict[str, object]) -> Graph:
    """Describe the endpoint at `endpoint`, whose named graphs (IRI -> triples) are `graph_sizes`.

    The default graph is the union of the named graphs (sd:UnionDefaultGraph).
    """
    service = URIRef(endpoint)
    graph = Graph(bind_namespaces="none")
    graph.bind("sd", SD)
    graph.bind("void", VOID)
    graph.bind("dcterms", DCTERMS)
    add = graph.add
    add((service, RDF.type, SD.Service))
    add((service, SD.endpoint, service))
    add((service, SD.supportedLanguage, SD.SPARQL11Query))
    add((service, SD.feature, SD.UnionDefaultGraph))
    for name in RESULT_FORMATS:
        add((service, SD.resultFormat, FORMATS[name]))
    add((service, DCTERMS.title, Literal("SPARQL endpoint of the Liberec Region's partnerships", lang="en")))
    add((service, DCTERMS.title, Literal("SPARQL endpoint partnerství Libereckého kraje", lang="cs")))
    add((service, RDFS.comment, Literal(
        "Read-only. The default graph is the union of the named graphs. Limits: "
        + ", ".join(f"{name} {value}" for name, value in limits.items())
        + ". SERVICE calls only to allow-listed endpoints; FROM and the dataset parameters select among "
          "the named graphs, nothing is loaded.", lang="en")))
    dataset, default_graph = BNode(), BNode()
    add((service, SD.defaultDataset, dataset))
    add((dataset, RDF.type, SD.Dataset))
    add((dataset, SD.defaultGraph, default_graph))
    add((default_graph, RDF.type, SD.Graph))
    add((default_graph, VOID.triples, Literal(sum(graph_sizes.values()))))
    for name, size in sorted(graph_sizes.items()):
        named, described = BNode(), BNode()
        add((dataset, SD.namedGraph, named))
        add((named, RDF.type, SD.NamedGraph))
        add((named, SD.name, URIRef(name)))
        add((named, SD.graph, described))
        add((described, RDF.type, SD.Graph))
        add((described, VOID.triples, Literal(size)))
        titles = GRAPH_TITLES.get(name[len(base_iri):])
        if titles:
            add((named, DCTERMS.title, Literal(titles[0], lang="en")))
            add((named, DCTERMS.title, Literal(titles[1], lang="cs")))
    return graph
