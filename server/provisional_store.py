"""The provisional store: the quads a release of the sources will hold, loaded by Oxigraph straight from
the source files, before the release exists (issue 21, target 1).

A release fixes its version by its canonical N-Quads (sorted, written as rdflib writes them, blank nodes
labelled stably: build.py), which costs several times Oxigraph's own load of the files. A server of a
dataset it does not validate (`serve --data` without --shapes) can answer from this store first and
switch to the release once it is written and proven to hold the same quads (provisional_serving.py).

What the release will hold, and how it is made here without writing a line:

- each file in its named graph (dataset.GRAPH_ORDER), a triple two graphs state kept in the first only
  (dataset.one_graph_per_triple), by SPARQL updates over the later graphs;
- IRIs moved from the canonical base (and the dataset's base, settings.base_iri) to the public base as
  text (`<` and the base), before Oxigraph parses the file; an xsd:anyURI literal's text is moved too in
  the release, so a file that may hold one under a base is left to the build (a literal holding `<` and
  a base would be moved: the proof sees it);
- typed literals in the lexical form rdflib reads them in, which the release holds and the store gives
  back (the literals Oxigraph changes, sparql_store.literals_oxigraph_changes), read from the terms of
  the files whose text may hold a literal Oxigraph changes (`written_form_matters`: a time zone, a
  fraction, a derived integer type...), a few at most: parsing every file's terms in Python would
  cost half of Oxigraph's load;
- blank nodes labelled by Oxigraph, not stably: the same quads up to their labels.

Any file the build reads otherwise (not Turtle or N-Triples, not UTF-8, what only rdflib keeps, a file
Oxigraph refuses, what RDF 1.2 adds, which Oxigraph reads and rdflib refuses: a triple term, written or
made by an annotation or a reifier, and a literal's base direction) makes `provisional_load` give None:
the build then reads and refuses as it always did, before anything is served.
"""

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from .config import Settings
from .dataset import GRAPH_ORDER, graph_iri, source_files
from .namespaces import CANONICAL_BASE
from .oxigraph_read import kept_by_rdflib_only, lexical_form
from .rdf_files import SourceFile
from .store.sparql_store import KEPT_AS_WRITTEN, StoredForm

_FORMATS = {".ttl": ox.RdfFormat.TURTLE, ".nt": ox.RdfFormat.N_TRIPLES}
# What stands in for an IRI's base while the IRIs are moved: no text of a file taken here holds it.
_MOVED = b"<\x00"
# What may make a file's typed literal one Oxigraph stores in another form than the release holds it,
# looked for around each `"^^` and each `.` before a digit (found by their text, which `re` looks for
# far faster than a class of characters): a time zone or a fraction at the end of a quoted literal, or
# "1"/"0" (a boolean); a derived integer, decimal, float or duration datatype; a bare decimal or double.
_TYPED = re.compile(rb'"\^\^')
_TYPED_TAIL = re.compile(rb'(?:[:-]\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)|\.\d+|"[01])\Z')
_CHANGED_TYPE = re.compile(rb"\S*?(?:Integer|int|long|short|byte|unsigned[A-Za-z]+|decimal|double|float|[dD]uration)\b")
_FRACTION = re.compile(rb"\.\d+(?:[eE][+-]?\d+)?(?=[\s;,)\]]|\.(?:\s|\Z)|\Z)")
_BARE_NUMBER = re.compile(rb"(?:\A|[\s,(])[+-]?\d*\Z")
# A literal's base direction (RDF 1.2: "…"@en--ltr), which the build refuses (oxigraph_read.py).
_DIRECTION = re.compile(rb"--(?:ltr|rtl)\b")
_REIFIES = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#reifies")
# How far before `"^^` or `.` a literal's or a number's telling part begins.
_LOOK_BACK = 40
# Fewer bytes than a triple takes in any file (88 in the generated Turtle): a store too large for memory is
# known, and given up, after reading about this many bytes per quad allowed (counting the store's quads
# takes a pass over them, so not after every file).
_FEWEST_BYTES_PER_QUAD = 40


@dataclass
class ProvisionalLoad:
    """The store of the sources' quads under `base_iri`, the literals it changes (keyed as
    sparql_store.literals_oxigraph_changes keys them), and the number of its quads."""

    store: ox.Store
    written_literals: dict
    base_iri: str
    quads: int


