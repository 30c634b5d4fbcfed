"""The embedded store: a release held in memory by Oxigraph (pyoxigraph), nothing to start.

Oxigraph answers SPARQL and pattern lookups; rdflib stays the library the rest of the code works
with, so what leaves this module is rdflib terms and graphs.
"""

import json
from datetime import datetime
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef, Variable
from rdflib.namespace import OWL, RDF, RDFS, SKOS, XSD
from rdflib.query import Result
from rdflib.term import Node

from . import QueryError, SparqlAnswer, StoreUnavailable
from ..namespaces import LABEL_PREDICATES
from .query_text import read_query

DESCRIPTION_GRAPH = "graph/description"
CATALOGUE_GRAPH = "graph/catalogue"

# A catalogue record is complete with the resources it holds through these properties (its
# distributions, their terms of use and checksums, the data service, contact point, temporal
# coverage), so a document about a dataset or catalogue includes them.
RECORD_PARTS = {
    URIRef("http://www.w3.org/ns/dcat#distribution"),
    URIRef("http://www.w3.org/ns/dcat#accessService"),
    URIRef("http://www.w3.org/ns/dcat#contactPoint"),
    URIRef("http://purl.org/dc/terms/temporal"),
    URIRef("https://data.gov.cz/slovník/podmínky-užití/specifikace"),
    URIRef("http://spdx.org/rdf/terms#checksum"),
    URIRef("http://rdfs.org/ns/void#subset"),
    URIRef("http://rdfs.org/ns/void#classPartition"),
    URIRef("http://rdfs.org/ns/void#propertyPartition"),
}

RESULTS_FORMATS = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
GRAPH_FORMATS = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/ld+json": ox.RdfFormat.JSON_LD,
}


