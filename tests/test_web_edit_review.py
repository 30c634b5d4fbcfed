"""Review, then publish, in the editor (issue 20, item 4), in process: a change saved to a copy of data/
is shown on /edit/changes, published by POST /edit/publish (the public page and /sparql of the same app
then show it) and rolled back by POST /edit/rollback; each refusal with its status."""

import dataclasses
import json
from pathlib import Path

import pytest
from test_editing_publishing import EVENT, add_event, served_settings
from test_web_edit_auth import Browser, editors_file, signed_in  # noqa: F401 - editors_file is a fixture

from lodpub import create_app
from lodpub.editing.publishing import publishing_lock
from lodpub.store.releases import SERVED, pointed_version

EVENT_PAGE = "/doc/id/event/bursa-2012-05-visit"
ASK = f"ASK {{ <{EVENT}> ?p ?o }}"


@pytest.fixture
def edit_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, editors_file: Path):  # noqa: F811
    """An app with editing on, serving a release of a copy of data/ from its own output folder."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    settings = served_settings(tmp_path)
    return create_app(dataclasses.replace(settings, editors_file=editors_file, public_base=settings.base_iri))


def asked(app, query: str) -> bool:
    """The answer of the app's SPARQL endpoint to an ASK query."""
    answer = app.test_client().get("/sparql", query_string={"query": query},
                                   headers={"Accept": "application/sparql-results+json"})
    return json.loads(answer.get_data())["boolean"]


def served(app) -> str:
    return pointed_version(app.extensions["lodpub"].settings.output_dir, SERVED)


def test_a_saved_event_is_reviewed_published_and_rolled_back(edit_app) -> None:
    browser = signed_in(edit_app)
    assert "/edit/changes" in browser.get("/edit/").get_data(as_text=True)  # the bar links to the review
    first = served(edit_app)
    empty = browser.get("/edit/changes?lang=en").get_data(as_text=True)
    assert "Nothing to publish" in empty and "The data validate" in empty and "/edit/publish" not in empty
    add_event(edit_app.extensions["lodpub"].settings.data_dir)
    review = browser.get("/edit/changes?lang=cs").get_data(as_text=True)
    assert "přidáno</span>: <span>Další návštěva z Bursy</span>" in review  # in words, in the page's language
    assert "ev:bursa-2012-05-visit a rp:Visit" in review  # in triples
    assert "Eva Nová" in review and "Nová návštěva" in review  # the recorded change
    assert edit_app.test_client().get(EVENT_PAGE).status_code == 404 and not asked(edit_app, ASK)
    token = browser.token("/edit/changes")
    published = browser.post("/edit/publish", {"csrf_token": token})
    assert published.status_code == 200
    version = served(edit_app)
    assert version != first and f"/doc/id/release/{version}" in published.get_data(as_text=True)
    assert "Another visit from Bursa" in edit_app.test_client().get(EVENT_PAGE + "?lang=en").get_data(as_text=True)
    assert asked(edit_app, ASK)
    assert version in edit_app.test_client().get("/changes").get_data(as_text=True)
    assert "Není co zveřejnit" in browser.get("/edit/changes?lang=cs").get_data(as_text=True)
    confirm = browser.get("/edit/rollback?lang=en").get_data(as_text=True)
    assert f"Serve release {first} again instead of release {version}?" in confirm
    rolled = browser.post("/edit/rollback", {"csrf_token": token})
    assert rolled.status_code == 200 and "The data files do not change" in rolled.get_data(as_text=True)
    assert served(edit_app) == first
    assert edit_app.test_client().get(EVENT_PAGE).status_code == 404 and not asked(edit_app, ASK)
    assert "Další návštěva z Bursy" in browser.get("/edit/changes?lang=cs").get_data(as_text=True)  # still saved


def test_publishing_and_rolling_back_need_a_session_a_token_and_our_origin(edit_app) -> None:
    stranger = Browser(edit_app)
    token = stranger.token()
    for path in ("/edit/publish", "/edit/rollback"):
        assert stranger.post(path, {"csrf_token": token}).status_code == 401
    assert stranger.get("/edit/changes").status_code == 302
    editor = signed_in(edit_app)
    token = editor.token("/edit/changes")
    for path in ("/edit/publish", "/edit/rollback"):
        assert editor.post(path, {}).status_code == 400
        assert editor.post(path, {"csrf_token": token}, origin="https://evil.example").status_code == 403
    assert len(list((edit_app.extensions["lodpub"].settings.output_dir / "releases").iterdir())) == 1


def test_invalid_data_are_refused_with_their_violations_and_nothing_is_published(edit_app) -> None:
    add_event(edit_app.extensions["lodpub"].settings.data_dir, english=False)
    browser = signed_in(edit_app)
    review = browser.get("/edit/changes?lang=en").get_data(as_text=True)
    assert "do not validate" in review and "/edit/publish" not in review
    before = served(edit_app)
    refused = browser.post("/edit/publish", {"csrf_token": browser.token("/edit/changes")})
    assert refused.status_code == 422
    assert "bursa-2012-05-visit" in refused.get_data(as_text=True)
    assert served(edit_app) == before and not asked(edit_app, ASK)
    assert len(list((edit_app.extensions["lodpub"].settings.output_dir / "releases").iterdir())) == 1


