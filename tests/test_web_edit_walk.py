"""The office's whole walk through the editor (issue 20), in chromium on a real `lodpub serve` whose
data folder is a git work tree: sign in, add an event to Bursa with a month-precision date, see the
violation for its missing English label at the label's field, fix it, save (a git commit by the
editor), review the change, publish, and find the event on the public page and through /sparql.
Screenshots go to tests/artifacts/ (the office's guide shows them)."""

import subprocess
import time
from contextlib import contextmanager

import pytest
import requests
from browser import ARTIFACTS
from selenium.webdriver.common.by import By
from test_editing_publishing import served_settings
from test_web_accessibility import FAILING_IMPACTS, axe, axe_report, axe_violations  # noqa: F401 - axe is a fixture
from test_web_edit_auth import editors_file  # noqa: F401 - a fixture
from test_web_edit_forms_browser import CHOOSE, SHADOW_TEXT, sign_in, wait_for

from lodpub.web.i18n import WORDS

RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
DESCRIPTION = "http://purl.org/dc/terms/description"
MONTH = "http://www.w3.org/2006/time#inXSDgYearMonth"
# What the editor sees and chooses, in each language of the pages (the rest is the pages' WORDS).
SEEN = {
    "en": {"form": "Kind of event", "kind": "meeting", "month": "month", "missing": "English label is missing",
           "when": "May 2012"},
    "cs": {"form": "Druh události", "kind": "setkání", "month": "měsíc", "missing": "Chybí anglický popisek",
           "when": "květen 2012"},
}
CZECH_LABEL = "Pracovní setkání o cestovním ruchu v Burse"
ENGLISH_LABEL = "Working meeting on tourism in Bursa"
# Types arguments[2] into the field of path arguments[0] (its input of language arguments[1], if given).
TYPE_INTO = """
const root = document.querySelector('shacl-form').shadowRoot;
const lang = arguments[1] ? '[data-lang="' + arguments[1] + '"]' : '';
const input = root.querySelector('[data-path="' + arguments[0] + '"] input' + lang + ', [data-path="'
  + arguments[0] + '"] textarea' + lang);
if (!input) { return false; }
input.focus();
input.value = arguments[2];
input.dispatchEvent(new Event('input', {bubbles: true}));
input.dispatchEvent(new Event('change', {bubbles: true}));
return true;"""
# The problems shown under the field of path arguments[0].
PROBLEMS_AT = """
const root = document.querySelector('shacl-form').shadowRoot;
return [...root.querySelectorAll('.lodpub-problem')]
  .filter(p => p.previousElementSibling && p.previousElementSibling.dataset.path === arguments[0])
  .map(p => p.textContent);"""


def committed_data(data) -> None:
    """Make the data folder a git work tree with one commit, as an office keeps it."""
    for command in (["init", "-q"], ["add", "-A"],
                    ["-c", "user.name=Office", "-c", "user.email=office@example.org", "commit", "-qm", "Data"]):
        subprocess.run(["git", *command], cwd=data, check=True)


@contextmanager
def served_for_editing(tmp_path, monkeypatch, editors_file):  # noqa: F811
    """A real `lodpub serve` of the project's release with editing on, its data folder a git work tree of its
    own: (the settings, the base URL)."""
    from served import running_server

    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    settings = served_settings(tmp_path)
    committed_data(settings.data_dir)
    with running_server(settings.output_dir, tmp_path, shared=False, data_dir=str(settings.data_dir),
                        editors_file=str(editors_file)) as base:
        yield settings, base


def page_text(browser, url: str) -> str:
    """The text of the main part of the page at `url`."""
    browser.get(url)
    return browser.find_element(By.TAG_NAME, "main").text


