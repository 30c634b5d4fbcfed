"""What a release changed from the previous one: the diff, the patch files and the changelog RDF,
computed by the functions of server/describe/changes.py and written by real builds of the mini
fixture (two builds a day apart, with the data edited in between) and of the project."""

import dataclasses
import hashlib
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDFS, VOID

from lodpub.build import build
from lodpub.describe.changes import (
    ADMS,
    SD,
    affected_resources,
    changelog_iri,
    counts_by_graph,
    diff_quads,
    labels_of,
    parse_nquads,
    patch_file,
    previous_release,
    release_iri,
)

BASE = "https://data.kraj-lbc.cz/partnerships/"
DATA = BASE + "graph/data"
REGION, AGREEMENT = BASE + "id/region/", BASE + "id/agreement/"
FIRST = datetime(2026, 3, 1, 9, 0, 0, tzinfo=UTC)
SECOND = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
THIRD = datetime(2026, 3, 3, 9, 0, 0, tzinfo=UTC)
IZMIR = """
reg:izmir
    a rp:TerritorialBody ;
    rdfs:label "Izmir"@cs , "Izmir Province"@en ;
    schema:containedInPlace country:TUR .
"""


# --- the functions, on N-Quads written for the test ------------------------------------------------


def quads(*lines: str) -> frozenset:
    return parse_nquads("".join(line + "\n" for line in lines).encode())


LABEL = "<http://www.w3.org/2000/01/rdf-schema#label>"
HAS_TIME = "<http://www.w3.org/2006/time#hasTime>"
DAY = "<http://www.w3.org/2006/time#inXSDDate>"
OLD = quads(f'<{REGION}bursa> {LABEL} "Bursa"@en <{DATA}> .',
            f'<{REGION}orenburg> {LABEL} "Orenburg"@en <{DATA}> .',
            f"<{AGREEMENT}a> {HAS_TIME} _:t <{DATA}> .",
            f'_:t {DAY} "2011-05-12"^^<http://www.w3.org/2001/XMLSchema#date> <{DATA}> .',
            f'<{BASE}ontology/Agreement> {LABEL} "Agreement"@en <{BASE}graph/ontology> .')
NEW = quads(f'<{REGION}bursa> {LABEL} "Bursa Province"@en <{DATA}> .',
            f'<{REGION}izmir> {LABEL} "Izmir"@en <{DATA}> .',
            f"<{AGREEMENT}a> {HAS_TIME} _:t <{DATA}> .",
            f'_:t {DAY} "2011-05-13"^^<http://www.w3.org/2001/XMLSchema#date> <{DATA}> .',
            f'<{BASE}ontology/Agreement> {LABEL} "Agreement"@en <{BASE}graph/ontology> .')


def test_the_diff_holds_what_was_added_and_removed_and_nothing_unchanged():
    diff = diff_quads(OLD, NEW)

    assert len(diff.added) == len(diff.removed) == 3
    assert {quad.subject.value for quad in diff.removed if isinstance(quad.subject, ox.NamedNode)} == \
        {REGION + "bursa", REGION + "orenburg"}
    assert counts_by_graph(diff.added) == {DATA: 3}
    assert (OLD - diff.removed) | diff.added == NEW
    assert diff_quads(NEW, NEW).is_empty


def test_a_changed_blank_node_is_a_change_of_the_resource_that_links_to_it():
    diff = diff_quads(OLD, NEW)

    assert affected_resources(diff, OLD, NEW) == sorted([REGION + "bursa", REGION + "izmir", REGION + "orenburg",
                                                         AGREEMENT + "a"])


def test_a_blank_node_reached_through_another_is_traced_to_the_resource():
    old = quads(f"<{AGREEMENT}a> {HAS_TIME} _:interval <{DATA}> .",
                f"_:interval <http://www.w3.org/2006/time#hasBeginning> _:start <{DATA}> .",
                f'_:start {DAY} "2011-05-12"^^<http://www.w3.org/2001/XMLSchema#date> <{DATA}> .')
    new = quads(*(line.replace("2011-05-12", "2011-06-01") for line in (
                f"<{AGREEMENT}a> {HAS_TIME} _:interval <{DATA}> .",
                f"_:interval <http://www.w3.org/2006/time#hasBeginning> _:start <{DATA}> .",
                f'_:start {DAY} "2011-05-12"^^<http://www.w3.org/2001/XMLSchema#date> <{DATA}> .')))

    assert affected_resources(diff_quads(old, new), old, new) == [AGREEMENT + "a"]