def test_nothing_to_publish_and_a_publish_already_running_are_refused(edit_app) -> None:
    browser = signed_in(edit_app)
    token = browser.token("/edit/changes")
    assert browser.post("/edit/publish", {"csrf_token": token}).status_code == 409
    add_event(edit_app.extensions["lodpub"].settings.data_dir)
    with publishing_lock(edit_app.extensions["lodpub"].settings.output_dir):
        busy = browser.post("/edit/publish", {"csrf_token": token})
        assert busy.status_code == 409 and "Another publish is running" in busy.get_data(as_text=True)
        assert browser.post("/edit/rollback", {"csrf_token": token}).status_code == 409
    assert not asked(edit_app, ASK)
    assert browser.post("/edit/publish", {"csrf_token": token}).status_code == 200 and asked(edit_app, ASK)


@pytest.mark.served
def test_under_lodpub_serve_publishing_makes_the_workers_serve_the_new_release(tmp_path, monkeypatch,
                                                                               editors_file):  # noqa: F811
    """A real `lodpub serve` (gunicorn, 2 workers): the worker that publishes has the master replace the
    workers, and every worker then serves the new release."""
    import re
    import time

    import requests
    from served import running_server
    from test_web_edit_auth import PASSWORD

    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    settings = served_settings(tmp_path)
    with running_server(settings.output_dir, tmp_path, shared=False, data_dir=str(settings.data_dir),
                        editors_file=str(editors_file)) as base:
        session, origin = requests.Session(), {"Origin": base.rstrip("/")}

        def token(path: str) -> str:
            return re.search(r'name="csrf_token" value="([^"]+)"', session.get(base + path, timeout=30).text).group(1)

        assert session.post(base + "edit/login", data={"name": "alice", "password": PASSWORD,
                                                        "csrf_token": token("edit/login")},
                            headers=origin, allow_redirects=False, timeout=30).status_code == 302
        add_event(settings.data_dir)
        published = session.post(base + "edit/publish", data={"csrf_token": token("edit/changes")}, headers=origin,
                                 timeout=120)
        assert published.status_code == 200, published.text
        version = pointed_version(settings.output_dir, SERVED)
        deadline = time.monotonic() + 60

        def every_worker_serves_it() -> bool:
            # Each on a new connection, so that both workers answer some.
            answers = [requests.get(base + EVENT_PAGE[1:], headers={"Connection": "close"}, timeout=30)
                       for _ in range(8)]
            return all(answer.status_code == 200 for answer in answers)

        while not every_worker_serves_it():
            assert time.monotonic() < deadline, "the workers still serve the release before"
            time.sleep(0.5)
        health = requests.get(base + "health", timeout=30).json()
        assert version in json.dumps(health)
        answer = requests.get(base + "sparql", params={"query": ASK.replace(EVENT, EVENT.replace(
            settings.base_iri, base))}, headers={"Accept": "application/sparql-results+json"}, timeout=30)
        assert answer.json()["boolean"] is True
        assert f"editor alice published release {version}" in base.log.read_text()


def test_the_review_pages_are_well_formed_for_assistive_technology(edit_app) -> None:
    """One main, unique ids, a header in every table, a name for every control, the page's language."""
    from lxml import html

    add_event(edit_app.extensions["lodpub"].settings.data_dir)
    browser = signed_in(edit_app)
    pages = [browser.get(f"/edit/changes?lang={language}") for language in ("cs", "en")]
    pages.append(browser.get("/edit/rollback?lang=en"))
    for answer in pages:
        page = html.fromstring(answer.get_data())
        assert page.get("lang") in ("cs", "en") and [main.get("id") for main in page.iter("main")] == ["main"]
        ids = page.xpath("//@id")
        assert len(ids) == len(set(ids))
        assert all(table.xpath(".//th") for table in page.iter("table"))
        assert not page.xpath("//input[not(@type='hidden') and not(@aria-label) and not(@id)]")
        assert all(block.get("tabindex") == "0" for block in page.iter("pre"))  # scrollable by keyboard


def test_a_server_of_a_remote_store_does_not_publish_from_the_browser(edit_app) -> None:
    """Its releases go into the store with `lodpub publish`; nothing is built here."""
    publisher = edit_app.extensions["lodpub"]
    remote = create_app(dataclasses.replace(publisher.settings, store="remote",
                                                store_query_url="http://127.0.0.1:9/sparql"), publisher.store)
    add_event(publisher.settings.data_dir)
    browser = signed_in(remote)
    token = browser.token("/edit/changes")
    for path in ("/edit/publish", "/edit/rollback"):
        answer = browser.post(path + "?lang=en", {"csrf_token": token})
        assert answer.status_code == 409 and "lodpub publish" in answer.get_data(as_text=True)
    assert len(list((publisher.settings.output_dir / "releases").iterdir())) == 1