def provisional_load(settings: Settings, base_iri: str, max_quads: int | None = None) -> ProvisionalLoad | None:
    """The sources of `settings` loaded under `base_iri` as their release will hold them, or None when a
    file is for the build to read (see the module's docstring), or when they are more than `max_quads`
    quads (None: any number), found out soon after that many were read. The release's IRIs are those of the
    files moved from the canonical base to settings.base_iri, and those then to the public base
    (`base_iri`, public_release.py): so either base moves to `base_iri`, the canonical one first."""
    store, read_by_terms = ox.Store(), []
    move = _Move((CANONICAL_BASE, settings.base_iri), base_iri)
    unread = _bytes_between_counts(max_quads)
    for source in source_files(settings):
        data = _loadable(source, move.bases)
        if data is None:
            return None
        unread -= len(data)
        if unread < 0:  # (before this file's load: what was loaded is counted)
            if len(store) > max_quads:
                return None
            unread = _bytes_between_counts(max_quads)
        data = move(data)
        try:
            store.bulk_load(data, _FORMATS[source.path.suffix],
                            base_iri=source.path.absolute().as_uri(), to_graph=ox.NamedNode(graph_iri(base_iri, source.graph)))
        except (SyntaxError, ValueError):  # the build says what is wrong
            return None
        if _has_triple_term(store):
            return None
        if written_form_matters(data):
            read_by_terms.append((source, data))
    _keep_first_graph_only(store, base_iri)
    quads = len(store)
    if max_quads is not None and quads > max_quads:
        return None
    return ProvisionalLoad(store, _written_by_terms(read_by_terms), base_iri, quads)


def _bytes_between_counts(max_quads: int | None) -> float:
    """How many bytes may be read before the store's quads are counted (again) against `max_quads`."""
    return float("inf") if max_quads is None else max(max_quads, 1) * _FEWEST_BYTES_PER_QUAD


class _Move:
    """Moves the IRIs of a file's text written under `bases` (the first that an IRI begins with) to `to`."""

    def __init__(self, bases: tuple[str, ...], to: str) -> None:
        self.bases = [b"<" + base.encode() for base in dict.fromkeys(bases) if base != to]
        self.to = b"<" + to.encode()

    def __call__(self, data: bytes) -> bytes:
        # Each base is first put out of the way, so that no IRI moved under one is moved again under another.
        for base in self.bases:
            data = data.replace(base, _MOVED)
        return data.replace(_MOVED, self.to)


def _loadable(source: SourceFile, bases: list[bytes]) -> bytes | None:
    """The bytes of `source` when Oxigraph reads it as the build would, else None."""
    if source.path.suffix not in _FORMATS:
        return None
    data = source.path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    # (`<<`: a triple term of RDF 1.2, which Oxigraph reads and rdflib refuses; as a base direction.)
    if _MOVED in data or b"<<" in data or _DIRECTION.search(data) or kept_by_rdflib_only(text) or (
            b"anyURI" in data and any(data.count(base[1:]) != data.count(base) for base in bases)):
        return None
    return data


def _has_triple_term(store: ox.Store) -> bool:
    """Whether `store` holds a triple term made without `<<` (by an annotation `{| |}` or a reifier `~`,
    each the object of an rdf:reifies: found by the store's index, not by a pass over its quads)."""
    return any(type(quad.object) is ox.Triple for quad in store.quads_for_pattern(None, _REIFIES, None))


def written_form_matters(data: bytes) -> bool:
    """Whether the Turtle or N-Triples `data` may hold a typed literal whose form in the release differs
    from the form Oxigraph stores it in (a bare double without a fraction, 1e3, is not looked for)."""
    for hit in _TYPED.finditer(data):
        at = hit.start()
        if _TYPED_TAIL.search(data, max(0, at - _LOOK_BACK), at) or _CHANGED_TYPE.match(data, at + 3, at + 3 + _LOOK_BACK * 2):
            return True
    return any(_BARE_NUMBER.search(data, max(0, hit.start() - _LOOK_BACK), hit.start()) for hit in _FRACTION.finditer(data))


def _keep_first_graph_only(store: ox.Store, base_iri: str) -> None:
    """Remove from each graph the triples a graph before it (GRAPH_ORDER) holds: the small graphs are
    walked, the large one (data) is only looked into."""
    names = [f"<{graph_iri(base_iri, graph)}>" for graph in GRAPH_ORDER]
    for later, name in enumerate(names[1:], start=1):
        for earlier in names[:later]:
            walked, probed = (earlier, name) if later == GRAPH_ORDER.index("data") else (name, earlier)
            store.update(f"DELETE {{ GRAPH {name} {{ ?s ?p ?o }} }} WHERE {{ GRAPH {walked} {{ ?s ?p ?o }} "
                         f"GRAPH {probed} {{ ?s ?p ?o }} }}")


