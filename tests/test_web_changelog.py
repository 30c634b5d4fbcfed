"""The changelog served: a page for people in cs and en, and RDF negotiated like every document.

The publisher in process (create_app, through a requests session of this module) serves three releases of the mini fixture: the first, one
after its data were edited (a label changed, an agreement removed, a region added, a date held by a
blank node moved), and a rebuild of the same data. The project's release (in process) shows the catalogue's link.
"""

import dataclasses
import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import urljoin

import pyoxigraph as ox
import pytest
import requests
from conftest import MINI
from in_process import InProcess
from rdf_documents import parse_document
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, PROV, RDFS
from test_describe_changes import FIRST, SECOND, THIRD, edit_the_data

from lodpub import create_app
from lodpub.build import build
from lodpub.config import load_settings
from lodpub.web.i18n import WORDS

RDF_SUFFIXES = {".ttl": "turtle", ".jsonld": "json-ld", ".rdf": "xml", ".nt": "nt"}
CANONICAL = "https://data.kraj-lbc.cz/partnerships/"


class Releases:
    """The three releases the server serves, by version, and the server's base URL."""

    def __init__(self, server: str, versions: list[str], output) -> None:
        self.server, self.output = server, output
        self.first, self.second, self.third = versions


# The requests of this module: the releases' app is mounted here at the canonical base, which the project's
# app (in_process.HTTP) holds.
SESSION = requests.Session()


@pytest.fixture(scope="module")
def releases(tmp_path_factory) -> Iterator[Releases]:
    mini = shutil.copytree(MINI, tmp_path_factory.mktemp("changelog") / "mini")
    settings = load_settings(ontology_dir=mini / "ontology", data_dir=mini / "data", shapes_dir=mini / "shapes",
                             output_dir=mini.parent / "dist")
    first = build(settings, now=FIRST)
    edit_the_data(mini)
    versions = [first.version, build(settings, now=SECOND).version, build(settings, now=THIRD).version]
    SESSION.mount(CANONICAL, InProcess(create_app(dataclasses.replace(settings, public_base=CANONICAL)), CANONICAL))
    try:
        yield Releases(CANONICAL, versions, settings.output_dir)
    finally:
        SESSION.adapters.pop(CANONICAL)


