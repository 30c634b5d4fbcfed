"""A partnership told as its story, for the page of the partnership and of each agreement that
establishes it: the partners and the status today, the agreements, the chronology of its events, the
status periods with their reasons, and its timeline. Only what the graph says: a time is shown by its
label, at its precision; an undated event says so, and between which dated times the data places it.

story_queries.py asks the store; this module lays the answers out as plain view objects for the
template `_story.html`.
"""

import re
from dataclasses import dataclass
from datetime import date

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV
from rdflib.term import Node

from . import store
from .html import Value, label_of, value_of
from .i18n import words
from .partnerships import Drawn, home_body_iri, labels_of, periods_by_partnership, status_key, timeline_rows
from .story_queries import Facts, agreements, chronology, facts, partners, partnership_of
from .timeline import timeline_svg

SCHEMA = "https://schema.org/"
# A day or a month as OWL-Time writes them, which <time datetime> takes as they are.
DATETIME = {"day": re.compile(r"\d{4}-\d{2}-\d{2}"), "month": re.compile(r"\d{4}-\d{2}")}


def rp(name: str) -> URIRef:
    """A term of our ontology, under the store's base."""
    return URIRef(f"{store().base_iri}ontology/{name}")


def event_properties() -> list[URIRef]:
    """The facts of an event the chronology shows, in this order (participants, kind and text aside)."""
    return [rp("agreement"), PROV.atLocation, URIRef(SCHEMA + "location"), rp("placeVisited"), rp("delegation"),
            rp("pursuedArea"), rp("proposedArea"), DCTERMS.subject, rp("consideredAlternative"), rp("selected"),
            rp("document"), URIRef(SCHEMA + "superEvent"), rp("causedBy"), rp("reason"), rp("responseReceived")]


def story_properties() -> list[URIRef]:
    """The facts asked of the partnership, its agreements, events and status periods."""
    return [rp("precursor"), DCTERMS.type, DCTERMS.title, DCTERMS.description, rp("party"), rp("participation"),
            rp("tookPlace"), *event_properties()]


def participation_properties() -> list[URIRef]:
    """Who took part and as what: agent, role, office held, body acted for, office acted on behalf of."""
    return [PROV.agent, PROV.hadRole, rp("heldPost"), rp("actedFor"), rp("onBehalfOf")]


@dataclass
class Fact:
    """A property of a resource, named as the ontology names it, with its values."""

    label: str
    values: list[Value]


@dataclass
class Participant:
    """Who took part in an event: `agent` is None when the data does not name them."""

    agent: Value | None
    role: Value | None
    details: list[Fact]

    def sort_key(self) -> tuple:
        """Named participants first, by name; then by what is said of them (the same order on every store)."""
        said = [self.role.text if self.role else ""] + [value.text for fact in self.details for value in fact.values]
        return (self.agent is None, self.agent.text.lower() if self.agent else "", said)


@dataclass
class When:
    """A time as shown: its label, `datetime` only for a day or a month, the bounds of an undated one."""

    label: str
    datetime: str | None = None
    undated: bool = False
    after: str | None = None
    before: str | None = None


@dataclass
class Entry:
    """An item of the chronology: an event, or a change of status no event stands for."""

    link: Value
    when: When
    status_change: bool
    not_held: bool
    kinds: list[Value]
    description: str | None
    participants: list[Participant]
    facts: list[Fact]


@dataclass
class AgreementView:
    """An agreement establishing the partnership; `this` on the agreement's own page."""

    link: Value
    this: bool
    title: str | None
    kinds: list[Value]
    parties: list[Value]
    documents: list[tuple[Value, list[Value]]]  # each document with its kinds
    signed: list[When]


@dataclass
class StatusView:
    """A status period: the status, when it began, what caused it and why."""

    status: Value
    key: str
    since: When
    causes: list[Value]
    reasons: list[str]


@dataclass
class Story:
    """Everything the story of a partnership shows."""

    partnership: Value
    partners: list[tuple[Value, Value | None]]
    home: list[tuple[Value, Value | None]]
    precursors: list[Value]
    agreements: list[AgreementView]
    chronology: list[Entry]
    periods: list[StatusView]
    timeline: str

    @property
    def current(self) -> StatusView | None:
        """The status today: the last period of the chain."""
        return self.periods[-1] if self.periods else None


