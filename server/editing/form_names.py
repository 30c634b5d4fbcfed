"""Names for the new resources of a form, by the rules the data's names follow (names.py).

An event is named by its partnership, its time and its kind (ev:bursa-2010-10-06-visit), a participation
by its event and who took part (part:bursa-2010-10-06-visit-lidie-vajnerova), a status period by its
partnership, its place in the chain and its status (stp:bursa-3-active), a partnership by its partner
(ptn:bursa), anything else by its English label (else its other label, name or title). A name taken now,
in the form or in an earlier release is never given again.
"""

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, ORG, PROV, RDF, RDFS, TIME
from rdflib.term import Node

from ..namespaces import CANONICAL_BASE, PREFIXES
from .names import new_iri
from .times import RP, T

SCHEMA_PLACE = URIRef(PREFIXES["schema"] + "Place")
LIBEREC_REGION = URIRef(PREFIXES["reg"] + "liberec-region")
# The kinds of resource a form edits, by their class (an event may be of a subclass, see form_changes).
KINDS = {"event": RP.Event, "status": RP.StatusPeriod, "partnership": RP.Partnership, "agreement": RP.Agreement,
         "participation": RP.Participation, "person": FOAF.Person, "post": ORG.Post, "document": FOAF.Document,
         "place": SCHEMA_PLACE}
# The classes of what is named, with the kind their IRIs name (id/<kind>/...), in the order they are
# named: a partnership after its partner, a participation after its event.
NAMED_CLASSES = {RP.Region: "region", RP.Town: "town", ORG.Organization: "organisation", RP.Partnership: "partnership",
                 FOAF.Person: "person", SCHEMA_PLACE: "place", ORG.Post: "post", FOAF.Document: "document",
                 RP.Agreement: "agreement", RP.Delegation: "delegation", RP.Event: "event", RP.Visit: "event",
                 RP.Signing: "event", RP.StatusPeriod: "status", RP.Participation: "participation"}
_ORDER = list(dict.fromkeys(NAMED_CLASSES.values()))
# The kinds of event whose word names an event, before any other it has.
_NAMING_EVENT_KINDS = ("signing", "visit")


def is_new(node: Node) -> bool:
    """Whether `node` is a resource the form made: a blank node or a urn:uuid: IRI."""
    return isinstance(node, BNode) or (isinstance(node, URIRef) and node.startswith("urn:uuid:"))


def kind_of(graph: Graph, node: Node) -> str | None:
    """The kind of IRI `node` is named with ("event", "person"...), None for what is not named (a time)."""
    kinds = [NAMED_CLASSES[cls] for cls in graph.objects(node, RDF.type) if cls in NAMED_CLASSES]
    return min(kinds, key=_ORDER.index) if kinds else None


def local_name(iri: Node | None) -> str:
    """The last segment of an IRI ("" for none)."""
    return str(iri).rstrip("/").rsplit("/", 1)[-1] if isinstance(iri, URIRef) else ""


class Minter:
    """Names the form's new resources, none an IRI in `known`, the file or the form."""

    def __init__(self, file_graph: Graph, form: Graph, partnership: URIRef | None, known: set[str]) -> None:
        self.file_graph, self.form = file_graph, form
        self.partnership = local_name(partnership)
        self.known = set(known) | {str(node) for graph in (file_graph, form) for node in graph.all_nodes()
                                   if isinstance(node, URIRef)}
        self.names: dict[Node, URIRef] = {}

    def mint(self, root: Node) -> dict[Node, URIRef]:
        """The new name of each new resource of the form (the root among them when it is new)."""
        new = [node for node in set(self.form.subjects()) if is_new(node) and kind_of(self.form, node)]
        for node in sorted(new, key=lambda node: (_ORDER.index(kind_of(self.form, node)), node != root, str(node))):
            kind = kind_of(self.form, node)
            iri = self._name(node, kind)
            self.names[node] = iri
            self.known.add(str(iri))
            if kind == "partnership" and not self.partnership:
                self.partnership = local_name(iri)
        return self.names

    def _name(self, node: Node, kind: str) -> URIRef:
        if kind == "event":
            return self._new(kind, self._event_word(node), self.partnership, _day_of(self.form.value(node, TIME.hasTime)))
        if kind == "participation":
            event = self.form.value(predicate=RP.participation, object=node)
            agent = self.form.value(node, PROV.agent)
            word = local_name(self.names.get(agent, agent)) or self._label(node)
            return self._new(kind, word, local_name(self.names.get(event, event)) or self.partnership)
        if kind == "status":
            return self._new(kind, f"{self._next_period()}-{local_name(self.form.value(node, RP.status))}",
                             self.partnership)
        if kind == "partnership":
            partners = [self.names.get(partner, partner) for partner in self.form.objects(node, RP.partner)]
            named = [local_name(partner) for partner in partners if partner != LIBEREC_REGION and local_name(partner)]
            return self._new(kind, named[0] if named else self._label(node), None)
        return self._new(kind, self._label(node), self.partnership)

    def _new(self, kind: str, label: str, partnership: str | None, day: str | None = None) -> URIRef:
        return new_iri(CANONICAL_BASE, kind, label or kind, self.known, partnership, day)

    def _label(self, node: Node) -> str:
        """What names `node`: its English label, else its Czech one, its name or its title."""
        for prop in (RDFS.label, FOAF.name, DCTERMS.title):
            values = [value for value in self.form.objects(node, prop) if isinstance(value, Literal)]
            values.sort(key=lambda value: (value.language != "en", value.language != "cs", str(value)))
            if values:
                return str(values[0])
        return ""

    def _event_word(self, node: Node) -> str:
        """The word of an event's kind: signing or visit if it is one, else its first kind, else its label."""
        words = sorted(local_name(kind) for kind in self.form.objects(node, DCTERMS.type))
        naming = [word for word in _NAMING_EVENT_KINDS if word in words]
        return (naming or words or [self._label(node)])[0]

    def _next_period(self) -> int:
        """The number of the partnership's next status period."""
        periods = set(self.file_graph.subjects(RDF.type, RP.StatusPeriod))
        return len(periods) + sum(1 for iri in self.names.values() if iri.startswith(PREFIXES["stp"])) + 1


def _day_of(time: Node | None) -> str | None:
    """What of a named time goes into an event's name: a day or month as it is, the year of a half-year,
    the first day of an interval; nothing of an unknown time."""
    if not isinstance(time, URIRef) or not time.startswith(T):
        return None
    value = time[len(T):]
    if "--" in value:
        return value.split("--", 1)[0]
    return value.split("-H", 1)[0]
