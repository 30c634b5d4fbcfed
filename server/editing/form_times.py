"""A form's times named as the data names them.

The form gives a time as a blank node with rp:precision and its value (time:inXSDDate for a day,
time:inXSDgYearMonth for a month, time:hasBeginning and time:hasEnd for a half-year or an interval of
days). Each becomes its named time (t:2010-10-06, t:2005-04, t:2011-H1, t:2011-10-31--2011-11-01),
described with its labels; the precision is the form's, never another. An unknown time stays a blank
node (time:after and time:before point at named times). A value that does not fit its precision is
a ValueError.
"""

from datetime import date

from rdflib import BNode, Graph, URIRef
from rdflib.namespace import TIME
from rdflib.term import Node

from .times import PREC, RP, T, day_interval_time, day_time, half_year_time, month_time, parse_year_month

# The properties whose values are times.
TIME_PROPERTIES = (TIME.hasTime, TIME.hasBeginning, TIME.hasEnd, TIME.after, TIME.before)


def name_times(form: Graph) -> Graph:
    """`form` with each time that has a precision and a value named, and described once."""
    names: dict[Node, URIRef] = {}
    described = Graph(bind_namespaces="none")
    for node in {obj for prop in TIME_PROPERTIES for obj in form.objects(None, prop)}:
        if _is_form_node(node) and form.value(node, RP.precision) not in (None, PREC.unknown):
            names[node], graph = named_time(form, node)
            described += graph
    parts = {part for node in names for prop in (TIME.hasBeginning, TIME.hasEnd) for part in form.objects(node, prop)}
    named = Graph(bind_namespaces="none")
    for s, p, o in form:
        if s not in names and s not in parts:
            named.add((s, p, names.get(o, o)))
    return named + described


def named_time(form: Graph, node: Node) -> tuple[URIRef, Graph]:
    """The named time of the form's time `node`, and its description (with its instants')."""
    precision = form.value(node, RP.precision)
    if precision == PREC.day:
        return day_time(_day(form, node))
    if precision == PREC.month:
        return month_time(*_year_month(form, node))
    if precision == PREC["half-year"]:
        year, month = _year_month(form, _part(form, node, TIME.hasBeginning))
        return half_year_time(year, 1 if month <= 6 else 2)
    if precision == PREC["day-interval"]:
        return day_interval_time(_day(form, _part(form, node, TIME.hasBeginning)),
                                 _day(form, _part(form, node, TIME.hasEnd)))
    raise ValueError(f"a time of an unknown precision: {precision}")


def _is_form_node(node: Node) -> bool:
    return isinstance(node, BNode) or (isinstance(node, URIRef) and node.startswith("urn:uuid:"))


def _part(form: Graph, node: Node, prop: URIRef) -> Node:
    part = form.value(node, prop)
    if part is None:
        raise ValueError(f"a time of precision {form.value(node, RP.precision)} needs its {prop}")
    return part


def _day(form: Graph, node: Node) -> date:
    """The day a time node gives (time:inXSDDate), or a named day's (t:yyyy-mm-dd)."""
    value = form.value(node, TIME.inXSDDate)
    text = str(value) if value is not None else str(node)[len(T):] if str(node).startswith(T) else ""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"a day needs time:inXSDDate as yyyy-mm-dd, not {text!r}") from None


def _year_month(form: Graph, node: Node) -> tuple[int, int]:
    """The month a time node gives (time:inXSDgYearMonth), or a named month's (t:yyyy-mm)."""
    value = form.value(node, TIME.inXSDgYearMonth)
    text = str(value) if value is not None else str(node)[len(T):] if str(node).startswith(T) else ""
    return parse_year_month(text)