def _written_by_terms(sources: Iterable[tuple[SourceFile, bytes]]) -> dict:
    """The typed literals of `sources` whose form in the release differs from their stored form, read
    from the files' own terms."""
    written, stored_form = {}, StoredForm()
    for source, data in sources:
        quads = ox.parse(data, _FORMATS[source.path.suffix],
                         base_iri=source.path.absolute().as_uri())
        for subject, predicate, literal, _ in quads:
            if type(literal) is not ox.Literal or literal.datatype.value in KEPT_AS_WRITTEN or literal.language:
                continue
            released = ox.Literal(lexical_form(literal.value, literal.datatype.value), datatype=literal.datatype)
            stored = stored_form(released)
            if stored != released:
                written[(_key_subject(subject), predicate, stored)] = released
    return written


def _key_subject(subject: ox.NamedNode | ox.BlankNode) -> ox.NamedNode | None:
    return None if type(subject) is ox.BlankNode else subject


@dataclass(frozen=True)
class Proof:
    """Whether two stores hold the same quads, their literals as served: the same quads without blank nodes,
    and isomorphic quads with them (the same once canonically labelled, RDFC-1.0)."""

    held: bool
    quads: tuple[int, int]
    digests: tuple[str, str]

    def describe(self) -> str:
        """One line for the log."""
        verdict = "held the same quads as" if self.held else "did NOT hold the same quads as"
        return (f"the provisional store ({self.quads[0]} quads, digest {self.digests[0][:16]}) {verdict} the release "
                f"({self.quads[1]} quads, digest {self.digests[1][:16]})")


def proof_of(ours: tuple[int, str], theirs: tuple[int, str]) -> Proof:
    """The proof of the digests of the provisional store and of the release (digest_of_store, digest_of_dump)."""
    return Proof(ours == theirs, (ours[0], theirs[0]), (ours[1], theirs[1]))


def digest_of_store(provisional: ProvisionalLoad) -> tuple[int, str]:
    """The count and digest (_digest) of the quads of the provisional store, its literals as written."""
    return _digest(_quads_in(provisional.store, list(provisional.store.named_graphs())), provisional.written_literals)


def digest_of_dump(dump: Path) -> tuple[int, str]:
    """The count and digest (_digest) of the quads of a release's N-Quads `dump` of its data (the sources'
    graphs; its descriptions, the build's own, are files of their own): streamed, so that no store of the
    release is held beside the provisional one, and each literal as written, the form the release gives back."""
    return _digest(ox.parse(path=str(dump), format=ox.RdfFormat.N_QUADS), {})


def _quads_in(store: ox.Store, graphs: list[ox.NamedNode]) -> Iterator[ox.Quad]:
    for graph in graphs:
        yield from store.quads_for_pattern(None, None, None, graph)


def _digest(quads: Iterable[ox.Quad], written: dict) -> tuple[int, str]:
    """The number of `quads` and a digest of them that their order and their blank nodes' labels do not
    change: the sum of each quad's hash (a store, and a dump, holds each once) for those without a blank
    node, and the hash of the others' canonical form (few: 30 000 of 886 000 at 6 000 agreements,
    canonicalised in 0.06 s) beside it. A literal is taken as `written` maps it (keyed as
    sparql_store.literals_oxigraph_changes keys them), else as it is."""
    total, count, with_blank_nodes = 0, 0, ox.Dataset()
    for subject, predicate, obj, graph in quads:
        count += 1
        if type(obj) is ox.Literal:
            obj = written.get((_key_subject(subject), predicate, obj), obj)
        if type(subject) is ox.BlankNode or type(obj) is ox.BlankNode:
            with_blank_nodes.add(ox.Quad(subject, predicate, obj, graph))
            continue
        total += int.from_bytes(hashlib.blake2b(f"{subject} {predicate} {obj} {graph}".encode(), digest_size=16).digest())
    with_blank_nodes.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    canonical = hashlib.blake2b("\n".join(sorted(map(str, with_blank_nodes))).encode(), digest_size=16).hexdigest()
    return count, f"{total % (1 << 128):032x}{canonical}"
