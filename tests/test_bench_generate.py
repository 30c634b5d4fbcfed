"""bench/generate.py: synthetic benchmark data shaped like data/, accepted by the project's own shapes."""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import RDF, RDFS

from lodpub.config import Settings
from lodpub.dataset import LoadedDataset, graph_iri, load_dataset
from lodpub.validate import load_shapes, validate
from lodpub.validation_report import format_report

CHECKOUT = Path(__file__).resolve().parent.parent
GENERATOR = CHECKOUT / "bench" / "generate.py"
CANONICAL = "https://data.kraj-lbc.cz/partnerships/"
RP = Namespace(CANONICAL + "ontology/")
PREC = Namespace(CANONICAL + "vocabulary/date-precisions/")
PROV = Namespace("http://www.w3.org/ns/prov#")
TIME = Namespace("http://www.w3.org/2006/time#")
SOURCE = URIRef(CANONICAL + "id/source/synthetic-benchmark-data")
HOME = URIRef(CANONICAL + "id/region/liberec-region")

AGREEMENTS = 30
SEED = 7


def generate(out: Path, seed: int = SEED, agreements: int = AGREEMENTS) -> subprocess.CompletedProcess:
    """Run the generator as the command line does."""
    command = [sys.executable, str(GENERATOR), "--agreements", str(agreements), "--out", str(out), "--seed", str(seed)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def files_of(folder: Path) -> dict[str, bytes]:
    """Every file below `folder`, by relative path."""
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder of AGREEMENTS synthetic agreements."""
    out = tmp_path_factory.mktemp("bench") / "data"
    generate(out).check_returncode()
    return out


@pytest.fixture(scope="module")
def summary(generated: Path) -> dict:
    """What the generator says it wrote."""
    return json.loads((generated / "generation.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def loaded(generated: Path) -> LoadedDataset:
    """The generated folder loaded as the project loads data/, with its ontology (any LODPUB_* ignored)."""
    return load_dataset(dataclasses.replace(Settings(), data_dir=generated))


@pytest.fixture(scope="module")
def data(loaded: LoadedDataset) -> Graph:
    """The data graph alone (no ontology, no vocabularies)."""
    return loaded.dataset.graph(graph_iri(CANONICAL, "data"))


def test_the_project_shapes_find_no_violation(loaded):
    report = validate(loaded, load_shapes(Settings()))

    assert report.counts()["Violation"] == 0, format_report(report)
    assert report.counts()["Warning"] == 0, format_report(report)


def test_there_are_as_many_agreements_as_asked_and_the_partnerships_reported(data, summary):
    partnerships = set(data.subjects(RDF.type, RP.Partnership))
    regional = {partnership for partnership in partnerships if (partnership, RP.partner, HOME) in data}

    assert len(set(data.subjects(RDF.type, RP.Agreement))) == AGREEMENTS == summary["agreements"]
    assert len(partnerships) == summary["partnerships"]
    assert len(regional) == summary["regional_partnerships"]
    assert len(partnerships - regional) == summary["town_partnerships"] > 0


def test_every_date_precision_appears(data):
    times = {time for predicate in (TIME.hasTime, TIME.hasBeginning, TIME.hasEnd) for time in data.objects(None, predicate)}

    assert {data.value(time, RP.precision) for time in times} == {
        PREC.day, PREC.month, PREC["half-year"], PREC["day-interval"], PREC.unknown
    }


def test_the_reported_triples_are_the_triples_loaded(loaded, summary):
    """The data graph and the authorities graph (the copied data/authorities/) hold what was written."""
    sizes = loaded.graph_sizes()
    assert sum(sizes[str(graph_iri(CANONICAL, name))] for name in ("data", "authorities")) == summary["triples"]


def test_the_data_graph_is_derived_from_the_synthetic_source(data):
    generated = {subject for subject in data.subjects(RDF.type) if "synthetic" in str(subject)} - {SOURCE}
    data_graph = URIRef("https://data.kraj-lbc.cz/partnerships/graph/data")

    assert generated
    assert (data_graph, PROV.wasDerivedFrom, SOURCE) in data
    assert {label.language for label in data.objects(SOURCE, RDFS.label)} == {"cs", "en"}
    assert {comment.language for comment in data.objects(SOURCE, RDFS.comment)} == {"cs", "en"}


def test_shared_files_are_copied_and_the_catalogue_is_not(generated):
    for name in ("liberec-region.ttl", "countries.ttl", "authorities/eu-tables.ttl", "authorities/wikidata.ttl"):
        assert (generated / name).read_bytes() == (CHECKOUT / "data" / name).read_bytes()
    assert not (generated / "catalogue").exists()


def test_the_same_seed_gives_the_same_bytes_and_another_seed_other_data(generated, tmp_path):
    generate(tmp_path / "again").check_returncode()
    generate(tmp_path / "other", seed=SEED + 1).check_returncode()

    assert files_of(tmp_path / "again") == files_of(generated)
    assert files_of(tmp_path / "other") != files_of(generated)


def test_a_folder_that_is_not_empty_is_refused(generated):
    result = generate(generated)

    assert result.returncode == 2
    assert "is not empty" in result.stderr
