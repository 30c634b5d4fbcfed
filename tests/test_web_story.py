"""A partnership told as its story (web/story.py), in process, against the data and its source page:
every event once, in the page's own order (derived from where the source page tells each, through the
passage the event's Czech description quotes), each undated one marked and placed by the data's order,
dates at their precision, who took part, where, documents, status periods with their reasons, and the
partnership's own timeline; and the 12th competency question agrees with the page on the order."""

import re
import xml.etree.ElementTree as ElementTree
from html.parser import HTMLParser
from urllib.parse import urlparse

import pytest
from browser import ARTIFACTS, WINDOW, requested_urls
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, TIME
from selenium.webdriver.common.by import By
from test_competency_questions import run
from test_source_fidelity import PARAGRAPHS, normalise, sentences

from lodpub.namespaces import CANONICAL_BASE, LABEL_PREDICATES, PREFIXES

RP = PREFIXES["rp"]
PARTNERSHIPS = ["valle-d-aosta", "orenburg-oblast", "more-og-romsdal", "ha-tinh", "bursa"]
LANGUAGES = ["cs", "en"]
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
# The whole page as one text, as the review reads it: where the page tells of something.
SOURCE_TEXT = " ".join(PARAGRAPHS)

PARTICIPATION = [PROV.agent, PROV.hadRole, URIRef(RP + "heldPost"), URIRef(RP + "actedFor"), URIRef(RP + "onBehalfOf")]
# Where the chronology departs from the order in which the source page tells the events: the event it
# lists earlier than the page does, and the events the page tells before it. Each is an event the source
# does not date: the chronology places it by the data (time:after, time:before; the 12th competency
# question puts it after the latest dated time it follows), not by where the page happens to tell it.
MOVED_BY_THE_DATA = {
    # "Na prvních setkáních s podnikateli …" is told after the visit of 2011, but the data places the
    # meetings only after the visit of 6 October 2010 (the source does not say whether during the 2011 one).
    "bursa": {"ev:bursa-entrepreneur-meetings": {"ev:bursa-2011-visit", "ev:bursa-2011-11-01-signing"}},
    # The delegation is told after the town agreement of 16 June 2007, but the data places it only after
    # the visit of February 2007 (and before the regional agreement), not after the town agreement.
    "orenburg-oblast": {"ev:orenburg-oblast-delegation": {"ev:novy-bor-mednogorsk-2007-06-16-signing"}},
}
# Events the data places alike (undated, after the same time): the question orders them by their label
# in the page's language, which in English puts "A series of meetings" before the "Proposed first
# official meeting" that the page tells first.
MOVED_BY_LABEL = {("en", "valle-d-aosta"): {"ev:valle-d-aosta-meetings": {"ev:valle-d-aosta-proposed-first-official-meeting"}}}


def iri(prefixed: str) -> URIRef:
    prefix, local = prefixed.split(":", 1)
    return URIRef(PREFIXES[prefix] + local)


class _Tree(HTMLParser):
    """An HTML page as an ElementTree (void elements closed), to find things in it by path."""

    def __init__(self) -> None:
        super().__init__()
        self.builder = ElementTree.TreeBuilder()

    def handle_starttag(self, tag, attrs):
        self.builder.start(tag, {name: value or "" for name, value in attrs})
        if tag in VOID:
            self.builder.end(tag)

    def handle_endtag(self, tag):
        if tag not in VOID:
            self.builder.end(tag)

    def handle_data(self, data):
        self.builder.data(data)


def parsed(html: str) -> ElementTree.Element:
    tree = _Tree()
    tree.feed(html)
    tree.close()
    return tree.builder.close()


def text(element: ElementTree.Element) -> str:
    return " ".join("".join(element.itertext()).split())


