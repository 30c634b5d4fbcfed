"""The whole site, walked as a crawler walks it: every IRI of ours reached from the home page, the
VoID and the sitemap, each document in every format read by strict parsers, and every link of every page followed.

- IRIs are found in the pages' links and in the Turtle of every document (any IRI under the base);
  a thing answers 303 to its document, a document 200.
- Each document is fetched in Turtle, N-Triples, RDF/XML, JSON-LD (and the N3, TriG and N-Quads
  types it also answers) and parsed strictly: pyoxigraph for the first ones, rdflib for JSON-LD and
  for all of them; every format gives the same graph. Jena's riot (CI installs it) reads every
  Turtle, N-Triples, RDF/XML and JSON-LD document as well, in one run, and rapper (Raptor) every
  Turtle, N-Triples and RDF/XML one.
- Every link of every HTML page answers 200, after at most one redirect.
"""

import json
import re
import shutil
import subprocess
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlparse

import pyoxigraph as ox
import pytest
import requests
from conftest import require
from rdflib import Graph
from rdflib.compare import isomorphic
from real_clients import jena  # noqa: F401 (a fixture)
from tiers import entering

from lodpub.describe.dcat import NORM_CONTEXT_URL

# Where the server serves its copy of the DCAT-AP-CZ norm's context.
NORM_CONTEXT_COPY = "contexts/rozhrani-katalogu-otevrenych-dat-2024-05-28.jsonld"
# The types a document is asked for, with the format each answer is read in (strictly, by pyoxigraph;
# None: by rdflib only).
DOCUMENT_TYPES = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "text/n3": ox.RdfFormat.N3,
    "application/trig": ox.RdfFormat.TRIG,
    "application/n-quads": ox.RdfFormat.N_QUADS,
}
RDFLIB_FORMATS = {"text/turtle": "turtle", "application/n-triples": "nt", "application/rdf+xml": "xml",
                  "application/ld+json": "json-ld", "text/n3": "n3", "application/trig": "trig",
                  "application/n-quads": "nquads"}
SUFFIXES = {"text/turtle": ".ttl", "application/n-triples": ".nt", "application/rdf+xml": ".rdf",
            "application/ld+json": ".jsonld"}


