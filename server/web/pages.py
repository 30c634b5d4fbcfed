"""Pages for people: the home page (every partnership at a glance, and the timeline)."""

from collections import Counter, defaultdict
from datetime import date

from flask import Blueprint, Response, redirect, render_template, url_for
from rdflib import Graph, URIRef

from ..describe.dcat import CATALOG_PATH
from ..namespaces import DATASET_PATH
from . import canonical_iri, public_iri, store
from .html import label_of
from .i18n import current_language, words
from .timeline import STATUS_COLOURS, Mark, Period, TimelineRow, span_of, timeline_svg

blueprint = Blueprint("pages", __name__)

PREFIXES = """
PREFIX rp:   <{base}ontology/>
PREFIX time: <http://www.w3.org/2006/time#>
PREFIX dcterms: <http://purl.org/dc/terms/>
"""

PARTNERSHIPS = PREFIXES + """
SELECT ?partnership ?partner ?country ?agreement ?signedTime ?signed WHERE {{
  ?partnership a rp:Partnership ; rp:partner ?partner .
  ?partner rp:country ?country .
  FILTER EXISTS {{ ?period a rp:StatusPeriod ; rp:partnership ?partnership }}
  OPTIONAL {{ ?agreement rp:establishes ?partnership .
             ?signing a rp:Signing ; rp:agreement ?agreement ; time:hasTime ?signedTime .
             ?signedTime time:inXSDDate ?signed }}
}}"""

PERIODS = PREFIXES + """
SELECT ?partnership ?period ?status ?previous ?start ?day ?month WHERE {{
  ?period a rp:StatusPeriod ; rp:partnership ?partnership ; rp:status ?status ; time:hasBeginning ?start .
  OPTIONAL {{ ?period time:intervalMetBy ?previous }}
  OPTIONAL {{ ?start time:inXSDDate ?day }}
  OPTIONAL {{ ?start time:inXSDgYearMonth ?month }}
}}"""

EVENTS = PREFIXES + """
SELECT ?partnership ?event ?time ?day ?month ?beginDay ?beginMonth ?endDay ?endMonth ?signing ?notHeld WHERE {{
  ?event rp:partnership ?partnership ; time:hasTime ?time .
  OPTIONAL {{ ?time time:inXSDDate ?day }}
  OPTIONAL {{ ?time time:inXSDgYearMonth ?month }}
  OPTIONAL {{ ?time time:hasBeginning ?b . OPTIONAL {{ ?b time:inXSDDate ?beginDay }} OPTIONAL {{ ?b time:inXSDgYearMonth ?beginMonth }} }}
  OPTIONAL {{ ?time time:hasEnd ?e . OPTIONAL {{ ?e time:inXSDDate ?endDay }} OPTIONAL {{ ?e time:inXSDgYearMonth ?endMonth }} }}
  BIND (EXISTS {{ ?event a rp:Signing }} AS ?signing)
  BIND (EXISTS {{ ?event rp:tookPlace false }} AS ?notHeld)
}}"""


@blueprint.route("/")
def home() -> Response:
    """What the dataset is, every partnership at a glance, and the timeline."""
    language = current_language()
    rows = partnership_rows(language)
    timeline = timeline_svg(timeline_rows(rows, language), date.today(), words(language))
    statuses = {URIRef(f"{store().base_iri}vocabulary/statuses/{key}"): key for key in STATUS_COLOURS}
    labels = _labels(set(statuses))
    status_labels = {key: label_of(labels, iri, language, store().base_iri) for iri, key in statuses.items()}
    return render_template("home.html", rows=rows, timeline=timeline, colours=STATUS_COLOURS,
                           status_labels=status_labels, catalogue_records=catalogue_records())


def catalogue_records() -> list[tuple[str, str]]:
    """The catalogue and the dataset's record in it, as (word key, URL), for those the release has."""
    records = [("local_catalogue", CATALOG_PATH), ("dataset_record", DATASET_PATH)]
    return [(key, url_for("resources.document", path=path)) for key, path in records
            if store().exists(canonical_iri(path))]


@blueprint.route("/favicon.ico")
def favicon() -> Response:
    """The site's icon, for clients that ask for it where browsers used to."""
    return redirect(url_for("static", filename="favicon.svg"), code=301)