@pytest.fixture(scope="module")
def pages(in_process) -> dict[tuple[str, str], ElementTree.Element]:
    """The page of each partnership, and of its agreement, in each language, parsed."""
    found = {}
    for language in LANGUAGES:
        for path in [f"id/partnership/{name}" for name in PARTNERSHIPS] + ["id/agreement/orenburg-oblast-2012",
                                                                             "id/region/bursa"]:
            answer = in_process.http.get(f"{in_process}{path}?lang={language}", headers={"Accept": "text/html"},
                                         timeout=30)
            assert answer.status_code == 200, path
            found[(language, path)] = parsed(answer.text)
    return found


def story(pages, language: str, name: str) -> ElementTree.Element:
    section = pages[(language, f"id/partnership/{name}")].find(".//section[@class='story']")
    assert section is not None
    return section


def chronology(section: ElementTree.Element) -> list[ElementTree.Element]:
    return section.findall(".//ol[@class='chronology']/li")


def events_of(graph, partnership: URIRef) -> set[URIRef]:
    return {event for event in graph.subjects(URIRef(RP + "partnership"), partnership)
            if (event, TIME.hasTime, None) in graph}


def status_changes_of(graph, partnership: URIRef) -> set[URIRef]:
    """The status periods no event stands for (the 12th question lists them among the events)."""
    return {period for period in graph.subjects(URIRef(RP + "partnership"), partnership)
            if (period, RDF.type, URIRef(RP + "StatusPeriod")) in graph
            and (period, URIRef(RP + "causedBy"), None) not in graph}


def told_at(graph, node: URIRef) -> int:
    """Where the source page tells of `node`: the first sentence its Czech description (else reason) quotes."""
    quoted = [normalise(text) for predicate in (DCTERMS.description, URIRef(RP + "reason"))
              for text in graph.objects(node, predicate) if text.language == "cs"]
    return SOURCE_TEXT.index(sentences(quoted[0])[0])


def label(graph, node, language: str) -> str:
    """The name of `node` in `language` as the data gives it (its label, preferred label, name or title)."""
    for predicate in LABEL_PREDICATES:
        names = sorted(graph.objects(node, predicate), key=lambda name: name.language != language)
        if names:
            return str(names[0])
    raise AssertionError(f"{node} has no name")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", PARTNERSHIPS)
def test_the_chronology_lists_every_event_once_in_the_pages_own_order(pages, built_graph, name, language):
    partnership = iri(f"ptn:{name}")
    listed = [URIRef(item.get("data-iri")) for item in chronology(story(pages, language, name))]
    events = events_of(built_graph, partnership)
    assert sorted(item for item in listed if item in events) == sorted(events)  # each once
    assert set(listed) - events == status_changes_of(built_graph, partnership)
    # Every pair the page tells in one order and the chronology lists in the other is one named above.
    position = {node: told_at(built_graph, node) for node in listed}
    overtaken: dict[str, set[str]] = {}
    for later_index, later in enumerate(listed):
        for earlier in listed[later_index + 1:]:
            if position[earlier] < position[later]:
                overtaken.setdefault(short(later), set()).add(short(earlier))
    expected = {**MOVED_BY_THE_DATA.get(name, {}), **MOVED_BY_LABEL.get((language, name), {})}
    assert overtaken == expected
    for moved in expected:  # and the chronology moves only events the source does not date
        assert "undated" in chronology_item(pages, language, name, iri(moved)).get("class").split()


def short(node: URIRef) -> str:
    return next(f"{prefix}:{node[len(namespace):]}" for prefix, namespace in PREFIXES.items()
                if prefix in ("ev", "stp") and node.startswith(namespace))


