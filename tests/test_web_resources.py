"""Dereferencing against a real server on loopback: 303s, negotiation, the formats, the document's
shape, errors. (tests/test_web_pages.py looks at the HTML in a browser.)"""

import json
import re

import pytest
import requests
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, RDFS, SKOS

from rdf_documents import parse_document
from server.namespaces import CANONICAL_BASE


@pytest.fixture(scope="module")
def server(server_on_every_store):
    """Every test here runs on the embedded store and on each remote store."""
    return server_on_every_store

MACHINE_FORMATS = {
    "text/turtle": ("turtle", ".ttl"),
    "application/ld+json": ("json-ld", ".jsonld"),
    "application/rdf+xml": ("xml", ".rdf"),
    "application/n-triples": ("nt", ".nt"),
}

# One thing of each kind: a region, an event with a blank-node (unknown) time, a participation,
# a time, the ontology, a term, a concept scheme, a concept, and the dataset.
THINGS = [
    "id/region/bursa",
    "id/event/valle-d-aosta-council-decision",
    "id/participation/bursa-2011-11-01-signing-vajnerova",
    "id/time/2011-H1",
    "ontology",
    "ontology/Agreement",
    "vocabulary/statuses",
    "vocabulary/statuses/active",
    "id/dataset/partnerships",
]


def get(url: str, accept: str | None = None, **kwargs) -> requests.Response:
    headers = {"Accept": accept} if accept is not None else {}
    return requests.get(url, headers=headers, timeout=30, **kwargs)


def parse(response: requests.Response, rdflib_format: str) -> Graph:
    return parse_document(response.content, rdflib_format, response.url)


@pytest.mark.parametrize("path", THINGS)
def test_a_thing_answers_303_with_its_document(server, path):
    response = get(server + path, "text/turtle", allow_redirects=False)
    assert response.status_code == 303
    assert response.headers["Location"] == f"{server}doc/{path}"


@pytest.mark.parametrize("path", THINGS)
def test_every_format_gives_the_same_graph_about_the_thing(server, path):
    graphs = {}
    for media_type, (rdflib_format, _) in MACHINE_FORMATS.items():
        response = get(server + path, media_type)
        assert response.status_code == 200, (media_type, response.text[:300])
        assert response.headers["Content-Type"].split(";")[0] == media_type
        assert response.history[0].status_code == 303
        graphs[media_type] = parse(response, rdflib_format)
    turtle = graphs.pop("text/turtle")
    assert (URIRef(server + path), None, None) in turtle
    for media_type, graph in graphs.items():
        assert isomorphic(turtle, graph), media_type


def test_json_ld_is_compact_refers_to_the_published_context_and_uses_language_maps(server):
    response = get(server + "doc/id/region/bursa", "application/ld+json")
    document = response.json()
    assert document["@context"] == server + "context.jsonld"
    # shaped as a tree: the thing first in "@graph", the rest it refers to inside it or after it
    subject, *others = document["@graph"]
    assert subject["@id"] == server + "id/region/bursa"
    assert subject["label"] == {"cs": ["Bursa"], "en": ["Bursa Province"]}
    assert others and all(node["@id"].startswith(("http://", "https://", "_:")) for node in others)
    context = get(server + "context.jsonld")
    assert context.headers["Content-Type"].startswith("application/ld+json")
    assert context.json()["@context"]["label"] == {"@id": "rdfs:label", "@container": "@language"}


@pytest.mark.parametrize(
    "accept, status, media_type",
    [
        ("text/turtle", 200, "text/turtle"),
        ("application/ld+json", 200, "application/ld+json"),
        ("application/rdf+xml", 200, "application/rdf+xml"),
        ("application/n-triples", 200, "application/n-triples"),
        ("text/html", 200, "text/html"),
        ("*/*", 200, "text/turtle"),
        (None, 200, "text/turtle"),
        ("text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2", 200, "text/html"),  # Java's default
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", 200, "text/html"),
        ("text/turtle;q=0.5, application/ld+json;q=0.9", 200, "application/ld+json"),
        ("application/rdf+xml;q=0.2, text/turtle;q=0.8, text/html;q=0.1", 200, "text/turtle"),
        ("text/html;q=0, text/turtle", 200, "text/turtle"),
        ("application/json", 200, "application/ld+json"),
        ("application/x-turtle", 200, "text/turtle"),
        ("image/png", 406, "text/plain"),
        ("text/html;q=0, application/pdf", 406, "text/plain"),
    ],
)
def test_negotiation_by_accept_with_q_values(server, accept, status, media_type):
    response = get(server + "doc/id/region/bursa", accept)
    assert response.status_code == status
    assert response.headers["Content-Type"].split(";")[0] == media_type
    assert "Accept" in response.headers["Vary"]


