"""The embedded store gives back the terms the release wrote, though Oxigraph keeps literals by value."""

import json
from datetime import UTC

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import XSD

from lodpub.build import build
from lodpub.config import Settings
from lodpub.store import QueryError, StoreUnavailable, open_store
from lodpub.store.embedded import EmbeddedStore
from lodpub.store.query_text import read_query

REGION = URIRef("https://data.kraj-lbc.cz/partnerships/id/region/liberec")
COUNT = URIRef("https://example.org/count")
WRITTEN = {
    Literal("5", datatype=XSD.nonNegativeInteger),
    Literal("07", datatype=XSD.integer),
    Literal("1", datatype=XSD.boolean),
    Literal("2020-01-01T00:00:00.000Z", datatype=XSD.dateTime),
    Literal("5.50", datatype=XSD.decimal),
    Literal("plain"),
    Literal("psáno", lang="cs"),
}


@pytest.fixture
def store(mini_settings: Settings) -> EmbeddedStore:
    literals = " , ".join(literal.n3() for literal in WRITTEN)
    (mini_settings.data_dir / "counts.ttl").write_text(
        f"<{REGION}> <{COUNT}> {literals} .\n"
        f"[] <{COUNT}> {Literal('9', datatype=XSD.positiveInteger).n3()} .\n", encoding="utf-8")
    build(mini_settings)
    return EmbeddedStore(mini_settings.output_dir / "current")


def test_oxigraph_itself_changes_these_literals(store: EmbeddedStore):
    """The premise: without the store's memory, the values would come back in canonical form."""
    stored = {row["o"] for row in store.select(f"SELECT ?o WHERE {{ <{REGION}> <{COUNT}> ?o }}")}
    assert Literal("5", datatype=XSD.integer) in stored
    assert stored != WRITTEN


def test_documents_give_the_literals_as_written(store: EmbeddedStore):
    assert set(store.document(REGION).objects(REGION, COUNT)) == WRITTEN


def test_construct_gives_the_literals_as_written_also_under_blank_nodes(store: EmbeddedStore):
    query = f"CONSTRUCT {{ ?s <{COUNT}> ?o }} WHERE {{ ?s <{COUNT}> ?o }}"
    answer = store.sparql(read_query(query), None, None, "application/sparql-results+json", "application/n-triples", 100)
    graph = Graph().parse(data=answer.body, format="nt")
    assert set(graph.objects(REGION, COUNT)) == WRITTEN
    (blank_value,) = [o for s, o in graph.subject_objects(COUNT) if isinstance(s, BNode)]
    assert blank_value == Literal("9", datatype=XSD.positiveInteger)
    assert blank_value.datatype == XSD.positiveInteger


# --- A release whose files changed on disk ---------------------------------------------------


@pytest.mark.parametrize("text", ["http://example.org/a> ?p ?o } #", "http://example.org/a b", "no iri"])
def test_what_is_not_an_iri_never_reaches_a_query(store: EmbeddedStore, text: str):
    """A `>` or a space would end the IRI and change the query the store runs."""
    for ask in (store.exists, store.document, lambda iri: store.labels({iri})):
        with pytest.raises(QueryError, match="not an IRI"):
            ask(URIRef(text))


def test_a_release_whose_loaded_files_fail_their_checksums_is_not_loaded(mini_settings: Settings):
    release = build(mini_settings).path
    (release / "void.ttl").write_text("# emptied by hand\n", encoding="utf-8")

    with pytest.raises(StoreUnavailable, match=f"release {release.name} cannot be served: void.ttl fails its checksum"):
        EmbeddedStore(release)


