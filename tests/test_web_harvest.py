"""For harvesters: dumps with sizes and checksums, VoID, the JSON-LD context, robots.txt, the
sitemap and the health endpoint, against a real server on loopback."""

import base64
import gzip
import hashlib
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
import requests
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, PROV, RDF, VOID, XSD
from tiers import tiered

from lodpub.namespaces import CANONICAL_BASE


def get(url: str, **kwargs) -> requests.Response:
    return requests.get(url, timeout=30, **kwargs)


@pytest.fixture(scope="module")
def manifest(server) -> dict:
    return get(server + "dumps/manifest.json").json()


def test_every_dump_is_served_with_its_size_and_sha256(server, manifest):
    sums = dict(reversed(line.split("  ")) for line in get(server + "dumps/SHA256SUMS").text.splitlines())
    assert {entry["name"] for entry in manifest["files"]} >= {"partnerships.ttl", "partnerships.ttl.gz",
                                                              "partnerships.nq", "partnerships.jsonld"}
    for entry in manifest["files"] + manifest["description"]:
        response = get(server + "dumps/" + entry["name"])
        assert response.status_code == 200
        assert int(response.headers["Content-Length"]) == len(response.content) == entry["bytes"]
        digest = hashlib.sha256(response.content)
        assert digest.hexdigest() == entry["sha256"] == sums[entry["name"]]
        assert response.headers["Repr-Digest"] == f"sha-256=:{base64.b64encode(digest.digest()).decode()}:"
        assert response.headers["Content-Type"].split(";")[0] == entry["media_type"]


def test_gzip_variants_hold_the_plain_dumps(server, manifest):
    for entry in manifest["files"]:
        if entry["name"].endswith(".gz"):
            plain = get(server + "dumps/" + entry["name"][:-3]).content
            assert gzip.decompress(get(server + "dumps/" + entry["name"]).content) == plain


def test_dumps_hold_the_whole_dataset_under_the_servers_base(server, project_release):
    served = Dataset()
    served.parse(data=get(server + "dumps/partnerships.nq").content, format="nquads")
    assert {str(graph.identifier) for graph in served.graphs() if len(graph)} == {
        f"{server}graph/ontology", f"{server}graph/vocabularies", f"{server}graph/data", f"{server}graph/authorities"}
    turtle = Graph().parse(data=get(server + "dumps/partnerships.ttl").content, format="turtle")
    union = Graph()
    for graph in served.graphs():
        union += graph
    assert isomorphic(turtle, union)
    assert len(turtle) == project_release.manifest["triples"]
    # No IRI (nor IRI held as data, xsd:anyURI) is left under the canonical base; a string that
    # names it (the ontology's vann:preferredNamespaceUri) is a string, never rewritten.
    dump = Graph().parse(data=get(server + "dumps/partnerships.nt").content, format="nt")
    terms = {term for triple in dump for term in triple}
    assert not [term for term in terms if isinstance(term, URIRef) and term.startswith(CANONICAL_BASE)]
    assert not [term for term in terms if isinstance(term, Literal) and term.datatype == XSD.anyURI
                and term.startswith(CANONICAL_BASE)]
    assert Literal(CANONICAL_BASE + "ontology/") in terms


def test_dumps_page_lists_every_file(server, manifest):
    page = get(server + "dumps/", headers={"Accept": "text/html"}).text
    for entry in manifest["files"]:
        assert entry["name"] in page and entry["sha256"] in page


def test_unknown_dump_is_404(server):
    assert get(server + "dumps/passwords.txt").status_code == 404
    assert get(server + "dumps/..%2Fmanifest.json").status_code == 404


@pytest.fixture(scope="module")
def void(server) -> Graph:
    response = get(server + ".well-known/void", headers={"Accept": "text/turtle"})
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/turtle")
    return Graph().parse(data=response.content, format="turtle")


def test_void_describes_size_partitions_vocabularies_dumps_licence_and_publisher(server, void, project_release,
                                                                                  built_graph):
    dataset = URIRef(server + "id/dataset/partnerships")
    assert (dataset, RDF.type, VOID.Dataset) in void
    assert void.value(dataset, VOID.triples) == Literal(project_release.manifest["triples"])
    assert str(void.value(dataset, VOID.uriSpace)) == server + "id/"
    entities = {s for s in built_graph.subjects() if str(s).startswith(CANONICAL_BASE + "id/")}
    assert int(void.value(dataset, VOID.entities)) == len(entities) > 100
    assert void.value(dataset, DCTERMS.license) == URIRef("https://creativecommons.org/licenses/by/4.0/")
    assert void.value(dataset, DCTERMS.publisher) == URIRef(
        "https://rpp-opendata.egon.gov.cz/odrpp/zdroj/orgán-veřejné-moci/70891508")
    vocabularies = {str(v) for v in void.objects(dataset, VOID.vocabulary)}
    assert {"http://www.w3.org/ns/prov#", "http://www.w3.org/2006/time#", server + "ontology/"} <= vocabularies
    classes = {void.value(p, VOID["class"]): int(void.value(p, VOID.entities))
               for p in void.objects(dataset, VOID.classPartition)}
    assert classes[URIRef(server + "ontology/Agreement")] == 6
    properties = {void.value(p, VOID.property) for p in void.objects(dataset, VOID.propertyPartition)}
    assert URIRef(server + "ontology/partner") in properties
    for dump in void.objects(dataset, VOID.dataDump):
        assert get(str(dump)).status_code == 200