class _Links(HTMLParser):
    """The URLs a page links to (a, link, script, img), resolved against the page."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base, self.links = base, set()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        target = attributes.get("href") if tag in ("a", "link") else attributes.get("src")
        if target and not target.startswith(("mailto:", "javascript:", "data:")):
            self.links.add(urldefrag(urljoin(self.base, target))[0])


@pytest.fixture(scope="module")
def site(server) -> dict:
    """Walk the site from the home page, the VoID and the sitemap: {"things": {IRI: document URL}, "documents":
    {document URL: {media type: body}}, "pages": {page URL: links}}."""
    session = requests.Session()
    things, documents, pages = {}, {}, {}
    sitemap = session.get(server + "sitemap.xml", timeout=60).text
    queue = deque([server, server + ".well-known/void", *re.findall(r"<loc>([^<]+)</loc>", sitemap)])
    seen: set[str] = set()

    def fetch(url: str) -> tuple[str, requests.Response, requests.Response | None]:
        first = session.get(url, headers={"Accept": "text/html"}, allow_redirects=False, timeout=60)
        final = (session.get(urljoin(url, first.headers["Location"]), headers={"Accept": "text/html"}, timeout=60)
                 if first.status_code in (301, 302, 303, 307, 308) else None)
        return url, first, final

    with ThreadPoolExecutor(4) as pool:
        while queue:
            batch = []
            while queue:
                url = queue.popleft()
                if url not in seen and url.startswith(server) and not _is_file(url, server):
                    seen.add(url)
                    batch.append(url)
            for url, first, final in pool.map(fetch, batch):
                answer = final if final is not None else first
                if first.status_code == 303:
                    things[url] = urldefrag(answer.url)[0]
                assert answer.status_code == 200, (url, first.status_code, answer.status_code)
                if answer.headers["Content-Type"].startswith("text/html"):
                    parser = _Links(answer.url)
                    parser.feed(answer.text)
                    pages[answer.url] = parser.links
                    queue.extend(parser.links)
                document = _document_url(answer.url, server)
                if document and document not in documents:
                    documents[document] = {}
        for document, bodies in zip(documents, pool.map(lambda url: _every_format(session, url), list(documents)), strict=True):
            documents[document] = bodies
            queue.extend(iri for iri in _iris_in(bodies["application/n-triples"], server) if iri not in seen)
    if queue:  # IRIs first met in documents: walk them too (each answers as the rest)
        return _walk_more(server, session, things, documents, pages, queue, seen)
    return {"things": things, "documents": documents, "pages": pages}


def _walk_more(server, session, things, documents, pages, queue, seen) -> dict:
    """The IRIs met in documents but not in pages: each must answer (303 to a document, or 200)."""
    while queue:
        iri = queue.popleft()
        if iri in seen or _is_file(iri, server):
            continue
        seen.add(iri)
        response = session.get(iri, headers={"Accept": "text/turtle"}, allow_redirects=False, timeout=60)
        assert response.status_code in (200, 303), (iri, response.status_code)
        if response.status_code == 303:
            things[iri] = urljoin(iri, response.headers["Location"])
            document = _document_url(things[iri], server)
            if document and document not in documents:
                documents[document] = _every_format(session, document)
                queue.extend(_iris_in(documents[document]["application/n-triples"], server))
    return {"things": things, "documents": documents, "pages": pages}


def _iris_in(n_triples: bytes, server: str) -> set[str]:
    """The IRIs under `server` that the triples of a document name (subjects, predicates, objects)."""
    return {term.value for triple in ox.parse(n_triples, format=ox.RdfFormat.N_TRIPLES)
            for term in (triple.subject, triple.predicate, triple.object)
            if isinstance(term, ox.NamedNode) and term.value.startswith(server)}


def _is_file(url: str, server: str) -> bool:
    """Dumps, static files, the editor and queries: fetched as links, not walked as resources."""
    path = urlparse(url).path
    return path.startswith(("/dumps/", "/static/", "/sparql", "/changes/")) or "?" in url or path.endswith(
        (".css", ".js", ".svg", ".ico", ".xml", ".txt", ".gz", ".nq", ".html", ".ttl", ".nt", ".rdf", ".jsonld"))


def _document_url(url: str, server: str) -> str | None:
    """The negotiated URL of the document at `url` (without a format suffix), if it is one."""
    path = urlparse(url)._replace(query="", fragment="").geturl()
    if not path.startswith(server + "doc/"):
        return None
    for suffix in (".html", *SUFFIXES.values()):
        if path.endswith(suffix):
            return path[: -len(suffix)]
    return path


def _every_format(session: requests.Session, document: str) -> dict[str, bytes]:
    """The document in every type, a JSON-LD one with its context written in (see _with_context)."""
    bodies = {}
    for media_type in DOCUMENT_TYPES:
        response = session.get(document, headers={"Accept": media_type}, timeout=60)
        assert response.status_code == 200, (document, media_type, response.status_code)
        assert response.headers["Content-Type"].split(";")[0] == media_type, (document, media_type)
        bodies[media_type] = response.content
    bodies["application/ld+json"] = _with_context(session, bodies["application/ld+json"], document)
    return bodies


def _with_context(session: requests.Session, body: bytes, document: str) -> bytes:
    """A JSON-LD document with the context it names by URL written in, fetched from the server
    itself (ours, or our copy of the DCAT-AP-CZ norm's): strict parsers here load no remote
    context, and no client needs the web to read a document of ours."""
    parsed = json.loads(body)
    url = parsed.get("@context") if isinstance(parsed, dict) else None
    if isinstance(url, str):
        base = document[: document.index("/doc/") + 1]
        local = base + NORM_CONTEXT_COPY if url == NORM_CONTEXT_URL else url
        assert local.startswith(base), f"{document} names a context elsewhere: {url}"
        parsed["@context"] = session.get(local, timeout=60).json()["@context"]
    return json.dumps(parsed).encode("utf-8")


def test_the_walk_reaches_every_kind_of_resource(site, server):
    paths = {urlparse(iri).path.split("/")[1] for iri in site["things"]}
    assert {"id", "ontology", "vocabulary", "graph", "shapes"} <= paths
    assert len(site["documents"]) > 300 and len(site["pages"]) > 300


def test_every_document_reads_alike_in_every_format(site):
    problems = []
    for document, bodies in site["documents"].items():
        reference = Graph().parse(data=bodies["text/turtle"], format="turtle")
        for media_type, body in bodies.items():
            try:
                quads = list(ox.parse(body, format=DOCUMENT_TYPES[media_type], base_iri=document))
                graph = Graph().parse(data=body, format=RDFLIB_FORMATS[media_type], publicID=document)
            except Exception as error:  # any parser's error is the finding
                problems.append(f"{document} as {media_type}: {error}")
                continue
            # (a JSON-LD reader gives a node's triples once per place the node is written: a set is compared)
            if len(set(quads)) != len(reference) or not isomorphic(_triples_only(graph), reference):
                problems.append(f"{document} as {media_type}: {len(set(quads))} triples, Turtle has {len(reference)}")
    assert problems == []


def _triples_only(graph: Graph) -> Graph:
    """`graph`'s triples (a TriG or N-Quads parse puts them in a graph of rdflib's Dataset)."""
    plain = Graph()
    for triple in graph.triples((None, None, None)):
        plain.add(triple)
    return plain


def test_every_link_of_every_page_answers(site, server):
    session = requests.Session()
    links = sorted({link for links in site["pages"].values() for link in links if link.startswith(server)})

    def status(link: str) -> tuple[str, int]:
        response = session.get(link, timeout=60, allow_redirects=False)
        if response.status_code in (301, 302, 303, 307, 308):
            response = session.get(urljoin(link, response.headers["Location"]), timeout=60, allow_redirects=False)
        return link, response.status_code

    with ThreadPoolExecutor(4) as pool:
        broken = [(link, code) for link, code in pool.map(status, links) if code != 200]
    assert len(links) > 500 and broken == []


def test_jena_riot_reads_every_document_strictly(site, jena, tmp_path):
    files: dict[str, list[str]] = {}
    for number, bodies in enumerate(site["documents"].values()):
        for media_type, suffix in SUFFIXES.items():
            path = tmp_path / f"{number}{suffix}"
            path.write_bytes(bodies[media_type])
            files.setdefault(suffix, []).append(str(path))
    # JSON-LD through Jena's 1.0 reader (Debian's Jena 4.5 fails to load any file with its 1.1 one).
    json_ld = jena("riotcmd.riot", "--syntax=jsonld10", "--count", *files.pop(".jsonld"))
    # (riot exits with 1 on a warning in strict mode: what it reports is checked instead)
    finished = jena("riotcmd.riot", "--strict", "--count", "--check", *(path for paths in files.values() for path in paths),
                    succeeds=False)
    assert "ERROR" not in finished.stderr + json_ld.stderr, (finished.stderr + json_ld.stderr)[-3000:]
    # W124: the Czech norm's own vocabularies have IRIs with non-ASCII letters (slovník, podmínky-užití),
    # legal in RDF and kept as the norm writes them.
    warnings = [line for line in finished.stderr.splitlines() if " WARN " in line and "{W124}" not in line]
    assert warnings == []


# rapper's names of the formats it reads (it has no JSON-LD).
RAPPER_SYNTAX = {".ttl": "turtle", ".nt": "ntriples", ".rdf": "rdfxml"}


@pytest.mark.clients
def test_rapper_reads_every_document_strictly(site, tmp_path):
    entering("clients", "rapper")
    require(shutil.which("rapper") is not None, "rapper (apt-get install raptor2-utils; .ci/run does)")
    problems = []
    for number, (document, bodies) in enumerate(site["documents"].items()):
        for media_type, suffix in SUFFIXES.items():
            if suffix not in RAPPER_SYNTAX:
                continue
            path = tmp_path / f"{number}{suffix}"
            path.write_bytes(bodies[media_type])
            finished = subprocess.run(["rapper", "--count", "--input", RAPPER_SYNTAX[suffix], str(path), document],
                                      capture_output=True, text=True, timeout=60)
            expected = len(Graph().parse(data=bodies["text/turtle"], format="turtle"))
            counted = re.search(r"returned (\d+) triples?", finished.stderr)
            if finished.returncode != 0 or "Error" in finished.stderr or not counted or int(counted[1]) != expected:
                problems.append(f"{document} as {media_type}: {finished.stderr.strip()[-300:]}")
    assert problems == []
