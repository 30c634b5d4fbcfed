"""What the pages know of partnerships, whichever page shows them: the home body, each partnership's
status periods in order, and its row of the timeline (the home page draws the rows of its page of
partnerships, a partnership's page its own). Every query is bounded by the partnerships asked about
(VALUES) and goes through `store()`, so it runs on every store.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from rdflib import Graph, URIRef

from . import store
from .html import label_of
from .i18n import words
from .timeline import Mark, Period, Span, TimelineRow, span_of

PREFIXES = """
PREFIX rp:   <{base}ontology/>
PREFIX time: <http://www.w3.org/2006/time#>
PREFIX dcterms: <http://purl.org/dc/terms/>
"""

# A partnership's partner that has a country and is not the home body ({not_home}: a FILTER, or nothing).
PARTNER = """
  ?partnership a rp:Partnership ; rp:partner ?partner .
  ?partner rp:country ?country .
  {not_home}
"""
# The partnerships the home page lists: those with a status over time, one row each. A subquery
# rather than FILTER EXISTS, which Oxigraph answers by scanning every status period for each row
# (seconds at 1 000 agreements, instead of milliseconds).
LISTED = """
  {{ SELECT DISTINCT ?partnership WHERE {{ ?period a rp:StatusPeriod ; rp:partnership ?partnership }} }}""" + PARTNER

# The partner in most partnerships: the body whose partnerships the dataset is about (the Liberec
# Region in ours). Two rows, to tell a clear first from a tie.
HOME_BODY = PREFIXES + """
SELECT ?partner (COUNT(DISTINCT ?partnership) AS ?partnerships) WHERE {{""" + LISTED + """}}
GROUP BY ?partner ORDER BY DESC(?partnerships) LIMIT 2"""

PERIODS = PREFIXES + """
SELECT ?partnership ?period ?status ?previous ?start ?day ?month WHERE {{
  VALUES ?partnership {{ {partnerships} }}
  ?period a rp:StatusPeriod ; rp:partnership ?partnership ; rp:status ?status ; time:hasBeginning ?start .
  OPTIONAL {{ ?period time:intervalMetBy ?previous }}
  OPTIONAL {{ ?start time:inXSDDate ?day }}
  OPTIONAL {{ ?start time:inXSDgYearMonth ?month }}
}}"""

EVENTS = PREFIXES + """
SELECT ?partnership ?event ?time ?day ?month ?beginDay ?beginMonth ?endDay ?endMonth ?signing ?notHeld WHERE {{
  VALUES ?partnership {{ {partnerships} }}
  ?event rp:partnership ?partnership ; time:hasTime ?time .
  OPTIONAL {{ ?time time:inXSDDate ?day }}
  OPTIONAL {{ ?time time:inXSDgYearMonth ?month }}
  OPTIONAL {{ ?time time:hasBeginning ?b .
             OPTIONAL {{ ?b time:inXSDDate ?beginDay }} OPTIONAL {{ ?b time:inXSDgYearMonth ?beginMonth }} }}
  OPTIONAL {{ ?time time:hasEnd ?e . OPTIONAL {{ ?e time:inXSDDate ?endDay }} OPTIONAL {{ ?e time:inXSDgYearMonth ?endMonth }} }}
  BIND (EXISTS {{ ?event a rp:Signing }} AS ?signing)
  BIND (EXISTS {{ ?event rp:tookPlace false }} AS ?notHeld)
}}"""


@dataclass(frozen=True)
class Drawn:
    """A partnership to draw on a timeline: its IRI, the row's label and link, its status periods in order."""

    iri: URIRef
    label: str
    href: str
    chain: list[dict]


def home_body_iri() -> URIRef | None:
    """The partner in more partnerships than any other (whose partnerships the dataset is about),
    None when no partner stands out."""
    found = store().select(HOME_BODY.format(base=store().base_iri, not_home=""))
    if not found or (len(found) > 1 and found[0]["partnerships"] == found[1]["partnerships"]):
        return None
    return found[0]["partner"]


