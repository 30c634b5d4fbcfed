"""Nobody but a signed-in editor gets into /edit/ (issue 20, item 5): sessions, CSRF, origins, rate
limits, the private headers, `lodpub editors`, and editing off by default. In process, on the
project's release, with a real editors file written by the command."""

import dataclasses
import io
import json
import re
import sys
import time
from pathlib import Path

import pytest

from lodpub import create_app
from lodpub.cli import main

HOST = "data.kraj-lbc.cz"
ORIGIN = f"https://{HOST}"
PASSWORD = "correct horse battery staple"
SECURE = {"wsgi.url_scheme": "https", "HTTP_HOST": HOST}


def run_cli(monkeypatch, *argv: str, stdin: str = "") -> int:
    """`lodpub` with `argv`, reading `stdin` as its standard input (a pipe, not a terminal)."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(list(argv))


@pytest.fixture(scope="module")
def editors_file(tmp_path_factory) -> Path:
    """An editors file with alice in it, written by `lodpub editors add`."""
    path = tmp_path_factory.mktemp("editors") / "editors.json"
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert run_cli(monkeypatch, "editors", "add", "alice", "--editors-file", str(path), stdin=PASSWORD + "\n") == 0
    return path


def editing_app(app, editors_file: Path, **settings):
    """The publisher of `app`'s release (its store) with editing on."""
    publisher = app.extensions["lodpub"]
    return create_app(dataclasses.replace(publisher.settings, editors_file=editors_file, **settings), publisher.store)


@pytest.fixture(scope="module")
def edit_app(app, editors_file):
    return editing_app(app, editors_file)


class Browser:
    """A test client that asks over https from one address, as a browser on our own origin does."""

    def __init__(self, app, address: str = "192.0.2.1") -> None:
        self.client = app.test_client()
        self.environ = {**SECURE, "REMOTE_ADDR": address}

    def get(self, path: str, **kwargs):
        return self.client.get(path, environ_base=self.environ, **kwargs)

    def post(self, path: str, data: dict, origin: str | None = ORIGIN, headers: dict | None = None, **kwargs):
        headers = {**(headers or {}), **({"Origin": origin} if origin else {})}
        return self.client.post(path, data=data, headers=headers, environ_base=self.environ, **kwargs)

    def token(self, path: str = "/edit/login") -> str:
        """The CSRF token of the form on the page at `path`."""
        return re.search(r'name="csrf_token" value="([^"]+)"', self.get(path).get_data(as_text=True)).group(1)

    def sign_in(self, name: str = "alice", password: str = PASSWORD):
        return self.post("/edit/login", {"name": name, "password": password, "csrf_token": self.token()})


def signed_in(app, address: str = "192.0.2.1") -> Browser:
    browser = Browser(app, address)
    assert browser.sign_in().status_code == 302
    return browser


def test_editing_is_off_unless_configured(client):
    for path in ("/edit/", "/edit/login", "/edit/partnership/bursa"):
        assert client.get(path).status_code == 404
    assert client.post("/edit/login", data={"name": "alice"}).status_code in (404, 405)


def test_every_page_without_a_session_sends_to_sign_in_and_every_post_is_refused(edit_app):
    browser = Browser(edit_app)
    for path in ("/edit/", "/edit/partnership/bursa"):
        answer = browser.get(path)
        assert answer.status_code == 302 and answer.headers["Location"].endswith("/edit/login")
    token = browser.token()
    assert browser.post("/edit/logout", {"csrf_token": token}).status_code == 401
    assert browser.get("/edit/login").status_code == 200


