"""Every route of the editor refuses strangers (issue 20, item 5), found by enumerating the app's url_map
under /edit, so that a route added later is covered without editing this file: each argument of a rule
is filled with a real value (VALUES; a new argument fails here until it has one), and every request is
made on a copy of data/ and an output folder whose files (every byte) must be the same after each test.
In process, on a release built of that copy; the editor's helpers are test_web_edit_auth.py's."""

import dataclasses
import hashlib
import re
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlencode

import pytest
from test_editing_form_changes import meeting
from test_editing_publishing import served_settings
from test_web_edit_auth import HOST, ORIGIN, Browser, editing_app, signed_in
from test_web_edit_auth import editors_file as editors_file  # a fixture: the editors file with alice
from werkzeug.routing import Rule

from lodpub import create_app
from lodpub.config import Settings
from lodpub.namespaces import PREFIXES

# A real value for each argument of the editor's rules; the query string every request carries (the
# subject a form edits, the class whose choices are listed), which routes that take none ignore.
VALUES = {"name": "bursa", "kind": "event"}
QUERY = {"subject": PREFIXES["ev"] + "bursa-2010-10-06-visit", "class": PREFIXES["rp"] + "Region"}
OPEN = {"edit.login"}  # the only endpoint a stranger may see
# Partnership names that are no partnership's: a path out of data/, a NUL, an absolute path, a file
# name, another case (as they appear in the URL: %2F is a slash once decoded).
BAD_NAMES = ["..%2F..%2Fetc%2Fpasswd", "../x", "%00", "bursa%00", "%2Fetc%2Fpasswd", "%2E%2E", "Bursa",
             "bursa.ttl"]