class Page(HTMLParser):
    """What the tests read of a page: its language, heading, release sections and links."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.lang, self.h1, self.sections, self.links, self.gone = None, "", [], [], []
        self._in: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "html":
            self.lang = attributes.get("lang")
        if tag == "section" and "release" in (attributes.get("class") or ""):
            self.sections.append(attributes["id"])
        if tag == "a":
            self.links.append([attributes.get("href"), ""])
        if tag == "li":
            self.gone.append("")
        self._in.append(tag)

    def handle_endtag(self, tag):
        while self._in and self._in.pop() != tag:
            pass

    def handle_data(self, data):
        if "h1" in self._in:
            self.h1 += data
        if "a" in self._in and self.links:
            self.links[-1][1] += data
        if "li" in self._in and self.gone:
            self.gone[-1] += data


def page(url: str, language: str, http: requests.Session = SESSION) -> tuple[requests.Response, Page]:
    response = http.get(url, params={"lang": language}, headers={"Accept": "text/html"}, timeout=30)
    assert response.status_code == 200, url
    return response, Page(response.text)


@pytest.mark.parametrize("language", ["cs", "en"])
def test_the_page_lists_the_releases_newest_first_in_each_language(releases, language):
    response, html = page(releases.server + "changes", language)

    assert response.headers["Content-Type"].startswith("text/html")
    assert html.lang == language and html.h1 == WORDS["changelog"][language]
    assert html.sections == [releases.third, releases.second, releases.first]
    first_note = {"cs": "První vydání", "en": "The first release"}[language]
    same_note = {"cs": f"Data jsou stejná jako ve vydání {releases.second}", "en": f"The data are the same as in release {releases.second}"}[language]
    assert first_note in response.text and same_note in response.text
    assert 'type="application/ld+json"' in response.text


def test_every_link_of_the_page_leads_somewhere(releases):
    _, html = page(releases.server + "changes", "en")
    ours = {urljoin(releases.server, href) for href, _ in html.links if urljoin(releases.server, href).startswith(releases.server)}

    assert ours
    for url in ours:
        response = SESSION.get(url, headers={"Accept": "text/html"}, timeout=30)
        assert response.status_code == 200, url


def test_the_resources_changed_are_named_by_label_and_linked_while_they_exist(releases):
    response, html = page(releases.server + "changes", "en")
    texts = {text: urljoin(releases.server, href) for href, text in html.links}

    assert texts["Bursa Province"] == releases.server + "id/region/bursa"
    assert texts["Izmir Province"] == releases.server + "id/region/izmir"
    assert "Cooperation agreement" not in texts  # removed in the second release: no page to link to
    assert any("Cooperation agreement" in item and WORDS["no_longer_in_data"]["en"] in item for item in html.gone)
    resource = SESSION.get(texts["Bursa Province"], headers={"Accept": "text/html"}, timeout=30)
    assert resource.url == releases.server + "doc/id/region/bursa" and "Bursa Province" in resource.text


def test_the_patch_files_hold_the_quads_of_the_release_at_the_servers_base(releases):
    release_dir = releases.output / "releases" / releases.second
    for kind in ("added", "removed"):
        response = SESSION.get(f"{releases.server}changes/{releases.second}/{kind}.nq", timeout=30)
        assert response.status_code == 200 and response.headers["Content-Type"] == "application/n-quads"
        served = set(ox.parse(response.content, format=ox.RdfFormat.N_QUADS))
        written = (release_dir / f"changes-{kind}.nq").read_bytes().replace(CANONICAL.encode(), releases.server.encode())
        assert served == set(ox.parse(written, format=ox.RdfFormat.N_QUADS)) and served
    missing = SESSION.get(f"{releases.server}changes/{releases.first}/added.nq", timeout=30)
    assert missing.status_code == 404 and "added" in missing.text
    assert SESSION.get(f"{releases.server}changes/..%2Fcurrent/added.nq", timeout=30).status_code == 404


@pytest.mark.parametrize("path", ["changes", "doc/id/release/{second}"])
def test_the_rdf_parses_in_every_format_and_is_the_same_graph(releases, path):
    url = releases.server + path.format(second=releases.second)
    graphs = {}
    for suffix, rdflib_format in RDF_SUFFIXES.items():
        response = SESSION.get(url + suffix, timeout=30)
        assert response.status_code == 200, url + suffix
        graphs[suffix] = parse_document(response.content, rdflib_format, url, SESSION)
    negotiated = SESSION.get(url, headers={"Accept": "application/ld+json"}, timeout=30)
    assert negotiated.headers["Content-Type"].startswith("application/ld+json") and "Accept" in negotiated.headers["Vary"]
    graphs["negotiated"] = parse_document(negotiated.content, "json-ld", url, SESSION)
    turtle = graphs[".ttl"]
    assert len(turtle) > 10
    for suffix, graph in graphs.items():
        assert isomorphic(graph, turtle), suffix


def test_the_rdf_says_what_each_release_changed(releases):
    log = Graph().parse(data=SESSION.get(releases.server + "changes.ttl", timeout=30).text, format="turtle")
    release = URIRef(f"{releases.server}id/release/{releases.second}")

    assert set(log.objects(URIRef(releases.server + "changes"), PROV.hadMember)) == {
        URIRef(f"{releases.server}id/release/{version}") for version in (releases.first, releases.second, releases.third)}
    assert log.value(release, PROV.wasRevisionOf) == URIRef(f"{releases.server}id/release/{releases.first}")
    assert URIRef(releases.server + "id/region/bursa") in set(log.objects(release, DCTERMS.references))
    assert Literal("Bursa Province", lang="en") in set(log.objects(URIRef(releases.server + "id/region/bursa"), RDFS.label))
    assert log.value(URIRef(f"{releases.server}id/release/{releases.first}"), PROV.wasRevisionOf) is None


def test_a_release_iri_is_answered_with_303_and_an_unknown_one_with_404(releases):
    thing = f"{releases.server}id/release/{releases.second}"
    answer = SESSION.get(thing, allow_redirects=False, timeout=30)
    assert answer.status_code == 303 and answer.headers["Location"] == f"{releases.server}doc/id/release/{releases.second}"
    part = SESSION.get(thing + "/added.ttl", allow_redirects=False, timeout=30)
    assert part.status_code == 303 and part.headers["Location"].endswith(f"doc/id/release/{releases.second}/added.ttl")
    unknown = SESSION.get(releases.server + "id/release/20990101T000000Z-00000000", headers={"Accept": "text/html"}, timeout=30)
    assert unknown.status_code == 404 and unknown.headers["Content-Type"].startswith("text/html")
    assert SESSION.get(releases.server + "changes", headers={"Accept": "image/png"}, timeout=30).status_code == 406
    assert SESSION.get(releases.server + "changes.exe", timeout=30).status_code == 404


def test_the_catalogue_record_links_the_changelog_of_the_first_release(in_process):
    server = in_process
    dataset = Graph().parse(data=server.http.get(server + "doc/id/dataset/partnerships.ttl", timeout=30).text,
                            format="turtle")
    changelog = URIRef(server + "changes")

    assert changelog in set(dataset.objects(URIRef(server + "id/dataset/partnerships"), DCTERMS.relation))
    response, html = page(str(changelog), "cs", server.http)
    assert html.h1 == WORDS["changelog"]["cs"] and len(html.sections) == 1
    assert "První vydání" in response.text