@pytest.mark.parametrize("user_agent", ["nkod/0.0.1", "NKOD/1.2 (+https://data.gov.cz)"])
def test_the_national_catalogues_harvester_never_gets_a_page_for_people(server, user_agent):
    """NKOD sends Java's default Accept header, text/html first; it reads only RDF."""
    java_default = "text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2"
    response = requests.get(server + "doc/id/region/bursa", timeout=30,
                            headers={"Accept": java_default, "User-Agent": user_agent})
    assert response.headers["Content-Type"].split(";")[0] == "text/turtle"
    assert requests.get(server + "doc/id/region/bursa", timeout=30, headers={
        "Accept": "text/html", "User-Agent": user_agent}).status_code == 406


@pytest.mark.parametrize(
    "query, media_type",
    [("format=ttl", "text/turtle"), ("format=jsonld", "application/ld+json"), ("format=rdf", "application/rdf+xml"),
     ("format=nt", "application/n-triples"), ("format=html", "text/html"), ("format=text/turtle", "text/turtle")],
)
def test_format_parameter_overrides_accept(server, query, media_type):
    response = get(f"{server}doc/id/region/bursa?{query}", "text/html")
    assert response.headers["Content-Type"].split(";")[0] == media_type


def test_unknown_format_parameter_is_not_acceptable(server):
    assert get(server + "doc/id/region/bursa?format=pdf").status_code == 406


@pytest.mark.parametrize("suffix, media_type", [(".ttl", "text/turtle"), (".jsonld", "application/ld+json"),
                                                (".rdf", "application/rdf+xml"), (".nt", "application/n-triples"),
                                                (".html", "text/html")])
def test_suffix_overrides_accept_and_keeps_through_the_303(server, suffix, media_type):
    response = get(server + "doc/id/region/bursa" + suffix, "text/html")
    assert response.headers["Content-Type"].split(";")[0] == media_type
    assert response.headers["Content-Location"] == "/doc/id/region/bursa" + suffix
    via_thing = get(server + "id/region/bursa" + suffix, allow_redirects=False)
    assert via_thing.status_code == 303 and via_thing.headers["Location"].endswith("/doc/id/region/bursa" + suffix)


def test_406_lists_what_is_offered(server):
    response = get(server + "doc/id/region/bursa", "image/png")
    for media_type in (*MACHINE_FORMATS, "text/html"):
        assert media_type in response.text


def test_headers_name_the_variant_and_its_alternates(server):
    response = get(server + "doc/id/region/bursa", "text/turtle")
    assert response.headers["Content-Location"] == "/doc/id/region/bursa.ttl"
    links = response.headers["Link"]
    for media_type, (_, suffix) in MACHINE_FORMATS.items():
        assert f'<{server}doc/id/region/bursa{suffix}>; rel="alternate"; type="{media_type}"' in links
    html = get(server + "doc/id/region/bursa", "text/html")
    assert {"Accept", "Accept-Language"} <= {v.strip() for v in html.headers["Vary"].split(",")}


def test_head_gives_the_headers_of_get_without_a_body(server):
    full = get(server + "doc/id/region/bursa", "text/turtle")
    head = requests.head(server + "doc/id/region/bursa", headers={"Accept": "text/turtle"}, timeout=30)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["Content-Length"] == str(len(full.content))
    assert head.headers["ETag"] == full.headers["ETag"]


@pytest.mark.parametrize("media_type", MACHINE_FORMATS)
def test_unknown_iri_is_404_in_the_asked_format(server, media_type):
    for path in ("id/region/atlantis", "doc/id/region/atlantis", "vocabulary/statuses/lost", "ontology/Nothing"):
        response = get(server + path, media_type, allow_redirects=False)
        assert response.status_code == 404
        assert response.headers["Content-Type"].split(";")[0] == media_type
        assert len(parse(response, MACHINE_FORMATS[media_type][0])) <= 1  # nothing, or the message


def test_unknown_iri_is_an_html_page_for_browsers(server):
    response = get(server + "id/region/atlantis", "text/html,*/*;q=0.8", allow_redirects=False)
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<h1>" in response.text


def test_document_holds_own_triples_blank_node_closure_linked_labels_and_inbound_links(server):
    iri = URIRef(server + "id/event/valle-d-aosta-council-decision")
    graph = parse(get(server + "doc/id/event/valle-d-aosta-council-decision", "text/turtle"), "turtle")
    rp = server + "ontology/"
    time = graph.value(iri, URIRef("http://www.w3.org/2006/time#hasTime"))
    assert isinstance(time, BNode)                                               # the unknown time, closed over
    precision = graph.value(time, URIRef(rp + "precision"))
    assert precision == URIRef(server + "vocabulary/date-precisions/unknown")
    assert (precision, SKOS.prefLabel, Literal("unknown", lang="en")) in graph   # label of what it links to
    council = URIRef(server + "id/organisation/liberec-region-council")
    participation = graph.value(iri, URIRef(rp + "participation"))
    assert (participation, RDFS.label, None) in graph
    region = get(server + "doc/id/region/valle-d-aosta", "text/turtle")
    region_graph = parse(region, "turtle")
    inbound = set(region_graph.subjects(URIRef(rp + "partner"), URIRef(server + "id/region/valle-d-aosta")))
    assert URIRef(server + "id/partnership/valle-d-aosta") in inbound                # who links to it
    assert (URIRef(server + "id/partnership/valle-d-aosta"), RDFS.label, None) in region_graph
    assert council is not None


