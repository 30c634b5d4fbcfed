"""/health, for load balancers and monitoring: can this worker answer, and with which release?

The check is cheap enough to run every few seconds: it takes no SPARQL query slot and runs no
query over the data. The embedded store is in memory, so a worker that answers has it; a remote
store is asked a trivial ASK with a short timeout (settings.health_timeout), since the release the
store holds is only re-read every few seconds and would hide a store that has just gone down.

200 with `"status": "ok"` when requests can be answered; 503 with `"status": "unavailable"` and
the reason otherwise (the remote store does not answer, holds no release, or is half-way through
a switch; no release of the embedded store can be served). JSON by default, one line of text for a
client that prefers text/plain. Never cached.

On the embedded store it also says which release the operator chose and whether the one served is
a fallback for it, and why (store/served_release.py): the decision is the whole server's, so every worker
says the same; and which engine evaluates its queries (`engine`), with why where the server chose it
(`engine_chosen`, settings.engine "auto": store/engine_choice.py). Every server says which memory allocator
its processes run with (`allocator`: jemalloc or the system's, and why: allocator.py).
"""

import os
import time
from typing import Any

from flask import Blueprint, Response, jsonify, request

from ..allocator import allocator_said, running_allocator
from ..config import Settings
from ..store import StoreUnavailable
from ..store.engine_choice import AUTO, remembered
from ..store.served_release import Decision
from . import publisher

blueprint = Blueprint("health", __name__)


@blueprint.route("/health", methods=["GET", "HEAD"])
def health() -> Response:
    """The publisher's health: 200 when it can answer, 503 with the reason when it cannot."""
    report = health_report()
    response = _as_text(report) if _prefers_text() else jsonify(report)
    response.status_code = 200 if report["status"] == "ok" else 503
    response.headers["Cache-Control"] = "no-store"
    if response.status_code == 503:
        response.headers["Retry-After"] = "10"
    return response


def health_report() -> dict[str, Any]:
    """What /health says: status, the release served (or why none can be), the store, this worker."""
    settings, store = publisher().settings, publisher().store
    report: dict[str, Any] = {"status": "ok", "store": settings.store}
    try:
        if settings.store == "remote":
            report["store_answers"] = False
            store.check_answers(settings.health_timeout)
            report["store_answers"] = True
        report.update(version=store.version, built_at=store.built_at.isoformat(), triples=store.triple_count)
        report.update(_engine_report(settings, store.version))
    except StoreUnavailable as error:
        report.update(status="unavailable", reason=str(error))
    report.update(_decision_report(getattr(store, "decision", None)))
    report["allocator"] = allocator_said(running_allocator(settings.jemalloc_library), settings)
    report.update(uptime_seconds=round(time.time() - publisher().started, 3), worker_pid=os.getpid())
    return report


def _engine_report(settings: Settings, version: str) -> dict[str, Any]:
    """Who evaluates the queries of the embedded store (settings.engine), and, where the server chose it
    itself ("auto"), why (engine_choice.py); nothing on a remote store."""
    if settings.store != "embedded":
        return {}
    choice = remembered(version, settings) if settings.engine == AUTO else None
    if choice is None:
        return {"engine": settings.engine}
    return {"engine": choice.engine, "engine_chosen": f"{AUTO}: {choice.reason}"}


def _decision_report(decision: Decision | None) -> dict[str, Any]:
    """What /health says of the decision the server serves by: the release chosen, whether the one
    served is a fallback, and which releases were refused and why (nothing on a remote store)."""
    if decision is None:
        return {}
    report: dict[str, Any] = {"chosen": decision.chosen, "fallback": decision.fallback}
    if decision.refused:
        report["refused"] = [{"version": refusal.version, "reason": refusal.reason} for refusal in decision.refused]
    return report


def _prefers_text() -> bool:
    return request.accept_mimetypes.best_match(["application/json", "text/plain"]) == "text/plain"


def _as_text(report: dict[str, Any]) -> Response:
    """One line: "ok <version> <built_at>" (then ", a fallback: <why>") or "unavailable: <reason>"."""
    if report["status"] == "ok":
        line = f"ok {report['version']} {report['built_at']}"
        if report.get("fallback"):
            line += ", a fallback: " + "; ".join(f"release {refusal['version']} cannot be served: {refusal['reason']}"
                                                  for refusal in report["refused"])
    else:
        line = f"unavailable: {report['reason']}"
    return Response(line + "\n", mimetype="text/plain")
