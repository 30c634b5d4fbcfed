"""The provisional store (server/provisional_store.py) holds the quads the release of the same sources
holds, up to blank-node labels, its literals given back as the release's; the proof tells when it does
not. Against real releases (build) and real stores (Oxigraph), of generated data and of small files
holding what Oxigraph and rdflib write differently."""

import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from lodpub.build import build
from lodpub.config import load_settings
from lodpub.dataset import graph_iri
from lodpub.dumps import DATA_DUMP
from lodpub.provisional_store import (
    ProvisionalLoad,
    digest_of_dump,
    digest_of_store,
    proof_of,
    provisional_load,
    written_form_matters,
)
from lodpub.public_release import public_release
from lodpub.store.embedded import EmbeddedStore

CHECKOUT = Path(__file__).resolve().parent.parent
LOOPBACK = "http://127.0.0.1:5124/"
PREFIXES = """@prefix ex: <https://data.kraj-lbc.cz/partnerships/id/example/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
"""
ONTOLOGY = PREFIXES + 'ex:shared rdfs:label "Shared"@en .\n'
# What Oxigraph stores in another form than rdflib writes it, a triple the ontology states too, a blank
# node, a relative IRI and a string that holds the canonical base (which stays as written).
DATA = PREFIXES + """ex:a ex:when "2020-01-01T10:00:00Z"^^xsd:dateTime ; ex:amount 1.50 ; ex:count "5"^^xsd:nonNegativeInteger ;
  ex:flag "1"^^xsd:boolean ; ex:day "2020-01-01"^^xsd:date ; ex:note "see https://data.kraj-lbc.cz/partnerships/" ;
  ex:part [ ex:when "2021-02-03T04:05:06+00:00"^^xsd:dateTime ] ; ex:link <relative> .
ex:shared rdfs:label "Shared"@en .
"""


def _settings(tmp_path: Path, files: dict[str, str]):
    for name, text in {"ontology/o.ttl": ONTOLOGY, **files}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return load_settings(ontology_dir=tmp_path / "ontology", data_dir=tmp_path / "data", output_dir=tmp_path / "dist",
                         shapes_dir=tmp_path / "no-shapes", base_iri=LOOPBACK)


def _proof(settings, load: ProvisionalLoad):
    release = EmbeddedStore(build(settings, check_shapes=False).path)
    return proof_of(digest_of_store(load), digest_of_dump(release.release / DATA_DUMP)), release


def test_the_provisional_store_holds_the_quads_and_literals_of_the_release(tmp_path):
    settings = _settings(tmp_path, {"data/d.ttl": DATA})
    load = provisional_load(settings, LOOPBACK)
    proof, release = _proof(settings, load)
    assert proof.held, proof.describe()
    # (The release's also holds its VoID's time of building; "1" and "true" are one boolean to both.)
    assert load.written_literals.items() <= release.written_literals.items() and len(load.written_literals) == 4
    # Each triple in one graph (the ontology's), IRIs under the public base, the string as written.
    shared = ox.NamedNode(LOOPBACK + "id/example/shared")
    assert [quad.graph_name.value for quad in load.store.quads_for_pattern(shared, None, None)] == [
        str(graph_iri(LOOPBACK, "ontology"))]
    note = next(load.store.quads_for_pattern(None, ox.NamedNode(LOOPBACK + "id/example/note"), None))
    assert note.object.value == "see https://data.kraj-lbc.cz/partnerships/"


def test_the_provisional_store_of_generated_data_holds_the_release_s_quads(tmp_path):
    subprocess.run([sys.executable, str(CHECKOUT / "bench" / "generate.py"), "--agreements", "40", "--out",
                    str(tmp_path / "data")], check=True, capture_output=True, timeout=120)
    settings = load_settings(data_dir=tmp_path / "data", output_dir=tmp_path / "dist", base_iri=LOOPBACK)
    load = provisional_load(settings, LOOPBACK)
    proof, release = _proof(settings, load)
    assert proof.held, proof.describe()
    assert proof.quads[0] == release.triple_count > 5000


@pytest.mark.parametrize("change", ["a quad missing", "a literal written otherwise", "a quad more",
                                    "a blank node wired otherwise"])
