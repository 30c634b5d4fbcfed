"""The authority links of the release (data/authorities/, ontology/authorities.ttl): each says in RDF
its kind, its register and the register's version, and the register facts stay out of the page's graph."""

import re
from pathlib import Path

import pytest
from rdflib import Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD

from lodpub.dataset import graph_iri
from lodpub.namespaces import CANONICAL_BASE

RP = Namespace(CANONICAL_BASE + "ontology/")
SCHEMA = Namespace("https://schema.org/")
AUTHORITIES = graph_iri(CANONICAL_BASE, "authorities")
DATA = graph_iri(CANONICAL_BASE, "data")

# The registers' own IRIs: an object in one of these is an authority link whatever its property.
AUTHORITY_IRI = re.compile(r"^(http://www\.wikidata\.org/entity/|http://data\.europa\.eu/nuts/code/"
                           r"|https://linked\.cuzk\.cz/resource/ruian/|https://rpp-opendata\.egon\.gov\.cz/"
                           r"|http://publications\.europa\.eu/resource/authority/(country|place)/)")


@pytest.fixture(scope="module")
def union(project_dataset):
    return project_dataset.union()


@pytest.fixture(scope="module")
def graphs(project_dataset):
    """The data graph and the authorities graph."""
    return {name: project_dataset.dataset.graph(graph_iri(CANONICAL_BASE, name)) for name in ("data", "authorities")}


def register_versions(union) -> dict[URIRef, set[URIRef]]:
    """{register: the versions of it that the authorities graph is derived from}."""
    versions: dict[URIRef, set[URIRef]] = {}
    for version in union.objects(AUTHORITIES, PROV.wasDerivedFrom):
        for register in union.objects(version, DCTERMS.isVersionOf):
            versions.setdefault(register, set()).add(version)
    return versions


def registers_of(union, predicate: URIRef, obj) -> set[URIRef]:
    """The registers a link or code is an entry of: by its property or datatype (rp:linkTerm), or
    by the scheme its target is in (the EU tables)."""
    terms = {predicate} | ({obj.datatype} if isinstance(obj, Literal) and obj.datatype else set())
    registers = {register for term in terms for register in union.subjects(RP.linkTerm, term)}
    if isinstance(obj, URIRef):
        registers |= set(union.objects(obj, SKOS.inScheme))
    return registers & set(union.subjects(RDF.type, RP.Register))


def authority_links(union, graph):
    """The triples of `graph` that link to, or give a code of, a register (not those that describe
    a register or one of its versions)."""
    described = set(union.subjects(RDF.type, RP.Register)) | set(union.subjects(RDF.type, RP.RegisterVersion))
    link_terms = set(union.objects(None, RP.linkTerm))
    for subject, predicate, obj in graph:
        if subject in described:
            continue
        if (isinstance(obj, URIRef) and AUTHORITY_IRI.match(str(obj))) or predicate in link_terms \
                or (isinstance(obj, Literal) and obj.datatype in link_terms):
            yield subject, predicate, obj


def test_every_authority_link_has_its_kind_register_and_version_in_rdf(union, graphs):
    versions = register_versions(union)
    links = [link for graph in graphs.values() for link in authority_links(union, graph)]

    assert len(links) > 40
    for subject, predicate, obj in links:
        registers = registers_of(union, predicate, obj)
        assert registers, (subject, predicate, obj)  # its kind names its register
        assert all(versions.get(register) for register in registers), (subject, predicate, obj, registers)
        if predicate != SKOS.notation:  # a code's kind is its datatype
            assert {label.language for label in union.objects(predicate, RDFS.label)} >= {"cs", "en"}, predicate


def test_no_link_hides_its_register_in_a_generic_property(graphs):
    for name, graph in graphs.items():
        assert not list(graph.triples((None, SCHEMA.sameAs, None))), name
        assert not list(graph.triples((None, DCTERMS.identifier, None))), name
        assert all(obj.datatype for obj in graph.objects(None, SKOS.notation)), name


def test_register_facts_are_in_the_authorities_graph_and_not_in_the_page_s(union, graphs):
    """The identifications and table entries moved out of graph/data; the page's own statements
    about a country (its name on the page) stay there."""
    link_terms = set(union.objects(None, RP.linkTerm)) - {RP.country}  # the country a body lies in is the page's
    data, authorities = graphs["data"], graphs["authorities"]
    assert not [triple for triple in data if triple[1] in link_terms or triple[1] == SKOS.notation]
    assert not list(data.triples((None, SKOS.inScheme, None)))
    assert not list(data.triples((None, SKOS.prefLabel, None)))
    assert (URIRef(CANONICAL_BASE + "id/region/liberec-region"), RP.ico, Literal("70891508")) in authorities
    turkey = URIRef("http://publications.europa.eu/resource/authority/country/TUR")
    assert (turkey, SKOS.prefLabel, Literal("Türkiye", lang="en")) in authorities
    assert (turkey, SKOS.altLabel, Literal("Turecká republika", lang="cs")) in data


def test_every_register_version_the_authorities_graph_names_is_described(union):
    versions = set(union.objects(AUTHORITIES, PROV.wasDerivedFrom))

    assert len(versions) >= 7
    for version in versions:
        assert (version, RDF.type, RP.RegisterVersion) in union, version
        assert {label.language for label in union.objects(version, RDFS.label)} == {"cs", "en"}, version
        assert len(list(union.objects(version, OWL.versionInfo))) == 1, version
        assert [date.datatype for date in union.objects(version, DCTERMS.issued)] == [XSD.date], version
        assert list(union.objects(version, DCTERMS.publisher)), version
        assert all(str(copy).startswith(("http://", "https://")) for copy in union.objects(version, RDFS.seeAlso))
        assert list(union.objects(version, RDFS.seeAlso)), version
        register = union.value(version, DCTERMS.isVersionOf)
        assert (register, RDF.type, RP.Register) in union, version
        assert {label.language for label in union.objects(register, RDFS.label)} == {"cs", "en"}, register


def test_each_register_has_one_version_so_each_link_has_one(union):
    assert all(len(versions) == 1 for versions in register_versions(union).values())


def test_the_country_table_is_the_current_version(union):
    """Version 20260617-0 of the country table, which names Türkiye and Viet Nam so."""
    table = URIRef("http://publications.europa.eu/resource/authority/country")
    (version,) = register_versions(union)[table]
    assert str(union.value(version, OWL.versionInfo)) == "20260617-0"
    assert Literal("Turkey", lang="en") not in set(union.objects(None, SKOS.prefLabel))


COUNTRY_TABLE_EXCERPT = Path(__file__).parent / "fixtures" / "registers" / "eu-country-table-20260617-0.tsv"


def test_every_country_is_named_as_the_cited_version_of_the_table_names_it(union):
    """The country entries are those of the table version cited, checked against its rows
    (tests/fixtures/registers/PROVENANCE.md says where they come from)."""
    rows = COUNTRY_TABLE_EXCERPT.read_text(encoding="utf-8").splitlines()[1:]
    table = {code: {Literal(cs, lang="cs"), Literal(en, lang="en")}
             for code, cs, en in (row.split("\t") for row in rows)}
    scheme = URIRef("http://publications.europa.eu/resource/authority/country")
    countries = {str(country).rsplit("/", 1)[1]: set(union.objects(country, SKOS.prefLabel))
                 for country in union.subjects(SKOS.inScheme, scheme)}
    assert countries == table
