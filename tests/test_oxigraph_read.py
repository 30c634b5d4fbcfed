"""Reading Turtle and N-Triples with Oxigraph's parser gives exactly what rdflib's gave: the same
N-Triples lines (so the same dumps and version), subject lines and prefixes; and a file only rdflib
reads as written, or a bad one, is still read (and reported) by rdflib."""

import re
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lodpub.data_errors import DataFileError
from lodpub.oxigraph_read import kept_by_rdflib_only, read_with_oxigraph
from lodpub.rdf_files import SourceFile, find_rdf_files, read_source, read_source_with_rdflib

CHECKOUT = Path(__file__).parent.parent
ELSEWHERE = "http://127.0.0.1:5000/"
CANONICAL = "https://data.kraj-lbc.cz/partnerships/"

# Every literal form rdflib rewrites as it reads it, a relative IRI, a list, blank nodes, an
# xsd:anyURI to move, text needing escapes (a tab, a control character, quotes, line ends).
TRICKY = r'''@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <https://data.kraj-lbc.cz/partnerships/id/> .
@base <https://data.kraj-lbc.cz/partnerships/> .
ex:a ex:p 1, 01, -0, +5, 1.50, .5, 1e3, 1E-3, 2.0e0, true, false, "x", 'y', """z
w""", "tab	here\u0001 \u007f é \\ q\" \r" .
ex:a ex:q "2020-01-01T00:00:00Z"^^xsd:dateTime, "2020-01-01T00:00:00.000+01:00"^^xsd:dateTime,
  "2020"^^xsd:gYear, "2020-05"^^xsd:gYearMonth, "2020-01-01Z"^^xsd:date, "PT1H"^^xsd:duration, " 5"^^xsd:int,
  "1"^^xsd:boolean, "0.10"^^xsd:decimal, "NaN"^^xsd:double, "1.0E2"^^xsd:double, "abc"^^xsd:integer,
  "x"^^<https://data.kraj-lbc.cz/partnerships/ontology/dt>, "https://data.kraj-lbc.cz/partnerships/id/x"^^xsd:anyURI .
<rel/thing> ex:r <other>, <http://example.org/caf\u00e9>, ex:b ; ex:s [ ex:t "in a blank node", 07 ; ex:u ( 1 2 ) ] .
ex:b ex:p "hello"@en, "ahoj"@cs .
_:x ex:p _:y . _:y ex:p "1"^^xsd:boolean .
'''


def both_reads(path: Path, base_iri: str = ELSEWHERE) -> tuple[tuple, tuple]:
    """read_source of `path` (Oxigraph where it can) and rdflib's, each in a comparable order."""
    source = SourceFile("data", path, path.name)
    fast = read_source(base_iri, source)
    slow = read_source_with_rdflib(base_iri, source, path.read_text(encoding="utf-8"))
    return tuple(sorted(part, key=str) for part in fast), tuple(sorted(part, key=str) for part in slow)


@pytest.mark.parametrize("suffix", [".ttl", ".nt"])
def test_oxigraph_reads_the_tricky_literals_as_rdflib_does(tmp_path, suffix):
    path = tmp_path / f"tricky{suffix}"
    if suffix == ".ttl":
        path.write_text(TRICKY, encoding="utf-8")
    else:  # the same triples, as N-Triples
        path.write_bytes(ox.serialize(ox.parse(TRICKY.encode(), format=ox.RdfFormat.TURTLE),
                                      format=ox.RdfFormat.N_TRIPLES))
    assert read_with_oxigraph(ELSEWHERE, path.as_uri(), path.read_text(encoding="utf-8"),
                              "turtle" if suffix == ".ttl" else "nt") is not None  # not left to rdflib
    fast, slow = both_reads(path)
    assert fast == slow
    lines = b"\n".join(fast[0])
    assert b'"2020-01-01T00:00:00+00:00"^^<http://www.w3.org/2001/XMLSchema#dateTime>' in lines  # as rdflib reads it
    assert f'"{ELSEWHERE}id/x"^^<http://www.w3.org/2001/XMLSchema#anyURI>'.encode() in lines  # moved


