"""The pages for people, in a real browser (Debian's chromium, headless, driven by selenium) and
by following every link from the home page, in Czech and in English; the home page's pages on a
generated dataset with more partnerships than a page holds.

Screenshots are kept in tests/artifacts/.
"""

import math
import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlparse

import pytest
import requests
from browser import ARTIFACTS, requested_urls
from conftest import PAGE_SIZE
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from tiers import tiered

from lodpub.web.i18n import WORDS
from lodpub.web.pages import page_number


@pytest.mark.parametrize("language", ["cs", "en"])
def test_home_page_renders_in_each_language_with_the_timeline_and_nothing_from_elsewhere(browser, server, language):
    requested_urls(browser)
    browser.get(f"{server}?lang={language}")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == language
    assert browser.find_element(By.TAG_NAME, "h1").text == WORDS["site_title"][language]
    rows = browser.find_elements(By.CSS_SELECTOR, "table.partnerships tbody tr")
    assert len(rows) == 5
    partners = {row.find_element(By.CSS_SELECTOR, "td a").text for row in rows}
    expected = {"cs": {"Valle d'Aosta", "Orenburská oblast", "Møre og Romsdal", "Ha Tinh", "Bursa"},
                "en": {"Aosta Valley", "Orenburg Oblast", "Møre og Romsdal", "Ha Tinh Province", "Bursa Province"}}
    assert partners == expected[language]
    timeline = browser.find_element(By.CSS_SELECTOR, "svg.timeline")
    assert timeline.is_displayed() and timeline.size["width"] > 600 and timeline.size["height"] > 200
    assert len(timeline.find_elements(By.CSS_SELECTOR, "rect.status")) >= 7
    assert len(timeline.find_elements(By.CSS_SELECTOR, ".mark.signing")) >= 5
    browser.save_screenshot(str(ARTIFACTS / f"home-{language}.png"))
    assert [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"] == []
    host = urlparse(server).netloc
    web_requests = [url for url in requested_urls(browser) if urlparse(url).scheme in ("http", "https")]
    assert web_requests and {urlparse(url).netloc for url in web_requests} == {host}


def test_a_mark_of_the_timeline_is_clicked_through_to_its_event(browser, server):
    browser.get(f"{server}?lang=en")
    mark = browser.find_element(By.CSS_SELECTOR, "svg.timeline a .mark.signing")
    name = mark.find_element(By.XPATH, "./*[local-name()='title']").get_attribute("textContent").split(": ", 1)[1]
    mark.click()
    WebDriverWait(browser, 10).until(lambda driver: "/doc/id/event/" in driver.current_url)
    assert browser.find_element(By.TAG_NAME, "h1").text == name
    browser.save_screenshot(str(ARTIFACTS / "timeline-mark-to-event.png"))


@pytest.mark.parametrize("language", ["cs", "en"])
def test_a_newcomer_clicks_from_home_to_a_partner_and_sees_labels_not_iris(browser, server, language):
    browser.get(f"{server}?lang={language}")
    link = browser.find_element(By.CSS_SELECTOR, "table.partnerships tbody tr td a")
    name = link.text
    link.click()
    assert browser.find_element(By.TAG_NAME, "h1").text == name
    assert "/doc/id/region/" in browser.current_url
    headers = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "table.properties th[scope=row]")]
    assert headers and not [text for text in headers if re.match(r"^\w+:\w", text)]  # labels, not rp:partner
    formats = {a.text for a in browser.find_elements(By.CSS_SELECTOR, "section.formats a")}
    assert {"Turtle", "JSON-LD", "RDF/XML", "N-Triples"} <= formats
    script = browser.find_element(By.CSS_SELECTOR, 'script[type="application/ld+json"]')
    assert '"@context"' in script.get_attribute("innerHTML")
    browser.save_screenshot(str(ARTIFACTS / f"partner-{language}.png"))
    assert [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"] == []


def test_the_language_switch_changes_the_page_and_is_kept(browser, server):
    browser.get(f"{server}id/event/bursa-2011-11-01-signing?lang=en")
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Signing and initialling")
    browser.find_element(By.CSS_SELECTOR, "a.lang-switch").click()
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "cs"
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Podpis a parafování")
    browser.get(f"{server}id/region/bursa")  # no ?lang: the choice is remembered
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "cs"


def test_dates_are_shown_at_their_precision(browser, server):
    browser.get(f"{server}id/event/valle-d-aosta-2005-04-offer?lang=en")
    assert "April 2005" in browser.page_source and "2005-04-01" not in browser.page_source
    browser.get(f"{server}id/event/valle-d-aosta-council-decision?lang=en")
    assert "unknown" in browser.find_element(By.CSS_SELECTOR, "table.properties").text
    browser.get(f"{server}id/event/ha-tinh-2011-h1-planned-meeting?lang=cs")
    assert "první polovina roku 2011" in browser.page_source


def test_the_ontology_page_documents_every_term(browser, server):
    browser.get(f"{server}ontology?lang=en")
    terms = browser.find_elements(By.CSS_SELECTOR, "section.term")
    assert len(terms) > 30
    assert browser.find_element(By.ID, "Agreement").is_displayed()
    browser.save_screenshot(str(ARTIFACTS / "ontology-en.png"))


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.lang = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        if tag == "html":
            self.lang = attributes.get("lang")


@pytest.mark.parametrize("language", ["cs", "en"])
def test_every_partner_person_event_and_document_is_a_click_away_from_home(server, built_graph, language):
    """Follow every link of ours from the home page (as a browser would, keeping the language)."""
    session = requests.Session()
    session.headers["Accept"] = "text/html"
    queue, requested, seen_pages = [f"{server}?lang={language}"], set(), set()
    while queue:
        url = queue.pop()
        response = session.get(url, timeout=30)
        assert response.status_code == 200, url
        page = urlparse(response.url)._replace(query="").geturl()
        if page in seen_pages or not response.headers["Content-Type"].startswith("text/html"):
            continue
        seen_pages.add(page)
        parser = _Links()
        parser.feed(response.text)
        assert parser.lang == language, url
        for href in parser.links:
            target = urljoin(response.url, href).split("#")[0].split("?")[0]
            if target.startswith(server) and "/dumps/" not in target and target not in requested:
                requested.add(target)
                queue.append(target)
    from lodpub.namespaces import CANONICAL_BASE

    wanted = {str(s)[len(CANONICAL_BASE):] for s in built_graph.subjects()
              if re.match(CANONICAL_BASE + r"id/(region|person|event|document|agreement|partnership)/", str(s))}
    reached = {url[len(server) + len("doc/"):] for url in seen_pages if url.startswith(server + "doc/")}
    assert wanted - reached == set()


@pytest.mark.parametrize("language", ["cs", "en"])
def test_the_catalogue_and_its_dataset_read_well_from_the_home_page(browser, server, language):
    """The LKOD's records, as people see them: titles in the page's language, labels for every
    DCAT and terms-of-use property, the distributions by name."""
    titles = {"cs": ("Katalog otevřených dat o zahraniční spolupráci Libereckého kraje", "Mezinárodní partnerství Libereckého kraje"),
              "en": ("Open data catalogue of the Liberec Region's international cooperation", "International partnerships of the Liberec Region")}
    browser.get(f"{server}?lang={language}")
    browser.find_element(By.LINK_TEXT, WORDS["local_catalogue"][language]).click()
    assert "/doc/id/catalog/lkod" in browser.current_url
    assert browser.find_element(By.TAG_NAME, "h1").text == titles[language][0]
    _assert_labels_not_prefixed_names(browser)
    browser.save_screenshot(str(ARTIFACTS / f"catalogue-{language}.png"))
    browser.find_element(By.CSS_SELECTOR, "table.properties").find_element(By.LINK_TEXT, titles[language][1]).click()
    assert "/doc/id/dataset/partnerships" in browser.current_url
    assert browser.find_element(By.TAG_NAME, "h1").text == titles[language][1]
    _assert_labels_not_prefixed_names(browser)
    page = browser.find_element(By.CSS_SELECTOR, "table.properties").text
    assert "SPARQL" in page and "Turtle" in page
    browser.save_screenshot(str(ARTIFACTS / f"dataset-{language}.png"))
    assert [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"] == []


def _assert_labels_not_prefixed_names(browser) -> None:
    headers = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "table.properties th[scope=row]")]
    assert headers and not [text for text in headers if re.match(r"^[\w-]+:\w", text)], headers


