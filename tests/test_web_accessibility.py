"""Pages everyone can use (issue 19, item 4): every page passes axe-core with no serious or critical
violation, fits a 360 px wide screen, prints cleanly, and works without JavaScript (the SPARQL editor
excepted: its page keeps a plain form, and says that the editor needs JavaScript).

The browser tests drive Debian's chromium through selenium and the DevTools protocol (device metrics,
print media, script execution); what they see is kept in tests/artifacts/ (screenshots at 360 px,
PDFs, and axe-core's report of each page). What needs no browser is checked in process.
"""

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urljoin

import pytest
from browser import ARTIFACTS
from conftest import PAGE_SIZE, require
from lxml import html
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from lodpub.web.i18n import WORDS

AXE = Path(__file__).resolve().parent / "clients" / "node_modules" / "axe-core" / "axe.min.js"
# What axe-core checks: WCAG 2.0 and 2.1, levels A and AA, and its best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
FAILING_IMPACTS = ("serious", "critical")
NARROW = 360
# The printable width of A4 (210 mm at 96 px to the inch) within chromium's default margins (0.4 in each side).
A4_CONTENT_WIDTH = 717
LANGUAGES = ["cs", "en"]

# Every kind of page, by a name for its artifacts and its path below the base. A page added to the site
# (the search page, the story of a partnership) is checked everywhere here by a line of its own.
PAGES = [
    ("home", ""),
    ("partnership", "doc/id/partnership/bursa"),
    ("region", "doc/id/region/bursa"),
    ("person", "doc/id/person/lidie-vajnerova"),
    ("event", "doc/id/event/bursa-2011-11-01-signing"),
    ("agreement", "doc/id/agreement/bursa-2011"),
    ("document", "doc/id/document/orenburg-oblast-memorandum"),
    ("participation", "doc/id/participation/bursa-2011-11-01-signing-harput"),
    ("concept", "doc/vocabulary/cooperation-areas/textiles-and-nanofibres"),
    ("concept-scheme", "doc/vocabulary/cooperation-areas"),
    ("ontology", "ontology"),
    ("dataset", "doc/id/dataset/partnerships"),
    ("dumps", "dumps/"),
    ("changelog", "changes"),
    ("sparql", "sparql"),
    ("search", "search?q=vajnerova"),
    ("search-empty", "search"),
    ("not-found", "doc/id/region/atlantis"),
]
PAGE_IDS = [name for name, _ in PAGES]


def url_of(base: str, path: str, language: str) -> str:
    """The page at `path` below `base` in `language`."""
    return f"{base}{path}{'&' if '?' in path else '?'}lang={language}"


def page_of(site, path: str, language: str):
    """The answer to a browser asking for the page at `path` in `language` (`site`: in_process)."""
    return site.http.get(url_of(site, path, language), headers={"Accept": "text/html"})


# --- In process: what the HTML itself must have ----------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("path", [path for _, path in PAGES], ids=PAGE_IDS)
def test_every_page_has_a_skip_link_named_images_labelled_controls_and_unique_ids(in_process, path, language):
    answer = page_of(in_process, path, language)
    assert answer.status_code == (404 if path.endswith("atlantis") else 200)
    page = html.fromstring(answer.content)
    first_link = page.xpath("//body//a")[0]
    assert first_link.get("class") == "skip-link" and first_link.get("href") == "#main"
    assert first_link.text_content() == WORDS["skip_to_content"][language]
    assert [main.get("id") for main in page.iter("main")] == ["main"]
    ids = page.xpath("//@id")
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    for picture in page.xpath("//img | //*[local-name()='svg']"):
        assert _accessible_name(page, picture) or picture.get("aria-hidden") == "true", html.tostring(picture)[:200]
    for control in page.xpath("//input[not(@type='hidden')] | //textarea | //select"):
        labelled = control.get("id") and page.xpath(f"//label[@for='{control.get('id')}']")
        assert labelled or control.get("aria-label"), html.tostring(control)[:200]
    for table in page.iter("table"):
        assert table.xpath(".//th"), html.tostring(table)[:200]


def _accessible_name(page, element) -> str:
    """The name of an <img> or <svg>: its alt, aria-label, or the text of what aria-labelledby names."""
    named = [page.get_element_by_id(name, None) for name in (element.get("aria-labelledby") or "").split()]
    return " ".join(node.text_content() for node in named if node is not None) or element.get("aria-label") or element.get("alt") or ""


