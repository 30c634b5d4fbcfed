"""The catalogue record as a release serves it, through both interfaces of DCAT-AP-CZ.

`catalogue.ttl` is what the build writes, but not what a harvester reads: at the dataset's IRI the
server sends the record merged with the dataset's VoID and the labels, types and schemes of what
it links to, and the SPARQL endpoint answers over the union of every named graph. A record that is
valid as a file can be invalid as served (the VoID's dcterms:source once was). So the build and the
tests validate these views of a release, as a harvester gets them:

- "documents": what "DCAT-AP Dokumenty" gives, the documents of each catalogue and of each dataset
  it lists, merged (as NKOD merges the documents it fetches);
- "SPARQL": what "DCAT-AP SPARQL Endpoint" gives, every resource that the catalogue graph names,
  with what the endpoint's default graph (the union) says of it.
"""

from rdflib import Graph
from rdflib.namespace import DCAT

from ..store import Store
from ..store.query_text import read_query
from ..store.sparql_store import CATALOGUE_GRAPH

# As many triples as any record has: the view must be whole, not cut at the endpoint's row limit.
_ALL_TRIPLES = 10_000_000


def served_record(store: Store) -> dict[str, Graph]:
    """{"documents": ..., "SPARQL": ...}: the catalogue record as `store` serves it (see the module)."""
    return {"documents": record_documents(store), "SPARQL": record_in_sparql(store)}


def record_documents(store: Store) -> Graph:
    """The documents of every catalogue in the catalogue graph and of every dataset they list, merged."""
    catalogues = [row["catalogue"] for row in store.select(
        f"SELECT ?catalogue WHERE {{ GRAPH <{_catalogue_graph(store.base_iri)}> {{ ?catalogue a <{DCAT.Catalog}> }} }}")]
    merged = Graph()
    for catalogue in catalogues:
        document = store.document(catalogue)
        merged += document
        for dataset in document.objects(catalogue, DCAT.dataset):
            merged += store.document(dataset)
    return merged


def record_in_sparql(store: Store) -> Graph:
    """Every resource the catalogue graph names, with what the endpoint says of it (record_query),
    as a CONSTRUCT over /sparql returns them."""
    query = read_query(record_query(store.base_iri), store.base_iri + "sparql")
    answer = store.sparql(query, None, None, "application/sparql-results+json",
                          "application/n-triples", _ALL_TRIPLES)
    return Graph().parse(data=answer.body, format="nt")


def record_query(base_iri: str) -> str:
    """The CONSTRUCT of every resource that the catalogue graph of the dataset at `base_iri` names
    (as subject or object), with every triple the endpoint's default graph (the union) has about it."""
    graph = _catalogue_graph(base_iri)
    return (f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {{ GRAPH <{graph}> {{ ?s ?named ?value }} }} "
            f"UNION {{ GRAPH <{graph}> {{ ?subject ?named ?s }} FILTER (isIRI(?s)) }} ?s ?p ?o }}")


def _catalogue_graph(base_iri: str) -> str:
    return base_iri + CATALOGUE_GRAPH
