"""The editor's frame at /edit/ (issue 20): signing in and out, the list of partnerships, and each
partnership's page, which links to the forms of the editor (edit_forms.py). On only when settings.editing
(editing.py registers it then; otherwise /edit/ is not found, as any unknown path).

Who is signed in: the editors file's name and password (edit_guard.py keeps the session), or the
name a trusted reverse proxy puts in settings.editor_header. Every state-changing request must come
from our own origin and carry the session's CSRF token; failed sign-ins are rate limited.
"""

import time

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, session, url_for
from werkzeug.security import check_password_hash, generate_password_hash

from ..editors import read_editors, record_sign_out
from . import publisher, store
from .edit_guard import LIMITER, LoginLimiter, guarded, signed_in_editor, start_session
from .edit_listing import partnership_sections
from .html import label_of
from .i18n import current_language
from .partnerships import PREFIXES, home_body_iri, labels_of, not_home

blueprint = Blueprint("edit", __name__, url_prefix="/edit")
PARTNERSHIP_PATH = "id/partnership/"
# Checked when the name is unknown, so that an unknown name takes as long to refuse as a wrong password.
_UNKNOWN_EDITOR_HASH = generate_password_hash("an editor who does not exist")

PARTNERSHIPS = PREFIXES + """
SELECT ?partnership ?partner WHERE {{
  ?partnership a rp:Partnership .
  OPTIONAL {{ ?partnership rp:partner ?partner {not_home} }}
  FILTER (STRSTARTS(STR(?partnership), "{base}{path}"))
}}"""

guarded(blueprint)


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple:
    """The sign-in form, and signing in with a name and password from the editors file."""
    settings = publisher().settings
    # HEAD is a GET without the body (Flask routes both here): it must never count as a failed sign-in.
    if settings.editor_header or (request.method != "POST" and signed_in_editor()):
        return redirect(url_for("edit.index"))
    if request.method != "POST":
        return render_template("edit_login.html", failed=False)
    name = request.form.get("name", "")[:64]  # longer is no editor's; the limiter keeps no longer keys
    keys = (f"address {request.remote_addr}", f"name {name}")
    limiter: LoginLimiter = current_app.extensions[LIMITER]
    wait = limiter.retry_after(*keys)
    if wait:
        return render_template("edit_login.html", failed=True), 429, {"Retry-After": str(wait)}
    known = read_editors(settings.editors_file).get(name)
    if not check_password_hash(known or _UNKNOWN_EDITOR_HASH, request.form.get("password", "")) or known is None:
        limiter.failed(*keys)
        return render_template("edit_login.html", failed=True), 401
    start_session(name)
    return redirect(url_for("edit.index"))


@blueprint.route("/logout", methods=["POST"])
def logout() -> Response:
    """End the session, and any other of the editor's: a copy of the cookie taken before is refused too."""
    settings = publisher().settings
    if not settings.editor_header:
        record_sign_out(settings.editors_file, session["editor"], time.time())
    start_session(None)
    return redirect(url_for("edit.login"))


@blueprint.route("/")
def index() -> str:
    """The partnerships an editor can open, by the partner's name."""
    return render_template("edit_index.html", editor=signed_in_editor(), partnerships=partnership_list())


@blueprint.route("/partnership/<name>")
def partnership(name: str) -> str:
    """A partnership: what its file describes, each with a link to its form (edit_forms.py)."""
    found = [row for row in partnership_list() if row["name"] == name]
    if not found:
        abort(404)
    sections = partnership_sections(name, found[0]["iri"], current_language())
    return render_template("edit_partnership.html", editor=signed_in_editor(), partnership=found[0],
                           sections=sections)


def partnership_list() -> list[dict]:
    """Every partnership of the served release: its name (the end of its IRI), IRI and partner's name."""
    base = store().base_iri
    home_body = home_body_iri()
    found = store().select(PARTNERSHIPS.format(base=base, path=PARTNERSHIP_PATH, not_home=not_home(home_body)))
    labels = labels_of({row.get("partner") for row in found})
    language = current_language()
    rows: dict[str, dict] = {}
    for row in found:
        iri = str(row["partnership"])
        entry = rows.setdefault(iri, {"name": iri[len(base + PARTNERSHIP_PATH):], "iri": iri, "partners": []})
        if row.get("partner") is not None:
            entry["partners"].append(label_of(labels, row["partner"], language, base))
    return sorted(rows.values(), key=lambda entry: (", ".join(sorted(entry["partners"])).lower(), entry["name"]))