class EmbeddedStore:
    """One release (dist/current or another release folder) loaded into memory.

    Its named graphs come from the release's N-Quads dump; its VoID (void.ttl) goes into the
    named graph {base}graph/description. The default graph of a query is the union of them all.
    """

    def __init__(self, release: Path) -> None:
        if not (release / "manifest.json").is_file():
            raise StoreUnavailable(f"no release at {release}: run 'lodpub build' first")
        manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
        self.release = release.resolve()
        self.manifest = manifest
        self.base_iri: str = manifest["base_iri"]
        self.version: str = manifest["version"]
        self.built_at = datetime.fromisoformat(manifest["built_at"].replace("Z", "+00:00"))
        self.triple_count: int = manifest["triples"]
        self.description_graph = URIRef(self.base_iri + DESCRIPTION_GRAPH)
        # Relative IRIs in a query are resolved against the endpoint's IRI (as the protocol allows).
        self.endpoint_iri = self.base_iri + "sparql"
        files = [(release / "partnerships.nq", ox.RdfFormat.N_QUADS, None),
                 (release / "void.ttl", ox.RdfFormat.TURTLE, ox.NamedNode(str(self.description_graph)))]
        if (release / "catalogue.ttl").is_file():
            files.append((release / "catalogue.ttl", ox.RdfFormat.TURTLE, ox.NamedNode(self.base_iri + CATALOGUE_GRAPH)))
        self.oxigraph = ox.Store()
        for path, rdf_format, graph in files:
            self.oxigraph.bulk_load(path=str(path), format=rdf_format, **({"to_graph": graph} if graph else {}))
        self.written_literals = _literals_the_store_changed([f[0] for f in files], [f[1] for f in files])

    # --- what the web layer asks -------------------------------------------------------------

    def graph_names(self) -> list[URIRef]:
        """The named graphs of the dataset, sorted."""
        return sorted(URIRef(graph.value) for graph in self.oxigraph.named_graphs())

    def exists(self, iri: URIRef) -> bool:
        return next(self._triples(iri, None, None), None) is not None

    def description(self) -> Graph:
        graph = Graph()
        for quad in self.oxigraph.quads_for_pattern(None, None, None, ox.NamedNode(str(self.description_graph))):
            graph.add((to_rdflib(quad.subject), to_rdflib(quad.predicate), to_rdflib(quad.object)))
        return graph

    def subjects_under(self, prefix: str) -> list[URIRef]:
        query = f"SELECT DISTINCT ?s WHERE {{ ?s ?p ?o FILTER (isIRI(?s) && STRSTARTS(STR(?s), {_string(prefix)})) }}"
        return sorted(row["s"] for row in self.select(query))

    def labels(self, iris: set[URIRef]) -> Graph:
        graph = Graph()
        for iri in iris:
            for predicate in LABEL_PREDICATES:
                for triple in self._triples(iri, predicate, None):
                    graph.add(triple)
        return graph

    def select(self, query: str) -> list[dict[str, Node]]:
        solutions = self.oxigraph.query(query, use_default_graph_as_union=True)
        names = [variable.value for variable in solutions.variables]
        return [
            {name: to_rdflib(solution[name]) for name in names if solution[name] is not None}
            for solution in solutions
        ]

    def sparql(self, query: str, default_graphs: list[str] | None, named_graphs: list[str] | None,
               results_type: str, graph_type: str, max_rows: int,
               replacements: dict[tuple[Node, Node, Node], Node] | None = None) -> SparqlAnswer:
        if default_graphs is None and named_graphs is None:
            # The query's own FROM / FROM NAMED, if any; else the union of every graph. (Oxigraph
            # would ignore FROM if told to use the union, so it is told only when there is none.)
            options = {} if _names_a_dataset(query, self.endpoint_iri) else {"use_default_graph_as_union": True}
        else:
            options = {"default_graph": [ox.NamedNode(g) for g in default_graphs or []],
                       "named_graphs": [ox.NamedNode(g) for g in named_graphs or []]}
        try:
            result = self.oxigraph.query(query, base_iri=self.endpoint_iri, **options)
            if isinstance(result, ox.QueryBoolean):
                return SparqlAnswer("boolean", result.serialize(format=RESULTS_FORMATS[results_type]), results_type, False)
            rows = list(islice(_distinct(result) if isinstance(result, ox.QueryTriples) else result, max_rows + 1))
        except Exception as error:  # Oxigraph reports syntax, evaluation and remote errors alike
            raise QueryError(str(error)) from error
        truncated = len(rows) > max_rows
        if isinstance(result, ox.QuerySolutions):
            body = _serialise_solutions([v.value for v in result.variables], rows[:max_rows], results_type)
            return SparqlAnswer("solutions", body, results_type, truncated)
        replaced = {tuple(map(to_oxigraph, key)): to_oxigraph(value) for key, value in (replacements or {}).items()}
        triples = [_replaced(self._as_written(triple), replaced) for triple in rows[:max_rows]]
        return SparqlAnswer("graph", ox.serialize(triples, format=GRAPH_FORMATS[graph_type]), graph_type, truncated)

    def document(self, iri: URIRef) -> Graph:
        """The document about `iri`, so that a client can display it without further requests.

        - the resource's own triples, with the triples of the blank nodes they reach;
        - the labels (and types) of every resource it links to, and the labels of its properties;
        - the triples that link to it from other resources, with those resources' labels;
        - for the ontology, every term it defines; for a concept scheme, every concept in it; for a
          catalogue record, its parts (distributions, data services, terms of use...).
        """
        document = Graph()
        self._add_closure(document, iri)
        if next(self._triples(iri, RDF.type, OWL.Ontology), None):
            for term, _, _ in self._triples(None, RDFS.isDefinedBy, iri):
                self._add_closure(document, term)
        if next(self._triples(iri, RDF.type, SKOS.ConceptScheme), None):
            for concept, _, _ in self._triples(None, SKOS.inScheme, iri):
                self._add_closure(document, concept)
        for triple in self._triples(None, None, iri):
            if triple[0] != iri:
                document.add(triple)
        linked = {node for node in document.all_nodes() if isinstance(node, URIRef) and node != iri}
        document += self.labels(linked | set(document.predicates()))
        for node in linked:
            for triple in self._triples(node, RDF.type, None):
                document.add(triple)
        return document

    # --- helpers -------------------------------------------------------------------------------

    def _triples(self, subject: Node | None, predicate: Node | None, obj: Node | None):
        """rdflib triples matching the pattern in any graph (each once)."""
        seen = set()
        pattern = [to_oxigraph(term) if term is not None else None for term in (subject, predicate, obj)]
        for quad in self.oxigraph.quads_for_pattern(*pattern, None):
            written = self._as_written(quad.triple)
            triple = (to_rdflib(written.subject), to_rdflib(written.predicate), to_rdflib(written.object))
            if triple not in seen:
                seen.add(triple)
                yield triple

    def _as_written(self, triple: ox.Triple) -> ox.Triple:
        """`triple` with its literal as the release wrote it (see _literals_the_store_changed)."""
        if not self.written_literals or not isinstance(triple.object, ox.Literal):
            return triple
        subject = None if isinstance(triple.subject, ox.BlankNode) else triple.subject
        written = self.written_literals.get((subject, triple.predicate, triple.object))
        return ox.Triple(triple.subject, triple.predicate, written) if written is not None else triple

    def _add_closure(self, document: Graph, node: Node) -> None:
        """Add the triples of `node` and, recursively, of the blank nodes and record parts they lead to."""
        pending, seen = [node], set()
        while pending:
            subject = pending.pop()
            if subject in seen:
                continue
            seen.add(subject)
            for triple in self._triples(subject, None, None):
                document.add(triple)
                if isinstance(triple[2], BNode) or triple[1] in RECORD_PARTS:
                    pending.append(triple[2])