# --- The home page in pages: 30 generated agreements, PAGE_SIZE partnerships a page ---------------

# Written for the server's public base (its address), which the query's IRIs must name.
LISTED = """PREFIX rp: <{base}ontology/>
SELECT DISTINCT ?partnership WHERE {{ ?period a rp:StatusPeriod ; rp:partnership ?partnership }}"""


@pytest.fixture(scope="module")
@tiered("served")
def listed(paged_server) -> set[str]:
    """The partnership names (`id/partnership/<name>`) the home page should list: every one with a status."""
    answer = requests.get(paged_server + "sparql", params={"query": LISTED.format(base=paged_server)},
                          headers={"Accept": "application/sparql-results+json"}, timeout=30).json()
    names = {row["partnership"]["value"].split("/id/partnership/")[1] for row in answer["results"]["bindings"]}
    assert len(names) > 2 * PAGE_SIZE  # at least three pages, the last one short
    return names


def page_count(listed: set[str]) -> int:
    return math.ceil(len(listed) / PAGE_SIZE)


def table_rows(browser) -> list[tuple[str, str]]:
    """The (partner, partnership link) of each row of the table."""
    rows = browser.find_elements(By.CSS_SELECTOR, "table.partnerships tbody tr")
    return [(row.find_element(By.CSS_SELECTOR, "td a").text,
             row.find_elements(By.CSS_SELECTOR, "td a")[1].get_attribute("href")) for row in rows]


