"""What a form produced, applied to a partnership file's graph (issue 20).

A form sends plain data in our vocabulary, its new resources blank nodes (or urn:uuid: IRIs) and its
times blank nodes with rp:precision and a value. Applying it: the root (the resource edited) is found,
new resources are named by names.new_iri (never an IRI taken now or in an earlier release), times are
named and labelled as the data names them (times.py), and the root's description, with the blank nodes
it owns, is replaced by the form's, as is that of every other resource the form describes. Resources
the form does not describe stay; times no longer used are removed. A description the form changes is
said to come from the Liberec Region (dcterms:source, as data says where a fact is not the page's); who
changed it, when and why is the change's record (changes.py). No web framework here.
"""

from dataclasses import dataclass, field
from pathlib import Path

from rdflib import BNode, Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, RDF, TIME
from rdflib.term import Node

from ..namespaces import PREFIXES
from .blocks import parse_turtle
from .form_names import KINDS, LIBEREC_REGION, Minter, is_new
from .form_times import name_times
from .save import load
from .times import RP, T
from .turtle_style import description

EVK = PREFIXES["evk"]
# Event classes by the kind of event (dcterms:type), as the data types them; any other kind is an rp:Event.
EVENT_CLASSES = {URIRef(EVK + "signing"): RP.Signing, URIRef(EVK + "visit"): RP.Visit}
_EVENT_TYPES = {RP.Event, RP.Signing, RP.Visit}


class FormError(ValueError):
    """What the form sent cannot be applied: not Turtle, an unknown kind, no root or two, another's subject."""


@dataclass(frozen=True)
class Applied:
    """The file's graph with the form applied, the root's IRI (minted when it was new), and the name
    minted for each new node of the form (a page of several forms finds its own nodes by them)."""

    graph: Graph
    subject: URIRef
    names: dict[Node, URIRef] = field(default_factory=dict)


def parse_form(turtle: str) -> Graph:
    """The form's graph; FormError when it is not Turtle."""
    try:
        return parse_turtle(turtle)
    except Exception as error:  # rdflib raises many kinds of error for what is not Turtle
        raise FormError(f"not Turtle: {error}") from error


def apply_form(file_graph: Graph, form: Graph, kind: str, subject: str | None, known: set[str],
               offered: set[URIRef] | None = None) -> Applied:
    """`file_graph` with `form` applied (see the module's docstring); `subject` is the IRI edited (None or
    "" for a new resource of `kind`), `known` the IRIs that may not be minted (names.known_iris).
    `offered` are the properties the form has fields for: what a resource says with any other (a
    visit's places, a spelling of the source in skos:altLabel) the form could not show, and it stays
    as it was. None: the form offers every property."""
    if kind not in KINDS:
        raise FormError(f"not a kind of resource: {kind!r}")
    partnership = file_graph.value(predicate=RDF.type, object=RP.Partnership, any=True)
    root = _root(file_graph, form, kind, subject)
    try:
        form = name_times(form)
    except ValueError as error:
        raise FormError(str(error)) from error
    for event in _new_events(form):  # the root, or the signing a new partnership's page begins with
        _type_event(form, event, partnership)
    minted = Minter(file_graph, form, partnership, known).mint(root)
    form = _renamed(form, minted)
    root = minted.get(root, root)
    if kind == "status" and root not in set(file_graph.subjects()):
        _chain_status(file_graph, form, root, partnership)
    shown = [node for node in set(form.subjects()) if isinstance(node, URIRef) and not node.startswith(T)
             and (node in minted.values() or (node, None, None) in file_graph or node == root)]
    return Applied(_replaced(file_graph, form, shown, offered), root, minted)


def _root(file_graph: Graph, form: Graph, kind: str, subject: str | None) -> Node:
    """The node the form describes: `subject`, which the file must describe, or the one new node of `kind`."""
    if subject:
        iri = URIRef(subject)
        if (iri, None, None) not in file_graph or (iri, None, None) not in form:
            raise FormError(f"{subject} is not described in this partnership's file and form")
        return iri
    roots = (_new_events(form) if kind == "event" else
             {node for node in form.subjects(RDF.type, KINDS[kind]) if is_new(node)})
    if len(roots) != 1:
        raise FormError(f"the form must describe one new {kind}, not {len(roots)}")
    return roots.pop()


def _new_events(form: Graph) -> set[Node]:
    """The new events the form describes."""
    return {node for node, _, cls in form.triples((None, RDF.type, None)) if cls in _EVENT_TYPES and is_new(node)}


