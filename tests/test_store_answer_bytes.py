"""SPARQL answers written by Oxigraph's serialisers at once (store/answer_bytes.py) are, byte for byte,
the answers of the former way: solutions cut as TSV and written again, every triple of a graph read
into Python, made distinct, cut and given its literal as written."""

import shutil
from itertools import islice
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from lodpub.build import build
from lodpub.config import load_settings
from lodpub.formats import GRAPH_FORMATS, RESULTS_FORMATS, results_format_of
from lodpub.store.answer_bytes import serialised_graph, solutions_bytes
from lodpub.store.embedded import EmbeddedStore
from lodpub.store.query_text import read_query

MINI = Path(__file__).parent / "fixtures" / "mini"
THING = URIRef("https://example.org/thing")
SAYS = URIRef("https://example.org/says")
# Literals of every kind an answer writes: typed (some Oxigraph keeps by value), with a language,
# of several scripts, with characters every format escapes, and with the marks answer_bytes counts.
LITERALS = [
    Literal("5", datatype=XSD.nonNegativeInteger), Literal("07", datatype=XSD.integer),
    Literal("-3", datatype=XSD.integer), Literal("1", datatype=XSD.boolean),
    Literal("2020-01-01T00:00:00.000Z", datatype=XSD.dateTime), Literal("5.50", datatype=XSD.decimal),
    Literal("1.5E3", datatype=XSD.double), Literal("2021-02-03", datatype=XSD.date),
    Literal("2020", datatype=XSD.gYear), Literal("psáno", lang="cs"), Literal("Liberecký kraj", lang="cs-CZ"),
    Literal("Ελλάδα 中文 😀"), Literal('a "quoted"\ttab\nnew line \\ back'), Literal("x},{y"),
    Literal("},{},{"), Literal("<result>"), Literal("</result><result>"), Literal("a < b & c > d"),
    Literal(""), Literal("odd", datatype=URIRef("https://example.org/datatype")),
]
GRAPH_TYPES = [fmt.media_type for fmt in GRAPH_FORMATS]
RESULTS_TYPES = [fmt.media_type for fmt in RESULTS_FORMATS]
SELECTS = [
    "SELECT * WHERE { ?s ?p ?o }",
    "SELECT ?o WHERE { ?s <https://example.org/says> ?o } ORDER BY STR(?o)",
    "SELECT ?s ?p WHERE { ?s ?p <https://example.org/nothing> }",  # empty
    "SELECT ?x ?s WHERE { VALUES ?x { 1 2 3 } OPTIONAL { ?s <https://example.org/nothing> ?o } }",  # unbound
    "SELECT * WHERE { VALUES ?x { 1 2 } }  ",
    "SELECT ?x WHERE { VALUES ?x { 1 2 } FILTER (false) }",
    "SELECT * WHERE { { VALUES ?x { 1 } } UNION { } }",  # a solution that binds nothing
    "SELECT ?b ?o WHERE { ?b <https://example.org/count> ?o FILTER isBlank(?b) }",  # blank nodes
]
GRAPHS = [
    "CONSTRUCT WHERE { ?s ?p ?o }",
    "CONSTRUCT { ?s <https://example.org/says> ?o } WHERE { ?s <https://example.org/says> ?o }",
    # Each triple once per solution of the pattern: many repetitions.
    "CONSTRUCT { ?s a ?c } WHERE { ?s a ?c ; ?p ?o }",
    "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o FILTER isBlank(?s) }",  # blank nodes, changed literals
    "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p <https://example.org/nothing> }",  # empty
    f"DESCRIBE <{THING}>",
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedStore:
    """The mini release, with a resource that says every literal of LITERALS, and blank nodes that
    say literals Oxigraph changes."""
    folder = tmp_path_factory.mktemp("answer-bytes")
    mini = shutil.copytree(MINI, folder / "mini")
    literals = " , ".join(literal.n3() for literal in LITERALS)
    (mini / "data" / "says.ttl").write_text(
        f"<{THING}> <{SAYS}> {literals} .\n"
        f"[] <https://example.org/count> {Literal('9', datatype=XSD.positiveInteger).n3()} , "
        f"{Literal('07', datatype=XSD.integer).n3()} .\n", encoding="utf-8")
    settings = load_settings(ontology_dir=mini / "ontology", data_dir=mini / "data",
                             shapes_dir=mini / "shapes", output_dir=folder / "dist")
    build(settings)
    return EmbeddedStore(settings.output_dir / "current")


def former_solutions(store: EmbeddedStore, query: str, max_rows: int, media_type: str) -> tuple[bytes, bool]:
    """The answer as the endpoint gave it before: the whole answer as TSV, cut after `max_rows`
    lines of rows, read and written in `media_type`."""
    tsv = store._query(read_query(query), None, None).serialize(format=ox.QueryResultsFormat.TSV)
    lines = tsv.splitlines(keepends=True)
    kept, truncated = b"".join(lines[:max_rows + 1]), len(lines) > max_rows + 1
    if media_type == "text/tab-separated-values":
        return kept, truncated
    solutions = ox.parse_query_results(kept, ox.QueryResultsFormat.TSV)
    return solutions.serialize(format=results_format_of(media_type).oxigraph), truncated


def former_graph(store: EmbeddedStore, query: str, max_rows: int, media_type: str) -> tuple[bytes, bool]:
    """The answer as the endpoint gave it before: each triple once, the first `max_rows`, with their
    literals as written."""
    distinct = list(dict.fromkeys(store._query(read_query(query), None, None)))
    triples = list(islice(distinct, max_rows + 1))
    written = [store._as_written(triple) for triple in triples[:max_rows]]
    return serialised_graph(written, media_type), len(triples) > max_rows


def answer(store: EmbeddedStore, query: str, max_rows: int, results_type: str, graph_type: str) -> tuple[bytes, bool]:
    answered = store.sparql(read_query(query), None, None, results_type, graph_type, max_rows)
    return answered.body, answered.truncated


def test_the_premise_the_data_changes_literals_and_holds_the_marks(store: EmbeddedStore):
    """The store changes some literals (so answers give them back as written), and answers hold
    the marks by which answer_bytes counts rows inside their strings."""
    assert any(key[0] is None for key in store.written_literals)
    body, _ = answer(store, SELECTS[0], 10000, "application/sparql-results+json", "")
    assert b"x},{y" in body


@pytest.mark.parametrize("media_type", RESULTS_TYPES)
@pytest.mark.parametrize("query", SELECTS)
@pytest.mark.parametrize("max_rows", [10000, 3, 1, 0])
def test_solutions_are_written_as_before(store: EmbeddedStore, query: str, media_type: str, max_rows: int):
    assert answer(store, query, max_rows, media_type, "") == former_solutions(store, query, max_rows, media_type)


@pytest.mark.parametrize("media_type", GRAPH_TYPES)
@pytest.mark.parametrize("query", GRAPHS)
@pytest.mark.parametrize("max_rows", [10000, 3, 1, 0])
def test_graphs_are_written_as_before(store: EmbeddedStore, query: str, media_type: str, max_rows: int):
    assert answer(store, query, max_rows, "", media_type) == former_graph(store, query, max_rows, media_type)


@pytest.mark.parametrize("max_rows", [0, 1, 2, 19, 20, 21])
def test_an_answer_of_exactly_the_row_limit_is_whole_and_one_more_is_cut(store: EmbeddedStore, max_rows: int):
    """Around the limit, in the formats counted as they are written (the answer has 20 rows, and
    marks in its strings that a count would take for more)."""
    query = f"SELECT ?o WHERE {{ <{THING}> <{SAYS}> ?o }}"
    for media_type in ("application/sparql-results+json", "application/sparql-results+xml"):
        body, truncated = answer(store, query, max_rows, media_type, "")
        assert (body, truncated) == former_solutions(store, query, max_rows, media_type)
        assert truncated == (max_rows < len(LITERALS))


@pytest.mark.parametrize("media_type", ["application/sparql-results+json", "application/sparql-results+xml"])
@pytest.mark.parametrize("max_rows", [1, 3, 100])
def test_an_answer_over_the_limit_is_cut_from_what_was_written_without_evaluating_it_again(
        store: EmbeddedStore, media_type: str, max_rows: int):
    """Read in many writes (marks may straddle two), the answer holds no mark in a string."""
    query = read_query(f"SELECT ?s ?p ?o WHERE {{ ?s ?p ?o FILTER (?s != <{THING}>) }}")
    evaluations = []

    def evaluate() -> ox.QuerySolutions:
        evaluations.append(query)
        return store._query(query, None, None)

    whole, _ = former_solutions(store, query.text, 100_000, media_type)
    assert len(whole) > 4 * 8192
    assert solutions_bytes(evaluate(), evaluate, max_rows, media_type) == former_solutions(
        store, query.text, max_rows, media_type)
    assert len(evaluations) == 1
