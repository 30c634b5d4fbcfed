"""What a person sees of a graph: labels instead of IRIs, in their language, as plain view objects
the templates lay out. Nothing here knows of Flask; IRIs come in already moved to the public base.
"""

import json
from dataclasses import dataclass, field

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS
from rdflib.term import Node

from ..namespaces import LABEL_PREDICATES, prefixes_for, shorten_iri

RP_PRECISION_PATH = "ontology/precision"
UNKNOWN_PRECISION_PATH = "vocabulary/date-precisions/unknown"
# Authorities whose IRIs we link to, named for people when the data gives no label.
AUTHORITIES = {
    "http://www.wikidata.org/entity/": "Wikidata ",
    "http://data.europa.eu/nuts/code/": "NUTS ",
    "https://linked.cuzk.cz/resource/ruian/vusc/": "RÚIAN VÚSC ",
    "https://linked.cuzk.cz/resource/ruian/obec/": "RÚIAN obec ",
    "https://rpp-opendata.egon.gov.cz/odrpp/zdroj/orgán-veřejné-moci/": "RPP ",
    "http://publications.europa.eu/resource/authority/": "EU ",
}
# Shown as the page's title and type, so not repeated among its properties.
HEADER_PREDICATES = {RDF.type, RDFS.label, SKOS.prefLabel}


@dataclass(frozen=True)
class Value:
    """One value as shown: its text, and a link when it is a resource (ours or an authority's)."""

    text: str
    href: str | None = None
    external: bool = False
    language: str | None = None
    # The language of a link's text when it is not the page's (a label found only in the other), so
    # that a screen reader reads it in that language.
    text_language: str | None = None


@dataclass
class Row:
    """A property with its label and values."""

    label: str
    href: str
    values: list[Value] = field(default_factory=list)


@dataclass
class ResourceView:
    """Everything the resource page shows."""

    iri: str
    label: str
    types: list[Value]
    rows: list[Row]
    inbound: list[tuple[Value, Row]]
    json_ld: str
    label_language: str | None = None  # the label's language, when it is another than the page's


def label_of(graph: Graph, node: Node, language: str, base_iri: str) -> str:
    """The name of `node` in `language` (else in another language, else its short IRI)."""
    return labelled(graph, node, language, base_iri)[0]


def labelled(graph: Graph, node: Node, language: str, base_iri: str) -> tuple[str, str | None]:
    """The name of `node`, as label_of gives it, and its language when that is another than `language`."""
    if isinstance(node, Literal):
        return str(node), None
    for predicate in LABEL_PREDICATES:
        labels = list(graph.objects(node, predicate))
        for wanted in (language, None, *sorted({label.language for label in labels if label.language})):
            for label in labels:
                if isinstance(label, Literal) and label.language == wanted:
                    return str(label), (wanted if wanted != language else None)
    if isinstance(node, URIRef):
        for namespace, name in AUTHORITIES.items():
            if str(node).startswith(namespace):
                return name + str(node)[len(namespace):], None
        return shorten_iri(str(node), prefixes_for(base_iri)).strip("<>"), None
    return "", None


def value_of(graph: Graph, node: Node, language: str, base_iri: str) -> Value:
    """How `node` is shown: a link to our page or to an authority, or a text."""
    if isinstance(node, URIRef):
        external = not str(node).startswith(base_iri)
        text, text_language = labelled(graph, node, language, base_iri)
        return Value(text, str(node), external, text_language=text_language)
    if isinstance(node, BNode):
        return Value(_describe_blank_node(graph, node, language, base_iri))
    return Value(str(node), language=node.language)


