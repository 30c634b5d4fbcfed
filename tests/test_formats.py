"""The one table of formats: each entry is what both writers (rdflib's and Oxigraph's) and both
readers call it, and no name a client may send stands for two formats of one table."""

import csv
import io

import pyoxigraph as ox
import pytest
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.compare import isomorphic

from lodpub.formats import (
    BY_SUFFIX,
    DOCUMENT_FORMATS,
    GRAPH_FORMATS,
    HTML,
    NQUADS,
    RESULTS_CSV,
    RESULTS_FORMATS,
    TRIG,
    rdf_format_of,
    results_format_of,
)

EXAMPLE = Graph()
EXAMPLE.add((URIRef("https://example.org/a"), URIRef("https://example.org/name"), Literal("Liberecký kraj", lang="cs")))
EXAMPLE.add((URIRef("https://example.org/a"), URIRef("https://example.org/b"), URIRef("https://example.org/c")))


@pytest.mark.parametrize("table", [DOCUMENT_FORMATS, GRAPH_FORMATS, RESULTS_FORMATS], ids=["documents", "graphs", "results"])
def test_no_name_stands_for_two_formats_of_a_table(table):
    names = [name for fmt in table for name in {fmt.key, fmt.media_type, *fmt.aliases}]
    assert len(names) == len(set(names)), sorted(name for name in names if names.count(name) > 1)


@pytest.mark.parametrize("fmt", list(BY_SUFFIX.values()), ids=lambda fmt: fmt.key)
def test_what_oxigraph_writes_rdflib_reads_as_the_same_graph(fmt):
    triples = [ox.Triple(ox.NamedNode(str(s)), ox.NamedNode(str(p)),
                         ox.Literal(str(o), language=o.language) if isinstance(o, Literal) else ox.NamedNode(str(o)))
               for s, p, o in EXAMPLE]
    written = ox.serialize([ox.Quad(*triple) for triple in triples] if fmt in (NQUADS, TRIG) else triples,
                           format=fmt.oxigraph)
    read = Dataset()
    read.parse(data=written, format=fmt.serializer)
    union = Graph()
    for subject, predicate, value, _ in read.quads():
        union.add((subject, predicate, value))
    assert isomorphic(union, EXAMPLE)
    assert rdf_format_of(fmt.media_type) is fmt and BY_SUFFIX[fmt.suffix] is fmt


@pytest.mark.parametrize("fmt", [fmt for fmt in DOCUMENT_FORMATS if fmt is not HTML], ids=lambda fmt: fmt.key)
def test_what_rdflib_writes_oxigraph_reads(fmt):
    written = EXAMPLE.serialize(format=fmt.serializer, encoding="utf-8")
    assert len(list(ox.parse(written, format=fmt.oxigraph))) == len(EXAMPLE)


@pytest.mark.parametrize("fmt", RESULTS_FORMATS, ids=lambda fmt: fmt.key)
def test_each_results_format_is_written_and_read_back_by_oxigraph(fmt):
    store = ox.Store()
    solutions = store.query("SELECT ?x WHERE { VALUES ?x { 1 2 } }")
    written = solutions.serialize(format=fmt.oxigraph)
    if fmt is RESULTS_CSV:  # lossy, so Oxigraph does not read it: Python's CSV reader does
        assert list(csv.reader(io.StringIO(written.decode()))) == [["x"], ["1"], ["2"]]
    else:
        assert len(list(ox.parse_query_results(written, format=fmt.oxigraph))) == 2
    assert results_format_of(fmt.media_type) is fmt
    if fmt.booleans:
        assert ox.parse_query_results(store.query("ASK {}").serialize(format=fmt.oxigraph), format=fmt.oxigraph)