def test_void_says_the_data_was_derived_from_the_page_not_that_it_is_a_source_dataset(server, void):
    """dcterms:source of a dcat:Dataset must be a dcat:Dataset (DCAT-AP 3.0.1), and the dataset's IRI
    is also its catalogue record's: the page it was taken from is said with prov:wasDerivedFrom."""
    dataset = URIRef(server + "id/dataset/partnerships")
    assert list(void.objects(dataset, PROV.wasDerivedFrom)) == [URIRef(server + "id/source/uzavrene-dohody")]
    assert not list(void.objects(dataset, DCTERMS.source))


def test_void_is_negotiated_like_every_document(server):
    for accept, media_type in (("application/ld+json", "application/ld+json"), ("text/html", "text/html"),
                               ("application/n-triples", "application/n-triples")):
        response = get(server + ".well-known/void", headers={"Accept": accept})
        assert response.headers["Content-Type"].split(";")[0] == media_type
    assert get(server + ".well-known/void.ttl").headers["Content-Type"].startswith("text/turtle")


def test_robots_txt_points_to_the_sitemap(server):
    robots = get(server + "robots.txt")
    assert robots.headers["Content-Type"].startswith("text/plain")
    assert f"Sitemap: {server}sitemap.xml" in robots.text.splitlines()


def test_sitemap_lists_a_page_for_every_resource_and_each_page_answers(server, project_release):
    root = ElementTree.fromstring(get(server + "sitemap.xml").content)
    namespace = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    urls = [loc.text for loc in root.findall("s:url/s:loc", namespace)]
    assert server in urls and f"{server}doc/id/region/bursa" in urls and f"{server}doc/ontology/Agreement" in urls
    # the VoID, every named graph, the shapes and every release, as well
    assert f"{server}.well-known/void" in urls and f"{server}doc/shapes/Agreement-party" in urls
    assert {f"{server}doc/graph/{name}" for name in ("ontology", "vocabularies", "data", "authorities",
                                                     "description", "catalogue")} <= set(urls)
    assert f"{server}doc/id/release/{project_release.version}" in urls
    assert len(urls) == len(set(urls)) > 250
    session = requests.Session()
    for url in urls:
        assert session.get(url, headers={"Accept": "text/html"}, timeout=30).status_code == 200, url


def test_health_reports_version_size_uptime_and_is_not_cached(server, project_release):
    response = get(server + "health")
    health = response.json()
    assert health["status"] == "ok" and health["version"] == project_release.version
    assert health["triples"] == project_release.manifest["triples"] and health["uptime_seconds"] > 0
    assert response.headers["Cache-Control"] == "no-store"


def test_the_server_runs_several_worker_processes(server):
    children = [
        path for path in Path("/proc").glob("[0-9]*")
        if re.search(rf"^PPid:\s+{server.pid}$", (path / "status").read_text(errors="replace"), re.M)
    ] if Path("/proc").is_dir() else []
    assert len(children) >= 2


# --- Resuming a download: byte ranges of the dumps ---------------------------------------------------


@pytest.fixture(scope="module")
@tiered("served")
def at_canonical_base(project_release, tmp_path_factory):
    """The server behind a proxy at the canonical base, where the dumps are sent from their files;
    and the headers that proxy adds."""
    from conftest import proxied_to, running_server

    with running_server(project_release.path.parent.parent, tmp_path_factory.mktemp("proxied"),
                        PROXY_HOPS="1", PUBLIC_BASE=CANONICAL_BASE) as base:
        yield base, proxied_to(CANONICAL_BASE)


@pytest.mark.parametrize("where", ["server's own base", "canonical base"])
@pytest.mark.parametrize("name", ["partnerships.nt", "partnerships.ttl.gz"])
@pytest.mark.served
def test_an_interrupted_download_resumes_with_a_range(server, at_canonical_base, project_release, where, name):
    base, headers = (server, {}) if where == "server's own base" else at_canonical_base
    listed = get(base + "dumps/manifest.json", headers=headers).json()
    entry = next(entry for entry in listed["files"] if entry["name"] == name)
    first = requests.get(base + "dumps/" + name, headers=headers, stream=True, timeout=30)
    assert first.headers["Accept-Ranges"] == "bytes"
    begun = first.raw.read(entry["bytes"] // 3, decode_content=False)  # and the connection drops
    first.close()
    rest = get(base + "dumps/" + name, headers={**headers, "Range": f"bytes={len(begun)}-",
                                                "If-Range": first.headers["ETag"]})
    assert rest.status_code == 206
    assert rest.headers["Content-Range"] == f"bytes {len(begun)}-{entry['bytes'] - 1}/{entry['bytes']}"
    assert "Content-Encoding" not in rest.headers
    whole = begun + rest.content
    assert len(whole) == entry["bytes"] and hashlib.sha256(whole).hexdigest() == entry["sha256"]
    if where == "canonical base":  # the file as the build wrote it
        assert whole == (Path(project_release.path) / name).read_bytes()


def test_a_range_of_a_changed_file_or_beyond_its_end(server, manifest):
    size = next(entry["bytes"] for entry in manifest["files"] if entry["name"] == "partnerships.nt")
    url = server + "dumps/partnerships.nt"
    changed = get(url, headers={"Range": "bytes=10-", "If-Range": '"an-older-release"'})
    assert changed.status_code == 200 and len(changed.content) == size  # If-Range failed: the whole file
    beyond = get(url, headers={"Range": f"bytes={size}-"})
    assert beyond.status_code == 416 and beyond.headers["Content-Range"] == f"bytes */{size}"
    tail = get(url, headers={"Range": "bytes=-100"})
    assert tail.status_code == 206 and tail.content == get(url).content[-100:]