def test_a_link_named_in_the_other_language_says_so(in_process):
    """EuroVoc's "twinning" is labelled in English alone: a Czech page marks it as English, an English one need not."""
    twinning = "//a[@href='http://eurovoc.europa.eu/5323']"
    czech = html.fromstring(page_of(in_process, "doc/id/dataset/partnerships", "cs").content).xpath(twinning)[0]
    assert (czech.text_content(), czech.get("lang")) == ("twinning", "en")
    english = html.fromstring(page_of(in_process, "doc/id/dataset/partnerships", "en").content).xpath(twinning)[0]
    assert english.get("lang") is None


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_sparql_page_has_a_plain_form_that_answers_without_javascript(in_process, language):
    page = html.fromstring(page_of(in_process, "sparql", language).content)
    assert WORDS["editor_needs_js"][language] in page.xpath("string(//noscript)")
    form = page.xpath("//form[@class='sparql-plain']")[0]
    assert form.get("method") == "post" and urljoin(in_process, form.get("action")) == in_process + "sparql"
    fields = dict(form.form_values())
    assert "PREFIX rp:" in fields["query"] and "SELECT ?partnership ?label" in fields["query"]
    assert fields["format"] == "json"
    browser_accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    answer = in_process.http.post(in_process + "sparql", data=fields, headers={"Accept": browser_accept})
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("application/sparql-results+json")
    labels = {row["label"]["value"] for row in answer.json()["results"]["bindings"]}
    assert any("Bursa" in label for label in labels)


def test_an_example_query_is_a_form_that_opens_the_page_with_its_query(in_process):
    page = html.fromstring(page_of(in_process, "sparql", "en").content)
    example = page.xpath("//details[@class='examples']//form")[0]
    query = dict(example.form_values())["query"]
    opened = in_process.http.get(in_process + "sparql", params={"query": query}, headers={"Accept": "text/html"})
    assert html.fromstring(opened.content).xpath("string(//textarea[@name='query'])") == query


# --- In the browser: axe-core, 360 px, print, no JavaScript -----------------------------------------


@pytest.fixture(scope="module")
def axe() -> str:
    """axe-core's script, from tests/clients/node_modules (npm ci --prefix tests/clients)."""
    require(AXE.exists(), "axe-core (npm ci --prefix tests/clients)")
    return AXE.read_text(encoding="utf-8")


def axe_violations(browser, axe: str) -> list[dict]:
    """axe-core's violations on the page loaded in `browser`: rule id, impact, help and the nodes' targets."""
    browser.set_script_timeout(120)
    browser.execute_script(axe)
    found = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})"
        ".then(results => done(results.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " targets: v.nodes.map(node => node.target.join(' '))}))), error => done({error: String(error)}));",
        AXE_TAGS)
    assert "error" not in found, found
    return found


def axe_report(violations: list[dict]) -> str:
    """One line a violation: its rule, impact, what it asks and where it is."""
    return "\n".join(f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(v['targets'])}" for v in violations)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("path", [path for _, path in PAGES], ids=PAGE_IDS)
def test_axe_core_finds_nothing_serious_or_critical(browser, server, axe, path, language, request):
    browser.get(url_of(server, path, language))
    if path == "sparql":  # the editor, once YASGUI has drawn it
        WebDriverWait(browser, 30).until(lambda driver: driver.find_elements(By.CSS_SELECTOR, ".yasqe .CodeMirror"))
    violations = axe_violations(browser, axe)
    report = ARTIFACTS / "axe" / f"{request.node.callspec.id}.json"
    report.parent.mkdir(exist_ok=True)
    report.write_text(json.dumps(violations, indent=1, ensure_ascii=False), encoding="utf-8")
    failing = [v for v in violations if v["impact"] in FAILING_IMPACTS]
    assert not failing, f"axe-core on {browser.current_url}:\n{axe_report(failing)}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_axe_core_finds_nothing_serious_in_the_editor_showing_an_answer(browser, server, axe, language):
    browser.get(url_of(server, "sparql", language))
    WebDriverWait(browser, 30).until(lambda driver: driver.find_elements(By.CSS_SELECTOR, ".yasqe .CodeMirror"))
    browser.find_elements(By.CSS_SELECTOR, "button.example")[0].click()
    WebDriverWait(browser, 30).until(lambda driver: driver.find_elements(By.CSS_SELECTOR, ".yasr table tbody tr"))
    failing = [v for v in axe_violations(browser, axe) if v["impact"] in FAILING_IMPACTS]
    assert not failing, f"axe-core on the editor's answer:\n{axe_report(failing)}"