def story_of(iri: URIRef, types: set[Node], language: str) -> Story | None:
    """The story for the page of `iri`: a partnership's own, or that of the partnership an agreement
    establishes; None for anything else."""
    if rp("Partnership") in types:
        return partnership_story(iri, language, this_agreement=None)
    if rp("Agreement") in types and (partnership := partnership_of(iri)) is not None:
        return partnership_story(partnership, language, this_agreement=iri)
    return None


def partnership_story(partnership: URIRef, language: str, this_agreement: URIRef | None) -> Story:
    """Ask the store for the story of `partnership` and lay it out in `language`."""
    texts = words(language)
    found_partners, found_agreements = partners(partnership), agreements(partnership)
    rows = chronology(partnership, language)
    chain = periods_by_partnership(language, [partnership]).get(partnership, [])
    events = {row["event"] for row in rows}
    # the facts of the story's resources, then of the participations and documents they name
    first = facts({partnership} | events | {period["period"] for period in chain}
                  | {row["agreement"] for row in found_agreements}, story_properties())
    second = facts(first.nodes(), participation_properties() + [DCTERMS.type])
    labels = labels_of({node for row in found_partners + found_agreements for node in row.values()}
                       | first.nodes() | second.nodes() | {partnership} | events | set(event_properties())
                       | set(participation_properties()) | {period["status"] for period in chain})
    view = View(labels, language, texts, first, second)
    partner_rows = view.partners(found_partners)
    return Story(
        partnership=view.value(partnership),
        partners=partner_rows[0],
        home=partner_rows[1],
        precursors=view.values(first.of(partnership, rp("precursor"))),
        agreements=view.agreements(found_agreements, this_agreement),
        chronology=[view.entry(row, {period["period"] for period in chain}) for row in rows],
        periods=[view.status(period, rows) for period in chain],
        timeline=timeline_svg(timeline_rows([Drawn(partnership, _partner_label(partner_rows), str(partnership), chain)],
                                            language), date.today(), texts),
    )


def _partner_label(partner_rows: tuple[list, list]) -> str:
    """The timeline row's name: the partner abroad (all of them, should there be several)."""
    return ", ".join(partner.text for partner, _ in partner_rows[0])


