"""The graph we publish is consistent under OWL 2 RL with the vocabularies it reuses.

The release is read back exactly as it is served (the N-Quads dump and the descriptions the stores
load, the changelog document and the SPARQL service description), the official files of every
reused vocabulary that has axioms are added (tests/vocabularies/, see PROVENANCE.md there), and the
OWL 2 RL closure is computed with owlrl. Any individual that ends up in two classes declared
disjoint, or in owl:Nothing, and anything owlrl itself reports as an inconsistency, fails the test.

Run it alone with: python3 -m pytest -n 0 tests/test_owl_consistency.py
"""

from collections.abc import Iterator
from itertools import combinations
from pathlib import Path

import owlrl
import pytest
from owlrl.Namespaces import ERRNS
from rdflib import BNode, Dataset, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, PROV, RDF, RDFS
from rdflib.term import Node
from tiers import tiered

from lodpub.build import SOURCE_PATH
from lodpub.describe.changes import CHANGELOG_FILE
from lodpub.describe.service_description import service_description
from lodpub.namespaces import PREFIXES
from lodpub.store.embedded import release_files

VOCABULARIES = Path(__file__).resolve().parent / "vocabularies"
RP = Namespace(PREFIXES["rp"])

# Each file of tests/vocabularies/ and the RDF syntax it is in.
VOCABULARY_FILES = {
    "prov.ttl": "turtle",
    "org.ttl": "turtle",
    "time.ttl": "turtle",
    "foaf.rdf": "xml",
    "skos.nt": "nt",
    "dcterms.nt": "nt",
    "dcat3.ttl": "turtle",
    "vcard.nt": "nt",
    "schemaorg-current-https.ttl": "turtle",
}
# schema.org is read for its axioms only (PROVENANCE.md says why): its labels, comments and
# schema:domainIncludes / rangeIncludes have no OWL meaning, and they would triple the closure's time.
SCHEMA_ORG_AXIOMS = (RDFS.subClassOf, RDFS.subPropertyOf, OWL.equivalentClass, OWL.equivalentProperty,
                     OWL.disjointWith)


def served_graph(release: Path, base_iri: str) -> Graph:
    """The union of every graph the publisher serves for `release`: the files its stores load (the
    data dump and the catalogue record and VoID), the changelog document and the service
    description of the SPARQL endpoint."""
    union, sizes = Graph(), {}
    for path, _, graph in release_files(release, base_iri):
        if graph is None:  # the N-Quads dump, which names its graphs
            for named in Dataset().parse(path, format="nquads").graphs():
                union += named
                sizes[str(named.identifier)] = len(named)
        else:
            described = Graph().parse(path, format="turtle")
            union += described
            sizes[graph.value] = len(described)
    union.parse(release / CHANGELOG_FILE, format="turtle")
    union += service_description(base_iri + "sparql", base_iri, sizes, {})
    return union


def vocabulary_axioms() -> Graph:
    """The reused vocabularies, as their official files state them (schema.org: its axioms only)."""
    axioms = Graph()
    for name, syntax in VOCABULARY_FILES.items():
        vocabulary = Graph().parse(VOCABULARIES / name, format=syntax)
        if name.startswith("schemaorg"):
            vocabulary = _only(vocabulary, SCHEMA_ORG_AXIOMS)
        axioms += vocabulary
    return axioms


def _only(graph: Graph, predicates: tuple[URIRef, ...]) -> Graph:
    kept = Graph()
    for predicate in predicates:
        for triple in graph.triples((None, predicate, None)):
            kept.add(triple)
    return kept


def owl_rl_closure(graph: Graph, *added: tuple[Node, Node, Node]) -> Graph:
    """A copy of `graph`, with the triples `added`, and its OWL 2 RL closure (owlrl).

    Without the axiomatic and datatype-axiom triples: those only describe the RDF, RDFS and OWL
    vocabularies and the XSD datatypes (every property a rdf:Property, xsd:int below xsd:decimal,
    ...); none declares two classes disjoint or anything empty, so they cannot make a clash, and
    they would add thousands of triples to every cycle. owlrl still checks every literal against its
    datatype (rule dt-not-type) and applies every rule to the triples of the graph.
    """
    closure = Graph()
    closure += graph
    for triple in added:
        closure.add(triple)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False, datatype_axioms=False).expand(closure)
    return closure


def clashes(closure: Graph) -> list[str]:
    """Every inconsistency in an OWL 2 RL closure: what owlrl reported (it adds each error as a node
    of type ERRNS:ErrorMessage), every member of owl:Nothing, and every individual in two classes
    declared disjoint by owl:disjointWith, owl:AllDisjointClasses, owl:disjointUnionOf or
    owl:complementOf (owlrl has no rule for owl:disjointUnionOf, which OWL 2 RL leaves out)."""
    found = [f"owlrl: {closure.value(error, ERRNS.error)}" for error in closure.subjects(RDF.type, ERRNS.ErrorMessage)]
    found += [f"{_name(closure, member)} is a member of owl:Nothing" for member in closure.subjects(RDF.type, OWL.Nothing)]
    for first, second in sorted(set(disjoint_pairs(closure))):
        both = set(closure.subjects(RDF.type, first)) & set(closure.subjects(RDF.type, second))
        found += [f"{_name(closure, member)} is in {first} and {second}, declared disjoint"
                  for member in sorted(both, key=str)]
    return sorted(found)