def test_labels_come_from_the_new_release_and_for_a_removed_resource_from_the_old():
    labels = labels_of([REGION + "bursa", REGION + "orenburg"], OLD, NEW)

    assert set(labels) == {(URIRef(REGION + "bursa"), RDFS.label, Literal("Bursa Province", lang="en")),
                           (URIRef(REGION + "orenburg"), RDFS.label, Literal("Orenburg", lang="en"))}


def test_a_patch_file_is_sorted_n_quads_that_keep_the_blank_node_labels():
    data = patch_file(diff_quads(OLD, NEW).added)

    assert data.splitlines() == sorted(data.splitlines())
    assert b"_:t <http://www.w3.org/2006/time#inXSDDate>" in data
    assert parse_nquads(data) == diff_quads(OLD, NEW).added


# --- two builds of the mini fixture ------------------------------------------------------------------


def edit_the_data(mini: Path) -> None:
    """Change a label, remove an agreement (and its blank-node time), add a region, and move a date
    held by a blank node."""
    bursa = mini / "data" / "partnerships" / "bursa.ttl"
    text = bursa.read_text(encoding="utf-8")
    text = text.replace('"Bursa"@en ;', '"Bursa Province"@en ;').replace('"2011-05-12"', '"2011-05-13"')
    text = text[: text.index("agr:bursa-2015")] + IZMIR
    bursa.write_text(text, encoding="utf-8")


@pytest.fixture
def releases(mini, mini_settings):
    """Three releases: the first, one after editing the data, and a rebuild of the same data."""
    first = build(mini_settings, now=FIRST)
    edit_the_data(mini)
    second = build(mini_settings, now=SECOND)
    third = build(mini_settings, now=THIRD)
    return first, second, third


def changelog_of(release) -> Graph:
    return Graph().parse(release.path / "changes.ttl", format="turtle")


def nquads_of(release) -> frozenset:
    return parse_nquads((release.path / "partnerships.nq").read_bytes())


def test_the_first_release_says_it_has_no_previous_one(releases):
    first = releases[0]
    log = changelog_of(first)
    iri = release_iri(BASE, first.version)

    assert list(log.objects(changelog_iri(BASE), PROV.hadMember)) == [iri]
    assert log.value(iri, PROV.wasRevisionOf) is None
    assert log.value(iri, DCTERMS.relation) is None and log.value(iri, DCTERMS.references) is None
    assert log.value(iri, PROV.generatedAtTime).toPython() == log.value(iri, DCTERMS.modified).toPython() == FIRST
    notes = {note.language: str(note) for note in log.objects(iri, ADMS.versionNotes)}
    assert notes["en"] == "The first release: there is no previous release to compare it with." and "cs" in notes
    assert not (first.path / "changes-added.nq").exists() and not (first.path / "changes-removed.nq").exists()


def test_the_patch_turns_the_previous_release_into_the_new_one(releases):
    first, second, _ = releases
    added = parse_nquads((second.path / "changes-added.nq").read_bytes())
    removed = parse_nquads((second.path / "changes-removed.nq").read_bytes())

    assert (nquads_of(first) - removed) | added == nquads_of(second)
    assert not added & removed
    removed_subjects = {quad.subject.value for quad in removed if isinstance(quad.subject, ox.NamedNode)}
    assert AGREEMENT + "bursa-2015" in removed_subjects


def test_the_changelog_counts_per_graph_and_names_the_resources_changed_with_their_labels(releases):
    first, second, _ = releases
    log = changelog_of(second)
    iri = release_iri(BASE, second.version)
    added = len(parse_nquads((second.path / "changes-added.nq").read_bytes()))
    removed = len(parse_nquads((second.path / "changes-removed.nq").read_bytes()))

    assert log.value(iri, PROV.wasRevisionOf) == release_iri(BASE, first.version)
    assert log.value(iri, PROV.generatedAtTime).toPython() == log.value(iri, DCTERMS.modified).toPython() == SECOND
    sets = {str(quad_set).rsplit("/", 1)[-1]: quad_set for quad_set in log.objects(iri, DCTERMS.relation)}
    assert log.value(sets["added"], VOID.triples).toPython() == added
    assert log.value(sets["removed"], VOID.triples).toPython() == removed
    assert str(log.value(sets["added"], VOID.dataDump)) == f"{BASE}changes/{second.version}/added.nq"
    subsets = {log.value(subset, SD.name): log.value(subset, VOID.triples).toPython()
               for subset in log.objects(sets["removed"], VOID.subset)}
    assert subsets == {URIRef(DATA): removed}
    assert set(log.objects(iri, DCTERMS.references)) == {URIRef(REGION + "bursa"), URIRef(REGION + "izmir"),
                                                          URIRef(AGREEMENT + "bursa-2011"),
                                                          URIRef(AGREEMENT + "bursa-2015")}
    assert log.value(URIRef(REGION + "bursa"), RDFS.label) is not None
    assert set(log.objects(URIRef(REGION + "bursa"), RDFS.label)) == {Literal("Bursa", lang="cs"),
                                                                      Literal("Bursa Province", lang="en")}
    assert Literal("Cooperation agreement", lang="en") in set(log.objects(URIRef(AGREEMENT + "bursa-2015"), DCTERMS.title))
    assert (release_iri(BASE, first.version), OWL.versionInfo, Literal(first.version)) in log  # the history is kept