def test_a_worker_serves_the_newest_sound_release_when_the_served_one_is_damaged(mini_settings: Settings, caplog):
    import os
    from datetime import datetime, timedelta

    now = datetime(2026, 11, 27, tzinfo=UTC)
    older, sound, served = (build(mini_settings, now=now + timedelta(hours=hour)) for hour in (0, 1, 2))
    os.symlink(f"releases/{served.version}", mini_settings.output_dir / "served")
    (served.path / "partnerships.nq").write_bytes(b"")

    store = open_store(mini_settings)

    assert store.version == sound.version != older.version
    assert f"release {served.version} cannot be served: partnerships.nq fails its checksum" in caplog.text
    assert f"serving release {sound.version} instead" in caplog.text


def test_a_small_answer_comes_back_with_the_runner_and_a_large_one_over_what_was_in_its_file(
        store: EmbeddedStore, tmp_path, monkeypatch: pytest.MonkeyPatch):
    """A small answer leaves the answer file untouched, for the next query (answer_files.py); a large
    one is written over what a runner stopped before it (in an express slot) left in the file, which
    is not truncated first."""
    from lodpub.web import answer_files
    from lodpub.web.sparql import in_runner

    arguments = (read_query("SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 20"), None, None,
                 "application/sparql-results+json", "text/turtle", 10)
    expected = store.sparql(*arguments).body
    answer = tmp_path / "answer"
    answer.write_bytes(b"")
    answered, in_file = in_runner(store, "answer", str(answer), False, *arguments)
    assert (answered.body, in_file, answer.read_bytes()) == (expected, False, b"")

    monkeypatch.setattr(answer_files, "INLINE_BYTES", 100)
    answer.write_bytes(b"x" * (len(expected) + 100_000))
    answered, in_file = in_runner(store, "answer", str(answer), False, *arguments)
    assert (answered.body, in_file, answer.read_bytes()) == (b"", True, expected)
    assert len(json.loads(expected)["results"]["bindings"]) == 10


@pytest.mark.parametrize("clause", ["FROM", "from", "FROM\t", "FROM NAMED"])
def test_a_query_of_ours_that_names_a_graph_reads_only_that_graph(store: EmbeddedStore, clause: str):
    """Our own queries (str, not read by the endpoint) are run on the graphs their FROM names."""
    graph = f"{store.base_iri}graph/vocabularies"
    pattern = "GRAPH ?g { ?s ?p ?o }" if "NAMED" in clause else "?s ?p ?o"
    rows = store.select(f"SELECT (COUNT(*) AS ?n) {clause} <{graph}> WHERE {{ {pattern} }}")
    everything = store.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert 0 < int(rows[0]["n"]) < int(everything[0]["n"])


@pytest.mark.parametrize("pattern", ["?s prov:wasDerivedFrom ?none", "?s ex:from ?none", "?s <http://example.org/fromage> ?none",
                                     "?s ex:none ?fromage"])
def test_a_word_that_only_holds_from_leaves_the_default_graph_the_union(store: EmbeddedStore, pattern: str):
    """`from` inside a name is no FROM clause: the query still sees every graph."""
    query = ("PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX ex: <http://example.org/> "
             f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s ?p ?o FILTER NOT EXISTS {{ {pattern} }} }}")
    assert int(store.select(query)[0]["n"]) == int(store.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")[0]["n"])


def test_a_document_holds_the_whole_closure_of_every_resource(project_release):
    """A document asks the closure's query only for a resource that reaches a blank node or record
    part: for every subject of the project's release, it holds what that query gives."""
    from lodpub.store.sparql_store import _closure_query

    project = EmbeddedStore(project_release.path)
    subjects = {row["s"] for row in project.select("SELECT DISTINCT ?s WHERE { ?s ?p ?o FILTER isIRI(?s) }")}
    reaching = 0
    for subject in subjects:
        closure = set(project._construct_triples(_closure_query(f"VALUES ?root {{ <{subject}> }}")))
        own = {triple for triple in closure if triple.subject.value == str(subject)}
        reaching += closure != own
        assert closure <= set(project.document_triples(subject)), subject
    assert reaching >= 10  # the release has resources with blank nodes and record parts (the test would be empty)
