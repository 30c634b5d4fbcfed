"""Pages for people: the home page (the partnerships, a page at a time, and their timeline).

The home page lists `settings.page_size` partnerships a page (`/?page=2`, ...), ordered by the
partner's name in the reader's language. Its work is bounded by the page, not by the dataset:
one COUNT gives the number of pages, one query sorts the partnerships and cuts out the page's
(ORDER BY, LIMIT, OFFSET), and every further query is restricted to those by VALUES.
"""

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from flask import Blueprint, Response, redirect, render_template, request, url_for
from rdflib import Graph, URIRef

from ..describe.dcat import CATALOG_PATH
from ..namespaces import DATASET_PATH, LABEL_PREDICATES
from . import canonical_iri, publisher, store
from .html import label_of
from .i18n import current_language, words
from .timeline import STATUS_COLOURS, Mark, Period, TimelineRow, span_of, timeline_svg

blueprint = Blueprint("pages", __name__)

# A page number as the pager writes it: a positive whole number in ASCII digits, no leading zero.
PAGE_NUMBER = re.compile(r"[1-9][0-9]*")

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

LISTED_COUNT = PREFIXES + """
SELECT (COUNT(DISTINCT ?partnership) AS ?count) WHERE {{""" + LISTED + """}}"""

# One page of partnerships in the order of the table: by the partner's name in {language} (else
# without a language, else in any), lower-cased, as html.label_of names it in the common case of
# one label a language; ties by IRI, so that pages neither overlap nor miss a partnership.
PAGE = PREFIXES + """
SELECT ?partnership (MIN(?key) AS ?sortKey) WHERE {{""" + LISTED + """
  OPTIONAL {{ ?partner {labels} ?inLanguage FILTER (LANG(?inLanguage) = "{language}") }}
  OPTIONAL {{ ?partner {labels} ?plain FILTER (LANG(?plain) = "") }}
  OPTIONAL {{ ?partner {labels} ?other }}
  BIND (LCASE(STR(COALESCE(?inLanguage, ?plain, ?other, ?partner))) AS ?key)
}}
GROUP BY ?partnership ORDER BY ?sortKey ?partnership LIMIT {limit} OFFSET {offset}"""

PARTNERSHIPS = PREFIXES + """
SELECT ?partnership ?partner ?country ?agreement ?signedTime ?signed WHERE {{
  VALUES ?partnership {{ {partnerships} }}""" + PARTNER + """
  OPTIONAL {{ ?agreement rp:establishes ?partnership .
             ?signing a rp:Signing ; rp:agreement ?agreement ; time:hasTime ?signedTime .
             ?signedTime time:inXSDDate ?signed }}
}}"""

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
class Pager:
    """Page `number` of `count` pages of `size` partnerships, `total` on all of them."""

    number: int
    count: int
    size: int
    total: int

    @property
    def offset(self) -> int:
        """How many partnerships come before this page's."""
        return (self.number - 1) * self.size

    @property
    def first(self) -> int:
        """The position of the page's first partnership in the whole list, from 1."""
        return min(self.offset + 1, self.total)

    @property
    def last(self) -> int:
        """The position of the page's last partnership in the whole list."""
        return min(self.offset + self.size, self.total)

    @property
    def previous_url(self) -> str | None:
        """The URL of the page before, None on the first."""
        return page_url(self.number - 1) if self.number > 1 else None

    @property
    def next_url(self) -> str | None:
        """The URL of the page after, None on the last."""
        return page_url(self.number + 1) if self.number < self.count else None


def page_url(number: int) -> str:
    """The home page's URL for page `number` (the first page is plain `/`)."""
    return url_for("pages.home", page=number if number > 1 else None)