def test_a_rebuild_of_the_same_data_changes_nothing_and_keeps_the_modified_time(releases, mini_settings):
    _, second, third = releases
    log = changelog_of(third)
    iri = release_iri(BASE, third.version)

    assert log.value(iri, PROV.wasRevisionOf) == release_iri(BASE, second.version)
    assert [log.value(quad_set, VOID.triples).toPython() for quad_set in log.objects(iri, DCTERMS.relation)] == [0, 0]
    assert log.value(iri, DCTERMS.references) is None
    assert (third.path / "changes-added.nq").read_bytes() == (third.path / "changes-removed.nq").read_bytes() == b""
    assert log.value(iri, DCTERMS.modified).toPython() == SECOND
    assert log.value(iri, PROV.generatedAtTime).toPython() == THIRD
    void = Graph().parse(third.path / "void.ttl", format="turtle")
    assert void.value(URIRef(BASE + "id/dataset/partnerships"), DCTERMS.modified).toPython() == SECOND
    assert len(list(log.objects(changelog_iri(BASE), PROV.hadMember))) == 3
    written = (third.path / "changes.ttl").read_text(encoding="utf-8")  # earlier entries keep their "Z"
    assert '"2026-03-01T09:00:00Z"^^xsd:dateTime' in written and "+00:00" not in written


def test_the_change_files_are_in_the_manifest_and_its_checksums(releases):
    second = releases[1]
    manifest = json.loads((second.path / "manifest.json").read_text(encoding="utf-8"))
    sums = dict(reversed(line.split("  ", 1)) for line in (second.path / "SHA256SUMS").read_text().splitlines())

    for name in ("changes.ttl", "changes-added.nq", "changes-removed.nq"):
        data = (second.path / name).read_bytes()
        assert {"name": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}.items() <= \
            next(entry for entry in manifest["description"] if entry["name"] == name).items()
        assert sums[name] == hashlib.sha256(data).hexdigest()


def test_the_previous_release_is_the_last_built_before_with_an_intact_dump(releases, mini_settings):
    first, second, third = releases
    releases_dir = mini_settings.output_dir / "releases"

    assert previous_release(releases_dir, third.version, THIRD).facts.version == second.version
    assert previous_release(releases_dir, first.version, FIRST) is None
    (second.path / "partnerships.nq").write_bytes(b"damaged\n")
    assert previous_release(releases_dir, third.version, THIRD).facts.version == first.version


def test_a_release_built_after_a_damaged_one_compares_with_the_one_before(releases, mini_settings):
    first, second, _ = releases
    (second.path / "partnerships.nq").write_bytes(b"damaged\n")
    (second.path.parent.parent / "releases" / releases[2].version / "partnerships.nq").write_bytes(b"damaged\n")
    fourth = build(mini_settings, now=datetime(2026, 3, 4, tzinfo=UTC))
    log = changelog_of(fourth)

    assert log.value(release_iri(BASE, fourth.version), PROV.wasRevisionOf) == release_iri(BASE, first.version)


# --- the catalogue record of the project ------------------------------------------------------------


def test_the_catalogue_record_is_dated_when_the_data_last_changed(project_settings, project_release, tmp_path):
    """A rebuild of the project's data, after the session's release: the record keeps its date."""
    settings = dataclasses.replace(project_settings, output_dir=tmp_path / "dist")
    shutil.copytree(project_release.path, settings.output_dir / "releases" / project_release.version)
    again = build(settings)
    record = Graph().parse(again.path / "catalogue.ttl", format="turtle")
    dataset = URIRef(BASE + "id/dataset/partnerships")

    first_built = datetime.fromisoformat(project_release.manifest["built_at"].replace("Z", "+00:00"))
    assert record.value(dataset, DCTERMS.modified).toPython() == first_built
    assert str(record.value(dataset, OWL.versionInfo)) == again.version != project_release.version