def disjoint_pairs(graph: Graph) -> Iterator[tuple[Node, Node]]:
    """Each pair of classes `graph` declares disjoint, in a stable order."""
    for first, second in graph.subject_objects(OWL.disjointWith):
        yield _ordered(first, second)
    for first, second in graph.subject_objects(OWL.complementOf):
        yield _ordered(first, second)
    for axiom in graph.subjects(RDF.type, OWL.AllDisjointClasses):
        for members in graph.objects(axiom, OWL.members):
            yield from (_ordered(*pair) for pair in combinations(Collection(graph, members), 2))
    for members in graph.objects(None, OWL.disjointUnionOf):
        yield from (_ordered(*pair) for pair in combinations(Collection(graph, members), 2))


def _ordered(first: Node, second: Node) -> tuple[Node, Node]:
    return (first, second) if str(first) <= str(second) else (second, first)


def _name(graph: Graph, node: Node) -> str:
    """An IRI as itself; a blank node by its types and labels, which say what it is."""
    if not isinstance(node, BNode):
        return str(node)
    labels = sorted(str(label) for label in graph.objects(node, RDFS.label))
    return f"[a blank node labelled {labels}]"


@pytest.fixture(scope="module")
def published(project_release, project_settings) -> Graph:
    """The release as served, with the reused vocabularies."""
    return served_graph(project_release.path, project_settings.base_iri) + vocabulary_axioms()


@pytest.fixture(scope="module")
@tiered("long")  # the OWL 2 RL closure of the whole published graph: half a minute of CPU
def published_closure(published) -> Graph:
    return owl_rl_closure(published)


def test_the_served_graph_and_the_reused_vocabularies_have_no_clash(published_closure):
    assert clashes(published_closure) == []


def test_the_closure_reached_the_vocabularies_and_our_data(published_closure):
    """The check above means something only if the reasoner saw both sides: our events typed by the
    vocabularies' classes through our ontology, and the vocabularies' disjointness axioms."""
    signing = next(published_closure.subjects(RDF.type, RP.Signing))
    assert (signing, RDF.type, PROV.Activity) in published_closure
    assert (PROV.Activity, OWL.disjointWith, PROV.Entity) in published_closure


@pytest.mark.long  # a closure of the whole graph
def test_a_signing_derived_from_the_page_clashes(published, project_settings):
    """Said of an event (a prov:Activity), prov:wasDerivedFrom (domain prov:Entity) makes it an
    entity too: the clash of issue 17, which the check must report."""
    signing = min(published.subjects(RDF.type, RP.Signing), key=str)
    source = URIRef(project_settings.base_iri + SOURCE_PATH)
    found = clashes(owl_rl_closure(published, (signing, PROV.wasDerivedFrom, source)))
    assert f"{signing} is in {PROV.Activity} and {PROV.Entity}, declared disjoint" in found


@pytest.mark.long  # a closure of the whole graph
def test_an_event_that_did_not_take_place_is_no_activity(published):
    """The ontology says an event that did not take place (rp:tookPlace false) is no prov:Activity:
    a signing said not to have taken place clashes."""
    signing = min(published.subjects(RDF.type, RP.Signing), key=str)
    found = clashes(owl_rl_closure(published, (signing, RP.tookPlace, Literal(False))))
    assert any(message.startswith(f"{signing} is in ") and str(PROV.Activity) in message for message in found), found


# --- The check itself, on graphs small enough to read ------------------------------------------

EX = Namespace("http://example.org/")


def _declared(turtle: str) -> Graph:
    return Graph().parse(data="@prefix ex: <http://example.org/> .\n"
                              "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
                              "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
                              "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n" + turtle, format="turtle")


@pytest.mark.parametrize("axiom", [
    "ex:A owl:disjointWith ex:B .",
    "[] a owl:AllDisjointClasses ; owl:members ( ex:A ex:C ex:B ) .",
    "ex:U owl:disjointUnionOf ( ex:A ex:B ) .",
    "ex:A owl:complementOf ex:B .",
])
def test_each_way_of_declaring_two_classes_disjoint_is_checked(axiom):
    closure = owl_rl_closure(_declared(axiom + " ex:x a ex:A , ex:Sub . ex:Sub rdfs:subClassOf ex:B ."))
    assert f"{EX.x} is in {EX.A} and {EX.B}, declared disjoint" in clashes(closure)


def test_a_member_of_nothing_and_a_literal_that_is_not_of_its_datatype_are_reported():
    closure = owl_rl_closure(_declared(
        'ex:C rdfs:subClassOf owl:Nothing . ex:x a ex:C . ex:y ex:on "2011-13-45"^^xsd:date .'))
    found = clashes(closure)
    assert f"{EX.x} is a member of owl:Nothing" in found
    assert any(message.startswith("owlrl: ") and "2011-13-45" in message for message in found), found


def test_a_consistent_graph_has_no_clash():
    closure = owl_rl_closure(_declared("ex:A owl:disjointWith ex:B . ex:x a ex:A . ex:y a ex:B ."))
    assert clashes(closure) == []