def test_the_proof_fails_when_the_stores_differ(tmp_path, change):
    settings = _settings(tmp_path, {"data/d.ttl": DATA})
    load = provisional_load(settings, LOOPBACK)
    a = ox.NamedNode(LOOPBACK + "id/example/a")
    day = next(load.store.quads_for_pattern(a, ox.NamedNode(LOOPBACK + "id/example/day"), None))
    if change == "a quad missing":
        load.store.remove(day)
    elif change == "a literal written otherwise":
        load.written_literals[(a, day.predicate, day.object)] = ox.Literal("2020-01-01Z", datatype=day.object.datatype)
    elif change == "a quad more":
        load.store.add(ox.Quad(a, day.predicate, ox.Literal("x"), day.graph_name))
    else:  # the same quads but for their blank node's label: the part's time now of another blank node
        (part,) = load.store.quads_for_pattern(a, ox.NamedNode(LOOPBACK + "id/example/part"), None)
        (when,) = load.store.quads_for_pattern(part.object, None, None)
        load.store.remove(when)
        load.store.add(ox.Quad(ox.BlankNode(), when.predicate, when.object, when.graph_name))
    proof, _ = _proof(settings, load)
    assert not proof.held
    assert "did NOT hold the same quads" in proof.describe()


@pytest.mark.parametrize("name, text", [
    ("data/d.rdf", '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>'),
    ("data/d.ttl", PREFIXES + "ex:a ex:b ."),  # a syntax error: the build says where
    ("data/d.ttl", PREFIXES + 'ex:a ex:b "Praha"@cs-CZ .'),  # a capital in a language tag, kept by rdflib only
    ("data/d.ttl", PREFIXES + 'ex:a ex:b "https://data.kraj-lbc.cz/partnerships/x"^^xsd:anyURI .'),
    ("data/d.ttl", PREFIXES + "ex:a ex:b <<( ex:c ex:d ex:e )>> ."),  # a triple term: Oxigraph reads it, rdflib not
    # RDF 1.2 without `<<`, which Oxigraph reads and rdflib refuses: triple terms made by an annotation and by a
    # reifier, and a literal's base direction
    ("data/d.ttl", PREFIXES + 'ex:a ex:b ex:c {| ex:d "said" |} .'),
    ("data/d.ttl", PREFIXES + "ex:a ex:b ex:c ~ ex:r ."),
    ("data/d.ttl", PREFIXES + 'ex:a ex:b "Praha"@cs--ltr .'),
])
def test_a_file_the_build_reads_otherwise_is_left_to_the_build(tmp_path, name, text):
    settings = _settings(tmp_path, {"data/ok.ttl": DATA, name: text})
    assert provisional_load(settings, LOOPBACK) is None


@pytest.mark.parametrize("text, matters", [
    (b'x "2020-01-01T00:00:00Z"^^xsd:dateTime .', True), (b'x "10:00:00.5"^^xsd:time .', True),
    (b'x "1"^^xsd:boolean .', True), (b'x "5"^^xsd:nonNegativeInteger ;', True), (b"ex:p 1.50 .", True),
    (b"ex:p (1.5e3)", True), (b'x "2020-01-01"^^xsd:date .', False), (b'x "UA-Q2Z"^^rp:ISO3166 .', False),
    (b"<http://xmlns.com/foaf/0.1/>", False), (b'"verze 26.2.16"@cs', False), (b'x "5"^^xsd:integer .', False),
])
def test_the_files_whose_literals_are_read_term_by_term(text, matters):
    assert written_form_matters(text) is matters


def test_a_dataset_of_its_own_base_is_moved_to_the_public_base_as_its_release_s_copy_is(tmp_path):
    zoo = CHECKOUT / "tests" / "fixtures" / "zoo" / "zoo.ttl"
    settings = load_settings(data_dir=zoo, output_dir=tmp_path / "dist", base_iri="http://example.org/zoo/",
                             shapes_dir=tmp_path / "no-shapes")
    copy, _ = public_release(build(settings, check_shapes=False).path, LOOPBACK, settings.output_dir)
    release = EmbeddedStore(copy)
    load = provisional_load(settings, LOOPBACK)
    proof = proof_of(digest_of_store(load), digest_of_dump(copy / DATA_DUMP))
    assert proof.held and proof.quads[0] == release.triple_count, proof.describe()
    assert next(load.store.quads_for_pattern(ox.NamedNode(LOOPBACK + "animal/leo"), None, None), None) is not None


def test_sources_of_more_quads_than_memory_may_hold_are_given_up(tmp_path):
    subprocess.run([sys.executable, str(CHECKOUT / "bench" / "generate.py"), "--agreements", "40", "--out",
                    str(tmp_path / "data")], check=True, capture_output=True, timeout=120)
    settings = load_settings(data_dir=tmp_path / "data", output_dir=tmp_path / "dist", base_iri=LOOPBACK)
    everything = provisional_load(settings, LOOPBACK)
    assert provisional_load(settings, LOOPBACK, max_quads=everything.quads) is not None
    assert provisional_load(settings, LOOPBACK, max_quads=everything.quads - 1) is None  # (found at the end)
    assert provisional_load(settings, LOOPBACK, max_quads=100) is None
