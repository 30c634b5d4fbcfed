"""Checking and saving an editor's form (issue 20): the endpoints the form pages call.

POST /edit/partnership/<name>/check and /save (and /edit/new-partnership/check and /save, for a
partnership that has no file yet), form-encoded: csrf_token, turtle (the form's graph), subject (the
IRI edited, empty for a new resource), kind, revision (or an If-Match header) and, to save, message.
The answers are JSON: check 200 {"problems"}; save 200 {"revision", "subject", "recorded", "public"},
409 {"current_revision", "diff"} when the file changed since the editor loaded it (nothing is
overwritten), 422 {"problems"} in the editor's language, 400 {"error"} for what cannot be applied,
404 for a partnership that does not exist. The guard (edit_guard.py: session, CSRF, origin) runs first.
"""

import re
from collections.abc import Callable

from flask import Blueprint, Response, current_app, jsonify, request
from rdflib import Graph

from ..editing.changes import Author
from ..editing.form_changes import FormError
from ..editing.form_save import Form, check_form, save_form
from ..editing.save import StaleRevision, UnsafeName
from ..editing.validation import Invalid, Problem
from ..namespaces import CANONICAL_BASE, rebase_iri
from ..validate import load_shapes
from . import publisher, store
from .edit_guard import guarded, signed_in_editor
from .i18n import current_language

blueprint = Blueprint("edit_save", __name__, url_prefix="/edit")
guarded(blueprint)
SHAPES = "lodpub_edit_shapes"
# What an editor's name lacks to be a git author: an address, in a domain that can be no one's (RFC 2606).
_NO_ADDRESS = "editors.invalid"
# " (rp:causedBy)", " (rp:participation/prov:hadRole)", " (rp:Signing)": a parenthesis of prefixed names only.
_NAMED_TERMS = re.compile(r" ?\((?:[a-z][\w-]*:[\w#-]+)(?:\s*[/|,]\s*[a-z][\w-]*:[\w#-]+)*\)")



@blueprint.post("/partnership/<name>/check")
def check(name: str) -> Response | tuple:
    """The problems the shapes find in the dataset with the form applied to partnership `name`'s file."""
    return _answered(lambda: _problems_answer(name))


@blueprint.post("/partnership/<name>/save")
def save(name: str) -> Response | tuple:
    """Save the form into partnership `name`'s file, if valid and the file is still at the editor's revision."""
    return _answered(lambda: _saved_answer(name))


@blueprint.post("/new-partnership/check")
def check_new() -> Response | tuple:
    """The problems of a new partnership (its file named by its partner)."""
    return _answered(lambda: _problems_answer(None))


@blueprint.post("/new-partnership/save")
def save_new() -> Response | tuple:
    """Save a new partnership in a new file, named by its partner (never over an existing one)."""
    return _answered(lambda: _saved_answer(None))


def _problems_answer(name: str | None) -> Response:
    problems = check_form(publisher().settings, name, _form(), current_language(), _shapes())
    return jsonify(problems=[_problem(problem) for problem in problems])


def _saved_answer(name: str | None) -> Response:
    message = request.form.get("message", "").replace("\0", "")  # git takes no NUL in a message
    done = save_form(publisher().settings, name, _form(), _revision(), _author(), message, current_language(), _shapes())
    return jsonify(revision=done.saved.revision, subject=str(done.subject), recorded=done.saved.recorded,
                   public=rebase_iri(str(done.subject), CANONICAL_BASE, store().base_iri))


def _answered(answer: Callable[[], Response]) -> Response | tuple:
    """`answer()`, or the JSON refusal of what it raised."""
    try:
        return answer()
    except StaleRevision as stale:
        return jsonify(current_revision=stale.current, diff=stale.diff), 409
    except Invalid as invalid:
        return jsonify(problems=[_problem(problem) for problem in invalid.problems]), 422
    except (UnsafeName, FileNotFoundError):
        return jsonify(error="no such partnership"), 404
    except FileExistsError:
        return jsonify(error="a partnership of that name was saved meanwhile"), 409
    except FormError as error:
        return jsonify(error=str(error)), 400
    except OSError as error:  # the disk, or git recording the change
        current_app.logger.error("saving a form failed: %s", error)
        return jsonify(error="the change could not be saved; the log says why"), 503


def _form() -> Form:
    return Form(request.form.get("turtle", ""), request.form.get("kind", ""), request.form.get("subject") or None)


def _revision() -> str:
    """The revision the editor loaded: the form's field, else the If-Match header (an ETag, quoted)."""
    return request.form.get("revision") or request.headers.get("If-Match", "").strip().removeprefix("W/").strip('"')


def _author() -> Author:
    name = signed_in_editor() or "editor"
    return Author(name, name if "@" in name else f"{name}@{_NO_ADDRESS}")


def _problem(problem: Problem) -> dict:
    """A problem as the form shows it at its field: the focus node's IRI, the node the form sent for it
    (the focus node, or the urn:uuid: a new resource had in the form), the property path and the message
    in the form's words."""
    return {"severity": problem.severity, "focus": str(problem.focus_node),
            "node": str(problem.sent_as or problem.focus_node), "path": problem.path,
            "message": form_message(problem.message)}


def form_message(message: str) -> str:
    """`message` without the terms it names in parentheses for those who edit the files ("A cause
    (rp:causedBy) must be an event" → "A cause must be an event"): the form shows it at its field."""
    return _NAMED_TERMS.sub("", message)


def _shapes() -> Graph:
    """The shapes, loaded once per app (every check and save validates with them)."""
    if SHAPES not in current_app.extensions:
        current_app.extensions[SHAPES] = load_shapes(publisher().settings)
    return current_app.extensions[SHAPES]
