"""The editor's form in chromium (issue 20), on `lodpub serve` with editing on: an editor signs in,
opens Bursa's new event form, sees its fields named in Czech, chooses a month as the time's precision
and types the month, and the form's graph is what the save endpoints take (plain data in our
vocabulary, the time a node with its precision and month). Nothing is asked of another host.
Screenshots go to tests/artifacts/ for the office's guide."""

import time

import pytest
from browser import ARTIFACTS, requested_urls
from rdflib import RDF, Graph, Literal, URIRef
from selenium.webdriver.common.by import By
from test_web_edit_auth import PASSWORD, editors_file  # noqa: F401 - a fixture
from tiers import tiered

BASE = "https://data.kraj-lbc.cz/partnerships/"
RP = BASE + "ontology/"
TIME = "http://www.w3.org/2006/time#"
XSD = "http://www.w3.org/2001/XMLSchema#"

SHADOW_TEXT = "return document.querySelector('shacl-form').shadowRoot.textContent"
# Choose the option labelled arguments[0] of the first select offering it, as a person does.
CHOOSE = """
const root = document.querySelector('shacl-form').shadowRoot;
for (const select of root.querySelectorAll('select')) {
  for (const option of select.options) {
    if (option.textContent.trim() === arguments[0]) {
      select.value = option.value;
      select.dispatchEvent(new Event('change', {bubbles: true}));
      return true;
    }
  }
}
return false;"""
# Type arguments[1] into the input of the field of path arguments[0].
TYPE = """
const root = document.querySelector('shacl-form').shadowRoot;
const input = root.querySelector('[data-path="' + arguments[0] + '"] input, [data-path="' + arguments[0] + '"] .editor');
if (!input) { return null; }
input.value = arguments[1];
input.dispatchEvent(new Event('input', {bubbles: true}));
input.dispatchEvent(new Event('change', {bubbles: true}));
return input.type;"""


def wait_for(driver, script: str, timeout: float = 20.0, *arguments):
    """The first true value of `script` within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = driver.execute_script(script, *arguments)
        except Exception:  # noqa: BLE001 - the component is not defined yet
            value = None
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout} s: {script}")


@pytest.fixture(scope="module")
@tiered("served")
def editing_server(project_release, editors_file, tmp_path_factory):  # noqa: F811
    from served import running_server

    with running_server(project_release.path.parent.parent, tmp_path_factory.mktemp("edit-forms"),
                        editors_file=str(editors_file)) as base:
        yield base


def sign_in(browser, base: str) -> None:
    browser.get(base + "edit/login?lang=cs")
    if browser.execute_script("return location.pathname.endsWith('/edit/')"):
        return  # signed in already (the login page sends an editor on)
    browser.find_element(By.ID, "edit-name").send_keys("alice")
    browser.find_element(By.ID, "edit-password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form.edit-login button").click()
    wait_for(browser, "return location.pathname.endsWith('/edit/')")


def test_a_new_event_of_bursa_with_a_month(browser, editing_server):
    base = editing_server
    sign_in(browser, base)
    requested_urls(browser)
    browser.get(base + "edit/partnership/bursa/new/event?lang=cs")
    text = wait_for(browser, f"const t = ({SHADOW_TEXT[7:]}); return t.includes('Druh události') && t")
    for name in ("Druh události", "Popis (česky", "Název (česky a anglicky)", "Kdy (s přesností zdroje)",
                 "Partnerství", "Základní údaje"):
        assert name in text, name
    assert wait_for(browser, CHOOSE, 10, "měsíc")
    kind = wait_for(browser, TYPE, 10, TIME + "inXSDgYearMonth", "2012-05")
    assert kind in ("month", "text")
    browser.save_screenshot(str(ARTIFACTS / "edit-new-event-month.png"))
    graph = Graph().parse(data=browser.execute_script("return window.lodpubEditGraph()"), format="turtle")
    event = next(iter(graph.subjects(URIRef(RP + "partnership"), URIRef(BASE + "id/partnership/bursa"))))
    assert (event, RDF.type, URIRef(RP + "Event")) in graph
    when = graph.value(event, URIRef(TIME + "hasTime"))
    assert when is not None
    assert graph.value(when, URIRef(RP + "precision")) == URIRef(BASE + "vocabulary/date-precisions/month")
    assert graph.value(when, URIRef(TIME + "inXSDgYearMonth")) == Literal("2012-05", datatype=URIRef(XSD + "gYearMonth"))
    assert (when, RDF.type, URIRef(TIME + "Instant")) in graph
    assert graph.value(when, URIRef(TIME + "inXSDDate")) is None
    assert not [term for triple in graph for term in triple if str(term).startswith(BASE + "shapes/")]
    show_problems_at_their_fields(browser)
    browser.set_window_size(360, 1600)
    browser.save_screenshot(str(ARTIFACTS / "edit-new-event-360.png"))
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= 360 + 1
    others = [url for url in requested_urls(browser) if not url.startswith(base) and not url.startswith("data:")]
    assert others == []


def test_an_existing_visit_opens_with_its_day_and_keeps_its_class(browser, editing_server):
    base = editing_server
    browser.set_window_size(1280, 1600)
    sign_in(browser, base)
    visit = BASE + "id/event/bursa-2010-10-06-visit"
    browser.get(base + f"edit/partnership/bursa/edit?subject={visit}&lang=cs")
    wait_for(browser, f"const t = ({SHADOW_TEXT[7:]}); return t.includes('Druh události') && t")
    browser.save_screenshot(str(ARTIFACTS / "edit-existing-visit.png"))
    graph = Graph().parse(data=browser.execute_script("return window.lodpubEditGraph()"), format="turtle")
    event = URIRef(visit)
    assert set(graph.objects(event, RDF.type)) == {URIRef(RP + "Visit")}
    when = graph.value(event, URIRef(TIME + "hasTime"))
    assert when == URIRef(BASE + "id/time/2010-10-06")
    assert graph.value(when, URIRef(RP + "precision")) == URIRef(BASE + "vocabulary/date-precisions/day")
    assert graph.value(when, URIRef(TIME + "inXSDDate")) == Literal("2010-10-06", datatype=URIRef(XSD + "date"))
    labels = {label.language for label in graph.objects(event, URIRef("http://www.w3.org/2000/01/rdf-schema#label"))}
    assert labels == {"cs", "en"}


def show_problems_at_their_fields(browser) -> None:
    """A problem of a path the form has goes under that field; one without a path goes at the top."""
    browser.execute_script("window.lodpubEditShowProblems(arguments[0])", [
        {"severity": "Violation", "focus": "_:x", "path": "(rdfs:label|skos:prefLabel)",
         "message": "Chybí anglický popisek."},
        {"severity": "Violation", "focus": "_:x", "path": None, "message": "Partnerství musí mít stav."},
    ])
    placed = browser.execute_script("""
        const problem = document.querySelector('shacl-form').shadowRoot.querySelector('.lodpub-problem');
        return [problem.textContent, problem.previousElementSibling.dataset.path];""")
    assert placed == ["Chybí anglický popisek.", "http://www.w3.org/2000/01/rdf-schema#label"]
    top = browser.find_element(By.ID, "edit-problems")
    assert top.is_displayed() and "Partnerství musí mít stav." in top.text
    browser.save_screenshot(str(ARTIFACTS / "edit-problems-at-fields.png"))