def test_oxigraph_reads_our_data_and_ontology_as_rdflib_does():
    files = [*find_rdf_files(CHECKOUT / "data"), *find_rdf_files(CHECKOUT / "ontology"),
             *find_rdf_files(CHECKOUT / "tests" / "fixtures" / "zoo")]
    assert len(files) > 20
    for path in files:
        for base_iri in (CANONICAL, ELSEWHERE):
            fast, slow = both_reads(path, base_iri)
            assert fast == slow, path


def test_what_only_rdflib_keeps_is_read_by_rdflib(tmp_path):
    path = tmp_path / "kept.ttl"
    path.write_text('<http://example.org/a> <http://example.org/p> "Ahoj"@cs-CZ, "x"^^<http://www.w3.org/2001/'
                    'XMLSchema#string> .\n', encoding="utf-8")
    assert read_with_oxigraph(ELSEWHERE, path.as_uri(), path.read_text(encoding="utf-8"), "turtle") is None
    lines = read_source(ELSEWHERE, SourceFile("data", path, path.name))[0]
    assert b'"Ahoj"@cs-CZ' in b"\n".join(lines)  # Oxigraph would have written cs-cz
    assert b'"x"^^<http://www.w3.org/2001/XMLSchema#string>' in b"\n".join(lines)


def test_a_bad_file_is_reported_by_rdflib_as_before(tmp_path):
    path = tmp_path / "bad.ttl"
    path.write_text('@prefix ex: <http://example.org/> .\nex:a ex:p "unclosed .\n', encoding="utf-8")
    assert read_with_oxigraph(ELSEWHERE, path.as_uri(), path.read_text(encoding="utf-8"), "turtle") is None
    with pytest.raises(DataFileError) as error:
        read_source(ELSEWHERE, SourceFile("data", path, path.name))
    assert "bad.ttl" in error.value.describe("en")


def test_a_file_of_many_blank_nodes_is_labelled_part_by_part_stably(tmp_path):
    # More triples with blank nodes than stable_blank_nodes.LARGE, with parts alike (two of each
    # time), parts of one blank node and of several (a list): each kept apart, the same labels at every read.
    blocks = "".join(f'<http://example.org/e{number}> <http://example.org/at> [ <http://example.org/after> "{number % 300}" ] , '
                     f'[ <http://example.org/after> "{number % 300}" ] ; <http://example.org/in> ( "{number % 2}" "x" ) .\n'
                     for number in range(700))
    path = tmp_path / "many.ttl"
    path.write_text(blocks, encoding="utf-8")
    lines = read_source(ELSEWHERE, SourceFile("data", path, path.name))[0]
    assert len(lines) == (4 + 5) * 700  # no two blank nodes made one (a list of two is five triples)
    assert sorted(lines) == sorted(read_source(ELSEWHERE, SourceFile("data", path, path.name))[0])
    assert sorted(lines) == sorted(read_source_with_rdflib(ELSEWHERE, SourceFile("data", path, path.name),
                                                           blocks)[0])


# What kept_by_rdflib_only looks for, as one expression.
_ONLY_RDFLIB_KEEPS = re.compile(r"""["']@[A-Za-z0-9-]*[A-Z]|\^\^\S*string""")


@given(st.lists(st.sampled_from(['"', "'", "@", "cs", "-", "CZ", "Z", "^^", "xsd:", "string", " ", "\n", "a"]),
                max_size=12).map("".join))
def test_a_text_goes_to_rdflib_when_it_may_hold_what_only_rdflib_keeps(text):
    assert kept_by_rdflib_only(text) == bool(_ONLY_RDFLIB_KEEPS.search(text))
