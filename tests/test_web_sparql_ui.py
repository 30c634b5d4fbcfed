"""The query editor at /sparql in Debian's headless chromium: run an example, see its rows, follow
an IRI to our page; nothing is loaded from another host."""

from urllib.parse import quote, urlparse

import pytest
from browser import ARTIFACTS, requested_urls
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as until
from selenium.webdriver.support.ui import WebDriverWait


def wait(driver, seconds: float = 30) -> WebDriverWait:
    return WebDriverWait(driver, seconds)


@pytest.mark.parametrize("language, title", [("en", "Which planned meetings never took place?"),
                                              ("cs", "Která plánovaná setkání se nekonala?")])
def test_an_example_runs_and_shows_its_rows_with_links_to_our_pages(browser, server, language, title):  # noqa: F811
    requested_urls(browser)
    browser.get(f"{server}sparql?lang={language}")
    button = wait(browser).until(until.element_to_be_clickable((By.XPATH, f"//button[normalize-space()='{title}']")))
    button.click()
    rows = wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".yasr table tbody tr"))
    assert len(rows) == 2
    links = [a.get_attribute("href") for row in rows for a in row.find_elements(By.CSS_SELECTOR, "a")]
    ours = [link for link in links if link.startswith(server + "id/event/")]
    assert ours
    browser.save_screenshot(str(ARTIFACTS / f"sparql-{language}.png"))
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    web = [url for url in requested_urls(browser) if urlparse(url).scheme in ("http", "https")]
    assert {urlparse(url).netloc for url in web} == {urlparse(server).netloc}
    browser.get(ours[0])
    assert "/doc/id/event/" in browser.current_url and browser.find_element(By.TAG_NAME, "h1").text


def test_open_in_sparql_from_a_resource_page_runs_its_describe(browser, server):  # noqa: F811
    browser.get(f"{server}id/region/bursa?lang=en")
    browser.find_element(By.LINK_TEXT, "Open in SPARQL").click()
    wait(browser).until(lambda d: "DESCRIBE" in d.execute_script(
        "return document.querySelector('.yasqe .CodeMirror').CodeMirror.getValue()"))
    rows = wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".yasr table tbody tr")
                               or d.find_elements(By.CSS_SELECTOR, ".yasr .CodeMirror"))
    assert rows


def test_the_editor_starts_with_our_prefixes(browser, server):  # noqa: F811
    browser.get(f"{server}sparql?query={quote('SELECT * WHERE { ?s ?p ?o } LIMIT 3')}")
    browser.get(f"{server}sparql")
    wait(browser).until(lambda d: d.find_element(By.CSS_SELECTOR, ".yasqe .CodeMirror"))
    text = browser.execute_script("return document.querySelector('.yasqe .CodeMirror').CodeMirror.getValue()")
    assert f"PREFIX rp: <{server}ontology/>" in text and "PREFIX skos:" in text