FIVE_MB = 5 * 1024 * 1024


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A copy of data/ (in no git work tree) and an output folder serving a release of it."""
    folder = tmp_path_factory.mktemp("routes")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(folder))
        yield served_settings(folder)


@pytest.fixture(scope="module")
def edit_app(settings: Settings, editors_file: Path):  # noqa: F811
    """The publisher of the copy, with editing on, at its canonical base (the origin the browser uses)."""
    return create_app(dataclasses.replace(settings, editors_file=editors_file, public_base=settings.base_iri))


def digest(folders: list[Path]) -> dict[str, str]:
    """The SHA-256 of every file in `folders`."""
    return {str(file): hashlib.sha256(file.read_bytes()).hexdigest()
            for folder in folders for file in sorted(folder.rglob("*")) if file.is_file()}


@pytest.fixture(autouse=True)
def nothing_touched(settings: Settings, editors_file: Path) -> Iterator[None]:  # noqa: F811
    """Each test leaves every file of the data, the releases and the editors file as it found them."""
    watched = [settings.data_dir, settings.output_dir, editors_file.parent]
    before = digest(watched)
    yield
    assert digest(watched) == before


def editor_rules(app) -> list[Rule]:
    """Every rule of `app` under /edit (the number is checked, so that the enumeration cannot be empty)."""
    rules = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/edit")]
    assert len(rules) >= 15 and {"edit_save.save", "edit_review.publish_changes"} <= {r.endpoint for r in rules}
    return rules


def path_of(rule: Rule, **values: str) -> str:
    """The path of `rule` with its arguments filled from `values`, else VALUES."""
    filled = {**VALUES, **values}

    def value(match: re.Match) -> str:
        if match[1] not in filled:
            pytest.fail(f"no value for <{match[1]}> of {rule.rule}: give it a real one in VALUES")
        return filled[match[1]]

    return re.sub(r"<(?:[^:<>]+:)?(\w+)>", value, rule.rule)


def requests_of(app, methods: set[str] | None = None) -> list[tuple[Rule, str, str]]:
    """(rule, method, path) of every rule under /edit and each of its methods but OPTIONS."""
    return [(rule, method, path_of(rule)) for rule in editor_rules(app)
            for method in sorted(rule.methods - {"OPTIONS"}) if methods is None or method in methods]


class Visitor(Browser):
    """A browser that asks with any method, and sends `cookie` as its session whatever it was told to keep."""

    def __init__(self, app, address: str, cookie: str | None = None) -> None:
        super().__init__(app, address)
        self.cookie = cookie

    def ask(self, method: str, path: str, data: dict | None = None, origin: str | None = ORIGIN,
            headers: dict | None = None):
        """The answer to `method` `path` with the query string QUERY, from `origin` (None: no Origin)."""
        if self.cookie is not None:
            self.client.set_cookie("lodpub_edit", self.cookie, domain="localhost", path="/edit/")
        headers = {**(headers or {}), **({"Origin": origin} if origin else {})}
        return self.client.open(path, method=method, query_string=QUERY, data=data if method == "POST" else None,
                                headers=headers, environ_base=self.environ)


def editor(app, address: str) -> Visitor:
    """alice, signed in to `app` from `address`."""
    visitor = Visitor(app, address)
    assert visitor.sign_in().status_code == 302
    return visitor


def private(answer) -> list[str]:
    """What makes `answer` unfit to come from /edit/: a cache may keep it, another origin read or frame it."""
    wrong = [name for name in answer.headers.keys() if name.lower().startswith("access-control-")]
    if answer.headers.get("Cache-Control") != "no-store":
        wrong.append(f"Cache-Control {answer.headers.get('Cache-Control')}")
    if answer.headers.get("X-Frame-Options") != "DENY":
        wrong.append(f"X-Frame-Options {answer.headers.get('X-Frame-Options')}")
    return wrong


def unexpected(visitor: Visitor, expected, data: dict | None = None, methods: set[str] | None = None,
               **kwargs) -> list[tuple]:
    """Each request of every editor route whose answer is not `expected(rule, method, answer)` or not private."""
    wrong = []
    for rule, method, path in requests_of(visitor.client.application, methods):
        answer = visitor.ask(method, path, data, **kwargs)
        if not expected(rule, method, answer) or private(answer):
            wrong.append((method, path, answer.status_code, answer.headers.get("Location"), private(answer)))
    return wrong


def sends_to_sign_in(answer) -> bool:
    """A redirect to the sign-in page."""
    return answer.status_code == 302 and answer.headers["Location"].endswith("/edit/login")


def stranger(login_post: int):
    """What a stranger gets: sent to sign in (the sign-in page shown), every POST refused with 401, but
    signing in itself, which has no name and password here (401) or a token of no session it has (400)."""
    def expected(rule: Rule, method: str, answer) -> bool:
        if rule.endpoint in OPEN:
            return answer.status_code == (200 if method != "POST" else login_post)
        return answer.status_code == 401 if method == "POST" else sends_to_sign_in(answer)
    return expected


def test_the_enumeration_fills_every_route_with_real_values(edit_app) -> None:
    """Signed in, every page of the editor is there with these values (so a refusal below is not a 404)."""
    def shown(rule: Rule, method: str, answer) -> bool:
        if rule.endpoint in OPEN:  # an editor signed in is sent on to the list
            return answer.status_code == 302 and answer.headers["Location"].endswith("/edit/")
        return answer.status_code == 200 and (method == "HEAD" or answer.get_data())
    assert unexpected(editor(edit_app, "192.0.2.30"), shown, methods={"GET", "HEAD"}) == []


def test_without_a_session_every_page_sends_to_sign_in_and_every_post_is_401(edit_app) -> None:
    assert unexpected(Visitor(edit_app, "192.0.2.31"), stranger(login_post=400)) == []  # no cookie, no token
    anonymous = Visitor(edit_app, "192.0.2.32")
    token = anonymous.token()  # the sign-in page's session: a token, but nobody signed in
    assert unexpected(anonymous, stranger(login_post=401), {"csrf_token": token, "name": "nobody-32"}) == []


def test_a_forged_session_is_no_session(edit_app, editors_file: Path) -> None:  # noqa: F811
    """Signed in to an app of another key, or a cookie made up: as if there were none."""
    other = editing_app(edit_app, editors_file, secret_key="another key entirely")
    elsewhere = signed_in(other, "192.0.2.33")
    forged = elsewhere.client.get_cookie("lodpub_edit", domain="localhost", path="/edit/").value
    token = elsewhere.token("/edit/")
    for cookie in (forged, "eyJlZGl0b3IiOiJhbGljZSJ9.Zm9yZ2Vk.c2lnbmF0dXJl"):
        visitor = Visitor(edit_app, "192.0.2.34", cookie)
        assert unexpected(visitor, stranger(login_post=400), {"csrf_token": token}) == []


def test_an_expired_session_is_no_session(edit_app, editors_file: Path) -> None:  # noqa: F811
    short = editing_app(edit_app, editors_file, edit_session_hours=1 / 3600, secret_key="a key kept for this test")
    signed = signed_in(short, "192.0.2.35")
    cookie = signed.client.get_cookie("lodpub_edit", domain="localhost", path="/edit/").value
    token = signed.token("/edit/")
    assert signed.get("/edit/").status_code == 200
    time.sleep(2.5)  # the lifetime is a second; the cookie's time is in whole seconds
    # The cookie is sent as it was (a browser need not drop it when it expires).
    assert unexpected(Visitor(short, "192.0.2.35", cookie), stranger(login_post=400), {"csrf_token": token}) == []


def refused_with(status: int):
    """What a request refused with `status` answers."""
    return lambda rule, method, answer: answer.status_code == status


def test_signed_in_every_post_needs_the_sessions_csrf_token(edit_app) -> None:
    alice = editor(edit_app, "192.0.2.36")
    another_sessions = Browser(edit_app, "192.0.2.36").token()
    for sent in ({}, {"csrf_token": ""}, {"csrf_token": "not-a-token"}, {"csrf_token": another_sessions}):
        assert unexpected(alice, refused_with(400), sent, methods={"POST"}) == [], sent
    assert alice.get("/edit/").status_code == 200  # still signed in: nothing was done


def test_signed_in_every_post_must_name_our_origin(edit_app) -> None:
    """edit_guard.require_same_origin: the Origin, else the Referer, must be the public base's scheme and
    host; a request that names neither is refused as well (before the session or the token is looked at)."""
    alice = editor(edit_app, "192.0.2.37")
    sent = {"csrf_token": alice.token("/edit/")}
    for origin in ("https://evil.example", f"http://{HOST}", f"https://{HOST}.evil.example", "null"):
        assert unexpected(alice, refused_with(403), sent, methods={"POST"}, origin=origin) == [], origin
    for referer in (None, "https://evil.example/edit/", f"http://{HOST}/edit/"):
        headers = {"Referer": referer} if referer else {}
        assert unexpected(alice, refused_with(403), sent, methods={"POST"}, origin=None, headers=headers) == []
    # Without an Origin, our own Referer stands for it: the request gets as far as the token (none here: 400).
    assert unexpected(alice, refused_with(400), {}, methods={"POST"}, origin=None,
                      headers={"Referer": f"{ORIGIN}/partnerships/edit/"}) == []
    assert alice.ask("GET", "/edit/").status_code == 200


def no_partnership(name: str, method: str, answer) -> bool:
    """404 or 400; or 405 for a POST to a name that holds a slash once decoded: no route of the editor
    takes that path, and the router answers that the public page it could be (GET only) takes no POST."""
    if method == "POST" and "/" in unquote(name):
        return answer.status_code in (400, 404, 405)
    return answer.status_code in (400, 404)


def test_a_name_that_is_no_partnership_is_refused_in_every_route_that_takes_one(edit_app) -> None:
    """Signed in, with the token and a real form (a new meeting at Bursa's revision): what would be saved
    under a good name is refused under each bad one, with 404 or 400, and no file is touched."""
    alice = editor(edit_app, "192.0.2.38")
    data = edit_app.extensions["lodpub"].settings.data_dir
    revision = hashlib.sha256((data / "partnerships" / "bursa.ttl").read_bytes()).hexdigest()
    form = {"csrf_token": alice.token("/edit/"), "turtle": meeting(), "kind": "event", "subject": "",
            "revision": revision, "message": "Nové setkání"}
    named = [rule for rule in editor_rules(edit_app) if "name" in rule.arguments and not rule.defaults]
    assert len(named) >= 5
    wrong = []
    for rule in named:
        for name in BAD_NAMES:
            path = path_of(rule, name=name)
            for method in sorted(rule.methods - {"OPTIONS"}):
                answer = alice.ask(method, path, form)
                if not no_partnership(name, method, answer) or private(answer):
                    wrong.append((method, path, answer.status_code, private(answer)))
    assert wrong == []


def test_a_5_mb_form_is_413_on_every_post_route(edit_app) -> None:
    alice = editor(edit_app, "192.0.2.39")
    form = {"csrf_token": alice.token("/edit/"), "turtle": meeting() + "#" * FIVE_MB, "kind": "event"}
    assert unexpected(alice, refused_with(413), form, methods={"POST"}) == []
    assert alice.ask("GET", "/edit/").status_code == 200


def test_a_cors_preflight_of_every_route_gets_no_access(edit_app) -> None:
    """No Access-Control-* header, no caching, no framing for a preflight from another site either."""
    visitor = Visitor(edit_app, "192.0.2.40")
    wrong = []
    for rule in editor_rules(edit_app):
        answer = visitor.ask("OPTIONS", path_of(rule), origin="https://evil.example",
                             headers={"Access-Control-Request-Method": "POST",
                                      "Access-Control-Request-Headers": "Content-Type"})
        wrong += [(rule.rule, problem) for problem in private(answer)]
    assert wrong == []


UPDATE = "INSERT DATA { <urn:x:editor> <urn:x:wrote> <urn:x:store> }"
ASK = "ASK { <urn:x:editor> ?p ?o }"


def sparql(client, data: bytes, content_type: str, cookie: str | None = None):
    """The answer of /sparql to `data` POSTed as `content_type`, with the editor's session `cookie` if given."""
    headers = {"Content-Type": content_type, "Accept": "application/sparql-results+json"}
    if cookie:
        headers["Cookie"] = f"lodpub_edit={cookie}"
    return client.post("/sparql", data=data, headers=headers)


def test_the_public_endpoint_stays_read_only_with_editing_on(edit_app, client) -> None:
    """SPARQL Update by POST /sparql is refused as it is with editing off, even with an editor's cookie."""
    signed = signed_in(edit_app, "192.0.2.41")
    cookie = signed.client.get_cookie("lodpub_edit", domain="localhost", path="/edit/").value
    form = "application/x-www-form-urlencoded"
    requests = [({"update": UPDATE}, form), ({"query": UPDATE}, form), (UPDATE, "application/sparql-update"),
                (UPDATE, "application/sparql-query")]
    for data, content_type in requests:
        body = urlencode(data).encode("ascii") if isinstance(data, dict) else data.encode("utf-8")
        refusal = sparql(client, body, content_type).status_code  # the endpoint's own, editing off
        assert refusal in (400, 415)
        for sent_cookie in (None, cookie):
            assert sparql(edit_app.test_client(), body, content_type, sent_cookie).status_code == refusal
    answer = edit_app.test_client().get("/sparql", query_string={"query": ASK},
                                        headers={"Accept": "application/sparql-results+json"})
    assert answer.status_code == 200 and answer.get_json()["boolean"] is False