def chronology_item(pages, language: str, name: str, node: URIRef) -> ElementTree.Element:
    (item,) = [item for item in chronology(story(pages, language, name)) if item.get("data-iri") == str(node)]
    return item


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", PARTNERSHIPS)
def test_the_12th_competency_question_and_the_page_agree_on_the_order(pages, built_graph, name, language):
    """The question as the SPARQL page offers it in the language (run here by rdflib, not by the store)."""
    partnership = iri(f"ptn:{name}")
    ours = events_of(built_graph, partnership) | status_changes_of(built_graph, partnership)
    rows = run(built_graph, "12", **({'"en")': '"cs")'} if language == "cs" else {}))
    answered = [row["event"] for row in rows if row["event"] in ours]
    assert [URIRef(item.get("data-iri")) for item in chronology(story(pages, language, name))] == answered


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_undated_event_is_marked_and_placed_by_the_datas_order(pages, language):
    items = chronology(story(pages, language, "more-og-romsdal"))
    contacts, signing = (chronology_item(pages, language, "more-og-romsdal", iri(event))
                         for event in ("ev:molde-ceska-lipa-contacts", "ev:more-og-romsdal-2001-11-28-signing"))
    assert items.index(contacts) < items.index(signing)
    when = contacts.find("p[@class='when']")
    assert when.find(".//time") is None  # no made-up date
    expected = {"cs": "datum neuvedeno; před: 28. listopadu 2001", "en": "date not given; before 28 November 2001"}
    assert text(when) == expected[language]
    council = chronology_item(pages, language, "valle-d-aosta", iri("ev:valle-d-aosta-council-decision"))
    expected = {"cs": "datum neuvedeno; po: duben 2005, před: srpen 2005",
                "en": "date not given; after April 2005, before August 2005"}
    assert text(council.find("p[@class='when']")) == expected[language]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", PARTNERSHIPS)
def test_each_date_is_shown_at_its_precision(pages, built_graph, name, language):
    for item in chronology(story(pages, language, name)):
        node = URIRef(item.get("data-iri"))
        when = next(built_graph.objects(node, TIME.hasTime), None) or next(built_graph.objects(node, TIME.hasBeginning))
        times = item.find("p[@class='when']").findall(".//time")
        day, month = (next(built_graph.objects(when, p), None) for p in (TIME.inXSDDate, TIME.inXSDgYearMonth))
        if isinstance(when, URIRef):
            assert label(built_graph, when, language) in text(item.find("p[@class='when']"))
        if day is None and month is None:  # an interval, a half-year or an unknown time: no datetime to give
            assert times == [], node
            continue
        (time,) = times
        assert time.get("datetime") == str(day or month)  # "2005-04" for April 2005, never a made-up day
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}" if day else r"\d{4}-\d{2}", time.get("datetime"))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", PARTNERSHIPS)
def test_each_event_says_who_took_part_where_and_whether_it_took_place(pages, built_graph, name, language):
    for item in chronology(story(pages, language, name)):
        node, shown = URIRef(item.get("data-iri")), text(item)
        assert label(built_graph, node, language) in shown
        lines = [text(line) for line in item.findall(".//ul[@class='participants']/li")]
        for participation in built_graph.objects(node, URIRef(RP + "participation")):
            # one line names the participant, role, office held, body acted for and office acted on behalf of
            said = [label(built_graph, value, language) for predicate in PARTICIPATION
                    for value in built_graph.objects(participation, predicate)]
            assert len(said) >= 2 and any(all(name in line for name in said) for line in lines), participation
        for predicate in (PROV.atLocation, URIRef("https://schema.org/location"), URIRef(RP + "placeVisited"),
                          URIRef(RP + "pursuedArea"), URIRef(RP + "proposedArea"), URIRef(RP + "document")):
            for value in built_graph.objects(node, predicate):
                assert label(built_graph, value, language) in shown, (node, predicate)
        not_held = (node, URIRef(RP + "tookPlace"), Literal(False)) in built_graph
        assert ("not-held" in item.get("class").split()) == not_held


def test_a_participant_the_data_does_not_name_is_said_to_be_unnamed(pages):
    item = chronology_item(pages, "en", "valle-d-aosta", iri("ev:valle-d-aosta-2008-05-new-president"))
    assert "name not given – new office holder; office held: President of the Aosta Valley" in text(item)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", PARTNERSHIPS)
