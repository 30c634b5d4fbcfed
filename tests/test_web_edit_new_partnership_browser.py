"""A new partnership made entirely in the browser (issue 20), in chromium on a real `lodpub serve` whose data
folder is a git work tree: the office fills the new partner's form (Antalya Province, Türkiye, a province),
the partnership's (the Liberec Region chosen for it), ticks in the agreement and the signing it began with
and fills theirs (a memorandum, signed on a day), then the first status's ("signed", begun by that signing),
saves them as one new file, and finds the new partnership among the changes to review."""

import pytest
from rdflib import URIRef
from selenium.webdriver.common.by import By
from test_web_accessibility import axe  # noqa: F401 - a fixture
from test_web_edit_auth import editors_file  # noqa: F401 - a fixture
from test_web_edit_forms_browser import CHOOSE, sign_in, wait_for
from test_web_edit_walk import RDFS_LABEL, TYPE_INTO, page_text, served_for_editing, shot

from lodpub.editing.blocks import parse_turtle
from lodpub.namespaces import PREFIXES
from lodpub.web.i18n import WORDS

RP = "https://data.kraj-lbc.cz/partnerships/ontology/"
DCTERMS = "http://purl.org/dc/terms/"
FIRST_FORM = "document.querySelector('shacl-form')"
# The page's forms, in their order: the new partner, the partnership, the agreement and its signing (an
# optional part), the first status.
PARTNER, PARTNERSHIP, AGREEMENT, SIGNING, STATUS = range(5)
DAY = "http://www.w3.org/2006/time#inXSDDate"


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
        browser.find_element(By.CSS_SELECTOR, ".edit-part-choice").click()
        labelled(browser, AGREEMENT, "Memorandum s provincií Antalya", "Memorandum with Antalya Province")
        assert wait_for(browser, in_form(CHOOSE, AGREEMENT), 20, "memorandum of cooperation")
        assert browser.execute_script(in_form(TYPE_INTO, AGREEMENT), DCTERMS + "title", "",
                                      "Memorandum o spolupráci mezi Libereckým krajem a provincií Antalya")
        labelled(browser, SIGNING, "Podpis memoranda s provincií Antalya", "Signing of the memorandum with Antalya")
        assert browser.execute_script(in_form(TYPE_INTO, SIGNING), DCTERMS + "description", "cs", "Podpis memoranda.")
        assert browser.execute_script(in_form(TYPE_INTO, SIGNING), DCTERMS + "description", "en", "The signing.")
        assert wait_for(browser, in_form(CHOOSE, SIGNING), 20, "day")
        assert wait_for(browser, in_form(TYPE_INTO, SIGNING), 20, DAY, "", "2026-11-20")
        assert wait_for(browser, in_form(CHOOSE, STATUS), 20, "signed")
        assert wait_for(browser, in_form(CHOOSE, STATUS), 20, "day")
        assert wait_for(browser, in_form(TYPE_INTO, STATUS), 20, DAY, "", "2026-11-20")
        reason = RP + "reason"
        assert browser.execute_script(in_form(TYPE_INTO, STATUS), reason, "cs", "Memorandum bylo podepsáno.")
        assert browser.execute_script(in_form(TYPE_INTO, STATUS), reason, "en", "The memorandum was signed.")
        labelled(browser, STATUS, "Antalya: podepsáno", "Antalya: signed")
        # No error, and a note at the signing's participations: the source may not name the signatories.
        wait_for(browser, "return document.getElementById('edit-outcome').textContent.includes(arguments[0])", 90,
                 words["edit_form_only_notes"])
        assert browser.execute_script(in_form("""return [...document.querySelector('shacl-form').shadowRoot
            .querySelectorAll('.lodpub-problem')].map(note => note.dataset.severity + ' ' + note.textContent)""",
                                              SIGNING)) == ["Info Note: No signatories are recorded for this signing "
                                                            "(does the source not name them?)."]
        shot(browser, "edit-new-partnership", axe, "en")  # usable by all, with five forms in one page
        # The period's partnership and cause are being made: the page links them, their fields are not shown.
        for form, path in ((STATUS, RP + "partnership"), (STATUS, RP + "causedBy"), (SIGNING, RP + "partnership"),
                           (SIGNING, RP + "agreement")):
            assert browser.execute_script(in_form("""const root = document.querySelector('shacl-form').shadowRoot;
                const fields = [...root.querySelectorAll('shacl-property')].filter(p => p.template.path === arguments[0]);
                return fields.length > 0 && fields.every(f => !f.offsetParent);""", form), path), path

        browser.find_element(By.ID, "edit-message").send_keys("Nové partnerství s provincií Antalya")
        browser.find_element(By.CSS_SELECTOR, "#edit-form button[type=submit]").click()
        wait_for(browser, "return document.getElementById('edit-outcome').textContent.includes(arguments[0])", 90,
                 words["edit_form_saved"])
        # saved once: a second save would make the partnership again, under the next free name
        assert not browser.find_element(By.CSS_SELECTOR, "#edit-form button[type=submit]").is_enabled()
        graph = parse_turtle((settings.data_dir / "partnerships" / "antalya-province.ttl").read_text(encoding="utf-8"))
        region, partnership = URIRef(PREFIXES["reg"] + "antalya-province"), URIRef(PREFIXES["ptn"] + "antalya-province")
        assert set(graph.objects(partnership, URIRef(RP + "partner"))) == {region, URIRef(PREFIXES["reg"] + "liberec-region")}
        assert graph.value(region, URIRef(RP + "country")) == URIRef(PREFIXES["country"] + "TUR")
        period = URIRef(PREFIXES["stp"] + "antalya-province-1-signed")
        assert graph.value(period, URIRef(RP + "partnership")) == partnership
        signing = URIRef(PREFIXES["ev"] + "antalya-province-2026-11-20-signing")
        assert graph.value(period, URIRef(RP + "causedBy")) == signing
        assert graph.value(graph.value(signing, URIRef(RP + "agreement")), URIRef(RP + "establishes")) == partnership
        review = page_text(browser, base + "edit/changes?lang=en")
        assert "antalya-province" in review and "Antalya Province" in review, review
