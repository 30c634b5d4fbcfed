"""Pages for people: the home page (the partnerships, a page at a time, and their timeline).

The home page lists `settings.page_size` partnerships a page (`/?page=2`, ...), ordered by the
partner's name in the reader's language. Its work is bounded by the page, not by the dataset:
one COUNT gives the number of pages, one query sorts the partnerships and cuts out the page's
(ORDER BY, LIMIT, OFFSET), and every further query is restricted to those by VALUES.
"""

import re
from dataclasses import dataclass
from datetime import date

from flask import Blueprint, Response, redirect, render_template, request, url_for
from rdflib import Graph, URIRef

from ..describe.dcat import CATALOG_PATH
from ..namespaces import DATASET_PATH, LABEL_PREDICATES
from . import canonical_iri, publisher, store
from .html import label_of
from .i18n import current_language, words
from .partnerships import (
    LISTED,
    PARTNER,
    PREFIXES,
    Drawn,
    home_body_iri,
    labels_of,
    not_home,
    periods_by_partnership,
    status_key,
    timeline_rows,
    values,
)
from .timeline import STATUS_COLOURS, timeline_svg

blueprint = Blueprint("pages", __name__)

# A page number as the pager writes it: a positive whole number in ASCII digits, no leading zero.
PAGE_NUMBER = re.compile(r"[1-9][0-9]*")

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
    timeline = timeline_svg(timeline_rows(drawn(rows), language), date.today(), words(language))
    statuses = {URIRef(f"{store().base_iri}vocabulary/statuses/{key}"): key for key in STATUS_COLOURS}
    labels = labels_of(set(statuses))
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


def listed_count(home_body: URIRef | None) -> int:
    """How many partnerships the home page lists, on all its pages."""
    found = store().select(LISTED_COUNT.format(base=store().base_iri, not_home=not_home(home_body)))
    return int(found[0]["count"]) if found else 0


def page_partnerships(language: str, home_body: URIRef | None, pager: Pager) -> list[URIRef]:
    """The partnerships of the page, in the order of the list."""
    labels = "|".join(f"<{predicate}>" for predicate in LABEL_PREDICATES)
    found = store().select(PAGE.format(base=store().base_iri, not_home=not_home(home_body), labels=f"({labels})",
                                       language=language, limit=pager.size, offset=pager.offset))
    return [row["partnership"] for row in found]


def partnership_rows(language: str, home_body: URIRef | None, pager: Pager) -> list[dict]:
    """One row per partnership of the page: the partner abroad, country, agreement, signing, status today."""
    partnerships = page_partnerships(language, home_body, pager)
    if not partnerships:
        return []
    base = store().base_iri
    found = store().select(PARTNERSHIPS.format(base=base, not_home=not_home(home_body),
                                               partnerships=values(partnerships)))
    periods = periods_by_partnership(language, partnerships)
    entries = _earliest_signed(found)
    labels = labels_of({node for row in found for node in row.values() if isinstance(node, URIRef)}
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
            "status_key": status_key(current["status"]) if current else "",
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


def drawn(rows: list[dict]) -> list[Drawn]:
    """The partnerships of the table as the timeline draws them: a row each, named by the partner."""
    return [Drawn(row["iri"], row["partner"]["text"], row["partnership"]["href"], row["chain"]) for row in rows]


def _link(labels: Graph, iri, language: str) -> dict | None:
    if iri is None:
        return None
    return {"text": label_of(labels, iri, language, store().base_iri), "href": str(iri)}