def test_the_status_periods_are_in_order_with_their_reasons(pages, built_graph, name, language):
    periods = story(pages, language, name).findall(".//ol[@class='status-periods']/li")
    chain = sorted(built_graph.subjects(URIRef(RP + "partnership"), iri(f"ptn:{name}")), key=str)
    chain = [period for period in chain if (period, RDF.type, URIRef(RP + "StatusPeriod")) in built_graph]
    assert len(periods) == len(chain) >= 2
    for shown, period in zip(periods, chain, strict=True):  # the periods' IRIs are numbered in their order
        status = next(built_graph.objects(period, URIRef(RP + "status")))
        assert label(built_graph, status, language) in text(shown)
        start = next(built_graph.objects(period, TIME.hasBeginning))
        value = next(built_graph.objects(start, TIME.inXSDDate), None) or \
            next(built_graph.objects(start, TIME.inXSDgYearMonth), None)
        assert [time.get("datetime") for time in shown.iter("time")] == ([str(value)] if value else [])
        for reason in built_graph.objects(period, URIRef(RP + "reason")):
            if reason.language == language:
                assert " ".join(reason.split()) in text(shown)
        for cause in built_graph.objects(period, URIRef(RP + "causedBy")):
            assert label(built_graph, cause, language) in text(shown)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_agreements_with_kind_parties_documents_and_signing(pages, built_graph, language):
    section = story(pages, language, "orenburg-oblast")
    (agreement,) = section.findall(".//ul[@class='story-agreements']/li")
    shown = text(agreement)
    node = iri("agr:orenburg-oblast-2012")
    links = {link.get("href") for link in agreement.iter("a")}
    for predicate in (DCTERMS.type, URIRef(RP + "party"), URIRef(RP + "document")):
        for value in built_graph.objects(node, predicate):
            assert label(built_graph, value, language) in shown and str(value) in links
    assert agreement.find(".//time").get("datetime") == "2012-05-24"
    facts = text(section.find("dl[@class='story-facts']"))
    assert {"cs": "Orenburská oblast (Rusko)", "en": "Orenburg Oblast (Russia)"}[language] in facts
    assert {"cs": "výpověď dána", "en": "notice given"}[language] in facts


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_agreements_page_tells_the_story_of_its_partnership_marking_itself(pages, language):
    page = pages[(language, "id/agreement/orenburg-oblast-2012")]
    section = page.find(".//section[@class='story']")
    assert [item.get("data-iri") for item in chronology(section)] == \
           [item.get("data-iri") for item in chronology(story(pages, language, "orenburg-oblast"))]
    (this,) = section.findall(".//ul[@class='story-agreements']/li[@class='this']")
    assert this.get("aria-current") == "page"
    assert story(pages, language, "orenburg-oblast").find(".//li[@class='this']") is None


def test_the_generic_table_stays_below_the_story_and_other_pages_have_none(pages):
    main = pages[("en", "id/partnership/bursa")].find(".//main")
    children = [child.tag + ("." + child.get("class") if child.get("class") else "") for child in main]
    assert children.index("section.story") < children.index("table.properties")
    assert pages[("en", "id/region/bursa")].find(".//section[@class='story']") is None


@pytest.mark.parametrize("name", PARTNERSHIPS)
def test_the_partnership_draws_its_own_timeline_as_the_home_page_draws_it(pages, in_process, built_graph, name):
    marks = timeline_marks(story(pages, "en", name))
    dated = {event for event in events_of(built_graph, iri(f"ptn:{name}"))
             if next(built_graph.objects(next(built_graph.objects(event, TIME.hasTime)), URIRef(RP + "precision")))
             != iri("prec:unknown")}
    assert sorted(href for href, *_ in marks) == sorted(str(event) for event in dated)
    home = parsed(in_process.http.get(f"{in_process}?lang=en", headers={"Accept": "text/html"}, timeout=30).text)
    assert marks <= timeline_marks(home)  # the same marks, linked, named and placed alike