def resource_view(graph: Graph, iri: URIRef, language: str, base_iri: str, json_ld: str) -> ResourceView:
    """Lay out the document `graph` about `iri` for a page in `language`."""
    rows: dict[URIRef, Row] = {}
    for predicate, obj in sorted(graph.predicate_objects(iri)):
        if predicate in HEADER_PREDICATES:
            continue
        row = rows.setdefault(predicate, Row(label_of(graph, predicate, language, base_iri), str(predicate)))
        row.values.append(value_of(graph, obj, language, base_iri))
    inbound: dict[tuple[Node, URIRef], tuple[Value, Row]] = {}
    for subject, predicate in sorted(graph.subject_predicates(iri)):
        if subject == iri or isinstance(subject, BNode):
            continue
        key = (subject, predicate)
        inbound[key] = (
            value_of(graph, subject, language, base_iri),
            Row(label_of(graph, predicate, language, base_iri), str(predicate)),
        )
    label, label_language = labelled(graph, iri, language, base_iri)
    return ResourceView(
        iri=str(iri),
        label=label,
        label_language=label_language,
        types=[value_of(graph, cls, language, base_iri) for cls in sorted(graph.objects(iri, RDF.type))],
        rows=sorted((_in_language(row, language) for row in rows.values()), key=lambda row: row.label.lower()),
        inbound=sorted(inbound.values(), key=lambda pair: (pair[1].label.lower(), pair[0].text.lower())),
        json_ld=json_ld,
    )


def script_safe(json_text: str) -> str:
    """JSON that can stand inside <script> without ending it."""
    return json.dumps(json.loads(json_text), ensure_ascii=False, indent=1).replace("</", "<\\/")


def _in_language(row: Row, language: str) -> Row:
    """Keep the texts in `language` where the row has them; texts without a language always stay."""
    tagged = [value for value in row.values if value.language]
    if any(value.language == language for value in tagged):
        row.values = [value for value in row.values if value.language in (None, language)]
    return row


def _describe_blank_node(graph: Graph, node: BNode, language: str, base_iri: str) -> str:
    """A blank node's properties in one line, e.g. an unknown time, or a VoID partition."""
    for predicate, obj in graph.predicate_objects(node):
        if str(predicate).endswith(RP_PRECISION_PATH) and str(obj).endswith(UNKNOWN_PRECISION_PATH):
            return label_of(graph, obj, language, base_iri)
    parts = [
        f"{label_of(graph, predicate, language, base_iri)}: {label_of(graph, obj, language, base_iri)}"
        for predicate, obj in sorted(graph.predicate_objects(node))
        if predicate != RDF.type
    ]
    return "; ".join(parts)


@dataclass
class TermView:
    """A class, property or datatype on the ontology's page."""

    name: str
    iri: str
    short: str
    label: str
    comment: str
    relations: list[tuple[str, list[Value]]]


def ontology_sections(graph: Graph, ontology: URIRef, language: str, base_iri: str) -> list[tuple[str, list[TermView]]]:
    """The ontology's terms grouped as classes, properties and datatypes, each sorted by label."""
    sections: dict[str, list[TermView]] = {"classes": [], "properties": [], "datatypes": []}
    for term in graph.subjects(RDFS.isDefinedBy, ontology):
        types = set(graph.objects(term, RDF.type))
        if OWL.Class in types:
            section, relations = "classes", (("subclass_of", RDFS.subClassOf),)
        elif types & {OWL.ObjectProperty, OWL.DatatypeProperty}:
            section = "properties"
            relations = (("subproperty_of", RDFS.subPropertyOf), ("domain", RDFS.domain), ("range", RDFS.range))
        else:
            section, relations = "datatypes", ()
        sections[section].append(TermView(
            name=str(term).rsplit("/", 1)[-1],
            iri=str(term),
            short=shorten_iri(str(term), prefixes_for(base_iri)),
            label=label_of(graph, term, language, base_iri),
            comment=_text_in(graph, term, RDFS.comment, language),
            relations=[(key, [value_of(graph, obj, language, base_iri) for obj in sorted(graph.objects(term, predicate))])
                       for key, predicate in relations],
        ))
    return [(section, sorted(terms, key=lambda term: term.label.lower())) for section, terms in sections.items()]


def _text_in(graph: Graph, node: Node, predicate: URIRef, language: str) -> str:
    texts = list(graph.objects(node, predicate))
    for text in texts:
        if getattr(text, "language", None) == language:
            return str(text)
    return str(texts[0]) if texts else ""
