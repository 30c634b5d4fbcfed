"""Review, then publish (issue 20, item 4): the editor's page of the changes since the served release,
publishing them as a release, and rolling back to the release before. Under /edit/, behind the
editor's guard (session, CSRF token, same origin: edit_guard.guard); the work is editing/publishing.py's.

A published or rolled-back release is served at once: a worker of `lodpub serve` has gunicorn's master
replace its workers (each loads the release decided on); an app run in process (tests, `flask run`)
opens a store on it and serves that from the next request on.
"""

import os

from flask import Blueprint, Response, current_app, render_template, request, url_for
from rdflib import URIRef

from ..build import ValidationFailed
from ..control import ask_to_replace_workers
from ..editing.publishing import NothingToPublish, Pending, PublishBusy, pending_changes, publish, roll_back, validation_now
from ..editing.validation import problems_of
from ..store import open_store
from ..switching import Switched, SwitchFailed, SwitchRefused, previous_release
from . import public_url, publisher, store
from .edit_guard import guarded, signed_in_editor
from .html import Value, value_of
from .i18n import current_language
from .sparql import retire_runners

blueprint = Blueprint("edit_review", __name__, url_prefix="/edit")
guarded(blueprint)



@blueprint.route("/changes")
def changes() -> str:
    """The changes since the served release, in words and in triples, the changes recorded since, and
    whether the data validate now."""
    settings = publisher().settings
    pending = pending_changes(settings, store().version)
    report = validation_now(settings)
    return render_template("edit_changes.html", editor=signed_in_editor(), pending=pending,
                           resources=resource_values(pending), served=store().version,
                           added=pending.turtle("added", settings.base_iri),
                           removed=pending.turtle("removed", settings.base_iri),
                           problems=[problem for problem in problems_of(report, current_language())
                                     if problem.severity == "Violation"],
                           previous=previous_release(settings.output_dir))


REFUSALS = (ValidationFailed, NothingToPublish, PublishBusy, SwitchRefused, SwitchFailed)


@blueprint.route("/publish", methods=["POST"])
def publish_changes() -> Response | str | tuple:
    """Build a release of the data files and serve it; refused when they do not validate (422), say
    nothing new (409), or another publish runs (409)."""
    settings = publisher().settings
    if settings.store == "remote":
        return outcome("edit_publish_remote", 409)
    try:
        published = publish(settings, store().version)
    except REFUSALS as error:
        return refused(error)
    serve(published.switched)
    current_app.logger.warning("editor %s published release %s", signed_in_editor(), published.release.version)
    return outcome("edit_published", 200, version=published.release.version,
                   entry=url_for("changelog.release_document", rest=published.release.version))


@blueprint.route("/rollback", methods=["GET", "POST"])
def rollback() -> Response | str | tuple:
    """GET: what a rollback would serve, and the button to confirm it. POST: serve the release before
    the served one, as `lodpub rollback` does; the data files stay as they are."""
    settings = publisher().settings
    if request.method != "POST":  # GET, and HEAD (which the guard lets through without a token): never a rollback
        return render_template("edit_rollback.html", editor=signed_in_editor(), served=store().version,
                               previous=previous_release(settings.output_dir))
    if settings.store == "remote":
        return outcome("edit_publish_remote", 409)
    before = store().version
    try:
        switched = roll_back(settings)
    except REFUSALS as error:
        return refused(error)
    serve(switched)
    current_app.logger.warning("editor %s rolled back to release %s", signed_in_editor(), switched.version)
    return outcome("edit_rolled_back", 200, version=switched.version, served_before=before)


def refused(error: Exception) -> tuple[str, int]:
    """The page of a publish or rollback that did not happen, with its status: the violations (422),
    nothing to publish or someone else publishing (409), a release that cannot be served (409), a
    decision that cannot be recorded (503)."""
    if isinstance(error, ValidationFailed):
        problems = [problem for problem in problems_of(error.report, current_language())
                    if problem.severity == "Violation"]
        return outcome("edit_publish_invalid", 422, problems=problems, where=error.where)
    if isinstance(error, NothingToPublish):
        return outcome("edit_nothing_to_publish", 409)
    if isinstance(error, PublishBusy):
        return outcome("edit_publish_busy", 409)
    return outcome("edit_switch_refused", 503 if isinstance(error, SwitchFailed) else 409, detail=str(error))


def outcome(key: str, status: int, **values: object) -> tuple[str, int]:
    """The page that says how a publish or rollback ended (`key` names its title and text in WORDS)."""
    return render_template("edit_outcome.html", editor=signed_in_editor(), key=key, **values), status


def serve(switched: Switched) -> None:
    """Have the release just chosen served: by new workers of the running server, and by this app
    unless it is one of those workers (which gunicorn replaces once this request is answered)."""
    if switched.pid is not None:
        ask_to_replace_workers(switched.pid)
        if switched.pid == os.getppid():
            return
    publisher().store = open_store(publisher().settings)
    retire_runners()


def resource_values(pending: Pending) -> list[tuple[str, Value]]:
    """Each changed resource as (its kind of change, how it is shown): its label in the page's language;
    a link to its public page when the served release describes it."""
    settings = publisher().settings
    language = current_language()
    shown = []
    for change in pending.resources:
        value = value_of(pending.labels, URIRef(change.iri), language, settings.base_iri)
        if change.kind == "added" or value.external:
            value = Value(value.text, text_language=value.text_language)
        else:
            value = Value(value.text, public_url(change.iri[len(settings.base_iri):]), text_language=value.text_language)
        shown.append((change.kind, value))
    return sorted(shown, key=lambda item: (item[0], item[1].text.lower()))