@blueprint.route("/")
def home() -> Response:
    """What the dataset is, one page of the partnerships at a glance, and their timeline."""
    language = current_language()
    home_body = home_body_iri()
    total = listed_count(home_body)
    size = publisher().settings.page_size
    count = max(1, -(-total // size))
    number = page_number(request.args.get("page"), count)
    if number is None:
        return no_such_page(language, request.args["page"], count)
    pager = Pager(number, count, size, total)
    rows = partnership_rows(language, home_body, pager)
    timeline = timeline_svg(timeline_rows(rows, language), date.today(), words(language))
    statuses = {URIRef(f"{store().base_iri}vocabulary/statuses/{key}"): key for key in STATUS_COLOURS}
    labels = _labels(set(statuses))
    status_labels = {key: label_of(labels, iri, language, store().base_iri) for iri, key in statuses.items()}
    return render_template("home.html", rows=rows, timeline=timeline, colours=STATUS_COLOURS,
                           status_labels=status_labels, catalogue_records=catalogue_records(), pager=pager)


def page_number(value: str | None, count: int) -> int | None:
    """The page `?page=` asks for (1 when not given); None when it is not one of `count` pages."""
    if value is None:
        return 1
    # Longer than the last page's number is beyond it; and int() refuses over 4 300 digits.
    if not PAGE_NUMBER.fullmatch(value) or len(value) > len(str(count)):
        return None
    return int(value) if int(value) <= count else None


def no_such_page(language: str, value: str, count: int) -> Response:
    """404, in the reader's language: `?page=` is not a page number, or is beyond the last page."""
    texts = words(language)
    key = "page_beyond_last" if PAGE_NUMBER.fullmatch(value) else "page_malformed"
    texts[key] = texts[key].format(page=value, last=count)
    body = render_template("error.html", title_key="not_found_title", text_key=key, iri=None, w=texts)
    return Response(body, status=404, mimetype="text/html")


def catalogue_records() -> list[tuple[str, str]]:
    """The catalogue and the dataset's record in it, as (word key, URL), for those the release has."""
    records = [("local_catalogue", CATALOG_PATH), ("dataset_record", DATASET_PATH)]
    return [(key, url_for("resources.document", path=path)) for key, path in records
            if store().exists(canonical_iri(path))]


@blueprint.route("/favicon.ico")
def favicon() -> Response:
    """The site's icon, for clients that ask for it where browsers used to."""
    return redirect(url_for("static", filename="favicon.svg"), code=301)


def home_body_iri() -> URIRef | None:
    """The partner in more partnerships than any other (whose partnerships the dataset is about),
    None when no partner stands out."""
    found = store().select(HOME_BODY.format(base=store().base_iri, not_home=""))
    if not found or (len(found) > 1 and found[0]["partnerships"] == found[1]["partnerships"]):
        return None
    return found[0]["partner"]


def listed_count(home_body: URIRef | None) -> int:
    """How many partnerships the home page lists, on all its pages."""
    found = store().select(LISTED_COUNT.format(base=store().base_iri, not_home=_not_home(home_body)))
    return int(found[0]["count"]) if found else 0


def page_partnerships(language: str, home_body: URIRef | None, pager: Pager) -> list[URIRef]:
    """The partnerships of the page, in the order of the list."""
    labels = "|".join(f"<{predicate}>" for predicate in LABEL_PREDICATES)
    found = store().select(PAGE.format(base=store().base_iri, not_home=_not_home(home_body), labels=f"({labels})",
                                       language=language, limit=pager.size, offset=pager.offset))
    return [row["partnership"] for row in found]


def partnership_rows(language: str, home_body: URIRef | None, pager: Pager) -> list[dict]:
    """One row per partnership of the page: the partner abroad, country, agreement, signing, status today."""
    partnerships = page_partnerships(language, home_body, pager)
    if not partnerships:
        return []
    base = store().base_iri
    found = store().select(PARTNERSHIPS.format(base=base, not_home=_not_home(home_body),
                                               partnerships=_values(partnerships)))
    periods = _periods_by_partnership(language, partnerships)
    entries = _earliest_signed(found)
    labels = _labels({node for row in found for node in row.values() if isinstance(node, URIRef)}
                     | {period["status"] for chain in periods.values() for period in chain})
    _choose_partner(entries, labels, language)
    result = []
    for entry in entries.values():
        chain = periods.get(entry["partnership"], [])
        current = chain[-1] if chain else None
        result.append({
            **{key: _link(labels, entry[key], language) for key in ("partnership", "partner", "country", "agreement")},
            "signed": label_of(labels, entry["signed_time"], language, base) if entry["signed_time"] else "",
            "status": _link(labels, current["status"], language) if current else None,
            "status_key": str(current["status"]).rsplit("/", 1)[-1] if current else "",
            "since": current["when"] if current else "",
            "chain": chain,
            "iri": entry["partnership"],
        })
    return sorted(result, key=lambda row: row["partner"]["text"].lower())


def _earliest_signed(found: list[dict]) -> dict[URIRef, dict]:
    """One entry per partnership: its partners and country, and the agreement signed first (else any)."""
    entries: dict[URIRef, dict] = {}
    for row in found:
        entry = entries.setdefault(row["partnership"], {"partnership": row["partnership"], "partners": {},
                                                        "agreement": row.get("agreement"), "signed": row.get("signed"),
                                                        "signed_time": row.get("signedTime")})
        entry["partners"].setdefault(row["partner"], row["country"])
        if row.get("signed") and (entry["signed"] is None or row["signed"] < entry["signed"]):
            entry["agreement"], entry["signed"], entry["signed_time"] = row["agreement"], row["signed"], row["signedTime"]
    return entries


def _choose_partner(entries: dict[URIRef, dict], labels: Graph, language: str) -> None:
    """The partner a row shows: of a partnership's partners abroad, the first by name (as PAGE sorts)."""
    base = store().base_iri
    for entry in entries.values():
        partner = min(entry["partners"], key=lambda iri: (label_of(labels, iri, language, base).lower(), str(iri)))
        entry["partner"], entry["country"] = partner, entry["partners"][partner]


def timeline_rows(rows: list[dict], language: str) -> list[TimelineRow]:
    """The timeline's rows for the partnerships of the table, with their periods and events."""
    if not rows:
        return []
    events = store().select(EVENTS.format(base=store().base_iri, partnerships=_values(row["iri"] for row in rows)))
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
            timeline_row.marks.append(Mark(span, title, kind, str(event["event"])))
        result.append(timeline_row)
    return result


def _periods_by_partnership(language: str, partnerships: list[URIRef]) -> dict[URIRef, list[dict]]:
    """Each partnership's status periods in order (following time:intervalMetBy), with their starts."""
    found = store().select(PERIODS.format(base=store().base_iri, partnerships=_values(partnerships)))
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


def _not_home(home_body: URIRef | None) -> str:
    """The FILTER that leaves out the home body's side of each partnership (nothing without one)."""
    return f"FILTER (?partner != {home_body.n3()})" if home_body is not None else ""


def _values(iris: Iterable[URIRef]) -> str:
    """IRIs the store gave us, written for a VALUES block."""
    return " ".join(iri.n3() for iri in iris)


def _labels(iris: set) -> Graph:
    return store().labels({iri for iri in iris if isinstance(iri, URIRef)})


def _link(labels: Graph, iri, language: str) -> dict | None:
    if iri is None:
        return None
    return {"text": label_of(labels, iri, language, store().base_iri), "href": str(iri)}


def _text(value) -> str | None:
    return str(value) if value is not None else None