@contextmanager
def emulated(browser, width: int, media: str = "screen") -> Iterator[None]:
    """The browser's pages `width` CSS pixels wide (as a phone, for screen), in `media`, until the end."""
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": 800, "deviceScaleFactor": 1, "mobile": media == "screen"})
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": media})
    try:
        yield
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def save_whole_page(browser, path: Path) -> None:
    """A screenshot of the whole page (not only what the window shows) as a PNG at `path`."""
    size = browser.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    shot = browser.execute_cdp_cmd("Page.captureScreenshot", {"captureBeyondViewport": True, "clip": {
        "x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 12_000), "scale": 1}})
    path.write_bytes(base64.b64decode(shot["data"]))


def overflow(browser) -> tuple[int, int, list[str]]:
    """The page's scrolling width, its visible width, and the elements that reach past the visible width
    outside a box that scrolls them (which is how a wide table may fit)."""
    return tuple(browser.execute_script("""
        const page = document.documentElement, wide = [];
        const scrolled = (element) => { for (let e = element.parentElement; e; e = e.parentElement) {
            if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(e).overflowX)) return true; } return false; };
        for (const element of document.body.querySelectorAll('*')) {
            const box = element.getBoundingClientRect();
            if (box.width > 0 && box.right > page.clientWidth + 1 && !scrolled(element))
                wide.push(element.tagName.toLowerCase() + '.' + element.getAttribute('class'));
        }
        return [page.scrollWidth, page.clientWidth, wide];"""))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("path", [path for _, path in PAGES], ids=PAGE_IDS)
def test_every_page_fits_a_screen_360_pixels_wide(browser, server, path, language, request):
    with emulated(browser, NARROW):
        browser.get(url_of(server, path, language))
        scroll_width, client_width, wide = overflow(browser)
        save_whole_page(browser, ARTIFACTS / f"narrow-{request.node.callspec.id}.png")
        assert client_width == NARROW
        assert scroll_width <= client_width and not wide, (scroll_width, wide)
        header = browser.find_element(By.TAG_NAME, "header").rect
        assert header["x"] + header["width"] <= NARROW
        for timeline in browser.find_elements(By.CSS_SELECTOR, "svg.timeline"):
            # Scaled to the width, or, below the width at which its words are readable, scrolled in its own box.
            box = browser.execute_script("return arguments[0].closest('.timeline-box') || arguments[0]", timeline)
            assert box.rect["x"] + box.rect["width"] <= NARROW
            assert timeline.rect["width"] <= NARROW or box.get_attribute("class") == "timeline-box"


@pytest.mark.parametrize("path", [path for _, path in PAGES], ids=PAGE_IDS)
def test_every_page_prints_black_on_white_without_navigation_within_a4(browser, server, path):
    with emulated(browser, A4_CONTENT_WIDTH, "print"):
        browser.get(url_of(server, path, "en"))
        for hidden in ("header nav", "a.lang-switch", "a.skip-link", "section.formats", "header form"):
            assert not [element for element in browser.find_elements(By.CSS_SELECTOR, hidden) if element.is_displayed()]
        scroll_width, client_width, wide = overflow(browser)
        assert scroll_width <= client_width and not wide, (scroll_width, wide)
        style = browser.execute_script("""const main = getComputedStyle(document.querySelector('main'));
            const row = document.querySelector('tr'), link = document.querySelector('main a:not(#yasgui *)');
            return [main.color, getComputedStyle(document.body).backgroundColor,
                    row && getComputedStyle(row).breakInside, link && getComputedStyle(link).color];""")
        assert style[0] == "rgb(0, 0, 0)" and style[1] in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)")
        assert style[2] in (None, "avoid") and style[3] in (None, "rgb(0, 0, 0)")
        for timeline in browser.find_elements(By.CSS_SELECTOR, "svg.timeline"):
            assert timeline.rect["x"] + timeline.rect["width"] <= client_width


@pytest.mark.parametrize("name, path", [("home", ""), ("partnership", "doc/id/partnership/bursa"),
                                        ("region", "doc/id/region/bursa")])
def test_a_page_printed_to_pdf_on_a4(browser, server, name, path):
    browser.get(url_of(server, path, "en"))
    printed = browser.execute_cdp_cmd("Page.printToPDF", {"paperWidth": 8.27, "paperHeight": 11.69,
                                                          "printBackground": True})
    pdf = base64.b64decode(printed["data"])
    (ARTIFACTS / f"print-{name}.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF-") and len(pdf) > 10_000


@pytest.fixture
def without_javascript(browser):
    """`browser` with the pages' scripts switched off, for the test."""
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        yield browser
    finally:
        browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})