def test_the_ontology_document_holds_every_term_and_a_scheme_its_concepts(server):
    ontology = parse(get(server + "ontology", "text/turtle"), "turtle")
    terms = set(ontology.subjects(RDFS.isDefinedBy, URIRef(server + "ontology")))
    assert URIRef(server + "ontology/Agreement") in terms and len(terms) > 30
    statuses = parse(get(server + "vocabulary/statuses", "text/turtle"), "turtle")
    concepts = set(statuses.subjects(SKOS.inScheme, URIRef(server + "vocabulary/statuses")))
    assert {str(c).rsplit("/", 1)[1] for c in concepts} == {"active", "stagnating", "ended", "terminated"}


def test_links_work_on_the_host_the_server_runs_under(server):
    """Every IRI of ours in a document is under the server's base, none under the canonical one."""
    response = get(server + "doc/id/region/bursa", "application/n-triples")
    assert CANONICAL_BASE not in response.text
    graph = parse(response, "nt")
    ours = {node for node in graph.all_nodes() if isinstance(node, URIRef) and str(node).startswith(server)}
    for node in sorted(ours)[:40]:
        assert get(str(node), "text/turtle").status_code == 200, node


def test_rdf_type_of_the_thing_is_in_its_document(server):
    graph = parse(get(server + "id/region/bursa", "text/turtle"), "turtle")
    assert (URIRef(server + "id/region/bursa"), RDF.type, URIRef(server + "ontology/Region")) in graph


def test_embedded_json_ld_of_the_page_is_the_document(server):
    page = get(server + "doc/id/region/bursa", "text/html").text
    embedded = page.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
    graph = Graph().parse(data=json.loads(embedded.replace("<\\/", "</")) and embedded.replace("<\\/", "</"),
                          format="json-ld")
    turtle = parse(get(server + "doc/id/region/bursa", "text/turtle"), "turtle")
    assert isomorphic(graph, turtle)


# --- other publishers' IRIs the dataset describes ------------------------------------------------

TURKEY = "http://publications.europa.eu/resource/authority/country/TUR"


def test_what_the_dataset_says_of_another_publishers_iri_has_a_document(server):
    """An entry of the EU authority tables: its labels, scheme and source, in every format alike."""
    turtle = requests.get(server + "doc", params={"iri": TURKEY}, headers={"Accept": "text/turtle"}, timeout=30)
    assert turtle.status_code == 200 and turtle.headers["Content-Type"].startswith("text/turtle")
    graph = parse_document(turtle.content, "turtle")
    assert (URIRef(TURKEY), SKOS.inScheme, URIRef(TURKEY.rsplit("/", 1)[0])) in graph
    assert Literal("Turecko", lang="cs") in set(graph.objects(URIRef(TURKEY), SKOS.prefLabel))
    for fmt, parser in (("jsonld", "json-ld"), ("rdf", "xml"), ("nt", "nt")):
        other = requests.get(server + "doc", params={"iri": TURKEY, "format": fmt}, timeout=30)
        assert other.status_code == 200 and isomorphic(parse_document(other.content, parser), graph)
    assert f"doc?iri={TURKEY}&format=nt>" in turtle.headers["Link"]
    page = requests.get(server + "doc", params={"iri": TURKEY}, headers={"Accept": "text/html"}, timeout=30)
    assert page.status_code == 200 and "Turkey" in page.text


def test_another_publishers_iri_of_ours_or_unknown_or_malformed(server):
    ours = requests.get(server + "doc", params={"iri": server + "id/region/bursa"}, allow_redirects=False, timeout=30)
    assert ours.status_code == 303 and ours.headers["Location"] == server + "doc/id/region/bursa"
    for iri in ("http://example.org/nothing", "not an iri", "", "http://a>b"):
        response = requests.get(server + "doc", params={"iri": iri}, headers={"Accept": "text/turtle"}, timeout=30)
        assert response.status_code == 404, iri


def test_a_turtle_document_declares_the_prefixes_it_uses_and_no_others(server):
    body = requests.get(server + "doc/id/region/bursa.ttl", timeout=30).text
    declared = dict(line.split()[1:3] for line in body.splitlines() if line.startswith("@prefix"))
    assert {"reg:", "rp:", "rdfs:"} <= set(declared)
    assert "shp:" not in declared and "dcat:" not in declared  # the shapes' and the catalogue's namespaces
    triples = "\n".join(line for line in body.splitlines() if not line.startswith("@prefix"))
    assert [prefix for prefix in declared if not re.search(rf"(^|[\s;,(\[]){re.escape(prefix)}", triples, re.M)] == []
    assert len(Graph().parse(data=body, format="turtle")) > 20
