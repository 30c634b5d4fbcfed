"""What keeps everyone but signed-in editors out of /edit/: sessions, CSRF tokens, origins, rate limits.

Sessions are Flask's signed cookies (itsdangerous), kept to /edit/ (the public pages never see one),
HttpOnly, SameSite=Strict, Secure under an https public base, ending `edit_session_hours` after the
last request. A form's CSRF token is the session's random nonce signed with the app's key; a new
sign-in gets a new session and nonce. A POST naming another origin (Origin, else Referer) is refused
before anything else is looked at.
"""

import secrets
import threading
import time
from collections import deque
from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..config import Settings
from ..editors import EDITOR_NAME, EditorsFileError, read_editors, signed_out_at
from . import publisher
from .i18n import current_language, words

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
LIMITER = "lodpub_login_limiter"  # the app's extension holding the LoginLimiter
CSRF_FIELD = "csrf_token"


class EditSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, sent only with requests under /edit/ (below any proxy prefix)."""

    def get_cookie_path(self, app: Flask) -> str:
        return request.script_root + "/edit/"


def configure_sessions(app: Flask, settings: Settings) -> None:
    """Sign sessions with the configured key (or a new one), and make their cookie as strict as it can be."""
    app.secret_key = secret_key(settings)
    app.session_interface = EditSessionInterface()
    app.config.update(SESSION_COOKIE_NAME="lodpub_edit", SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Strict",
                      SESSION_COOKIE_SECURE=settings.public_base_iri.startswith("https:"),
                      PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.edit_session_hours))


def secret_key(settings: Settings) -> str:
    """The key of the settings, else of the key file, else a new one (sessions end with the process)."""
    if settings.secret_key:
        return settings.secret_key
    if settings.secret_key_file is not None:
        return settings.secret_key_file.read_text(encoding="utf-8").strip()
    return secrets.token_hex(32)


def start_session(editor: str | None) -> None:
    """A fresh session (never the one from before sign-in) for `editor` (None: not signed in), with a new nonce."""
    session.clear()
    session.permanent = True
    session["nonce"] = secrets.token_urlsafe(32)
    if editor is not None:
        session["editor"] = editor
        session["since"] = time.time()


def csrf_token() -> str:
    """The token the forms of this session carry."""
    if "nonce" not in session:
        start_session(None)
    return _csrf_serializer().dumps(session["nonce"])


def require_csrf_token() -> None:
    """Refuse (400) a state-changing request whose form token is missing, forged, old or another session's."""
    sent = request.form.get(CSRF_FIELD, "")
    try:
        nonce = _csrf_serializer().loads(sent, max_age=_lifetime_seconds())
    except BadSignature:
        abort(400, "missing or invalid CSRF token")
    if "nonce" not in session or not secrets.compare_digest(str(nonce), session["nonce"]):
        abort(400, "CSRF token of another session")


def require_same_origin(public_base: str) -> None:
    """Refuse (403) a state-changing request that names another origin than the public base's, or none."""
    sent = request.headers.get("Origin") or request.headers.get("Referer") or ""
    if _origin(sent) != _origin(public_base):
        abort(403, "cross-origin request")


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc.lower()


def _csrf_serializer() -> URLSafeTimedSerializer:
    from flask import current_app

    return URLSafeTimedSerializer(current_app.secret_key, salt="lodpub-edit-csrf")


def _lifetime_seconds() -> float:
    from flask import current_app

    return current_app.permanent_session_lifetime.total_seconds()


class LoginLimiter:
    """At most `per_minute` failed sign-ins a minute for each key (a client address, an editor's name)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, *keys: str) -> int:
        """Seconds until any of `keys` may try again; 0 when all may now."""
        now = time.monotonic()
        with self._lock:
            waits = [self._wait(key, now) for key in keys]
        return max(waits, default=0)

    def failed(self, *keys: str) -> None:
        """Count a failed sign-in against each of `keys`."""
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._failures.setdefault(key, deque()).append(now)

    def _wait(self, key: str, now: float) -> int:
        failures = self._failures.get(key)
        if failures is None:
            return 0
        while failures and failures[0] <= now - 60:
            failures.popleft()
        if not failures:
            del self._failures[key]
            return 0
        return int(failures[0] + 60 - now) + 1 if len(failures) >= self.per_minute else 0


def private_headers(response: Response) -> Response:
    """Nothing under /edit/ is kept by a cache, read by another origin's script or framed."""
    if request.path.startswith("/edit/") or request.path == "/edit":
        for name in [name for name in response.headers.keys() if name.lower().startswith("access-control-")]:
            del response.headers[name]
        response.headers["Cache-Control"] = "no-store"
        response.headers.pop("ETag", None)
        response.headers.pop("Last-Modified", None)
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
        response.headers["Referrer-Policy"] = "same-origin"
    return response


def not_stored(response: Response) -> Response:
    """Said before the common headers are added, so that no validators are made for a private page."""
    response.headers["Cache-Control"] = "no-store"
    return response


def signed_in_editor() -> str | None:
    """The editor of this request: the trusted proxy's header when configured, else the session's, if
    they are still in the editors file and have not signed out since the session began."""
    settings = publisher().settings
    if settings.editor_header:
        # A name the proxy asserts will sign commits and logs: one that could not be an editor's is nobody.
        asserted = request.headers.get(settings.editor_header, "").strip()
        return asserted if EDITOR_NAME.fullmatch(asserted) else None
    name = session.get("editor")
    if name is None or name not in read_editors(settings.editors_file):
        return None
    return name if session.get("since", 0) > signed_out_at(settings.editors_file).get(name, 0) else None


def editors_file_unusable(error: EditorsFileError) -> Response:
    """503 when the editors file cannot be read or the sign-out noted: editing waits for the operator,
    who finds what is wrong in the log; the public pages are not concerned."""
    current_app.logger.error("editing unavailable: %s", error)
    body = render_template("error.html", title_key="edit_unavailable_title", text_key="edit_unavailable_text",
                           iri=None, w=words(current_language()))
    return Response(body, status=503, mimetype="text/html", headers={"Retry-After": "300"})


def guard() -> Response | None:
    """Refuse another origin (403), send a stranger to sign in (GET) or away (401), check the CSRF token (400)."""
    state_changing = request.method not in SAFE_METHODS
    if state_changing:
        require_same_origin(publisher().settings.public_base_iri)
    if request.endpoint != "edit.login" and signed_in_editor() is None:
        if state_changing:
            abort(401)
        return redirect(url_for("edit.login"))
    if state_changing:
        require_csrf_token()
    return None




def guarded(blueprint: Blueprint) -> None:
    """Put every route of `blueprint` behind the guard: only a signed-in editor's request, from our origin,
    with its CSRF token; no answer stored; an unusable editors file a 503."""
    blueprint.before_request(guard)
    blueprint.after_request(not_stored)
    blueprint.register_error_handler(EditorsFileError, editors_file_unusable)
