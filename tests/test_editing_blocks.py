"""Reading a partnership's file as blocks and writing a changed graph back as a person writes it."""

import shutil
from pathlib import Path

import pytest
from conftest import CHECKOUT
from rdflib import BNode, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, RDF, RDFS, TIME

from lodpub.editing.blocks import parse_turtle, read_blocks, write_graph
from lodpub.editing.turtle_style import description
from lodpub.namespaces import PREFIXES

PARTNERSHIPS = sorted((CHECKOUT / "data" / "partnerships").glob("*.ttl"))
EV = PREFIXES["ev"]
RP = PREFIXES["rp"]


@pytest.fixture
def bursa(tmp_path: Path) -> str:
    """The text of a copy of bursa.ttl (never the checkout's file)."""
    copy = tmp_path / "bursa.ttl"
    shutil.copy(CHECKOUT / "data" / "partnerships" / "bursa.ttl", copy)
    return copy.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", PARTNERSHIPS, ids=lambda path: path.name)
def test_every_partnership_file_round_trips_byte_for_byte(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    turtle = read_blocks(text)
    assert turtle.text == text
    assert write_graph(turtle, turtle.graph()) == text


def test_blocks_carry_the_comments_above_their_subject(bursa: str) -> None:
    blocks = {block.subject: block for block in read_blocks(bursa).blocks}
    harput = blocks[URIRef(PREFIXES["person"] + "sahabettin-harput")]
    assert harput.lead.startswith("# The source spells the name both")
    assert harput.body.startswith("person:sahabettin-harput\n")
    assert "# ----" not in "".join(block.lead for block in blocks.values())


def test_a_changed_label_rewrites_that_block_only(bursa: str) -> None:
    turtle = read_blocks(bursa)
    graph = turtle.graph()
    person = URIRef(PREFIXES["person"] + "pavel-novak")
    graph.set((person, RDFS.label, Literal("Pavel Novák, radní", lang="cs")))
    graph.add((person, RDFS.label, Literal("Pavel Novák", lang="en")))
    text = write_graph(turtle, graph)
    assert isomorphic(parse_turtle(text), graph)
    assert ('person:pavel-novak\n    a foaf:Person ;\n    rdfs:label "Pavel Novák, radní"@cs , "Pavel Novák"@en ;\n'
            '    foaf:name "Pavel Novák" .\n') in text
    unchanged = [block.text for block in turtle.blocks if block.subject != person]
    assert all(block in text for block in unchanged)
    assert text.startswith(turtle.header)


def test_a_changed_block_keeps_its_comment_and_its_order_of_predicates(bursa: str) -> None:
    turtle = read_blocks(bursa)
    graph = turtle.graph()
    person = URIRef(PREFIXES["person"] + "sahabettin-harput")
    graph.add((person, RDFS.comment, Literal("Guvernér")))
    text = write_graph(turtle, graph)
    assert isomorphic(parse_turtle(text), graph)
    rewritten = text[text.index("# The source spells"):]
    assert rewritten.startswith('# The source spells the name both "Şahabettin Harput" and "Sahabettin Harput".\n'
                                "person:sahabettin-harput\n    a foaf:Person ;\n    rdfs:label ")
    block = rewritten[:rewritten.index(" .\n")]
    assert block.index("foaf:name") < block.index("schema:alternateName") < block.index("rdfs:comment")


def test_a_new_event_goes_after_the_last_event_with_its_blank_node_inline(bursa: str) -> None:
    turtle = read_blocks(bursa)
    graph = turtle.graph()
    event, when = URIRef(EV + "bursa-2012-05-01-visit"), BNode()
    graph.add((event, RDF.type, URIRef(RP + "Visit")))
    graph.add((event, RDFS.label, Literal("Návštěva \"Bursa\"\n2012", lang="cs")))
    graph.add((event, URIRef(RP + "partnership"), URIRef(PREFIXES["ptn"] + "bursa")))
    graph.add((event, TIME.hasTime, when))
    graph.add((when, RDF.type, TIME.Instant))
    graph.add((when, DCTERMS.date, Literal("2012-05-01", datatype=URIRef("http://www.w3.org/2001/XMLSchema#date"))))
    text = write_graph(turtle, graph)
    assert isomorphic(parse_turtle(text), graph)
    written = read_blocks(text).blocks
    subjects = [block.subject for block in written]
    new = subjects.index(event)
    assert subjects[new - 1].startswith(EV) and not any(s.startswith(EV) for s in subjects[new + 1:])
    assert '    time:hasTime [ a time:Instant ; dcterms:date "2012-05-01"^^xsd:date ] .\n' in written[new].body
    # in the order of the file's events: its partnership before its time
    assert written[new].body.index("rp:partnership") < written[new].body.index("time:hasTime")
    assert '"Návštěva \\"Bursa\\"\\n2012"@cs' in written[new].body


def test_a_removed_subject_is_gone_with_its_comment_and_no_gap_is_left(bursa: str) -> None:
    turtle = read_blocks(bursa)
    graph = turtle.graph()
    person = URIRef(PREFIXES["person"] + "sahabettin-harput")
    graph.remove((person, None, None))
    text = write_graph(turtle, graph)
    assert isomorphic(parse_turtle(text), graph)
    assert "# The source spells" not in text and "person:sahabettin-harput\n" not in text
    assert "\n\n\n" not in text


def test_removing_the_last_subject_leaves_one_newline_at_the_end(bursa: str) -> None:
    turtle = read_blocks(bursa)
    graph = turtle.graph()
    last = turtle.blocks[-1].subject
    graph.remove((last, None, None))
    text = write_graph(turtle, graph)
    assert isomorphic(parse_turtle(text), graph)
    assert text.endswith(" .\n") and not text.endswith("\n\n")


def test_a_loose_blank_node_is_refused(bursa: str) -> None:
    turtle = read_blocks(bursa)
    graph = turtle.graph()
    graph.add((BNode(), RDFS.label, Literal("loose")))
    with pytest.raises(ValueError, match="blank node"):
        write_graph(turtle, graph)


@pytest.mark.parametrize("path", PARTNERSHIPS, ids=lambda path: path.name)
def test_any_one_subject_changed_or_removed_leaves_every_other_block_as_it_was(path: Path) -> None:
    turtle = read_blocks(path.read_text(encoding="utf-8"))
    for block in turtle.blocks:
        others = [other.text for other in turtle.blocks if other.subject != block.subject]
        changed, removed = turtle.graph(), turtle.graph()
        changed.add((block.subject, RDFS.comment, Literal("Změna", lang="cs")))
        for triple in description(removed, block.subject):  # with the blank nodes below it
            removed.remove(triple)
        for graph in (changed, removed):
            text = write_graph(turtle, graph)
            assert isomorphic(parse_turtle(text), graph), block.subject
            assert all(other in text for other in others), block.subject
            assert "\n\n\n" not in text and text.startswith(turtle.header)


def test_a_statement_that_continues_at_column_0_is_refused_not_misread() -> None:
    with pytest.raises(Exception, match="unterminated string"):
        read_blocks('@prefix ex: <http://example.org/> .\n\nex:a\n    ex:p """one\ntwo""" .\n')