def timeline_marks(element: ElementTree.Element) -> set[tuple]:
    """The marks of the timeline in `element`: (link, name, shape, its class, where it starts, its width)."""
    svg = element.find(".//svg")
    return {(link.get("href"), link.get("aria-label"), shape.tag, shape.get("class"),
             shape.get("x") or shape.get("cx") or shape.get("d").split()[0], shape.get("width"))
            for link in svg.iter("a") if link.get("aria-label") for shape in link}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", ["bursa", "valle-d-aosta"])
def test_the_story_in_a_browser(browser, server, built_graph, name, language):
    """As a reader sees it: the story before the table, every event in order with undated ones set apart,
    the partnership's own timeline, nothing fetched from elsewhere; whole-page screenshots kept."""
    requested_urls(browser)
    browser.set_window_size(*WINDOW)
    browser.get(f"{server}id/partnership/{name}?lang={language}")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == language
    story_section = browser.find_element(By.CSS_SELECTOR, "section.story")
    assert story_section.location["y"] < browser.find_element(By.CSS_SELECTOR, "table.properties").location["y"]
    items = story_section.find_elements(By.CSS_SELECTOR, "ol.chronology > li")
    partnership = iri(f"ptn:{name}")
    expected = run(built_graph, "12", **({'"en")': '"cs")'} if language == "cs" else {}))
    ours = events_of(built_graph, partnership) | status_changes_of(built_graph, partnership)
    assert [item.get_attribute("data-iri").removeprefix(server) for item in items] == \
           [row["event"].removeprefix(CANONICAL_BASE) for row in expected
            if row["event"] in ours]
    undated = [item for item in items if "undated" in item.get_attribute("class").split()]
    assert undated and all(item.find_element(By.CSS_SELECTOR, ".when .undated").value_of_css_property("font-style")
                           == "italic" for item in undated)
    timeline = story_section.find_element(By.CSS_SELECTOR, "svg.timeline")
    assert timeline.is_displayed() and timeline.size["width"] > 600
    assert len(timeline.find_elements(By.CSS_SELECTOR, "a .mark")) == len(items) - len(undated)
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(WINDOW[0], min(height + 200, 12000))
    browser.save_screenshot(str(ARTIFACTS / f"story-{name}-{language}.png"))
    browser.set_window_size(360, 1600)  # a phone: the story fits its width
    assert browser.execute_script("const s = document.querySelector('section.story');"
                                  "return s.scrollWidth <= s.clientWidth + 1")
    browser.save_screenshot(str(ARTIFACTS / f"story-{name}-{language}-360.png"))
    browser.set_window_size(*WINDOW)
    assert [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"] == []
    web_requests = [url for url in requested_urls(browser) if urlparse(url).scheme in ("http", "https")]
    assert {urlparse(url).netloc for url in web_requests} == {urlparse(server).netloc}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_store_tells_the_same_story(site_on_every_store, pages, language):
    """The story's queries are SPARQL through store(): a remote store (Oxigraph server, Virtuoso) tells it
    as the embedded one does, but for the base its IRIs are published under."""
    site = site_on_every_store
    for name in PARTNERSHIPS:
        answer = site.http.get(f"{site}id/partnership/{name}?lang={language}", headers={"Accept": "text/html"},
                               timeout=60)
        remote = parsed(answer.text).find(".//section[@class='story']")
        local = story(pages, language, name)
        assert text(remote).replace(site, CANONICAL_BASE) == text(local).replace(site, CANONICAL_BASE)
        assert [item.get("data-iri").removeprefix(site) for item in chronology(remote)] == \
               [item.get("data-iri").removeprefix(CANONICAL_BASE) for item in chronology(local)]