def test_without_javascript_home_a_resource_and_the_language_switch_work(without_javascript, server):
    browser = without_javascript
    browser.get(url_of(server, "", "en"))
    assert browser.find_element(By.TAG_NAME, "h1").text == WORDS["site_title"]["en"]
    assert len(browser.find_elements(By.CSS_SELECTOR, "table.partnerships tbody tr")) == 5
    assert browser.find_element(By.CSS_SELECTOR, "svg.timeline").is_displayed()
    browser.find_element(By.CSS_SELECTOR, "table.partnerships tbody tr td a").click()
    assert "/doc/id/region/" in browser.current_url and browser.find_element(By.TAG_NAME, "h1").text
    assert browser.find_elements(By.CSS_SELECTOR, "table.properties tbody tr")
    browser.find_element(By.CSS_SELECTOR, "a.lang-switch").click()
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "cs"
    assert browser.find_element(By.CSS_SELECTOR, "th").text == WORDS["property"]["cs"]
    browser.save_screenshot(str(ARTIFACTS / "no-javascript-region-cs.png"))


@pytest.mark.served
def test_without_javascript_the_home_pager_leads_through_every_page(without_javascript, paged_server):
    browser = without_javascript
    browser.get(url_of(paged_server, "", "en"))
    seen = []
    while True:
        rows = browser.find_elements(By.CSS_SELECTOR, "table.partnerships tbody tr")
        assert 0 < len(rows) <= PAGE_SIZE
        seen += [row.find_element(By.CSS_SELECTOR, "td a").text for row in rows]
        following = browser.find_elements(By.CSS_SELECTOR, "nav.pager a[rel=next]")
        if not following:
            break
        following[0].click()
    assert len(seen) == len(set(seen)) > 2 * PAGE_SIZE


def test_without_javascript_the_sparql_page_shows_its_form_and_answers(without_javascript, server):
    browser = without_javascript
    browser.get(url_of(server, "sparql", "en"))
    assert not browser.find_elements(By.CSS_SELECTOR, ".yasqe")
    assert WORDS["editor_needs_js"]["en"] in browser.find_element(By.TAG_NAME, "main").text
    form = browser.find_element(By.CSS_SELECTOR, "form.sparql-plain")
    assert form.is_displayed()
    browser.find_element(By.XPATH, "//button[normalize-space()='Which planned meetings never took place?']").click()
    WebDriverWait(browser, 30).until(lambda driver: "query=" in driver.current_url)
    query = browser.find_element(By.CSS_SELECTOR, "form.sparql-plain textarea").get_attribute("value")
    assert "rp:tookPlace false" in query
    browser.save_screenshot(str(ARTIFACTS / "no-javascript-sparql.png"))
    browser.find_element(By.CSS_SELECTOR, "form.sparql-plain button[type=submit]").click()
    WebDriverWait(browser, 30).until(lambda driver: driver.current_url == f"{server}sparql")
    answer = json.loads(browser.find_element(By.TAG_NAME, "pre").text)  # chromium shows JSON as text
    assert len(answer["results"]["bindings"]) == 2  # the two meetings that did not take place


def test_with_javascript_the_editor_replaces_the_plain_form(browser, server):
    browser.get(url_of(server, "sparql", "en"))
    WebDriverWait(browser, 30).until(lambda driver: driver.find_elements(By.CSS_SELECTOR, ".yasqe .CodeMirror"))
    assert not browser.find_element(By.CSS_SELECTOR, "form.sparql-plain").is_displayed()
    assert not [element for element in browser.find_elements(By.TAG_NAME, "noscript") if element.is_displayed()]


def test_the_skip_link_appears_on_focus_and_leads_to_the_content(browser, server):
    browser.get(url_of(server, "doc/id/region/bursa", "en"))
    skip = browser.find_element(By.CSS_SELECTOR, "a.skip-link")
    assert skip.rect["y"] + skip.rect["height"] <= 0  # out of sight until focused
    ActionChains(browser).send_keys(Keys.TAB).perform()
    focused = browser.switch_to.active_element
    assert focused == skip and skip.rect["y"] >= 0
    assert browser.execute_script("return getComputedStyle(arguments[0]).outlineStyle", skip) != "none"
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    assert browser.switch_to.active_element == browser.find_element(By.TAG_NAME, "main")


@pytest.mark.parametrize(("language", "marked"), [("cs", "en"), ("en", None)])
def test_a_page_titled_in_the_other_language_says_so(in_process, language, marked):
    """EuroVoc's "twinning", labelled in English alone, is the title of its page: a Czech page marks the title
    English, so that a screen reader pronounces it as English; an English page need not."""
    page = html.fromstring(page_of(in_process, "doc?iri=http://eurovoc.europa.eu/5323", language).content)
    title = page.xpath("//h1")[0]
    assert (title.text_content(), title.get("lang")) == ("twinning", marked)
    assert page.get("lang") == language
