"""Times as the data names and labels them, at the precision of the source.

A day is t:2010-10-06 ("6. října 2010"@cs, "6 October 2010"@en), a month t:2005-04 ("duben 2005"),
a half-year t:2011-H1 (its first and last months), an interval of days t:2011-10-31--2011-11-01 (its
first and last days). `named_time` gives the IRI and the triples that describe a time and the times it is
made of; the labels are those the data's files write (bench/generate.py writes its times with them too).
"""

import re
from datetime import date

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS, TIME, XSD

from ..namespaces import PREFIXES

RP = Namespace(PREFIXES["rp"])
PREC = Namespace(PREFIXES["prec"])
T = Namespace(PREFIXES["t"])

MONTHS_CS = ("leden", "únor", "březen", "duben", "květen", "červen", "červenec", "srpen", "září", "říjen",
             "listopad", "prosinec")
MONTHS_CS_GENITIVE = ("ledna", "února", "března", "dubna", "května", "června", "července", "srpna", "září",
                      "října", "listopadu", "prosince")
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December")
_YEAR_MONTH = re.compile(r"(\d{4})-(\d{2})")


def day_labels(day: date) -> tuple[str, str]:
    """A day as the data's labels write it, in Czech and English."""
    return (f"{day.day}. {MONTHS_CS_GENITIVE[day.month - 1]} {day.year}",
            f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}")


def month_labels(year: int, month: int) -> tuple[str, str]:
    """A month as the data's labels write it ("duben 2005", "April 2005")."""
    return f"{MONTHS_CS[month - 1]} {year}", f"{MONTHS_EN[month - 1]} {year}"


def half_year_labels(year: int, half: int) -> tuple[str, str]:
    """A half-year as the data's labels write it ("první polovina roku 2011", "first half of 2011")."""
    return f"{('první', 'druhá')[half - 1]} polovina roku {year}", f"{('first', 'second')[half - 1]} half of {year}"


def day_interval_labels(first: date, last: date) -> tuple[str, str]:
    """An interval of days as the data's labels write it ("31. října – 1. listopadu 2011")."""
    (start_cs, start_en), (end_cs, end_en) = day_labels(first), day_labels(last)
    if (first.year, first.month) == (last.year, last.month):
        return (f"{first.day}.–{last.day}. {MONTHS_CS_GENITIVE[first.month - 1]} {first.year}",
                f"{first.day}–{last.day} {MONTHS_EN[first.month - 1]} {first.year}")
    if first.year == last.year:
        return f"{start_cs.rsplit(' ', 1)[0]} – {end_cs}", f"{start_en.rsplit(' ', 1)[0]} – {end_en}"
    return f"{start_cs} – {end_cs}", f"{start_en} – {end_en}"


def day_time(day: date) -> tuple[URIRef, Graph]:
    """t:yyyy-mm-dd and its description."""
    iri = T[day.isoformat()]
    graph = _described(iri, TIME.Instant, PREC.day, day_labels(day))
    graph.add((iri, TIME.inXSDDate, Literal(day.isoformat(), datatype=XSD.date)))
    return iri, graph


def month_time(year: int, month: int) -> tuple[URIRef, Graph]:
    """t:yyyy-mm and its description (never a day of it)."""
    value = f"{year:04d}-{month:02d}"
    iri = T[value]
    graph = _described(iri, TIME.Instant, PREC.month, month_labels(year, month))
    graph.add((iri, TIME.inXSDgYearMonth, Literal(value, datatype=XSD.gYearMonth)))
    return iri, graph


def half_year_time(year: int, half: int) -> tuple[URIRef, Graph]:
    """t:yyyy-H1 or -H2, from its first month to its last, with the months' descriptions."""
    (first, first_graph), (last, last_graph) = month_time(year, 6 * half - 5), month_time(year, 6 * half)
    iri = T[f"{year}-H{half}"]
    graph = _described(iri, TIME.ProperInterval, PREC["half-year"], half_year_labels(year, half))
    graph.add((iri, TIME.hasBeginning, first))
    graph.add((iri, TIME.hasEnd, last))
    return iri, graph + first_graph + last_graph


def day_interval_time(first: date, last: date) -> tuple[URIRef, Graph]:
    """t:a--b, from day a to day b, with the days' descriptions."""
    (start, start_graph), (end, end_graph) = day_time(first), day_time(last)
    iri = T[f"{first.isoformat()}--{last.isoformat()}"]
    graph = _described(iri, TIME.ProperInterval, PREC["day-interval"], day_interval_labels(first, last))
    graph.add((iri, TIME.hasBeginning, start))
    graph.add((iri, TIME.hasEnd, end))
    return iri, graph + start_graph + end_graph


def parse_year_month(value: str) -> tuple[int, int]:
    """"2005-04" as (2005, 4); ValueError for anything else."""
    match = _YEAR_MONTH.fullmatch(value.strip())
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"not a year and month: {value!r}")
    return int(match.group(1)), int(match.group(2))


def _described(iri: URIRef, kind: URIRef, precision: URIRef, labels: tuple[str, str]) -> Graph:
    graph = Graph(bind_namespaces="none")
    graph.add((iri, RDF.type, kind))
    graph.add((iri, RP.precision, precision))
    graph.add((iri, RDFS.label, Literal(labels[0], lang="cs")))
    graph.add((iri, RDFS.label, Literal(labels[1], lang="en")))
    return graph
