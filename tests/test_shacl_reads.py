"""What a part of the shapes reads of the data (server/shacl_reads.py), and how the parts are dealt. That the
parts given only those triples report what pySHACL reports on all of them is tests/test_shacl_engines.py's."""

from rdflib import Graph, URIRef
from rdflib.namespace import RDF, RDFS

from lodpub.shacl_reads import deal, predicates_read
from lodpub.shacl_turbo import FastData

EX = "http://example.org/"
SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
ex:prefixes sh:declare [ sh:prefix "ex" ; sh:namespace "http://example.org/" ] .

ex:PathShape a sh:NodeShape ; sh:targetClass ex:Thing ;
    sh:property [ sh:path ( ex:first [ sh:inversePath ex:second ] ) ; sh:class ex:Kind ] ;
    sh:property [ sh:path [ sh:alternativePath ( ex:third ex:fourth ) ] ; sh:minCount 1 ] .

ex:LimitedShape a sh:NodeShape ; sh:targetClass ex:Event ; ex:limit "2020-01-01" .
ex:Unlimited a sh:NodeShape ; sh:targetClass ex:Other ; sh:property [ sh:path ex:other ; sh:maxCount 1 ] .

ex:LimitComponent a sh:ConstraintComponent ;
    sh:parameter [ sh:path ex:limit ] ;
    sh:nodeValidator [ a sh:SPARQLSelectValidator ; sh:prefixes ex:prefixes ;
        sh:select "SELECT $this WHERE { $this ex:when ?date . FILTER NOT EXISTS { $this ex:cancelled true } }" ] .

ex:AnyShape a sh:NodeShape ; sh:targetClass ex:Any ;
    sh:sparql [ sh:prefixes ex:prefixes ; sh:select "SELECT $this WHERE { $this ?anything ex:value }" ] .
ex:NegatedShape a sh:NodeShape ; sh:targetClass ex:Negated ;
    sh:sparql [ sh:prefixes ex:prefixes ; sh:select "SELECT $this WHERE { $this !ex:first ?value }" ] .
"""


def shapes() -> Graph:
    return Graph().parse(data=SHAPES, format="turtle")


def reads(*names: str) -> frozenset[str] | None:
    return predicates_read(shapes(), {URIRef(EX + name) for name in names})


def test_a_part_reads_the_predicates_of_its_paths_however_nested_and_the_classes():
    read = reads("PathShape")
    assert {EX + "first", EX + "second", EX + "third", EX + "fourth", EX + "Kind", EX + "Thing"} <= read
    assert {str(RDF.type), str(RDFS.subClassOf)} <= read
    assert EX + "other" not in read and EX + "when" not in read


def test_a_part_reads_what_the_queries_of_the_components_it_uses_name_even_under_not_exists():
    assert {EX + "when", EX + "cancelled"} <= reads("LimitedShape")
    # a shape that gives the component no parameter does not use it
    assert EX + "when" not in reads("Unlimited")


def test_a_query_that_may_read_any_predicate_gives_the_part_everything():
    assert reads("AnyShape") is None
    assert reads("NegatedShape") is None
    assert reads("PathShape", "AnyShape") is None


def test_groups_that_read_the_same_predicates_are_dealt_together():
    groups = [{URIRef(EX + name)} for name in ("a", "b", "c", "d")]
    reads = [frozenset({"p", "q"}), frozenset({"r"}), frozenset({"p", "q"}), frozenset({"r", "s"})]
    counts = {"p": 100, "q": 100, "r": 150, "s": 10}

    parts = deal(groups, reads, counts, 2)

    assert sorted((sorted(str(node)[-1] for node in shapes), sorted(read)) for shapes, read in parts) == [
        (["a", "c"], ["p", "q"]), (["b", "d"], ["r", "s"])]
    # a group that may read anything makes its part read everything
    assert None in [read for _, read in deal(groups, [None, *reads[1:]], counts, 2)]


def test_the_fast_data_gives_a_part_the_lines_of_its_predicates_only():
    data = FastData(b"<urn:a> <urn:p> <urn:b> .\n<urn:a> <urn:q> \"x y\" .\n_:b1 <urn:p> _:b2 .\n")

    assert data.text_of(frozenset({"urn:p"})) == b"<urn:a> <urn:p> <urn:b> .\n_:b1 <urn:p> _:b2 .\n"
    assert data.text_of(None) == data.ntriples
    assert data.triples_per_predicate() == {"urn:p": 2, "urn:q": 1}