def rel_links(browser, selector: str) -> dict[str, str]:
    """{rel: href} of the elements `selector` finds."""
    return {element.get_attribute("rel"): element.get_attribute("href")
            for element in browser.find_elements(By.CSS_SELECTOR, selector)}


@pytest.mark.parametrize("language", ["cs", "en"])
@pytest.mark.served
def test_the_pages_list_every_partnership_once_in_name_order_linked_by_rel_prev_and_next(
        browser, paged_server, listed, language):
    count = page_count(listed)
    browser.get(f"{paged_server}?lang={language}")
    rows, urls = [], []
    for number in range(1, count + 1):
        urls.append(browser.current_url)
        on_page = table_rows(browser)
        assert len(on_page) == (PAGE_SIZE if number < count else len(listed) - PAGE_SIZE * (count - 1))
        rows += on_page
        page_of = WORDS["page_of"][language].format(page=number, count=count)
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == language  # kept from page to page
        assert page_of in browser.title
        pager = browser.find_element(By.CSS_SELECTOR, f'nav.pager[aria-label="{WORDS["pages_of_list"][language]}"]')
        assert page_of in pager.text
        in_head, in_pager = rel_links(browser, "head link[rel=prev], head link[rel=next]"), rel_links(browser, "nav.pager a[rel]")
        assert in_head == in_pager
        assert in_pager.get("prev") == (None if number == 1 else paged_server if number == 2
                                        else f"{paged_server}?page={number - 1}")
        if number < count:
            pager.find_element(By.CSS_SELECTOR, "a[rel=next]").click()
        else:
            assert "next" not in in_pager
    assert urls[0] == paged_server + f"?lang={language}" and urls[1] == paged_server + "?page=2"
    names = [partner for partner, _ in rows]
    assert names == sorted(names, key=str.lower)
    partnerships = [href.split("/id/partnership/")[1] for _, href in rows]
    assert len(partnerships) == len(set(partnerships)) and set(partnerships) == listed
    assert [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"] == []


@pytest.mark.served
def test_the_timeline_draws_the_partnerships_of_its_page_and_says_so(browser, paged_server, listed):
    browser.get(f"{paged_server}?page=2&lang=en")
    partners = [partner for partner, _ in table_rows(browser)]
    timeline = browser.find_element(By.CSS_SELECTOR, "svg.timeline")
    assert [label.text for label in timeline.find_elements(By.CSS_SELECTOR, "text.row-label")] == partners
    assert len(timeline.find_elements(By.CSS_SELECTOR, ".mark.signing")) >= len(partners)
    assert WORDS["timeline_this_page"]["en"] in browser.find_element(By.CSS_SELECTOR, "figcaption").text
    browser.save_screenshot(str(ARTIFACTS / "home-page-2-en.png"))


def assert_no_such_page(response: requests.Response, language: str, key: str, **values) -> None:
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html")
    assert f'<html lang="{language}">' in response.text
    assert WORDS[key][language].format(**values) in response.text


@pytest.mark.parametrize("value", ["0", "-1", "", "abc", "1.5", "2e1", "01", " 2", "\u0662"])  # "\u0662": Arabic-Indic 2
@pytest.mark.served
def test_a_malformed_page_number_is_a_404_saying_what_a_page_number_is(paged_server, listed, value):
    czech = requests.get(paged_server, params={"page": value, "lang": "cs"}, timeout=30)
    assert_no_such_page(czech, "cs", "page_malformed", last=page_count(listed))
    english = requests.get(paged_server, params={"page": value}, headers={"Accept-Language": "en"}, timeout=30)
    assert_no_such_page(english, "en", "page_malformed", last=page_count(listed))


@pytest.mark.served
def test_a_page_beyond_the_last_is_a_404_naming_the_last(paged_server, listed):
    count = page_count(listed)
    for beyond in (str(count + 1), "9" * 30):
        for language in ("cs", "en"):
            response = requests.get(paged_server, params={"page": beyond}, headers={"Accept-Language": language},
                                    timeout=30)
            assert_no_such_page(response, language, "page_beyond_last", page=beyond, last=count)
    assert requests.get(paged_server, params={"page": str(count)}, timeout=30).status_code == 200


def test_a_page_number_of_any_length_is_read_as_a_page_or_as_none():
    assert [page_number(value, 12) for value in (None, "1", "9", "12")] == [1, 1, 9, 12]
    assert [page_number(value, 12) for value in ("13", "100", "9" * 5000, "0", "012", "1 ")] == [None] * 6


def test_the_real_data_fits_one_page_with_no_pager(server):
    first = requests.get(server, headers={"Accept-Language": "en"}, timeout=30)
    assert first.status_code == 200
    for absent in ('class="pager"', 'rel="prev"', 'rel="next"', WORDS["timeline_this_page"]["en"]):
        assert absent not in first.text
    page_one = requests.get(server, params={"page": "1"}, headers={"Accept-Language": "en"}, timeout=30).text
    switch = re.compile(r'class="lang-switch" href="[^"]*"')  # the switch keeps ?page=1
    assert switch.sub("", page_one) == switch.sub("", first.text)
    beyond = requests.get(server, params={"page": "2"}, headers={"Accept-Language": "en"}, timeout=30)
    assert_no_such_page(beyond, "en", "page_beyond_last", page=2, last=1)


@pytest.mark.served
def test_the_language_switch_keeps_the_page(browser, paged_server):
    browser.get(f"{paged_server}?page=2&lang=en")
    browser.find_element(By.CSS_SELECTOR, "a.lang-switch").click()
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "cs"
    assert "page=2" in browser.current_url and "lang=cs" in browser.current_url
    assert re.search(r"\b2\b", browser.find_element(By.CSS_SELECTOR, "nav.pager").text)
    assert len(table_rows(browser)) == PAGE_SIZE
