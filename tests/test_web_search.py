"""Search in process: the page, its JSON, the OpenSearch description and the box on every page, over
the project's release; every person, place and cooperation area the data names is found by its
names in both languages, with and without diacritics, in upper and lower case."""

import dataclasses
import fcntl
import json
import shutil
import tempfile
import urllib.parse
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
import requests
from browser import ARTIFACTS
from html_tree import html_tree, text_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from rdflib import RDF, SKOS, Literal, URIRef
from rdflib.namespace import FOAF, RDFS
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from served import running_server

from lodpub import create_app
from lodpub.kept_search_index import FOLDER as INDEX_FOLDER
from lodpub.kept_search_index import SUFFIX as INDEX_SUFFIX
from lodpub.search_index import fold
from lodpub.store.engine_store import stop_engine_of
from lodpub.web import publisher
from lodpub.web import search as search_module
from lodpub.web.i18n import WORDS
from lodpub.web.search import MAX_QUERY_CHARS, warm_up, warm_up_in_background

OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
# Hypothesis keeps its files out of the checkout (as in test_web_properties.py).
set_hypothesis_home_dir(str(Path(tempfile.gettempdir()) / "lodpub-hypothesis"))
SCHEMA_PLACE = URIRef("https://schema.org/Place")


def hits(site, query: str, language: str = "en") -> list[dict]:
    answer = site.http.get(site + "search.json", params={"q": query, "lang": language}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["hits"]


def page(site, query: str, language: str = "en", status: int = 200):
    answer = site.http.get(site + "search", params={"q": query, "lang": language}, headers={"Accept": "text/html"},
                           timeout=30)
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"].startswith("text/html")
    return html_tree(answer.text), answer


def named_things(graph, base: str) -> dict[URIRef, list[str]]:
    """Every person, place and cooperation area of `graph` with its labels in cs and en."""
    ontology = URIRef(base + "ontology/")
    kinds = (FOAF.Person, SCHEMA_PLACE, ontology + "Region", ontology + "Town")
    things = {thing for kind in kinds for thing in graph.subjects(RDF.type, kind) if str(thing).startswith(base)}
    things |= set(graph.subjects(SKOS.inScheme, URIRef(base + "vocabulary/cooperation-areas")))
    return {thing: [str(label) for predicate in (RDFS.label, SKOS.prefLabel) for label in graph.objects(thing, predicate)
                    if isinstance(label, Literal) and label.language in ("cs", "en")] for thing in things}


def test_every_person_place_and_cooperation_area_is_found_by_its_names(in_process, built_graph):
    things = named_things(built_graph, in_process)
    kinds = {str(thing).split("/")[-2] for thing in things}
    assert {"person", "place", "region", "town", "cooperation-areas"} <= kinds and len(things) > 40
    for thing, labels in things.items():
        assert len(labels) >= 2, thing
        for label in labels:
            for query in {label, fold(label), label.upper(), label.lower()}:
                assert str(thing) in [hit["iri"] for hit in hits(in_process, query)], (query, thing)


@pytest.mark.parametrize(("query", "iri"), [
    ("bursa", "id/region/bursa"), ("jested", "id/place/jested"), ("vajnerova", "id/person/lidie-vajnerova"),
    ("Caveri", "id/person/luciano-caveri"), ("Harputem", "id/person/sahabettin-harput"),
    ("harput", "id/person/sahabettin-harput"), ("nanovlakna", "vocabulary/cooperation-areas/textiles-and-nanofibres"),
    ("nanofibres", "vocabulary/cooperation-areas/textiles-and-nanofibres"), ("Ještědu", "id/place/jested"),
    ("Lidií Vajnerovou", "id/person/lidie-vajnerova"), ("Aosta", "id/region/valle-d-aosta"),
    ("valle d´aosta", "id/region/valle-d-aosta"), ("more og", "id/region/more-og-romsdal"),
])
def test_the_issues_examples_find_their_resource_first(in_process, query, iri):
    assert hits(in_process, query)[0]["iri"] == in_process + iri


@pytest.mark.parametrize(("query", "iri"), [("Harputem", "id/person/sahabettin-harput"), ("jested", "id/place/jested"),
                                           ("Technická universita", "id/place/technical-university")])
def test_every_store_gives_the_index_its_texts(site_on_every_store, query, iri):
    assert site_on_every_store + iri in [hit["iri"] for hit in hits(site_on_every_store, query)[:3]]


def test_a_name_found_in_an_alternative_name_or_a_description_says_what_matched(in_process):
    technical = hits(in_process, "Technická universita", "cs")
    university = next(hit for hit in technical if hit["iri"].endswith("place/technical-university"))
    assert university["matched_in"] == "alternative" and university["matched"] == "Technická universita"
    visit = next(hit for hit in hits(in_process, "jested") if hit["matched_in"] == "description")
    assert "Ještěd" in visit["matched"] and visit["score"] < hits(in_process, "jested")[0]["score"]
    document, _ = page(in_process, "jested", "cs")
    assert [mark.text for mark in document.iter("mark")] == ["Ještěd"] * len(document.findall(".//span[@class='matched']"))


@pytest.mark.parametrize("language", ["cs", "en"])
def test_the_page_groups_the_hits_by_kind_and_links_each_to_its_page(in_process, language):
    document, answer = page(in_process, "bursa", language)
    assert document.find("html").get("lang") == language and answer.headers["Content-Language"] == language
    groups = document.findall(".//section[@class='search-group']")
    headings = [group.find("h2").text.strip() for group in groups]
    assert len(groups) >= 4 and len(set(headings)) == len(headings)
    assert headings[0] == {"cs": "Region", "en": "Region"}[language]
    first = groups[0].find(".//a")
    assert first.get("href") == in_process + "id/region/bursa"
    assert first.text == {"cs": "Bursa", "en": "Bursa Province"}[language]
    links = [link.get("href") for group in groups for link in group.findall(".//li/a")]
    assert len(links) == len(set(links)) and all(link.startswith(in_process + "id/") for link in links)
    summary = text_of(document.find(".//p[@class='search-summary']"))
    assert str(len(links)) in summary and "bursa" in summary
    for link in links[:5]:
        followed = in_process.http.get(link, headers={"Accept": "text/html"}, allow_redirects=False, timeout=30)
        assert followed.status_code == 303 and "/doc/id/" in followed.headers["Location"]


def test_json_for_programs_datasette_style(in_process):
    for url, headers in ((in_process + "search.json", {}), (in_process + "search", {"Accept": "application/json"})):
        answer = in_process.http.get(url, params={"q": "Harputem", "lang": "cs"}, headers=headers, timeout=30)
        assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("application/json")
        assert "Accept" in answer.headers["Vary"]
        document = json.loads(answer.text)
        assert {key: document[key] for key in ("ok", "query", "language", "limit", "truncated")} == \
            {"ok": True, "query": "Harputem", "language": "cs", "limit": 50, "truncated": False}
        assert document["total"] == len(document["hits"]) >= 2
        first = document["hits"][0]
        assert first == {"iri": in_process + "id/person/sahabettin-harput", "label": "Şahabettin Harput",
                         "kind": "http://xmlns.com/foaf/0.1/Person", "kind_label": "Osoba",
                         "matched": "Şahabettin Harput", "matched_in": "label", "score": first["score"]}
        assert [hit["score"] for hit in document["hits"]] == sorted((hit["score"] for hit in document["hits"]),
                                                                    reverse=True)


@pytest.fixture(scope="module")
def limited(project_release, project_settings):
    """The app serving the project's release with at most 3 hits a search."""
    app = create_app(dataclasses.replace(project_settings, output_dir=project_release.path.parent.parent,
                                         public_base=project_settings.base_iri, search_max_hits=3))
    return app.test_client()


def test_at_most_the_setting_s_hits_are_listed_and_the_total_is_said(limited):
    document = limited.get("/search.json?q=liberec").json
    assert len(document["hits"]) == 3 and document["total"] > 3 and document["truncated"] is True
    html = limited.get("/search?q=liberec&lang=en").get_data(as_text=True)
    assert f"The first 3 of {document['total']} found" in html
    assert len(html_tree(html).findall(".//section[@class='search-group']//li")) == 3


@pytest.mark.parametrize("language", ["cs", "en"])
def test_an_empty_query_shows_the_form_and_a_hint(in_process, language):
    for query in ("", "   "):
        document, _ = page(in_process, query, language)
        assert document.findall(".//form[@class='search-page']//input[@name='q']")
        assert document.find(".//p[@class='search-hint']").text == WORDS["search_hint"][language]
        assert not document.findall(".//section[@class='search-group']")
    assert in_process.http.get(in_process + "search.json", timeout=30).json() == {
        "ok": True, "query": "", "language": "en", "total": 0, "limit": 50, "truncated": False, "hits": []}


@pytest.mark.parametrize("language", ["cs", "en"])
def test_a_query_too_long_is_refused_in_the_readers_language(in_process, language):
    query = "Bursa " * 40
    document, _ = page(in_process, query, language, status=400)
    error = document.find(".//p[@class='search-error']").text
    assert error == WORDS["search_too_long"][language].format(limit=MAX_QUERY_CHARS, length=len(query))
    for url, headers in ((in_process + "search.json", {}), (in_process + "search", {"Accept": "application/json"})):
        answer = in_process.http.get(url, params={"q": query, "lang": language}, headers=headers, timeout=30)
        assert answer.status_code == 400 and answer.json() == {"ok": False, "status": 400, "error": error}
    assert len(page(in_process, "x" * MAX_QUERY_CHARS)[0].find(".//input[@id='search-q']").get("value")) == MAX_QUERY_CHARS


@pytest.mark.parametrize("raw", [
    "%00", "%00bursa%01%1b[31m", "%3Cscript%3Ealert(1)%3C/script%3E", "%ff%fe%fd", "bursa%c3", "%ed%a0%80",
    "SELECT%20*%20WHERE%20%7B%20?s%20?p%20?o%20%7D", "%22%3E%3Cimg%20src=x%20onerror=alert(1)%3E", ".*(a%7Cb)%2B$",
    "x" * 10_000, "%E2%80%AE%E2%80%8Bbursa", "q&q=2", "\\u0000",
])
def test_hostile_input_is_never_an_error_of_ours_and_is_shown_escaped(client, raw):
    for path in ("/search", "/search.json"):
        answer = client.get(f"{path}?q={raw}&lang=en")
        assert answer.status_code in (200, 400), (raw, answer.status_code)
        body = answer.get_data(as_text=True)
        assert "\x00" not in body and "\x1b" not in body
        if path.endswith(".json"):
            assert answer.mimetype == "application/json"
            assert all(char.isprintable() for char in json.loads(body).get("query", ""))
        else:
            assert "<script>" not in body.split("</head>")[1] and "<img" not in body


@settings(deadline=None, derandomize=True, database=None, max_examples=150,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(max_size=300) | st.from_regex(r"[\w ]{0,40}", fullmatch=True) | st.binary(max_size=60))
def test_whatever_the_query_the_answer_is_a_page_or_json_never_an_error_of_ours(client, query):
    raw = urllib.parse.quote_from_bytes(query) if isinstance(query, bytes) else urllib.parse.quote(query, safe="")
    for path in ("/search", "/search.json"):
        answer = client.get(f"{path}?q={raw}")
        assert answer.status_code == (400 if len(answer.request.args.get("q", "")) > MAX_QUERY_CHARS else 200)
        if path.endswith(".json"):
            document = json.loads(answer.get_data(as_text=True))
            assert document["ok"] is (answer.status_code == 200)
        else:
            assert answer.mimetype == "text/html" and "Traceback" not in answer.get_data(as_text=True)


def test_a_search_asks_the_store_nothing_once_the_index_is_made(app, client, monkeypatch):
    client.get("/search.json?q=bursa")
    asked = []
    store = publisher_of(app).store
    for method in ("select", "select_values", "select_rows", "labels", "sparql"):
        monkeypatch.setattr(store, method, recording(getattr(store, method), asked))
    for query in ("jested", "} UNION { ?s ?p ?o", "Harputem"):
        assert client.get("/search.json", query_string={"q": query}).status_code == 200
    assert asked == []


def test_the_index_is_made_again_when_the_store_serves_another_release(app, client, monkeypatch):
    client.get("/search.json?q=bursa")
    store = publisher_of(app).store
    kept = app.extensions["lodpub.search"]
    assert list(kept) == [(store.base_iri, store.version)]
    monkeypatch.setattr(store, "version", store.version + "-next")
    assert client.get("/search.json?q=bursa").json["hits"][0]["iri"].endswith("id/region/bursa")
    assert list(kept) == [(store.base_iri, store.version)]


def test_a_worker_reads_the_index_another_made_and_makes_it_again_if_damaged(project_release, project_settings,
                                                                            tmp_path, monkeypatch):
    """Each app stands for a worker: the first makes the index and keeps it in the output folder, the
    next reads it without asking the store, and a damaged file is made again."""
    output = tmp_path / "dist"
    shutil.copytree(project_release.path.parent.parent, output, symlinks=True, ignore=shutil.ignore_patterns(INDEX_FOLDER))
    settings = dataclasses.replace(project_settings, output_dir=output, public_base=project_settings.base_iri)

    def worker_asks(query: str) -> tuple[int, str]:
        app = create_app(settings)
        asked = []
        real_select = publisher_of(app).store.select_rows
        monkeypatch.setattr(publisher_of(app).store, "select_rows", lambda text: asked.append(text) or real_select(text))
        first = app.test_client().get("/search.json", query_string={"q": query}).json["hits"][0]["iri"]
        return len(asked), first

    assert worker_asks("jested") == (2, project_settings.base_iri + "id/place/jested")
    kept = list((output / INDEX_FOLDER).glob("*" + INDEX_SUFFIX))
    assert len(kept) == 1 and kept[0].suffix == INDEX_SUFFIX
    assert worker_asks("Harputem") == (0, project_settings.base_iri + "id/person/sahabettin-harput")
    kept[0].write_bytes(kept[0].read_bytes()[:1000])
    assert worker_asks("jested")[0] == 2
    assert sorted(path.name for path in (output / INDEX_FOLDER).iterdir()) == [".lock", kept[0].name]


@pytest.mark.parametrize("engine", ["shared", "shared-one-copy"])
def test_on_the_shared_engine_the_index_is_made_in_the_engine_and_answers_the_same(project_release, project_settings,
                                                                                   tmp_path, monkeypatch, engine):
    """Its rows are not sent to the worker: the engine makes the file that the workers map, its parts sent
    in pieces (small ones here, so that parts come in many)."""
    monkeypatch.setattr(search_module, "PIECE_BYTES", 4096)  # before the engine is forked, which takes it
    output = tmp_path / "dist"
    shutil.copytree(project_release.path.parent.parent, output, symlinks=True, ignore=shutil.ignore_patterns(INDEX_FOLDER))
    settings = dataclasses.replace(project_settings, output_dir=output, public_base=project_settings.base_iri)
    on_engine = create_app(dataclasses.replace(settings, engine=engine))
    asked = []
    for method in ("select_values", "select_rows"):
        monkeypatch.setattr(publisher_of(on_engine).store, method, lambda text: asked.append(text))
    try:
        queries = ("jested", "Harputem", "bursa", "a", "synthetic")
        hits = [on_engine.test_client().get("/search.json", query_string={"q": query}).json for query in queries]
        assert asked == [] and len(list((output / INDEX_FOLDER).glob("*" + INDEX_SUFFIX))) == 1
        shutil.rmtree(output / INDEX_FOLDER)
        per_worker = create_app(dataclasses.replace(settings, engine="per-worker")).test_client()
        assert hits == [per_worker.get("/search.json", query_string={"q": query}).json for query in queries]
        assert hits[0]["hits"][0]["iri"] == project_settings.base_iri + "id/place/jested"
    finally:
        stop_engine_of(publisher_of(on_engine).store.release)


def test_where_the_index_cannot_be_kept_each_worker_makes_its_own(project_release, project_settings, tmp_path, caplog):
    output = tmp_path / "dist"
    shutil.copytree(project_release.path.parent.parent, output, symlinks=True, ignore=shutil.ignore_patterns(INDEX_FOLDER))
    (output / INDEX_FOLDER).write_text("a file where the folder would be")
    app = create_app(dataclasses.replace(project_settings, output_dir=output, public_base=project_settings.base_iri))
    for _ in range(2):
        assert app.test_client().get("/search.json?q=jested").json["hits"][0]["iri"].endswith("id/place/jested")
    assert "search index not kept" in caplog.text
    assert [path.name for path in output.iterdir() if path.name.startswith(".")] == []


def test_warming_up_makes_the_index_before_the_first_search(project_release, project_settings, tmp_path):
    output = tmp_path / "dist"
    shutil.copytree(project_release.path.parent.parent, output, symlinks=True, ignore=shutil.ignore_patterns(INDEX_FOLDER))
    app = create_app(dataclasses.replace(project_settings, output_dir=output, public_base=project_settings.base_iri))
    warm_up(app)
    assert len(app.extensions["lodpub.search"]) == 1 and len(list((output / INDEX_FOLDER).glob("*" + INDEX_SUFFIX))) == 1


def test_the_index_made_in_the_background_keeps_no_one_waiting_but_a_search(project_release, project_settings,
                                                                            tmp_path):
    output = tmp_path / "dist"
    shutil.copytree(project_release.path.parent.parent, output, symlinks=True, ignore=shutil.ignore_patterns(INDEX_FOLDER))
    app = create_app(dataclasses.replace(project_settings, output_dir=output, public_base=project_settings.base_iri))
    (output / INDEX_FOLDER).mkdir()
    with open(output / INDEX_FOLDER / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another worker making the index: this one's thread waits for it
        thread = warm_up_in_background(app)
        assert thread.is_alive() and not app.extensions.get("lodpub.search")
        answer = app.test_client().get("/doc/id/place/jested", headers={"Accept": "text/turtle"})
        assert answer.status_code == 200
    hits = app.test_client().get("/search.json?q=jested").json["hits"]  # waits for the thread's index
    thread.join()
    assert hits[0]["iri"].endswith("id/place/jested")
    assert len(app.extensions["lodpub.search"]) == 1 and len(list((output / INDEX_FOLDER).glob("*" + INDEX_SUFFIX))) == 1


@pytest.mark.served
def test_a_served_release_has_its_index_made_as_the_workers_start(project_release, tmp_path):
    with running_server(project_release.path.parent.parent, tmp_path) as base:
        assert requests.get(base + "search.json?q=jested", timeout=30).json()["hits"][0]["iri"] == base + "id/place/jested"
        assert len(list((base.output / INDEX_FOLDER).glob("*" + INDEX_SUFFIX))) == 1
    assert "search index not made in advance" not in base.log.read_text()


def recording(method, calls: list):
    """`method`, noting the arguments of each call in `calls`."""
    def recorded(*arguments):
        calls.append(arguments)
        return method(*arguments)
    return recorded


def publisher_of(app):
    with app.app_context():
        return publisher()


def test_the_opensearch_description_names_both_forms_of_the_search(in_process):
    answer = in_process.http.get(in_process + "opensearch.xml", params={"lang": "cs"}, timeout=30)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/opensearchdescription+xml")
    root = ElementTree.fromstring(answer.content)
    assert root.tag == OPENSEARCH + "OpenSearchDescription"
    short_name, description = root.find(OPENSEARCH + "ShortName").text, root.find(OPENSEARCH + "Description").text
    assert 0 < len(short_name) <= 16 and 0 < len(description) <= 1024 and "<" not in description
    assert root.find(OPENSEARCH + "Language").text == "cs"
    templates = {url.get("type"): url.get("template") for url in root.findall(OPENSEARCH + "Url")}
    assert templates["text/html"] == in_process + "search?q={searchTerms}"
    assert templates["application/json"] == in_process + "search.json?q={searchTerms}"
    found = in_process.http.get(templates["application/json"].replace("{searchTerms}", "jested"), timeout=30).json()
    assert found["hits"][0]["iri"] == in_process + "id/place/jested"


@pytest.mark.parametrize("path", ["", "?lang=cs", "id/region/bursa", "ontology", "search?q=bursa", "no/such/thing"])
def test_every_page_has_the_search_box_and_the_opensearch_link(in_process, path):
    answer = in_process.http.get(in_process + path, headers={"Accept": "text/html"}, timeout=30)
    document = html_tree(answer.text)
    form = document.find(".//header/form[@role='search']")
    assert form.get("method") == "get" and form.get("action").endswith("/search")
    field = form.find(".//input[@name='q']")
    assert text_of(form.find(f".//label[@for='{field.get('id')}']"))
    assert form.findall(".//button[@type='submit']")
    link = document.find(".//head/link[@rel='search']")
    assert link.get("type") == "application/opensearchdescription+xml" and link.get("href").endswith("/opensearch.xml")


def test_a_reader_types_a_name_in_the_header_box_and_clicks_a_hit(browser, server):
    """In chromium, without script of ours: the box of a resource page, the grouped hits, a hit's page."""
    browser.get(f"{server}id/region/bursa?lang=cs")
    box = browser.find_element(By.CSS_SELECTOR, "header form[role=search] input[name=q]")
    box.send_keys("vajnerova")
    box.submit()
    WebDriverWait(browser, 10).until(lambda driver: "/search?q=vajnerova" in driver.current_url)
    headings = [heading.text for heading in browser.find_elements(By.CSS_SELECTOR, "section.search-group h2")]
    assert headings[0].startswith("Osoba") and len(headings) >= 2
    assert browser.find_element(By.CSS_SELECTOR, "#search-q").get_attribute("value") == "vajnerova"
    browser.save_screenshot(str(ARTIFACTS / "search-vajnerova-cs.png"))
    browser.find_element(By.CSS_SELECTOR, "section.search-group li a").click()
    WebDriverWait(browser, 10).until(lambda driver: "/doc/id/person/lidie-vajnerova" in driver.current_url)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Lidie Vajnerová"
    assert [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"] == []
