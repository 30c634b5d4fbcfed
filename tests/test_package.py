"""lodpub as a user installs it: a wheel built from a clean copy of the checkout, installed into a
fresh virtual environment, run from an empty folder on a data file of the user's own."""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import requests
from conftest import CHECKOUT, free_port, require, wait_until_released, wait_until_up

ZOO = CHECKOUT / "tests" / "fixtures" / "zoo" / "zoo.ttl"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel pip builds from the files git tracks (as a clean clone has them, with their
    changes in this working tree): nothing untracked, no dist/ or egg-info, can slip in."""
    require(shutil.which("git") is not None, "git (apt-get install git)")
    tracked = subprocess.run(["git", "-C", str(CHECKOUT), "ls-files", "-z"], capture_output=True, check=True).stdout
    copy = tmp_path_factory.mktemp("clean-copy")
    for name in tracked.decode().split("\0"):
        if name and (CHECKOUT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(CHECKOUT / name, copy / name)
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(copy)],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    return next(out.glob("lodpub-*.whl"))


def test_the_wheel_holds_one_package_named_lodpub_with_our_ontology_and_its_web_files(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names if not name.split("/")[0].endswith((".dist-info", ".data"))}

    assert top_level == {"lodpub"}
    for needed in ("lodpub/cli.py", "lodpub/ontology/partnerships.ttl", "lodpub/ontology/vocabularies/statuses.ttl",
                   "lodpub/web/templates/base.html", "lodpub/queries/", "lodpub/describe/standards/"):
        assert any(name.startswith(needed) for name in names), needed


@pytest.mark.served
def test_installed_from_the_wheel_lodpub_serves_a_data_file_from_an_empty_folder(wheel, tmp_path):
    # The venv sees the packages already installed here (rdflib, flask, ...: no network needed),
    # and its own lodpub, from the wheel, comes before any other on its path.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120)
    installed = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", str(wheel)],
                               capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    shutil.copy(ZOO, empty / "zoo.ttl")
    # As a user runs it: no PYTHONPATH that would put another lodpub first.
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONPATH" and not name.startswith("LODPUB_")}
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import lodpub; print(lodpub.__file__)"],
                           cwd=empty, env=environment, capture_output=True, text=True, timeout=60)
    assert where.stdout.startswith(str(venv)), where.stdout + where.stderr

    port = free_port()
    log = tmp_path / "serve.log"
    with open(log, "w") as log_file:
        process = subprocess.Popen([str(venv / "bin" / "lodpub"), "serve", "--data", "zoo.ttl", "--base-iri",
                                    "http://example.org/zoo/", "--port", str(port), "--workers", "1"],
                                   cwd=empty, env=environment, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}/"
        wait_until_up(base + "health", process, log)
        wait_until_released(base, process, log)  # answered from the sources first, then from their release
        answer = requests.get(base + "sparql", params={"query": "ASK { ?animal a ?kind }"},
                              headers={"Accept": "application/sparql-results+json"}, timeout=30)
        ontology = requests.get(base + "sparql", params={
            "query": "ASK { ?ontology a <http://www.w3.org/2002/07/owl#Ontology> }"},
            headers={"Accept": "application/sparql-results+json"}, timeout=30)
    finally:
        process.terminate()
        process.wait(timeout=30)

    assert answer.json()["boolean"] is True
    assert (empty / "dist" / "current" / "manifest.json").is_file()  # the project folder is the current one
    assert sorted(path.name for path in empty.iterdir()) == ["dist", "zoo.ttl"]
    assert ontology.json()["boolean"] is True  # ours, from inside the wheel