def test_signing_in_shows_the_partnerships_and_signing_out_ends_the_session(edit_app):
    browser = Browser(edit_app)
    token = browser.token()
    anonymous_cookie = browser.client.get_cookie("lodpub_edit", domain="localhost", path="/edit/").value
    answer = browser.post("/edit/login", {"name": "alice", "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/edit/")
    cookie = browser.client.get_cookie("lodpub_edit", domain="localhost", path="/edit/")
    assert cookie.value != anonymous_cookie  # a new session on sign-in
    assert cookie.http_only and cookie.secure and cookie.same_site == "Strict"
    page = browser.get("/edit/").get_data(as_text=True)
    assert "alice" in page and "/edit/partnership/bursa" in page and "Bursa" in page
    summary = browser.get("/edit/partnership/bursa")
    assert summary.status_code == 200 and "id/partnership/bursa" in summary.get_data(as_text=True)
    assert browser.get("/edit/partnership/no-such-one").status_code == 404
    old_token = browser.token("/edit/")
    assert browser.post("/edit/logout", {"csrf_token": old_token}).status_code == 302
    assert browser.get("/edit/").status_code == 302
    assert browser.post("/edit/logout", {"csrf_token": old_token}).status_code == 401
    copy_from_before = Browser(edit_app)  # a copy of the cookie, taken before signing out, is over too
    copy_from_before.client.set_cookie("lodpub_edit", cookie.value, domain="localhost", path="/edit/")
    assert copy_from_before.get("/edit/").status_code == 302
    assert signed_in(edit_app).get("/edit/").status_code == 200  # and signing in again works


def test_a_wrong_password_or_unknown_name_does_not_sign_in(edit_app):
    browser = Browser(edit_app, "192.0.2.2")
    for name, password in (("alice", "not her password"), ("mallory", PASSWORD)):
        answer = browser.sign_in(name, password)
        assert answer.status_code == 401 and "/edit/login" in answer.get_data(as_text=True)
        assert browser.get("/edit/").status_code == 302


def test_a_forged_session_gets_nowhere(app, edit_app, editors_file):
    other = editing_app(app, editors_file, secret_key="another key entirely")
    forged = signed_in(other, "192.0.2.3").client.get_cookie("lodpub_edit", domain="localhost", path="/edit/").value
    browser = Browser(edit_app, "192.0.2.3")
    for value in (forged, "eyJlZGl0b3IiOiJhbGljZSJ9.Zm9yZ2Vk.c2lnbmF0dXJl"):
        browser.client.set_cookie("lodpub_edit", value, domain="localhost", path="/edit/")
        assert browser.get("/edit/").status_code == 302


def test_an_expired_session_gets_nowhere(app, editors_file):
    short = editing_app(app, editors_file, edit_session_hours=1 / 3600, secret_key="a key kept for this test")
    browser = signed_in(short, "192.0.2.4")
    assert browser.get("/edit/").status_code == 200
    time.sleep(2.5)
    assert browser.get("/edit/").status_code == 302


def test_a_post_without_or_with_a_wrong_csrf_token_is_refused(app, edit_app, editors_file):
    browser = signed_in(edit_app, "192.0.2.5")
    assert browser.post("/edit/logout", {}).status_code == 400
    assert browser.post("/edit/logout", {"csrf_token": "not-a-token"}).status_code == 400
    other_session = Browser(edit_app, "192.0.2.5").token()
    assert browser.post("/edit/logout", {"csrf_token": other_session}).status_code == 400
    assert browser.post("/edit/login", {"name": "alice", "password": PASSWORD}).status_code == 400
    assert browser.get("/edit/").status_code == 200  # still signed in: nothing was done


def test_a_post_from_another_origin_or_none_is_refused(edit_app):
    browser = signed_in(edit_app, "192.0.2.6")
    token = browser.token("/edit/")
    for origin in ("https://evil.example", f"http://{HOST}", None):
        assert browser.post("/edit/logout", {"csrf_token": token}, origin=origin).status_code == 403
    referred = browser.client.post("/edit/logout", data={"csrf_token": token}, environ_base=browser.environ,
                                   headers={"Referer": "https://evil.example/page"})
    assert referred.status_code == 403
    assert browser.get("/edit/").status_code == 200


def test_sign_ins_are_rate_limited_per_address_and_per_name(app, editors_file):
    edit_app = editing_app(app, editors_file)  # its own limiter: alice stays limited for a minute
    browser = Browser(edit_app, "192.0.2.7")
    for _ in range(5):
        assert browser.sign_in("alice", "wrong password").status_code == 401
    limited = browser.sign_in()  # even the right password waits
    assert limited.status_code == 429 and 0 < int(limited.headers["Retry-After"]) <= 60
    from_elsewhere = Browser(edit_app, "192.0.2.8")
    assert from_elsewhere.sign_in().status_code == 429  # alice's name is limited too
    assert from_elsewhere.sign_in("bob", "whatever it is").status_code == 401  # the address is not


def test_nothing_under_edit_is_cached_framed_or_shared_across_origins(edit_app, client):
    browser = signed_in(edit_app, "192.0.2.9")
    for answer in (browser.get("/edit/"), browser.get("/edit/login?lang=cs"), browser.get("/edit/nothing-here"),
                   Browser(edit_app).get("/edit/"), browser.post("/edit/logout", {}, origin=None),
                   browser.client.options("/edit/login", environ_base=browser.environ,  # a CORS preflight
                                          headers={"Origin": "https://evil.example",
                                                   "Access-Control-Request-Method": "POST"})):
        assert answer.headers["Cache-Control"] == "no-store"
        assert not [name for name in answer.headers.keys() if name.lower().startswith("access-control")]
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
        assert "ETag" not in answer.headers
    public = edit_app.test_client().get("/", environ_base=SECURE)
    assert public.headers["Access-Control-Allow-Origin"] == "*" and "Set-Cookie" not in public.headers
    assert public.headers["Cache-Control"] == client.get("/").headers["Cache-Control"]


def test_the_pages_speak_czech_and_english(edit_app):
    browser = Browser(edit_app)
    assert "Přihlásit se" in browser.get("/edit/login?lang=cs").get_data(as_text=True)
    assert "Sign in" in browser.get("/edit/login?lang=en").get_data(as_text=True)


def test_a_trusted_proxy_names_the_editor_when_configured(app):
    proxied = create_app(dataclasses.replace(app.extensions["lodpub"].settings, editor_header="X-Remote-User"),
                         app.extensions["lodpub"].store)
    browser = Browser(proxied)
    assert browser.get("/edit/").status_code == 302
    page = browser.get("/edit/", headers={"X-Remote-User": "bob"})
    assert page.status_code == 200 and "bob" in page.get_data(as_text=True)
    assert browser.get("/edit/", headers={"X-Remote-User": "<script>x</script>"}).status_code == 302
    assert browser.post("/edit/logout", {}, headers={"X-Remote-User": "bob"}).status_code == 400
    assert browser.get("/edit/login", headers={"X-Remote-User": "bob"}).status_code == 302


def test_editors_are_added_listed_and_removed_by_the_command(tmp_path, monkeypatch, capsys):
    path = tmp_path / "editors.json"
    option = ("--editors-file", str(path))
    assert run_cli(monkeypatch, "editors", "add", "alice", *option, stdin=PASSWORD + "\n") == 0
    assert run_cli(monkeypatch, "editors", "add", "bob", *option, stdin="another long password\n") == 0
    assert run_cli(monkeypatch, "editors", "add", "carol", *option, stdin="short\n") == 2
    assert run_cli(monkeypatch, "editors", "add", "../etc", *option, stdin=PASSWORD + "\n") == 2
    capsys.readouterr()
    assert run_cli(monkeypatch, "editors", "list", *option) == 0
    assert capsys.readouterr().out.split() == ["alice", "bob"]
    kept = path.read_text(encoding="utf-8")
    assert PASSWORD not in kept and "another long password" not in kept
    assert set(json.loads(kept)) == {"alice", "bob"} and path.stat().st_mode & 0o077 == 0
    assert run_cli(monkeypatch, "editors", "remove", "bob", *option) == 0
    assert run_cli(monkeypatch, "editors", "remove", "bob", *option) == 2
    assert list(json.loads(path.read_text(encoding="utf-8"))) == ["alice"]
    assert run_cli(monkeypatch, "editors", "list") == 2  # no file configured


def test_removing_an_editor_ends_their_sessions(app, tmp_path, monkeypatch):
    path = tmp_path / "editors.json"
    assert run_cli(monkeypatch, "editors", "add", "alice", "--editors-file", str(path), stdin=PASSWORD + "\n") == 0
    browser = signed_in(editing_app(app, path), "192.0.2.10")
    assert browser.get("/edit/").status_code == 200
    assert run_cli(monkeypatch, "editors", "remove", "alice", "--editors-file", str(path)) == 0
    assert browser.get("/edit/").status_code == 302


def test_lodpub_serve_makes_one_key_for_its_workers_only_when_none_is_configured(app, editors_file, tmp_path):
    from lodpub.cli_serving import with_session_key

    settings = app.extensions["lodpub"].settings
    assert with_session_key(settings) is settings  # editing off: nothing to sign
    editing = dataclasses.replace(settings, editors_file=editors_file)
    made = with_session_key(editing).secret_key
    assert len(made) >= 64 and made != with_session_key(editing).secret_key  # new each start
    kept = dataclasses.replace(editing, secret_key_file=tmp_path / "key")
    assert with_session_key(kept) is kept
    (tmp_path / "key").write_text("the operator's key\n", encoding="utf-8")
    two = [editing_app(app, editors_file, secret_key_file=tmp_path / "key") for _ in range(2)]
    cookie = signed_in(two[0], "192.0.2.11").client.get_cookie("lodpub_edit", domain="localhost", path="/edit/")
    other_worker = Browser(two[1], "192.0.2.11")
    other_worker.client.set_cookie("lodpub_edit", cookie.value, domain="localhost", path="/edit/")
    assert other_worker.get("/edit/").status_code == 200  # the key file's key: a session holds across workers


@pytest.mark.served
def test_under_lodpub_serve_a_session_holds_on_every_worker(project_release, editors_file, tmp_path):
    """Two gunicorn workers, no key configured: the one `lodpub serve` makes serves both."""
    import requests
    from served import running_server

    with running_server(project_release.path.parent.parent, tmp_path, editors_file=str(editors_file)) as base:
        session = requests.Session()
        page = session.get(base + "edit/login", timeout=10).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        answer = session.post(base + "edit/login", data={"name": "alice", "password": PASSWORD, "csrf_token": token},
                              headers={"Origin": base.rstrip("/")}, allow_redirects=False, timeout=10)
        assert answer.status_code == 302
        # Each on a new connection, so that both workers answer some.
        statuses = [session.get(base + "edit/", headers={"Connection": "close"}, allow_redirects=False,
                                timeout=10).status_code for _ in range(12)]
        assert statuses == [200] * 12
        assert "Set-Cookie" not in requests.get(base, timeout=10).headers


@pytest.mark.parametrize("damage", ["not JSON {", '["a list"]', '{"alice": 5}', b"\xff\xfe"])
def test_a_damaged_editors_file_is_a_503_that_names_no_file_and_leaves_the_public_pages_alone(app, tmp_path, monkeypatch,
                                                                                              damage):
    path = tmp_path / "editors.json"
    assert run_cli(monkeypatch, "editors", "add", "alice", "--editors-file", str(path), stdin=PASSWORD + "\n") == 0
    editing = editing_app(app, path)
    browser = signed_in(editing, "192.0.2.20")
    path.write_bytes(damage if isinstance(damage, bytes) else damage.encode())
    answer = browser.get("/edit/?lang=en")
    assert answer.status_code == 503 and answer.headers["Retry-After"]
    assert "Editing is unavailable" in answer.get_data(as_text=True) and str(path) not in answer.get_data(as_text=True)
    assert browser.get("/edit/login").status_code == 503
    assert editing.test_client().get("/", headers={"Accept": "text/html"}).status_code == 200


def test_a_sign_out_that_cannot_be_noted_is_a_503_and_the_session_stays_signed_in(app, tmp_path, monkeypatch):
    folder = tmp_path / "editors"
    path = folder / "editors.json"
    assert run_cli(monkeypatch, "editors", "add", "alice", "--editors-file", str(path), stdin=PASSWORD + "\n") == 0
    browser = signed_in(editing_app(app, path), "192.0.2.21")
    token = browser.token("/edit/")
    blocker = folder / "editors.json.signed-out"
    blocker.mkdir()  # where the sign-out would be noted: a folder instead of a file
    assert browser.post("/edit/logout", {"csrf_token": token}).status_code == 503
    blocker.rmdir()
    assert browser.get("/edit/").status_code == 200


def test_a_5_mb_form_is_refused_with_413_before_it_is_read(edit_app, editors_file):
    browser = signed_in(edit_app, "192.0.2.22")
    before = editors_file.read_bytes()
    answer = browser.post("/edit/logout", {"csrf_token": browser.token("/edit/"), "padding": "x" * 5_000_000})
    assert answer.status_code == 413
    assert browser.get("/edit/").status_code == 200 and editors_file.read_bytes() == before
