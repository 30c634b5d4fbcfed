"""What the descriptions of a release (its VoID and catalogue record) need to know of its data,
gathered from the sorted N-Triples lines of the union of its graphs (the N-Triples dump).

The lines are read as bytes, not parsed into graphs: a release of millions of triples is described
in seconds and in little memory. An N-Triples line as the build writes it is
`subject predicate object .`, single-spaced, and neither a subject nor a predicate holds a space.
"""

from collections import Counter
from dataclasses import dataclass, field

import pyoxigraph as ox
from rdflib import Literal
from rdflib.namespace import RDF, RDFS, TIME

from ..terms import to_rdflib

_TYPE = f"<{RDF.type}>".encode()
_LABEL = f"<{RDFS.label}>".encode()
_DATE = f"<{TIME.inXSDDate}>".encode()
_MONTH = f"<{TIME.inXSDgYearMonth}>".encode()


@dataclass
class DataStatistics:
    """Counts of the data's triples, subjects and objects; its classes and properties (IRI ->
    rdf:type triples naming the class, or triples using the property) and their labels in a
    language; and the dates (xsd:date) and months (xsd:gYearMonth) its times are given as."""

    triples: int
    subjects: set[bytes]  # as written in N-Triples: <iri> or _:label
    distinct_objects: int
    classes: Counter[str]
    properties: Counter[str]
    labels: dict[str, list[Literal]] = field(default_factory=dict)
    dates: list[str] = field(default_factory=list)
    months: list[str] = field(default_factory=list)

    @classmethod
    def of_lines(cls, triple_lines: list[bytes]) -> "DataStatistics":
        """The statistics of sorted, distinct N-Triples lines."""
        subjects: set[bytes] = set()
        objects: set[bytes] = set()
        classes: Counter[str] = Counter()
        properties: Counter[bytes] = Counter()
        dated: list[bytes] = []
        for line in triple_lines:
            subject, predicate, rest = line.split(b" ", 2)
            subjects.add(subject)
            properties[predicate] += 1
            objects.add(rest)
            if predicate == _TYPE and rest.startswith(b"<"):
                classes[_iri(rest)] += 1
            elif predicate in (_DATE, _MONTH):
                dated.append(line)
        statistics = cls(len(triple_lines), subjects, len(objects), classes,
                         Counter({_iri(predicate): count for predicate, count in properties.items()}))
        statistics._read_labels(triple_lines)
        statistics._read_times(dated)
        return statistics

    def describes(self, iri: str) -> bool:
        """Whether `iri` is the subject of a triple."""
        return f"<{iri}>".encode() in self.subjects

    def subjects_under(self, prefix: str) -> int:
        """How many subjects are IRIs that start with `prefix`."""
        start = f"<{prefix}".encode()
        return sum(1 for subject in self.subjects if subject.startswith(start))

    def _read_labels(self, triple_lines: list[bytes]) -> None:
        terms = {f"<{term}>".encode() for term in (*self.classes, *self.properties)}
        lines = [line for line in triple_lines if _LABEL in line and line.split(b" ", 1)[0] in terms]
        for triple in ox.parse(b"".join(lines), format=ox.RdfFormat.N_TRIPLES):
            label = to_rdflib(triple.object)
            if triple.predicate.value == str(RDFS.label) and isinstance(label, Literal) and label.language:
                self.labels.setdefault(triple.subject.value, []).append(label)

    def _read_times(self, dated: list[bytes]) -> None:
        for triple in ox.parse(b"".join(dated), format=ox.RdfFormat.N_TRIPLES):
            (self.dates if triple.predicate.value == str(TIME.inXSDDate) else self.months).append(triple.object.value)


def _iri(term: bytes) -> str:
    """The IRI of a term written <…> (N-Triples escapes none of an IRI's characters as UTF-8 bytes)."""
    return term.decode("utf-8").rstrip(" .\n")[1:-1]