def partnership_rows(language: str) -> list[dict]:
    """One row per partnership with a status: the partner abroad, country, agreement, signing, status today."""
    base = store().base_iri
    found = store().select(PARTNERSHIPS.format(base=base))
    home_body = Counter(row["partner"] for row in found).most_common(1)[0][0] if found else None
    periods = _periods_by_partnership(language)
    rows: dict[URIRef, dict] = {}
    for row in found:
        if row["partner"] == home_body:
            continue
        entry = rows.setdefault(row["partnership"], {"partnership": row["partnership"], "partner": row["partner"],
                                                     "country": row["country"], "agreement": row.get("agreement"),
                                                     "signed": row.get("signed"), "signed_time": row.get("signedTime")})
        if row.get("signed") and (entry["signed"] is None or row["signed"] < entry["signed"]):
            entry["agreement"], entry["signed"], entry["signed_time"] = row["agreement"], row["signed"], row["signedTime"]
    labels = _labels({node for entry in rows.values() for node in entry.values() if isinstance(node, URIRef)}
                     | {period["status"] for chain in periods.values() for period in chain})
    result = []
    for entry in rows.values():
        chain = periods.get(entry["partnership"], [])
        current = chain[-1] if chain else None
        result.append({
            **{key: _link(labels, entry[key], language) for key in ("partnership", "partner", "country", "agreement")},
            "signed": label_of(labels, entry["signed_time"], language, store().base_iri) if entry["signed_time"] else "",
            "status": _link(labels, current["status"], language) if current else None,
            "status_key": str(current["status"]).rsplit("/", 1)[-1] if current else "",
            "since": current["when"] if current else "",
            "chain": chain,
            "iri": entry["partnership"],
        })
    return sorted(result, key=lambda row: row["partner"]["text"].lower())


def timeline_rows(rows: list[dict], language: str) -> list[TimelineRow]:
    """The timeline's rows for the partnerships of the table, with their periods and events."""
    events = store().select(EVENTS.format(base=store().base_iri))
    labels = _labels({row["event"] for row in events} | {row["time"] for row in events if isinstance(row["time"], URIRef)}
                     | {period["status"] for row in rows for period in row["chain"]})
    events_of = defaultdict(list)
    for event in events:
        events_of[event["partnership"]].append(event)
    result = []
    for row in rows:
        timeline_row = TimelineRow(row["partner"]["text"], row["partnership"]["href"])
        for period in row["chain"]:
            status_label = label_of(labels, period["status"], language, store().base_iri)
            when = period["when"] or words(language)["unknown_date"]
            timeline_row.periods.append(Period(str(period["status"]).rsplit("/", 1)[-1], f"{status_label}: {when}",
                                               period["span"]))
        for event in events_of[row["iri"]]:
            span = span_of(_text(event.get("day")), _text(event.get("month")),
                           span_of(_text(event.get("beginDay")), _text(event.get("beginMonth"))),
                           span_of(_text(event.get("endDay")), _text(event.get("endMonth"))))
            if span is None:
                continue  # the source gives no date: it cannot be placed
            kind = "signing" if event["signing"].toPython() else "not-held" if event["notHeld"].toPython() else "event"
            title = f"{label_of(labels, event['time'], language, store().base_iri)}: " \
                    f"{label_of(labels, event['event'], language, store().base_iri)}"
            timeline_row.marks.append(Mark(span, title, kind))
        result.append(timeline_row)
    return result


def _periods_by_partnership(language: str) -> dict[URIRef, list[dict]]:
    """Each partnership's status periods in order (following time:intervalMetBy), with their starts."""
    found = store().select(PERIODS.format(base=store().base_iri))
    labels = _labels({row["start"] for row in found})
    by_partnership: dict[URIRef, dict[URIRef, dict]] = {}
    for row in found:
        known = isinstance(row["start"], URIRef)
        by_partnership.setdefault(row["partnership"], {})[row["period"]] = {
            "status": row["status"],
            "previous": row.get("previous"),
            "span": span_of(_text(row.get("day")), _text(row.get("month"))),
            "when": label_of(labels, row["start"], language, store().base_iri) if known else "",
        }
    return {partnership: _in_order(periods) for partnership, periods in by_partnership.items()}


def _in_order(periods: dict[URIRef, dict]) -> list[dict]:
    """The periods from the first (which follows none) to the current one."""
    following = {period["previous"]: iri for iri, period in periods.items() if period["previous"]}
    current = next((iri for iri, period in periods.items() if not period["previous"]), None)
    chain: list[dict] = []
    while current is not None and len(chain) < len(periods):
        chain.append(periods[current])
        current = following.get(current)
    return chain


def _labels(iris: set) -> Graph:
    return store().labels({iri for iri in iris if isinstance(iri, URIRef)})


def _link(labels: Graph, iri, language: str) -> dict | None:
    if iri is None:
        return None
    return {"text": label_of(labels, iri, language, store().base_iri), "href": public_iri(iri)}


def _text(value) -> str | None:
    return str(value) if value is not None else None
