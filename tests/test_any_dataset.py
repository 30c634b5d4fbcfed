"""Any RDF dataset can be served: `lodpub serve --data PATH [--shapes PATH]` on a dataset that is
not ours (tests/fixtures/zoo), with its own IRI layout, vocabulary and shapes."""

import subprocess
import sys
from pathlib import Path

import pytest
import requests
from conftest import CHECKOUT, free_port, wait_until_released, wait_until_up
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDFS, VOID
from tiers import tiered

ZOO = Path(__file__).resolve().parent / "fixtures" / "zoo"
BASE = "http://example.org/zoo/"


def serve(tmp_path: Path, *options: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    log = tmp_path / "server.log"
    with open(log, "w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "lodpub.cli", "serve", "--data", str(ZOO / "zoo.ttl"), "--base-iri", BASE,
             "--output", str(tmp_path / "dist"), "--port", str(port), "--workers", "1", *options],
            cwd=CHECKOUT, stdout=log_file, stderr=subprocess.STDOUT)
    return process, f"http://127.0.0.1:{port}/"


@pytest.fixture(scope="module")
@tiered("served")
def zoo_server(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("zoo")
    process, base = serve(tmp_path)
    try:
        wait_until_up(base + "health", process, tmp_path / "server.log")
        wait_until_released(base, process, tmp_path / "server.log")  # (its VoID is the release's)
        log = (tmp_path / "server.log").read_text()
        # It answered from its sources first, proven to hold what the release holds.
        assert "Serving the provisional release provisional-" in log and "held the same quads as the release" in log
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.served
def test_its_iris_dereference_in_every_format(zoo_server):
    thing = requests.get(zoo_server + "animal/leo", headers={"Accept": "text/turtle"}, allow_redirects=False, timeout=30)
    assert thing.status_code == 303 and thing.headers["Location"] == zoo_server + "doc/animal/leo"
    document = Graph().parse(data=requests.get(thing.headers["Location"], headers={"Accept": "text/turtle"},
                                               timeout=30).text, format="turtle")
    leo, kim = URIRef(zoo_server + "animal/leo"), URIRef(zoo_server + "animal/kim")
    assert (leo, RDFS.label, Literal("Leo")) in document
    assert (kim, RDFS.label, Literal("Kim")) in document  # the label of what it links to
    assert Literal("a stranger", lang="en") in set(document.objects())  # the blank node it links to
    for accept, fmt in (("application/ld+json", "json-ld"), ("application/rdf+xml", "xml"), ("application/n-triples", "nt")):
        other = requests.get(zoo_server + "doc/animal/leo", headers={"Accept": accept}, timeout=30)
        assert len(Graph().parse(data=other.text, format=fmt)) == len(document)
    assert requests.get(zoo_server + "animal/nobody", timeout=30).status_code == 404


@pytest.mark.served
def test_people_get_a_page_with_its_labels(zoo_server):
    page = requests.get(zoo_server + "doc/animal/leo", headers={"Accept": "text/html", "Accept-Language": "cs"}, timeout=30)
    assert page.status_code == 200
    assert "<h1>Leo</h1>" in page.text
    assert "lev" in page.text  # its class by its Czech label


@pytest.mark.served
def test_its_sparql_endpoint_and_void_describe_it_and_claim_nothing_of_ours(zoo_server):
    answer = requests.get(zoo_server + "sparql", params={"query": f"SELECT ?a WHERE {{ ?a a <{zoo_server}Lion> }}"},
                          headers={"Accept": "application/sparql-results+json"}, timeout=30).json()
    assert [row["a"]["value"] for row in answer["results"]["bindings"]] == [zoo_server + "animal/leo"]
    void = Graph().parse(data=requests.get(zoo_server + ".well-known/void", headers={"Accept": "text/turtle"},
                                           timeout=30).text, format="turtle")
    (dataset,) = void.subjects(VOID.uriSpace, None)
    titles = {str(title) for title in void.objects(dataset, DCTERMS.title)}
    assert titles and not [title for title in titles if "Liberec" in title or "Libereck" in title]
    assert not list(void.objects(dataset, DCTERMS.publisher)) and not list(void.objects(dataset, DCTERMS.license))
    assert not list(void.objects(dataset, PROV.wasDerivedFrom)) and not list(void.objects(dataset, DCTERMS.source))


@pytest.mark.served
def test_with_its_shapes_bad_data_is_refused(tmp_path):
    broken = tmp_path / "zoo.ttl"
    broken.write_text((ZOO / "zoo.ttl").read_text(encoding="utf-8").replace('rdfs:label "Kim" .', "."),
                      encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "lodpub.cli", "serve", "--data", str(broken), "--shapes", str(ZOO / "zoo-shapes.ttl"),
         "--base-iri", BASE, "--output", str(tmp_path / "dist"), "--port", str(free_port())],
        cwd=CHECKOUT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "An animal has a name." in result.stdout and "animal/kim" in result.stdout
    assert not (tmp_path / "dist").exists()
