"""A new partnership made entirely in the browser (issue 20), in chromium on a real `lodpub serve` whose data
folder is a git work tree: the office fills the new partner's form (Antalya Province, Türkiye, a province),
the partnership's (the Liberec Region chosen for it) and the first status's (stagnating since a month),
saves them as one new file, and finds the new partnership among the changes to review."""

import pytest
from rdflib import URIRef
from selenium.webdriver.common.by import By
from test_web_accessibility import axe  # noqa: F401 - a fixture
from test_web_edit_auth import editors_file  # noqa: F401 - a fixture
from test_web_edit_forms_browser import CHOOSE, sign_in, wait_for
from test_web_edit_walk import MONTH, RDFS_LABEL, TYPE_INTO, page_text, served_for_editing, shot

from lodpub.editing.blocks import parse_turtle
from lodpub.namespaces import PREFIXES
from lodpub.web.i18n import WORDS

RP = "https://data.kraj-lbc.cz/partnerships/ontology/"
FIRST_FORM = "document.querySelector('shacl-form')"
# The page's forms, in their order: the new partner, the partnership, its first status.
PARTNER, PARTNERSHIP, STATUS = range(3)


def in_form(script: str, form: int) -> str:
    """`script` (a helper of the one-form tests) acting on the page's form number `form`."""
    return script.replace(FIRST_FORM, f"document.querySelectorAll('shacl-form')[{form}]")


def labelled(browser, form: int, czech: str, english: str) -> None:
    """Type the Czech and English label of the resource of form number `form`."""
    assert wait_for(browser, in_form(TYPE_INTO, form), 20, RDFS_LABEL, "cs", czech)
    assert browser.execute_script(in_form(TYPE_INTO, form), RDFS_LABEL, "en", english)


@pytest.mark.served
def test_the_office_makes_a_partnership_with_a_new_region_in_one_page(browser, axe, tmp_path, monkeypatch,  # noqa: F811
                                                                      editors_file):  # noqa: F811
    words = {key: texts["en"] for key, texts in WORDS.items()}
    with served_for_editing(tmp_path, monkeypatch, editors_file) as (settings, base):
        browser.set_window_size(1280, 2400)
        sign_in(browser, base)
        browser.get(base + "edit/new-partnership?lang=en")

        labelled(browser, PARTNER, "Antalya", "Antalya Province")
        assert wait_for(browser, in_form(CHOOSE, PARTNER), 20, "province")
        assert wait_for(browser, in_form(CHOOSE, PARTNER), 20, "Türkiye")
        labelled(browser, PARTNERSHIP, "Partnerství Libereckého kraje a provincie Antalya",
                 "Partnership of the Liberec Region and Antalya Province")
        assert wait_for(browser, in_form(CHOOSE, STATUS), 20, "stagnating")
        assert wait_for(browser, in_form(CHOOSE, STATUS), 20, "month")
        assert wait_for(browser, in_form(TYPE_INTO, STATUS), 20, MONTH, "", "2026-11")
        reason = RP + "reason"
        assert browser.execute_script(in_form(TYPE_INTO, STATUS), reason, "cs", "Spolupráce se nerozvíjí.")
        assert browser.execute_script(in_form(TYPE_INTO, STATUS), reason, "en", "The cooperation is not developing.")
        labelled(browser, STATUS, "Antalya: stagnuje", "Antalya: stagnating")
        wait_for(browser, "return document.getElementById('edit-outcome').textContent.includes(arguments[0])", 90,
                 words["edit_form_no_problems"])
        shot(browser, "edit-new-partnership", axe, "en")  # usable by all, with three forms in one page
        # The period's partnership is the one being made: the page links it, its field is not shown.
        assert browser.execute_script(in_form("""const root = document.querySelector('shacl-form').shadowRoot;
            const fields = [...root.querySelectorAll('[data-path="' + arguments[0] + '"]')];
            return fields.length > 0 && fields.every(f => !f.offsetParent);""",
                                              STATUS), RP + "partnership")

        browser.find_element(By.ID, "edit-message").send_keys("Nové partnerství s provincií Antalya")
        browser.find_element(By.CSS_SELECTOR, "#edit-form button[type=submit]").click()
        wait_for(browser, "return document.getElementById('edit-outcome').textContent.includes(arguments[0])", 90,
                 words["edit_form_saved"])
        graph = parse_turtle((settings.data_dir / "partnerships" / "antalya-province.ttl").read_text(encoding="utf-8"))
        region, partnership = URIRef(PREFIXES["reg"] + "antalya-province"), URIRef(PREFIXES["ptn"] + "antalya-province")
        assert set(graph.objects(partnership, URIRef(RP + "partner"))) == {region, URIRef(PREFIXES["reg"] + "liberec-region")}
        assert graph.value(region, URIRef(RP + "country")) == URIRef(PREFIXES["country"] + "TUR")
        period = URIRef(PREFIXES["stp"] + "antalya-province-1-stagnating")
        assert graph.value(period, URIRef(RP + "partnership")) == partnership
        review = page_text(browser, base + "edit/changes?lang=en")
        assert "antalya-province" in review and "Antalya Province" in review, review
