"""Reading a SPARQL query's text: its form, dataset, SERVICE calls and nesting, without running it."""

import pytest

from lodpub.store.query_text import UnreadableQuery, read_query, syntax_error


@pytest.mark.parametrize("query, form", [
    ("SELECT * WHERE { ?s ?p ?o }", "SELECT"), ("select * { }", "SELECT"), ("ASK {}", "ASK"),
    ("PREFIX ex: <http://e/> CONSTRUCT WHERE { ?s ex:p ?o }", "CONSTRUCT"),
    ("BASE <http://e/> DESCRIBE <x>", "DESCRIBE"), ("# a comment\nASK {}", "ASK"),
])
def test_the_form_is_read_after_the_prologue(query, form):
    assert read_query(query).form == form


@pytest.mark.parametrize("query, keyword", [
    ("INSERT DATA { <a> <b> <c> }", "INSERT"), ("load <http://e/x>", "LOAD"),
    ("PREFIX e: <http://e/> DELETE WHERE { ?s ?p ?o }", "DELETE"), ("CLEAR ALL", "CLEAR"),
])
def test_an_update_is_recognised(query, keyword):
    read = read_query(query)
    assert read.update_keyword == keyword and read.form is None


def test_from_and_from_named_are_resolved_with_prefixes_and_base():
    read = read_query("BASE <http://base/> PREFIX g: <http://g/> "
                      "SELECT * FROM <relative> FROM g:one FROM NAMED <http://named/> FROM NAMED g:two "
                      "WHERE { ?s ?p ?o }", "http://endpoint/sparql")
    assert read.default_graphs == ["http://base/relative", "http://g/one"]
    assert read.named_graphs == ["http://named/", "http://g/two"]
    assert read_query("SELECT * FROM <graph/data> {}", "http://x/sparql").default_graphs == ["http://x/graph/data"]
    assert read_query("ASK FROM undeclared:data {}").default_graphs == ["?"]


@pytest.mark.parametrize("query, services", [
    ("SELECT * { SERVICE <http://e/sparql> { ?s ?p ?o } }", ["http://e/sparql"]),
    ("select * { service silent <http://e/sparql> { ?s ?p ?o } }", ["http://e/sparql"]),
    ("PREFIX e: <http://e/> SELECT * { SERVICE e:sparql { } }", ["http://e/sparql"]),
    ("SELECT * { BIND (<http://e/> AS ?x) SERVICE ?x { } }", ["?"]),
    ('SELECT * { ?s ?p "SERVICE <http://e/>" }', []),                 # inside a string
    ("SELECT * { ?s ?p ?o } # SERVICE <http://e/>", []),             # inside a comment
    ("SELECT * { ?s <http://e/SERVICE> ?service . ?s ?p e:SERVICE }", []),  # an IRI, a variable, a name
    ("SELECT * { ?s ?p '''SERVICE\n<x>''' }", []),
])
def test_service_calls_are_found_only_where_they_are_calls(query, services):
    assert read_query(query).services == services


def test_nesting_depth_counts_braces_and_parentheses_outside_strings():
    assert read_query("SELECT * { { { ?s ?p ?o } } }").depth == 3
    assert read_query("SELECT * { FILTER ((((1)))) }").depth == 5
    assert read_query('SELECT * { ?s ?p "{{{{{{" }').depth == 1


def test_an_unterminated_string_is_placed_by_line_and_column():
    with pytest.raises(UnreadableQuery, match=r"error at 2:15"):
        read_query('SELECT ?s\nWHERE { ?s ?p "never closed }')


def test_syntax_error_says_where_the_parser_stopped():
    assert syntax_error("SELECT * WHERE { ?s ?p ?o }") is None
    assert syntax_error("ASK { ?s <p>* ?o }", "http://example.org/sparql") is None  # relative IRI, resolved
    assert syntax_error("SELEC * WHERE { ?s ?p ?o }").startswith("error at 1:")
    assert syntax_error("SELECT * WHERE { ?s ?p ?o ") is not None


def test_the_dataset_clauses_and_base_declarations_are_found_where_they_are_written():
    text = "BASE <http://x/> BASE <y/> SELECT * FROM <g1> FROM NAMED <g2> # FROM <no>\n WHERE { ?s ?p 'FROM <no>' }"
    read = read_query(text, "http://endpoint/sparql")
    assert [text[start:end] for start, end in read.dataset_clauses] == ["FROM <g1>", "FROM NAMED <g2>"]
    assert [(text[start:end], base) for start, end, base in read.base_declarations] == [
        ("<http://x/>", "http://x/"), ("<y/>", "http://x/y/")]
    assert read.names_a_dataset and read.text == text
    assert not read_query("SELECT * { ?s <http://w/from> ?o }").names_a_dataset
