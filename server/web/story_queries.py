"""The queries of a partnership's story (story.py lays it out): a few SPARQL queries per page, each
bounded by the partnership or by the resources of its story (VALUES), through `store()`, so that they
run on every store. Pages are rendered once per release (rendered.py), so these run once a page.

The chronology is the 12th competency question itself (server/queries/12-chronology.rq, as the
SPARQL page offers it in the reader's language), restricted to the partnership's events: the page
and the question cannot order the events differently.
"""

from dataclasses import dataclass, field

from rdflib import URIRef
from rdflib.term import Node

from . import store
from .partnerships import PREFIXES, values
from .sparql import competency_question

# Where the 12th question starts from each event's time; the partnership's restriction goes before it.
CHRONOLOGY_EVENTS = "{ ?event time:hasTime ?when }"
RESTRICTED = "VALUES ?partnership {{ {partnership} }} ?event rp:partnership ?partnership . "

ESTABLISHED_BY = PREFIXES + """
SELECT ?partnership ?agreement WHERE {{ VALUES ?agreement {{ {agreement} }} ?agreement rp:establishes ?partnership }}
ORDER BY ?partnership LIMIT 1"""

PARTNERS = PREFIXES + """
SELECT ?partner ?country WHERE {{
  VALUES ?partnership {{ {partnership} }}
  ?partnership rp:partner ?partner .
  OPTIONAL {{ ?partner rp:country ?country }}
}}"""

AGREEMENTS = PREFIXES + """
SELECT ?agreement ?signing ?time ?day ?month WHERE {{
  VALUES ?partnership {{ {partnership} }}
  ?agreement rp:establishes ?partnership .
  OPTIONAL {{ ?signing a rp:Signing ; rp:agreement ?agreement ; time:hasTime ?time .
             OPTIONAL {{ ?time time:inXSDDate ?day }} OPTIONAL {{ ?time time:inXSDgYearMonth ?month }} }}
}}"""

# The given properties of the given resources: the facts a story shows of each.
PROPERTIES = """
SELECT ?subject ?property ?value WHERE {{
  VALUES ?subject {{ {subjects} }}
  VALUES ?property {{ {properties} }}
  ?subject ?property ?value .
}}"""


@dataclass
class Facts:
    """What PROPERTIES found: for each subject, its values of each property, in the store's order."""

    by_subject: dict[Node, dict[URIRef, list[Node]]] = field(default_factory=dict)

    def of(self, subject: Node, property_iri: URIRef) -> list[Node]:
        """The values of `property_iri` of `subject` (none: an empty list)."""
        return self.by_subject.get(subject, {}).get(property_iri, [])

    def nodes(self) -> set[Node]:
        """Every value found."""
        return {value for properties in self.by_subject.values() for found in properties.values() for value in found}


def partnership_of(agreement: URIRef) -> URIRef | None:
    """The partnership `agreement` establishes (the first by IRI, should it establish several)."""
    found = store().select(ESTABLISHED_BY.format(base=store().base_iri, agreement=agreement.n3()))
    return found[0]["partnership"] if found else None


def partners(partnership: URIRef) -> list[dict[str, Node]]:
    """The partnership's partners, each with its country when the data gives it."""
    return store().select(PARTNERS.format(base=store().base_iri, partnership=partnership.n3()))


def agreements(partnership: URIRef) -> list[dict[str, Node]]:
    """The agreements establishing the partnership, each with its signings' times (day or month)."""
    return store().select(AGREEMENTS.format(base=store().base_iri, partnership=partnership.n3()))


def chronology(partnership: URIRef, language: str) -> list[dict[str, Node]]:
    """The partnership's events (and the status changes no event stands for) in the order of the 12th
    competency question, with its columns: the time's label and precision, where it starts, and the
    dated times an undated one comes after and before, labelled in `language`."""
    question = competency_question("12", language)
    if question.count(CHRONOLOGY_EVENTS) != 1:
        raise ValueError(f"the 12th competency question no longer starts from {CHRONOLOGY_EVENTS}")
    restriction = RESTRICTED.format(partnership=partnership.n3())
    return store().select(question.replace(CHRONOLOGY_EVENTS, restriction + CHRONOLOGY_EVENTS))


def facts(subjects: set[Node], properties: list[URIRef]) -> Facts:
    """The values of `properties` of `subjects` (IRIs; blank nodes cannot be named in a query)."""
    found = Facts()
    named = sorted(subject for subject in subjects if isinstance(subject, URIRef))
    if not named or not properties:
        return found
    rows = store().select(PROPERTIES.format(subjects=values(named), properties=values(properties)))
    for row in rows:
        found.by_subject.setdefault(row["subject"], {}).setdefault(row["property"], []).append(row["value"])
    return found