@dataclass
class View:
    """Lays out the answers in one language, with the labels of everything they name."""

    labels: Graph
    language: str
    texts: dict[str, str]
    first: Facts
    second: Facts

    def value(self, node: Node) -> Value:
        """How `node` is shown: a linked label, or a text (a boolean as yes or no)."""
        if isinstance(node, Literal) and isinstance(node.toPython(), bool):
            return Value(self.texts["yes" if node.toPython() else "no"])
        return value_of(self.labels, node, self.language, store().base_iri)

    def values(self, nodes: list[Node]) -> list[Value]:
        """Each of `nodes` as shown, texts kept only in the page's language where they are in it."""
        shown = [self.value(node) for node in in_language(nodes, self.language)]
        return sorted(shown, key=lambda value: (value.text.lower(), value.href or ""))  # not in the store's order

    def label(self, node: Node) -> str:
        """The name of `node` in the page's language."""
        return label_of(self.labels, node, self.language, store().base_iri)

    def text(self, found: Facts, subject: Node, property_iri: URIRef) -> str | None:
        """A text of `subject` in the page's language (else as the data has it), None when it has none."""
        texts = sorted(map(str, in_language(found.of(subject, property_iri), self.language)))
        return texts[0] if texts else None

    def partners(self, rows: list[dict]) -> tuple[list, list]:
        """(the partners abroad, the home body) with their countries, each sorted by name."""
        home = home_body_iri()
        split: tuple[list, list] = ([], [])
        for row in rows:
            split[row["partner"] == home].append((self.value(row["partner"]),
                                                  self.value(row["country"]) if "country" in row else None))
        return tuple(sorted(side, key=lambda pair: pair[0].text.lower()) for side in split)

    def agreements(self, rows: list[dict], this: URIRef | None) -> list[AgreementView]:
        """The agreements, each once with all its signings, in the order of their first signing."""
        views: dict[URIRef, AgreementView] = {}
        for row in sorted(rows, key=lambda row: (str(row.get("day") or row.get("month") or "~"), str(row["agreement"]))):
            agreement = row["agreement"]
            if agreement not in views:
                documents = [(self.value(doc), self.values(self.second.of(doc, DCTERMS.type)))
                             for doc in self.first.of(agreement, rp("document"))]
                views[agreement] = AgreementView(
                    self.value(agreement), agreement == this, self.text(self.first, agreement, DCTERMS.title),
                    self.values(self.first.of(agreement, DCTERMS.type)), self.values(self.first.of(agreement, rp("party"))),
                    sorted(documents, key=lambda pair: pair[0].text.lower()), [])
            if "time" in row:
                day, month = row.get("day"), row.get("month")
                views[agreement].signed.append(When(self.label(row["time"]), _datetime("day" if day else "month",
                                                                                       day or month)))
        return list(views.values())

    def entry(self, row: dict, status_changes: set[URIRef]) -> Entry:
        """An item of the chronology from a row of the 12th competency question."""
        event = row["event"]
        return Entry(
            link=self.value(event),
            when=self.when(row),
            status_change=event in status_changes,
            # as a value, not a term: Virtuoso writes false as "0"^^xsd:boolean
            not_held=any(isinstance(value, Literal) and value.toPython() is False
                         for value in self.first.of(event, rp("tookPlace"))),
            kinds=self.values(self.first.of(event, DCTERMS.type)),
            description=self.text(self.first, event, DCTERMS.description),
            participants=sorted((self.participant(part) for part in self.first.of(event, rp("participation"))),
                                key=Participant.sort_key),
            facts=self.facts_of(self.first, event, event_properties()),
        )

    def when(self, row: dict) -> When:
        """The time of a row of the 12th question: its label at its precision, or where it is placed."""
        precision = str(row["precision"]).rsplit("/", 1)[-1]
        if precision == "unknown":
            after, before = row.get("notBeforeLabel"), row.get("notAfterLabel")
            return When(self.texts["unknown_date"], None, True, after and str(after), before and str(before))
        return When(str(row.get("whenLabel", "")), _datetime(precision, row.get("start")))

    def participant(self, participation: Node) -> Participant:
        """Who took part, in which role, holding which office, for which body."""
        agents, roles = self.second.of(participation, PROV.agent), self.second.of(participation, PROV.hadRole)
        return Participant(self.value(agents[0]) if agents else None, self.value(roles[0]) if roles else None,
                           self.facts_of(self.second, participation, participation_properties()[2:]))

    def facts_of(self, found: Facts, subject: Node, properties: list[URIRef]) -> list[Fact]:
        """The facts of `subject` for `properties`, in their order, each named as the ontology names it."""
        return [Fact(self.label(prop), values) for prop in properties
                if (values := self.values(found.of(subject, prop)))]

    def status(self, period: dict, rows: list[dict]) -> StatusView:
        """A status period: from its start (or the bounds the 12th question gives an undated one)."""
        placed = next((row for row in rows if row["event"] == period["period"]), None)
        since = self.when(placed) if placed else When(period["when"] or self.texts["unknown_date"],
                                                      _datetime("day", period["day"]) or _datetime("month", period["month"]),
                                                      undated=not period["when"])
        reasons = in_language(self.first.of(period["period"], rp("reason")), self.language)
        return StatusView(self.value(period["status"]), status_key(period["status"]), since,
                          self.values(self.first.of(period["period"], rp("causedBy"))), sorted(map(str, reasons)))


def _datetime(precision: str, value) -> str | None:
    """The value for <time datetime>: a day or a month as the data gives it, nothing at other precisions."""
    pattern = DATETIME.get(precision)
    return str(value) if pattern and value is not None and pattern.fullmatch(str(value)) else None


def in_language(nodes: list[Node], language: str) -> list[Node]:
    """`nodes`, with only the texts in `language` where some are (texts without a language stay)."""
    tagged = [node for node in nodes if isinstance(node, Literal) and node.language]
    if any(node.language == language for node in tagged):
        return [node for node in nodes if not (isinstance(node, Literal) and node.language not in (None, language))]
    return nodes