def eventually(condition, timeout: float) -> bool:
    """Whether `condition()` comes true within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


def shot(browser, name: str, axe: str, language: str) -> None:
    """A screenshot of the page for the office's guide, and axe-core's check that it is usable by all."""
    browser.save_screenshot(str(ARTIFACTS / f"{name}-{language}.png"))
    failing = [v for v in axe_violations(browser, axe) if v["impact"] in FAILING_IMPACTS]
    assert not failing, f"axe-core on {browser.current_url}:\n{axe_report(failing)}"


@pytest.mark.served
@pytest.mark.parametrize("language", ["cs", "en"])
def test_the_office_adds_an_event_to_bursa_and_publishes_it(browser, axe, tmp_path, monkeypatch,  # noqa: F811
                                                          editors_file, language):  # noqa: F811
    seen = SEEN[language]
    words = {key: texts[language] for key, texts in WORDS.items()}
    with served_for_editing(tmp_path, monkeypatch, editors_file) as (settings, base):
        browser.set_window_size(1280, 1800)
        sign_in(browser, base)
        browser.get(base + f"edit/partnership/bursa?lang={language}")
        shot(browser, "edit-walk-1-partnership", axe, language)
        browser.find_element(By.CSS_SELECTOR, "a[href$='/edit/partnership/bursa/new/event']").click()
        wait_for(browser, f"const t = ({SHADOW_TEXT[7:]}); return t.includes(arguments[0]) && t", 20, seen["form"])
        # The component's own words are in the page's language too.
        empty = browser.execute_script("return [...document.querySelector('shacl-form').shadowRoot"
                                       ".querySelectorAll('option[value=\"\"]')].map(o => o.textContent)")
        assert empty and set(empty) <= {words["edit_form_choose"], ""}, set(empty)

        # The form, filled as the source would give it: a month, and the English label forgotten.
        assert wait_for(browser, CHOOSE, 10, seen["kind"])
        assert wait_for(browser, CHOOSE, 10, seen["month"])
        assert wait_for(browser, TYPE_INTO, 10, MONTH, "", "2012-05")
        assert browser.execute_script(TYPE_INTO, DESCRIPTION, "cs", "V květnu 2012 jednali zástupci kraje v Burse.")
        assert browser.execute_script(TYPE_INTO, DESCRIPTION, "en", "In May 2012 the Region's representatives met in Bursa.")
        assert browser.execute_script(TYPE_INTO, RDFS_LABEL, "cs", CZECH_LABEL)

        # The server's check says what is missing, in the page's language, at the label's field.
        problems = wait_for(browser, PROBLEMS_AT.replace(".map(p => p.textContent);", ".map(p => p.textContent).join('\\n');"),
                            60, RDFS_LABEL).splitlines()
        assert any(seen["missing"] in problem for problem in problems), problems
        shot(browser, "edit-walk-2-missing-english-label", axe, language)

        assert browser.execute_script(TYPE_INTO, RDFS_LABEL, "en", ENGLISH_LABEL)
        wait_for(browser, "return document.getElementById('edit-outcome').textContent.includes(arguments[0])", 60,
                 words["edit_form_no_problems"])
        assert browser.execute_script(PROBLEMS_AT, RDFS_LABEL) == []
        browser.find_element(By.ID, "edit-message").send_keys("Setkání v květnu 2012 podle zápisu odboru")
        browser.find_element(By.CSS_SELECTOR, "#edit-form button[type=submit]").click()
        wait_for(browser, "return document.getElementById('edit-outcome').textContent.includes(arguments[0])", 60,
                 words["edit_form_saved"])
        shot(browser, "edit-walk-3-saved", axe, language)

        # Saved as a commit by the editor, formatted as the file's other events; not yet public.
        log = subprocess.run(["git", "log", "-1", "--format=%an|%s", "--name-only"], cwd=settings.data_dir,
                             capture_output=True, text=True, check=True).stdout
        assert log.startswith("alice|Setkání v květnu 2012 podle zápisu odboru") and "partnerships/bursa.ttl" in log
        text = (settings.data_dir / "partnerships" / "bursa.ttl").read_text(encoding="utf-8")
        assert "ev:bursa-2012-05-meeting\n    a rp:Event ;" in text and f'"{ENGLISH_LABEL}"@en' in text
        assert "t:2012-05\n" in text and "2012-05-01" not in text  # a month, never a day
        event = base + "id/event/bursa-2012-05-meeting"
        assert requests.get(event, timeout=30).status_code == 404

        # Review, then publish.
        browser.find_element(By.CSS_SELECTOR, "#edit-outcome a").click()
        wait_for(browser, "return document.querySelector('main') && document.querySelector('main').textContent")
        review = browser.find_element(By.TAG_NAME, "main").text
        assert (ENGLISH_LABEL if language == "en" else CZECH_LABEL) in review and "bursa-2012-05-meeting" in review and "alice" in review
        shot(browser, "edit-walk-4-review", axe, language)
        browser.find_element(By.CSS_SELECTOR, "form.edit-publish button").click()
        wait_for(browser, "return document.querySelector('main').textContent.includes(arguments[0])", 120,
                 words["edit_published_title"])
        shot(browser, "edit-walk-5-published", axe, language)

        # Public (once the master has replaced its workers): on Bursa's page, in its story, on the
        # event's page and through /sparql.
        assert eventually(lambda: (ENGLISH_LABEL if language == "en" else CZECH_LABEL) in page_text(browser, base + f"id/partnership/bursa?lang={language}"), 60)
        shot(browser, "edit-walk-6-public-page", axe, language)
        assert seen["when"] in page_text(browser, event + f"?lang={language}")
        answer = requests.get(base + "sparql", params={"query": f"SELECT ?label WHERE {{ <{event}> <{RDFS_LABEL}> ?label }}"},
                              headers={"Accept": "application/sparql-results+json"}, timeout=30).json()
        assert {row["label"]["value"] for row in answer["results"]["bindings"]} == {CZECH_LABEL, ENGLISH_LABEL}
