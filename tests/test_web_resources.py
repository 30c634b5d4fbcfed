"""Dereferencing: 303s, negotiation, the formats, the document's shape, errors; on the publisher in process
(the embedded store) and on real servers over each remote store, through in_process.HTTP; real clients and
the host a server runs under on real servers. (tests/test_web_pages.py looks at the HTML in a browser.)"""

import json
import re
import subprocess
from urllib.parse import urlsplit

import pyoxigraph as ox
import pytest
import real_clients as client
import requests
from conftest import require
from in_process import HTTP
from rdf_documents import parse_document
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, RDFS, SKOS
from real_clients import jena  # noqa: F401 - the fixture that runs Jena
from tiers import entering

from lodpub.namespaces import CANONICAL_BASE


@pytest.fixture(scope="module")
def server(site_on_every_store):
    """Every test here runs on the embedded store (in process) and on each remote store."""
    return site_on_every_store

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
    return HTTP.get(url, headers=headers, timeout=30, **kwargs)


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
    response = HTTP.get(server + "doc/id/region/bursa", timeout=30,
                            headers={"Accept": java_default, "User-Agent": user_agent})
    assert response.headers["Content-Type"].split(";")[0] == "text/turtle"
    assert HTTP.get(server + "doc/id/region/bursa", timeout=30, headers={
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
    assert response.headers["Content-Location"] == urlsplit(server).path + "doc/id/region/bursa" + suffix
    via_thing = get(server + "id/region/bursa" + suffix, allow_redirects=False)
    assert via_thing.status_code == 303 and via_thing.headers["Location"].endswith("/doc/id/region/bursa" + suffix)


def test_406_lists_what_is_offered(server):
    response = get(server + "doc/id/region/bursa", "image/png")
    for media_type in (*MACHINE_FORMATS, "text/html"):
        assert media_type in response.text


def test_headers_name_the_variant_and_its_alternates(server):
    # In process, the base has a path (the canonical one): the Link header names it once.
    response = get(server + "doc/id/region/bursa", "text/turtle")
    assert response.headers["Content-Location"] == urlsplit(server).path + "doc/id/region/bursa.ttl"
    links = response.headers["Link"]
    for media_type, (_, suffix) in MACHINE_FORMATS.items():
        assert f'<{server}doc/id/region/bursa{suffix}>; rel="alternate"; type="{media_type}"' in links
    html = get(server + "doc/id/region/bursa", "text/html")
    assert {"Accept", "Accept-Language"} <= {v.strip() for v in html.headers["Vary"].split(",")}


def test_head_gives_the_headers_of_get_without_a_body(server):
    full = get(server + "doc/id/region/bursa", "text/turtle")
    head = HTTP.head(server + "doc/id/region/bursa", headers={"Accept": "text/turtle"}, timeout=30)
    assert head.status_code == 200 and head.content == b""
    # (requests asks for gzip: the length is that of the bytes sent, gzipped for both)
    assert head.headers["Content-Encoding"] == full.headers["Content-Encoding"] == "gzip"
    assert head.headers["Content-Length"] == full.headers["Content-Length"]
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
    assert {str(c).rsplit("/", 1)[1] for c in concepts} == {"signed", "signed-and-initialled", "stagnating", "ended",
                                                           "notice-given", "active", "terminated"}  # two deprecated


def test_links_work_on_the_host_the_server_runs_under(server_on_every_store):
    """Every IRI of ours in a document is under the server's base, none under the canonical one."""
    server = server_on_every_store  # a real server, on a host of its own
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
    graph = parse_document(json.loads(embedded.replace("<\\/", "</")) and embedded.replace("<\\/", "</"), "json-ld")
    turtle = parse(get(server + "doc/id/region/bursa", "text/turtle"), "turtle")
    assert isomorphic(graph, turtle)


# --- other publishers' IRIs the dataset describes ------------------------------------------------

TURKEY = "http://publications.europa.eu/resource/authority/country/TUR"


def test_what_the_dataset_says_of_another_publishers_iri_has_a_document(server):
    """An entry of the EU authority tables: its labels, scheme and source, in every format alike."""
    turtle = HTTP.get(server + "doc", params={"iri": TURKEY}, headers={"Accept": "text/turtle"}, timeout=30)
    assert turtle.status_code == 200 and turtle.headers["Content-Type"].startswith("text/turtle")
    graph = parse_document(turtle.content, "turtle")
    assert (URIRef(TURKEY), SKOS.inScheme, URIRef(TURKEY.rsplit("/", 1)[0])) in graph
    assert Literal("Turecko", lang="cs") in set(graph.objects(URIRef(TURKEY), SKOS.prefLabel))
    for fmt, parser in (("jsonld", "json-ld"), ("rdf", "xml"), ("nt", "nt")):
        other = HTTP.get(server + "doc", params={"iri": TURKEY, "format": fmt}, timeout=30)
        assert other.status_code == 200 and isomorphic(parse_document(other.content, parser), graph)
    assert f"doc?iri={TURKEY}&format=nt>" in turtle.headers["Link"]
    page = HTTP.get(server + "doc", params={"iri": TURKEY}, headers={"Accept": "text/html"}, timeout=30)
    assert page.status_code == 200 and "Türkiye" in page.text


def test_another_publishers_iri_of_ours_or_unknown_or_malformed(server):
    ours = HTTP.get(server + "doc", params={"iri": server + "id/region/bursa"}, allow_redirects=False, timeout=30)
    assert ours.status_code == 303 and ours.headers["Location"] == server + "doc/id/region/bursa"
    for iri in ("http://example.org/nothing", "not an iri", "", "http://a>b"):
        response = HTTP.get(server + "doc", params={"iri": iri}, headers={"Accept": "text/turtle"}, timeout=30)
        assert response.status_code == 404, iri


def test_a_turtle_document_declares_the_prefixes_it_uses_and_no_others(server):
    body = HTTP.get(server + "doc/id/region/bursa.ttl", timeout=30).text
    declared = dict(line.split()[1:3] for line in body.splitlines() if line.startswith("@prefix"))
    assert {"reg:", "rp:", "rdfs:"} <= set(declared)
    assert "shp:" not in declared and "dcat:" not in declared  # the shapes' and the catalogue's namespaces
    triples = "\n".join(line for line in body.splitlines() if not line.startswith("@prefix"))
    assert [prefix for prefix in declared if not re.search(rf"(^|[\s;,(\[]){re.escape(prefix)}", triples, re.M)] == []
    assert len(Graph().parse(data=body, format="turtle")) > 20


# --- Advertised IRIs that are not resources of the data: the named graphs and the shapes ---------

VOID_TRIPLES = URIRef("http://rdfs.org/ns/void#triples")
EVERY_FORMAT = {**MACHINE_FORMATS, "text/html": (None, ".html")}


def dereferences_in_every_format(server: str, iri: str) -> Graph:
    """Follow `iri` in every format (303, then 200 in the format asked for); its Turtle graph."""
    graphs = {}
    for media_type, (rdflib_format, _) in EVERY_FORMAT.items():
        response = get(iri, media_type)
        assert [step.status_code for step in response.history] == [303], (iri, media_type)
        assert response.status_code == 200, (iri, media_type, response.text[:300])
        assert response.headers["Content-Type"].split(";")[0] == media_type
        if rdflib_format:
            graphs[media_type] = parse(response, rdflib_format)
    turtle = graphs.pop("text/turtle")
    assert all(isomorphic(turtle, graph) for graph in graphs.values()), iri
    return turtle


def test_every_named_graph_dereferences_to_its_size(embedded_server):
    """Every graph the Service Description names (the VoID and the catalogue record's too) answers
    as a VoID subset whose size is what the endpoint counts in it."""
    description = Graph().parse(data=get(embedded_server + "sparql", "text/turtle").text, format="turtle")
    names = set(description.objects(None, URIRef("http://www.w3.org/ns/sparql-service-description#name")))
    assert {URIRef(embedded_server + "graph/" + name) for name in
            ("ontology", "vocabularies", "data", "authorities", "description", "catalogue")} <= names
    for name in names:
        counted = get(embedded_server + "sparql", "application/sparql-results+json",
                      params={"query": f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{name}> {{ ?s ?p ?o }} }}"})
        size = int(counted.json()["results"]["bindings"][0]["n"]["value"])
        document = dereferences_in_every_format(embedded_server, str(name))
        assert document.value(name, VOID_TRIPLES).toPython() == size, name


def test_every_shape_dereferences_to_what_the_shapes_say_of_it(embedded_server, project_shapes):
    """The shapes' IRIs (README: `{base}shapes/<Shape>`, named by validation reports) are served
    from the shapes the release was validated with, in every format."""
    from lodpub.namespaces import rebase

    shapes = Graph(bind_namespaces="none")
    shapes += project_shapes
    rebase(shapes, CANONICAL_BASE, embedded_server)
    named = sorted({subject for subject in shapes.subjects() if str(subject).startswith(embedded_server + "shapes")})
    assert URIRef(embedded_server + "shapes") in named and URIRef(embedded_server + "shapes/Agreement-party") in named
    for iri in (URIRef(embedded_server + "shapes/Agreement-party"), named[-1]):
        document = dereferences_in_every_format(embedded_server, str(iri))
        assert isomorphic(document.cbd(iri), shapes.cbd(iri)), iri
    assert isomorphic(dereferences_in_every_format(embedded_server, embedded_server + "shapes"), shapes)
    published = Graph().parse(data=get(embedded_server + "dumps/shapes.ttl").text, format="turtle")
    assert isomorphic(published, shapes)
    assert get(embedded_server + "shapes/NoSuchShape", "text/turtle", allow_redirects=False).status_code == 404


@pytest.mark.parametrize("path", ["id/region/bursa", "ontology", "changes", ".well-known/void", "shapes/Agreement-party"])
def test_a_pages_canonical_url_answers_200_with_that_page(embedded_server, path):
    """rel=canonical names the page's own HTML URL, never the thing's IRI (which answers 303)."""
    page = get(embedded_server + path, "text/html")
    canonical = re.search(r'<link rel="canonical" href="([^"]+)">', page.text).group(1)
    assert canonical.endswith(".html")
    again = HTTP.get(canonical, timeout=30, allow_redirects=False)  # no Accept: the URL says HTML
    assert again.status_code == 200 and again.headers["Content-Type"].startswith("text/html")
    assert again.text == page.text


def test_a_kept_page_is_not_sent_for_a_url_whose_arguments_it_would_repeat_otherwise(client):
    """The language switch repeats the page's arguments: the page kept for `?format=html` is not the
    page for the bare URL, nor the other way round."""
    with_format = client.get("/doc/id/region/bursa?format=html", headers={"Accept-Language": "en"}).text
    bare = client.get("/doc/id/region/bursa", headers={"Accept": "text/html", "Accept-Language": "en"}).text
    assert 'href="?format=html&amp;lang=cs"' in with_format
    assert 'href="?lang=cs"' in bare and "format=html" not in bare


# --- negotiation with the Accept headers real clients send -------------------------------------


def graph_as_sent(response: requests.Response) -> Graph:
    """The document read by a strict parser of the media type it was sent as (Oxigraph's; rdflib's
    for JSON-LD, whose context Oxigraph does not fetch)."""
    media_type = response.headers["Content-Type"].split(";")[0]
    if media_type == "application/ld+json":
        return parse(response, "json-ld")
    quads = ox.parse(response.content, format=ox.RdfFormat.from_media_type(media_type), base_iri=response.url)
    return Graph().parse(data=ox.serialize(quads, format=ox.RdfFormat.N_QUADS), format="nquads")


@pytest.mark.parametrize("accept, media_type", [
    pytest.param(client.ANY, "text/turtle", id="curl, fetch()"),
    pytest.param(client.CHROMIUM_NAVIGATION, "text/html", id="Chromium navigation"),
    pytest.param(client.FIREFOX_NAVIGATION, "text/html", id="Firefox navigation"),
    pytest.param(client.JAVA_DEFAULT, "text/html", id="Java default"),
    pytest.param(client.JENA_RDF, "text/turtle", id="Jena RDFDataMgr"),
    pytest.param(client.COMUNICA_DOCUMENT, "application/n-quads", id="Comunica"),
    pytest.param(client.RDFLIB_PARSE, "text/turtle", id="rdflib parse"),
    *[pytest.param(accept, media_type, id=f"rdflib parse as {name}") for name, accept, media_type in (
        ("turtle", client.RDFLIB_PARSE_AS["turtle"], "text/turtle"),
        ("n3", client.RDFLIB_PARSE_AS["n3"], "text/n3"),
        ("nt", client.RDFLIB_PARSE_AS["nt"], "application/n-triples"),
        ("json-ld", client.RDFLIB_PARSE_AS["json-ld"], "application/ld+json"),
        ("xml", client.RDFLIB_PARSE_AS["xml"], "application/rdf+xml"))],
    pytest.param(client.SPARQLWRAPPER_N3, "text/turtle", id="SPARQLWrapper N3"),
    pytest.param(client.SPARQLWRAPPER_JSONLD, "application/ld+json", id="SPARQLWrapper JSON-LD"),
    pytest.param("text/turtle;charset=utf-8", "text/turtle", id="charset"),
    pytest.param("application/n-triples; charset=UTF-8", "application/n-triples", id="charset, spaced"),
    pytest.param('application/ld+json;profile="http://www.w3.org/ns/json-ld#compacted"', "application/ld+json",
                 id="JSON-LD compacted"),
    pytest.param('application/ld+json; profile="http://www.w3.org/ns/json-ld#expanded"; q=0.9, text/html;q=0.1',
                 "application/ld+json", id="JSON-LD expanded"),
    pytest.param("text/turtle;q=0.5, application/ld+json;charset=utf-8;q=0.9", "application/ld+json",
                 id="q-values with parameters"),
    pytest.param("text/turtle;charset=utf-8;q=0.9, application/rdf+xml;charset=utf-8;q=.95", "application/rdf+xml",
                 id="lenient q with parameters"),
    pytest.param("text/n3", "text/n3", id="N3"),
    pytest.param("application/trig", "application/trig", id="TriG"),
    pytest.param("application/n-quads", "application/n-quads", id="N-Quads"),
])
def test_real_clients_accept_headers_get_a_document_they_read(embedded_server, accept, media_type):
    """Each client's own Accept header gets the type it prefers, under the name it asked for; the
    document reads, in the type it was sent as, as the same graph as the Turtle one."""
    url = embedded_server + "doc/id/region/bursa"
    response = get(url, accept)
    assert response.status_code == 200, response.text[:300]
    assert response.headers["Content-Type"].split(";")[0] == media_type
    if media_type != "text/html":
        assert isomorphic(graph_as_sent(response), parse(get(url + ".ttl"), "turtle"))


@pytest.mark.parametrize("accept, media_type, suffix", [("text/n3", "text/n3", ".ttl"),
                                                        ("application/trig", "application/trig", ".ttl"),
                                                        ("application/n-quads", "application/n-quads", ".nt")])
def test_n3_trig_and_n_quads_are_the_bytes_of_turtle_and_n_triples(embedded_server, accept, media_type, suffix):
    """Other names of the same bytes: the same document as its format's variant, which the
    Content-Location names; neither the alternates nor a suffix add a variant of their own."""
    for path in ("doc/id/region/bursa", "doc/ontology", ".well-known/void"):
        response = get(embedded_server + path, accept)
        assert response.headers["Content-Type"].split(";")[0] == media_type
        assert response.content == get(embedded_server + path + suffix).content
    assert response.headers["Content-Location"].endswith(suffix)
    assert media_type not in response.headers["Link"]
    assert get(embedded_server + "doc/id/region/bursa", f"{accept};q=0.5, text/turtle").headers[
        "Content-Type"].startswith("text/turtle")


def test_a_406_names_the_other_names_of_our_formats(embedded_server):
    response = get(embedded_server + "doc/id/region/bursa", "application/pdf")
    assert response.status_code == 406
    for media_type in ("text/n3", "application/trig", "application/n-quads"):
        assert media_type in response.text


def test_rdflib_reads_a_document_by_its_iri_in_every_way_it_asks(embedded_server):
    """rdflib follows the 303 and picks its parser by the Content-Type it gets (or the format given)."""
    expected = parse(get(embedded_server + "doc/id/region/bursa.ttl"), "turtle")
    for rdflib_format in (None, *client.RDFLIB_PARSE_AS):
        read = Graph().parse(embedded_server + "id/region/bursa", format=rdflib_format)
        assert isomorphic(read, expected), rdflib_format


def test_comunica_and_jena_read_a_whole_document_by_its_iri(embedded_server, jena, tmp_path):  # noqa: F811
    """Comunica (which asks for N-Quads first) and Jena (Turtle) read every triple of the document."""
    iri = embedded_server + "id/region/bursa"
    size = len(parse(get(embedded_server + "doc/id/region/bursa.ttl"), "turtle"))
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    entering("clients", "Comunica")
    require(client.COMUNICA.exists(), "node and Comunica: npm ci --prefix tests/clients (.ci/run does)")
    comunica = subprocess.run([str(client.COMUNICA), iri, count, "-t", "application/sparql-results+json"],
                              capture_output=True, text=True, timeout=120)
    assert comunica.returncode == 0, comunica.stderr[-2000:]
    assert int(json.loads(comunica.stdout)["results"]["bindings"][0]["n"]["value"]) == size
    (tmp_path / "count.rq").write_text(count)
    counted = jena("arq.sparql", "--data", iri, "--query", str(tmp_path / "count.rq"), "--results", "TSV").stdout
    assert int(counted.split()[-1].split("^^")[0].strip('"')) == size


def test_jena_reads_the_n3_trig_and_n_quads_answers_strictly(embedded_server, jena, tmp_path):  # noqa: F811
    """Jena's RIOT reads each answer strictly as the format its name says, as the Turtle's triples."""
    counts = {}
    for accept, extension in (("text/turtle", "ttl"), ("text/n3", "n3"), ("application/trig", "trig"),
                              ("application/n-quads", "nq")):
        path = tmp_path / f"bursa.{extension}"
        path.write_bytes(get(embedded_server + "doc/id/region/bursa", accept).content)
        written = jena("riotcmd.riot", "--strict", "--count", str(path))
        counts[extension] = re.search(r"(?:Triples|Quads) = (\d+)", written.stdout + written.stderr).group(1)
    assert len(set(counts.values())) == 1 and int(counts["ttl"]) > 20, counts