def not_home(home_body: URIRef | None) -> str:
    """The FILTER that leaves out the home body's side of each partnership (nothing without one)."""
    return f"FILTER (?partner != {home_body.n3()})" if home_body is not None else ""


def timeline_rows(partnerships: list[Drawn], language: str) -> list[TimelineRow]:
    """The timeline's rows of `partnerships`, with their status periods and their events."""
    if not partnerships:
        return []
    events = store().select(EVENTS.format(base=store().base_iri, partnerships=values(p.iri for p in partnerships)))
    labels = labels_of({row["event"] for row in events} | {row["time"] for row in events}
                       | {period["status"] for p in partnerships for period in p.chain})
    events_of = defaultdict(list)
    for event in events:
        events_of[event["partnership"]].append(event)
    result = []
    for partnership in partnerships:
        row = TimelineRow(partnership.label, partnership.href)
        row.periods = [_period(period, labels, language) for period in partnership.chain]
        marks = [mark for event in events_of[partnership.iri] if (mark := _mark(event, labels, language))]
        row.marks = sorted(marks, key=lambda mark: (mark.span.start, mark.href))  # the same on every store
        result.append(row)
    return result


def _period(period: dict, labels: Graph, language: str) -> Period:
    """A status period as the timeline draws it: a bar in its status's colour, titled by status and start."""
    status_label = label_of(labels, period["status"], language, store().base_iri)
    when = period["when"] or words(language)["unknown_date"]
    return Period(status_key(period["status"]), f"{status_label}: {when}", period["span"])


def _mark(event: dict, labels: Graph, language: str) -> Mark | None:
    """An event as the timeline draws it, linked to its page; None when the source gives no date to place it."""
    span = event_span(event)
    if span is None:
        return None
    kind = "signing" if event["signing"].toPython() else "not-held" if event["notHeld"].toPython() else "event"
    base = store().base_iri
    title = f"{label_of(labels, event['time'], language, base)}: {label_of(labels, event['event'], language, base)}"
    return Mark(span, title, kind, str(event["event"]))


def event_span(event: dict) -> Span | None:
    """The span of an event's time from the values EVENTS gives (a day, a month, or an interval's bounds)."""
    return span_of(text(event.get("day")), text(event.get("month")),
                   span_of(text(event.get("beginDay")), text(event.get("beginMonth"))),
                   span_of(text(event.get("endDay")), text(event.get("endMonth"))))


def periods_by_partnership(language: str, partnerships: list[URIRef]) -> dict[URIRef, list[dict]]:
    """Each partnership's status periods in order (following time:intervalMetBy), with their starts."""
    found = store().select(PERIODS.format(base=store().base_iri, partnerships=values(partnerships)))
    labels = labels_of({row["start"] for row in found})
    by_partnership: dict[URIRef, dict[URIRef, dict]] = {}
    for row in found:
        known = isinstance(row["start"], URIRef)
        by_partnership.setdefault(row["partnership"], {})[row["period"]] = {
            "period": row["period"],
            "status": row["status"],
            "previous": row.get("previous"),
            "day": text(row.get("day")),
            "month": text(row.get("month")),
            "span": span_of(text(row.get("day")), text(row.get("month"))),
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


def status_key(status: URIRef) -> str:
    """A status concept's key (its last path segment: "stagnating"), which names its colour."""
    return str(status).rsplit("/", 1)[-1]


def values(iris: Iterable[URIRef]) -> str:
    """IRIs the store gave us, written for a VALUES block."""
    return " ".join(iri.n3() for iri in iris)


def labels_of(iris: set) -> Graph:
    """The labels of those of `iris` that are IRIs (blank nodes and literals have none to look up)."""
    return store().labels({iri for iri in iris if isinstance(iri, URIRef)})


def text(value) -> str | None:
    """A value the store gave as a string, None for none."""
    return str(value) if value is not None else None