# Literals Oxigraph always keeps as written: strings, and texts with a language.
_KEPT_AS_WRITTEN = {"http://www.w3.org/2001/XMLSchema#string", "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"}


def _literals_the_store_changed(files: list[Path], formats: list[ox.RdfFormat]) -> dict:
    """The literals of `files` that Oxigraph stores differently from how they are written.

    Oxigraph keeps a literal by its value: "5"^^xsd:nonNegativeInteger comes back as
    "5"^^xsd:integer, "05" as "5", "1"^^xsd:boolean as "true". The value is the same, but the term
    is not, and standards check terms (DCAT-AP wants dcat:byteSize as xsd:nonNegativeInteger). So
    the store remembers, for each triple whose literal it changes, the literal as written, and
    gives that back in documents and CONSTRUCT/DESCRIBE answers. (SELECT answers show the stored
    value: a variable's binding is a value, not a triple.)

    Keys are (subject, predicate, stored literal); a blank-node subject is keyed as None, since
    the store names blank nodes afresh.
    """
    changed, stored_form = {}, _StoredForm()
    for path, rdf_format in zip(files, formats):
        for quad in ox.parse(path=str(path), format=rdf_format):
            literal = quad.object
            if not isinstance(literal, ox.Literal) or literal.datatype.value in _KEPT_AS_WRITTEN:
                continue
            stored = stored_form(literal)
            if stored != literal:
                subject = None if isinstance(quad.subject, ox.BlankNode) else quad.subject
                changed[(subject, quad.predicate, stored)] = literal
    return changed


class _StoredForm:
    """The form in which Oxigraph stores a literal, found by storing it in a scratch store."""

    _PLACE = ox.NamedNode("urn:x-lodpub:scratch")

    def __init__(self) -> None:
        self.scratch = ox.Store()
        self.known: dict = {}

    def __call__(self, literal: ox.Literal) -> ox.Literal:
        if literal not in self.known:
            self.scratch.add(ox.Quad(self._PLACE, self._PLACE, literal))
            stored = next(iter(self.scratch))
            self.scratch.remove(stored)
            self.known[literal] = stored.object
        return self.known[literal]


def _distinct(triples: Iterable[ox.Triple]) -> Iterator[ox.Triple]:
    """Each triple once. A CONSTRUCT answer is a graph, a set, but Oxigraph yields one triple per
    solution: NKOD's record query (three OPTIONALs on the distributions) repeats each triple
    hundreds of times, and the row limit must count triples, not repetitions."""
    seen: set[ox.Triple] = set()
    for triple in triples:
        if triple not in seen:
            seen.add(triple)
            yield triple


def _replaced(triple: ox.Triple, replacements: dict) -> ox.Triple:
    """`triple` with its object replaced, if it is a key of `replacements`."""
    if not replacements:
        return triple
    new = replacements.get((triple.subject, triple.predicate, triple.object))
    return triple if new is None else ox.Triple(triple.subject, triple.predicate, new)


def _names_a_dataset(query: str, base_iri: str) -> bool:
    """Whether the query has FROM or FROM NAMED clauses."""
    parsed = read_query(query, base_iri)
    return bool(parsed.default_graphs or parsed.named_graphs)


def _serialise_solutions(names: list[str], rows: list, media_type: str) -> bytes:
    """SELECT results in `media_type` by the libraries' serialisers: rdflib writes SPARQL JSON,
    Oxigraph reads it and writes the other formats (XML, CSV, TSV)."""
    result = Result("SELECT")
    result.vars = [Variable(name) for name in names]
    result.bindings = [
        {Variable(name): to_rdflib(row[name]) for name in names if row[name] is not None} for row in rows
    ]
    as_json = result.serialize(format="json")
    if media_type == "application/sparql-results+json":
        return as_json
    return ox.parse_query_results(as_json, ox.QueryResultsFormat.JSON).serialize(format=RESULTS_FORMATS[media_type])


def to_rdflib(term) -> Node:
    """An Oxigraph term as an rdflib term (a plain string stays plain, as rdflib reads it)."""
    if isinstance(term, ox.Triple):
        raise QueryError("answers holding quoted triples (RDF-star) are not supported")
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    datatype = term.datatype.value
    if datatype == str(XSD.string):
        return Literal(term.value)
    # As written: rdflib would otherwise rewrite the lexical form (e.g. "…Z" to "…+00:00").
    return Literal(term.value, datatype=URIRef(datatype), normalize=False)


def to_oxigraph(term: Node):
    """An rdflib term as an Oxigraph term."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if term.language:
        return ox.Literal(str(term), language=term.language)
    return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype or XSD.string)))


def _string(text: str) -> str:
    """A SPARQL string literal of `text`."""
    return json.dumps(text)