def _type_event(form: Graph, event: Node, partnership: URIRef | None) -> None:
    """A new event belongs to the partnership, and is of the class its kind needs (a visit an rp:Visit)."""
    if partnership is not None:
        form.set((event, RP.partnership, partnership))
    kinds = set(form.objects(event, DCTERMS.type))
    classes = {EVENT_CLASSES[kind_] for kind_ in kinds if kind_ in EVENT_CLASSES} or {RP.Event}
    for cls in _EVENT_TYPES:
        form.remove((event, RDF.type, cls))
    for cls in classes:
        form.add((event, RDF.type, cls))


def _chain_status(file_graph: Graph, form: Graph, period: URIRef, partnership: URIRef | None) -> None:
    """A new status period belongs to the partnership and follows its current period (time:intervalMetBy),
    as the data links its periods: the period no other period follows."""
    form.set((period, RP.partnership, partnership))
    periods = set(file_graph.subjects(RP.partnership, partnership)) & set(file_graph.subjects(RDF.type, RP.StatusPeriod))
    followed = set(file_graph.objects(None, TIME.intervalMetBy))
    current = periods - followed
    if len(current) == 1 and (period, TIME.intervalMetBy, None) not in form:
        form.add((period, TIME.intervalMetBy, current.pop()))


def _renamed(graph: Graph, names: dict[Node, URIRef]) -> Graph:
    """`graph` with each node of `names` replaced by its new name."""
    renamed = Graph(bind_namespaces="none")
    for s, p, o in graph:
        renamed.add((names.get(s, s), p, names.get(o, o)))
    return renamed


def _replaced(file_graph: Graph, form: Graph, shown: list[URIRef], offered: set[URIRef] | None) -> Graph:
    """`file_graph` with the descriptions of `shown` replaced by the form's (but for the properties not
    `offered`), new times described, times no longer used removed; a description the form leaves as it
    was is kept as it was."""
    graph = Graph(bind_namespaces="none") + file_graph
    for node in shown:
        old, new = description(file_graph, node), description(form, node) + _not_offered(file_graph, node, offered)
        if isomorphic(_without_source(old, node), _without_source(new, node)):
            continue
        graph -= old
        graph += new
        graph.add((node, DCTERMS.source, LIBEREC_REGION))
    _describe_times(graph, form)
    _remove_unused_times(graph, file_graph)
    return graph


def _not_offered(file_graph: Graph, node: URIRef, offered: set[URIRef] | None) -> Graph:
    """What `node` says in the file with the properties the form has no field for (and their blank nodes)."""
    kept = Graph(bind_namespaces="none")
    if offered is None:
        return kept
    for predicate, value in file_graph.predicate_objects(node):
        if predicate not in offered and (predicate, value) != (DCTERMS.source, LIBEREC_REGION):
            kept.add((node, predicate, value))
            if isinstance(value, BNode):
                kept += description(file_graph, value)
    return kept


def _without_source(graph: Graph, node: URIRef) -> Graph:
    kept = Graph(bind_namespaces="none") + graph
    kept.remove((node, DCTERMS.source, LIBEREC_REGION))
    return kept


def _describe_times(graph: Graph, form: Graph) -> None:
    """Each named time the form made, described unless the file describes it already (reused as it is)."""
    for time in {node for node in form.subjects() if isinstance(node, URIRef) and node.startswith(T)}:
        if (time, None, None) not in graph:
            graph += description(form, time)


def _remove_unused_times(graph: Graph, before: Graph) -> None:
    """Remove the times that were used before the change and no longer are (then the months of a half-year)."""
    used_before = {node for node in before.objects() if isinstance(node, URIRef) and node.startswith(T)}
    while True:
        unused = [time for time in used_before if (time, None, None) in graph and (None, None, time) not in graph]
        if not unused:
            return
        for time in unused:
            graph -= description(graph, time)


def describe_used_times(target: Graph, source: Graph) -> None:
    """Add to `target` the description in `source` of each named time `target` uses and does not describe
    (and of the times those are made of): each file describes the times it uses."""
    pending = [node for node in target.objects() if isinstance(node, URIRef) and node.startswith(T)]
    while pending:
        time = pending.pop()
        if (time, None, None) not in target and (time, None, None) in source:
            target += description(source, time)
            pending += [node for node in source.objects(time) if isinstance(node, URIRef) and node.startswith(T)]


def resource_turtle(data_dir: Path, name: str, iri: str) -> tuple[str, str]:
    """The description of `iri` in partnership `name`'s file (with its blank nodes and the times it uses,
    described), as Turtle with the file's prefixes, and the file's revision, on which a save is based."""
    text, revision = load(data_dir, name)
    graph = parse_turtle(text)
    subject = URIRef(iri)
    if (subject, None, None) not in graph:
        raise FormError(f"{iri} is not described in {name}")
    found = description(graph, subject)
    describe_used_times(found, graph)
    for prefix, namespace in graph.namespaces():
        found.bind(prefix, namespace)
    return found.serialize(format="turtle"), revision


