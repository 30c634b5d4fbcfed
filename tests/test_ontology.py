"""The ontology and its vocabularies: complete, bilingual, and the only terms the data uses."""

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

from lodpub.dataset import graph_iri
from lodpub.namespaces import CANONICAL_BASE, PREFIXES

ONTOLOGY = URIRef(CANONICAL_BASE + "ontology")
OWN = CANONICAL_BASE
VOCABULARY = CANONICAL_BASE + "vocabulary/"


def named_graph(dataset, name):
    return dataset.dataset.graph(graph_iri(dataset.base_iri, name))


def test_the_ontology_has_its_namespace_version_licence_and_creator(project_dataset):
    ontology = named_graph(project_dataset, "ontology")
    assert (ONTOLOGY, RDF.type, OWL.Ontology) in ontology
    assert ontology.value(ONTOLOGY, OWL.versionIRI) == URIRef(CANONICAL_BASE + "ontology/v2.1.0")
    assert ontology.value(ONTOLOGY, DCTERMS.license) == URIRef("https://creativecommons.org/licenses/by/4.0/")
    creator = ontology.value(ONTOLOGY, DCTERMS.creator)
    assert {label.language for label in ontology.objects(creator, RDFS.label)} == {"cs", "en"}
    assert {title.language for title in ontology.objects(ONTOLOGY, DCTERMS.title)} == {"cs", "en"}


def test_every_term_of_ours_the_data_uses_is_defined_in_the_ontology(project_dataset):
    ontology = named_graph(project_dataset, "ontology")
    defined = set(ontology.subjects(RDFS.isDefinedBy, ONTOLOGY))
    used = set()
    for name in ("data", "authorities"):
        data = named_graph(project_dataset, name)
        used |= {p for p in data.predicates() if str(p).startswith(PREFIXES["rp"])}
        used |= {c for c in data.objects(None, RDF.type) if str(c).startswith(PREFIXES["rp"])}
        used |= {o for o in data.objects(None, URIRef(PREFIXES["rp"] + "linkTerm"))}
        used |= {o.datatype for o in data.objects() if isinstance(o, Literal) and o.datatype
                 and str(o.datatype).startswith(PREFIXES["rp"])}
    assert used and used - defined == set()


def test_every_term_says_what_it_reuses_or_why_it_was_minted(project_dataset):
    """A term of our own exists only where no standard one fits: its comment says which standard
    term it refines, or why it was minted."""
    ontology = named_graph(project_dataset, "ontology")
    for term in ontology.subjects(RDFS.isDefinedBy, ONTOLOGY):
        comments = {comment.language: str(comment) for comment in ontology.objects(term, RDFS.comment)}
        assert any(phrase in comments["en"] for phrase in ("Minted", "A refinement of", "A subclass of")), term
        assert any(phrase in comments["cs"] for phrase in ("Nový termín", "Zpřesnění", "Podtřída")), term


def test_every_concept_the_data_uses_is_in_one_of_our_schemes(project_dataset):
    vocabularies = named_graph(project_dataset, "vocabularies")
    concepts = set(vocabularies.subjects(RDF.type, SKOS.Concept))
    data = named_graph(project_dataset, "data")
    used = {o for o in data.objects() if isinstance(o, URIRef) and str(o).startswith(VOCABULARY)}
    assert used and used - concepts == set()
    for concept in concepts:
        scheme = vocabularies.value(concept, SKOS.inScheme)
        assert (scheme, RDF.type, SKOS.ConceptScheme) in vocabularies
        assert str(concept).startswith(str(scheme) + "/")


def test_every_resource_the_data_links_to_is_described(project_dataset):
    """No dangling links: each of our resource IRIs used as an object is also a subject."""
    union = project_dataset.union()
    linked = {o for o in union.objects() if isinstance(o, URIRef) and str(o).startswith(OWN + "id/")}
    described = set(union.subjects())
    assert linked and linked - described == set()


def test_every_resource_has_a_readable_iri(project_dataset):
    """Terms, concepts, things (id/...) and the named graphs, which data/provenance.ttl describes."""
    import re

    union = project_dataset.union()
    ours = {s for s in union.subjects() if isinstance(s, URIRef) and str(s).startswith(OWN)}
    for resource in ours:
        path = str(resource)[len(OWN):]
        assert re.fullmatch(r"(ontology(/[A-Za-z0-9-]+)?|vocabulary/[a-z-]+(/[a-z0-9-]+)?|id/[a-z]+/[a-z0-9HW-]+"
                            r"|graph/[a-z]+)", path), path
