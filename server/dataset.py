"""Load the RDF files of the dataset into named graphs and remember where each subject was written.

The dataset has four named graphs under the base IRI:

    {base}graph/ontology      RDF files directly in ontology_dir
    {base}graph/vocabularies  RDF files directly in ontology_dir/vocabularies/
    {base}graph/data          RDF files anywhere under data_dir (or data_dir itself, if a file),
                              except data_dir/catalogue/ and data_dir/authorities/
    {base}graph/authorities   RDF files anywhere under data_dir/authorities/: the facts of public
                              registers (their entries, and the links and codes that identify our
                              resources in them), kept apart from the page's facts in graph/data so
                              that each graph's provenance can be said of the graph

The graphs share no triple: a triple that files of two graphs state is kept in the first of them in
the order above (GRAPH_ORDER). A SPARQL store's default graph, the union of the named graphs, must be
their RDF merge, a set; engines that do not merge (Oxigraph 0.5, Virtuoso) would return such a
triple once per graph, so the release never gives them one (see one_graph_per_triple).

A file is an RDF file when its suffix is one of RDF_FORMATS; anything else (e.g. the source
texts in data/source/) is ignored. The files are written with IRIs under CANONICAL_BASE and are
moved to the configured base IRI while loading. Loading does not validate: see validate.py.

data_dir/catalogue/ holds what catalogues need to know of the dataset (titles, publisher, contact,
themes...). It is not part of the data: the build completes it into the catalogue record
(describe/dcat.py), which describes the dumps and so cannot be inside them.
"""

import codecs
import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

import pyoxigraph as ox
from rdflib import BNode, Dataset, Graph, URIRef
from rdflib.compare import to_canonical_graph
from rdflib.term import Node

from .config import Settings
from .data_errors import (
    DataFileError,  # noqa: F401 (what loading raises; imported from here)
    check_iris,
    check_json_ld,
    dangling_link,
    display_path,
    link_loop,
    not_utf8,
    parser_error,
)
from .namespaces import CANONICAL_BASE, prefixes_for, rebase, rebase_iri
from .pool import map_in_forked_pool
from .terms import to_rdflib

RDF_FORMATS: dict[str, str] = {
    ".ttl": "turtle",
    ".nt": "nt",
    ".jsonld": "json-ld",
    ".rdf": "xml",
    ".owl": "xml",
}

# Formats in which a subject is written at the start of a line, so its line can be found.
_LINE_ORIENTED_FORMATS = {"turtle", "nt"}


@dataclass(frozen=True)
class SourceLocation:
    """A place in a source file; `line` is 1-based, or None when the format does not tell."""

    path: Path
    line: int | None

    def __str__(self) -> str:
        if self.line is None:
            return display_path(self.path)
        return f"{display_path(self.path)}:{self.line}"


@dataclass
class SourceIndex:
    """Where each subject IRI was written: its first location, every file it is a subject in, and
    every line where a block about it begins (a line starting with it, not indented)."""

    locations: dict[URIRef, SourceLocation] = field(default_factory=dict)
    files: dict[URIRef, list[Path]] = field(default_factory=dict)
    blocks: dict[URIRef, list[SourceLocation]] = field(default_factory=dict)
    graphs: dict[Path, str] = field(default_factory=dict)  # the named graph ("data"...) of each file

    def add(self, subject: URIRef, path: Path, line: int | None, block_lines: tuple[int, ...] = (),
            graph: str = "data") -> None:
        """Record that `subject` is a subject in `path`, a file of `graph`; the first location with a line wins."""
        self.graphs[path] = graph
        files = self.files.setdefault(subject, [])
        if path not in files:
            files.append(path)
        known = self.locations.get(subject)
        if known is None or (known.line is None and line is not None):
            self.locations[subject] = SourceLocation(path, line)
        self.blocks.setdefault(subject, []).extend(SourceLocation(path, block) for block in block_lines)

    def location_of(self, node: Node) -> SourceLocation | None:
        """Return where `node` first appears as a subject, or None if it never does."""
        return self.locations.get(node) if isinstance(node, URIRef) else None


@dataclass
class LoadedDataset:
    """The dataset as N-Quads lines, where its subjects came from, and the prefixes the files declare.

    `quad_lines` are sorted and distinct, each ending in a newline, with blank nodes labelled
    stably: they are the N-Quads dump. The rdflib graphs of it (`dataset`, `union()`) are made only
    when asked for: validation needs them, but a release of millions of triples built without
    shapes does not, and rdflib would hold such a graph in many gigabytes.
    """

    quad_lines: list[bytes]
    index: SourceIndex
    base_iri: str
    prefixes: dict[str, str] = field(default_factory=dict)

    @cached_property
    def dataset(self) -> Dataset:
        """The named graphs as an rdflib Dataset, bound to the prefix table (made on first use)."""
        dataset = bind_prefix_table(Dataset(), self.base_iri)
        graphs: dict[ox.NamedNode, Graph] = {}
        for quad in ox.parse(b"".join(self.quad_lines), format=ox.RdfFormat.N_QUADS):
            if quad.graph_name not in graphs:
                graphs[quad.graph_name] = dataset.graph(to_rdflib(quad.graph_name))
            graphs[quad.graph_name].add((to_rdflib(quad.subject), to_rdflib(quad.predicate), to_rdflib(quad.object)))
        return dataset

    def union(self) -> Graph:
        """Return a new graph holding the triples of all named graphs, bound to the prefix table."""
        union = bind_prefix_table(Graph(bind_namespaces="none"), self.base_iri)
        for graph in self.dataset.graphs():
            union += graph
        return union

    def triple_lines(self) -> list[bytes]:
        """The union of the named graphs as sorted, distinct N-Triples lines: the N-Triples dump."""
        return sorted({_without_graph(line) for line in self.quad_lines})

    def graph_sizes(self) -> dict[str, int]:
        """{named graph IRI: triples in it}, for the graphs that hold any."""
        return dict(Counter(_graph_of_line(line) for line in self.quad_lines))


def _graph_of_line(quad_line: bytes) -> str:
    """The graph IRI of an N-Quads line (the last term: an IRI holds neither a space nor a '<')."""
    return quad_line[quad_line.rindex(b" <") + 2:quad_line.rindex(b">")].decode("utf-8")


def _without_graph(quad_line: bytes) -> bytes:
    """An N-Quads line as the N-Triples line of its triple."""
    return quad_line[:quad_line.rindex(b" <")] + b" .\n"


class _SourceFile(NamedTuple):
    graph: str
    path: Path
    key: str  # the path relative to its graph's directory: the same in every checkout


def graph_iri(base_iri: str, graph: str) -> URIRef:
    """Return the name of one of the graphs "ontology", "vocabularies", "data" or "authorities", or of
    those the server loads a release's VoID ("description") and catalogue record ("catalogue") into."""
    return URIRef(f"{base_iri}graph/{graph}")


# Times are shared: each file describes the times it uses (the same description in each).
TIME_PATH = "id/time/"
# The folder of data_dir whose files go to the authorities graph, not the data graph; those files
# identify resources described elsewhere (see described_more_than_once).
AUTHORITIES_FOLDER = "authorities"
AUTHORITIES_GRAPH = "authorities"


def described_more_than_once(loaded: LoadedDataset) -> dict[URIRef, list[SourceLocation]]:
    """Our IRIs (under the base IRI) whose description begins in more than one block, with every
    place one begins: an IRI minted twice for two things, or one thing described in two places.

    A time (id/time/...) may begin one block in each file, as every file describes the times it uses.
    A file of the authorities graph may begin one block about any IRI: there each register's file
    identifies our resources in that register (data/authorities/wikidata.ttl says which Wikidata item
    the Liberec Region is), which is not a second description of them.
    """
    return {subject: blocks for subject, blocks in loaded.index.blocks.items()
            if subject.startswith(loaded.base_iri) and _described_twice(subject, blocks, loaded)}


def _described_twice(subject: URIRef, blocks: list[SourceLocation], loaded: LoadedDataset) -> bool:
    """True when `blocks` begin more descriptions of `subject` than described_more_than_once allows."""
    if subject.startswith(loaded.base_iri + TIME_PATH):
        return _most_in_one_file(blocks) > 1
    identifying = [block for block in blocks if loaded.index.graphs.get(block.path) == AUTHORITIES_GRAPH]
    described = [block for block in blocks if block not in identifying]
    return len(described) > 1 or _most_in_one_file(identifying) > 1


def _most_in_one_file(blocks: list[SourceLocation]) -> int:
    """The largest number of `blocks` that begin in one file."""
    return max(Counter(block.path for block in blocks).values(), default=0)


def load_dataset(settings: Settings) -> LoadedDataset:
    """Load the ontology, vocabulary and data files into named graphs under settings.base_iri.

    Up to settings.build_jobs processes read the files at once.
    Raises FileNotFoundError when ontology_dir or data_dir is missing and DataFileError for a
    file that is not UTF-8 or not valid RDF.
    """
    loaded = LoadedDataset([], SourceIndex(), settings.base_iri)
    sources = _source_files(settings)
    lines: set[bytes] = set()
    for source, (quad_lines, subjects, prefixes) in zip(
            sources, map_in_forked_pool(_read_file, sources, settings.build_jobs, settings.base_iri), strict=True):
        lines.update(quad_lines)
        for subject, line, blocks in subjects:
            loaded.index.add(subject, source.path, line, blocks, source.graph)
        for prefix, namespace in prefixes:
            loaded.prefixes.setdefault(prefix, namespace)
    loaded.quad_lines = one_graph_per_triple(sorted(lines), [str(graph_iri(settings.base_iri, graph))
                                                             for graph in GRAPH_ORDER])
    return loaded


# The named graphs of the loaded files, in the order in which a triple that two of them state is kept.
GRAPH_ORDER = ("ontology", "vocabularies", "data", AUTHORITIES_GRAPH)


def one_graph_per_triple(sorted_lines: list[bytes], graph_order: list[str]) -> list[bytes]:
    """`sorted_lines` (distinct N-Quads lines) with each triple in one graph only: the first of
    `graph_order` that holds it.

    Sorted, the lines of one triple are neighbours: a triple's text is followed by a space and its
    graph, and a space sorts before every character that can continue another term.
    """
    rank = {graph: position for position, graph in enumerate(graph_order)}

    def place(line: bytes) -> int:
        return rank.get(_graph_of_line(line), len(rank))

    kept: list[bytes] = []
    for line in sorted_lines:
        if kept and _without_graph(kept[-1]) == _without_graph(line):
            if place(line) < place(kept[-1]):
                kept[-1] = line
            continue
        kept.append(line)
    return kept


def parse_rdf_file(path: Path) -> Graph:
    """Parse one RDF file, its format chosen by suffix, into a new graph bound to its prefixes.

    Raises DataFileError when the file is not UTF-8 or not valid in its format.
    """
    return _parse(path, _read_utf8(path))


CATALOGUE_FOLDER = "catalogue"


def load_catalogue_metadata(settings: Settings) -> Graph:
    """The catalogue metadata written in data_dir/catalogue/ (empty if there is none), rebased."""
    metadata = bind_prefix_table(Graph(bind_namespaces="none"), settings.base_iri)
    folder = settings.data_dir / CATALOGUE_FOLDER
    if settings.data_dir.is_dir() and folder.is_dir():
        for path in find_rdf_files(folder):
            metadata += parse_rdf_file(path)
    return rebase(metadata, CANONICAL_BASE, settings.base_iri)


def find_rdf_files(root: Path, recursive: bool = True) -> list[Path]:
    """Return `root` if it is a file, else the RDF files in it, sorted, skipping hidden ones.

    Hidden files and directories (".#x.ttl", ".git/") are editors' and tools' business, not data.
    A linked folder is read like any other. Nothing that may be data is left out unsaid: a link
    to nothing (its target deleted, or on a disk not mounted) or a folder link that leads back
    to a folder above it raises DataFileError.
    Raises FileNotFoundError when `root` does not exist.
    """
    _check_not_dangling(root)
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise FileNotFoundError(f"no such file or directory: {root}")
    return list(_walk(root, recursive, (root.resolve(),)))


def _walk(folder: Path, recursive: bool, above: tuple[Path, ...]) -> Iterator[Path]:
    """The RDF files in `folder` and, if `recursive`, below it, in sorted order; `above` are the
    real paths of the folders walked down to it (Path.rglob does not follow folder links)."""
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        _check_not_dangling(path)
        if path.is_dir():
            if recursive:
                yield from _walk(path, recursive, (*above, _not_above(path, above)))
        elif path.suffix.lower() in RDF_FORMATS and path.is_file():
            yield path


def _check_not_dangling(path: Path) -> None:
    """Raise DataFileError when `path` is a link to nothing."""
    if path.is_symlink() and not path.exists():
        raise dangling_link(path)


def _not_above(folder: Path, above: tuple[Path, ...]) -> Path:
    """The real path of `folder`; DataFileError if it is one of `above` (a link leading back up)."""
    real = folder.resolve()
    if real in above:
        raise link_loop(folder, real)
    return real


def bind_prefix_table(graph: Graph, base_iri: str) -> Graph:
    """Bind the prefix table to `graph` (and return it), so that its serialisations use our prefixes."""
    for prefix, namespace in prefixes_for(base_iri).items():
        graph.bind(prefix, namespace, override=True, replace=True)
    return graph


def _source_files(settings: Settings) -> list[_SourceFile]:
    """The RDF files to load, each with its named graph, in the order of GRAPH_ORDER."""
    roots = [("ontology", settings.ontology_dir, False)]
    if (settings.ontology_dir / "vocabularies").is_dir():
        roots.append(("vocabularies", settings.ontology_dir / "vocabularies", False))
    roots.append(("data", settings.data_dir, True))
    authorities = settings.data_dir / AUTHORITIES_FOLDER
    if settings.data_dir.is_dir() and authorities.is_dir():
        roots.append((AUTHORITIES_GRAPH, authorities, True))
    catalogue = settings.data_dir / CATALOGUE_FOLDER
    return [
        _SourceFile(graph, path, path.name if path == root else path.relative_to(root).as_posix())
        for graph, root, recursive in roots
        for path in find_rdf_files(root, recursive)
        if not path.is_relative_to(catalogue) and (graph == AUTHORITIES_GRAPH or not path.is_relative_to(authorities))
    ]


def _read_file(base_iri: str, source: _SourceFile) -> tuple[list[bytes], list[tuple[URIRef, int | None, tuple[int, ...]]],
                                                          list[tuple[str, str]]]:
    """Parse one file: its triples as N-Quads lines in its named graph (rebased, blank nodes labelled
    stably), where each subject was written, and the prefixes it declares."""
    text = _read_utf8(source.path)
    parsed = _parse(source.path, text)
    # Lines are looked up before rebasing, as the text has the canonical IRIs.
    subjects = [(URIRef(rebase_iri(subject, CANONICAL_BASE, base_iri)), line, blocks)
                for subject, (line, blocks) in _subject_lines(source, text, parsed).items()]
    rebase(parsed, CANONICAL_BASE, base_iri)
    prefixes = [(prefix, str(namespace)) for prefix, namespace in parsed.namespaces()]
    graph = b" <" + graph_iri(base_iri, source.graph).encode("utf-8") + b"> .\n"
    triples = _with_stable_blank_nodes(parsed, source).serialize(format="nt", encoding="utf-8")
    # An N-Triples line ends in " .": the graph goes before the full stop.
    return [line[:-2] + graph for line in triples.splitlines() if line.strip()], subjects, prefixes


def _parse(path: Path, text: str) -> Graph:
    """Parse the text of `path` in its format; DataFileError when it is not RDF, or has an IRI
    that is none (which rdflib reads, but cannot write or, in JSON-LD, drops)."""
    rdf_format = RDF_FORMATS[path.suffix.lower()]
    graph = Graph(bind_namespaces="none")
    try:
        graph.parse(data=text, format=rdf_format, publicID=path.absolute().as_uri())
    except Exception as error:  # each parser has its own exceptions; all mean a bad file
        raise parser_error(path, rdf_format, text, error) from error
    if rdf_format == "json-ld":
        check_json_ld(path, text)
    check_iris(path, rdf_format, text, graph)
    return graph


def _subject_lines(source: _SourceFile, text: str, graph: Graph) -> dict[URIRef, tuple[int | None, tuple[int, ...]]]:
    """Find the line on which each subject IRI of the file is written, by a textual heuristic,
    and the lines on which a block about it begins.

    A subject is found on a line that begins (after indentation) with one of its textual forms:
    `<full-iri>` or `prefix:local` for any prefix the file declares. A line where the form starts
    in the first column is preferred, as that is how a subject is written in our files (and such a
    line begins a block); otherwise the first indented one is taken (which may be an object
    continued on its own line). The line is None when no line matches (e.g. an IRI written
    relative to @base), or for formats other than Turtle and N-Triples.
    """
    subjects = {subject for subject in graph.subjects() if isinstance(subject, URIRef)}
    if RDF_FORMATS[source.path.suffix.lower()] not in _LINE_ORIENTED_FORMATS:
        return dict.fromkeys(subjects, (None, ()))
    leading_terms = _lines_of_leading_terms(text)
    prefixes = list(graph.namespaces())
    lines: dict[URIRef, tuple[int | None, tuple[int, ...]]] = {}
    for subject in subjects:
        found = sorted(found for form in _textual_forms(subject, prefixes) for found in leading_terms.get(form, []))
        blocks = tuple(sorted(line for indented, line in found if not indented))
        lines[subject] = (found[0][1] if found else None, blocks)
    return lines


def _lines_of_leading_terms(text: str) -> dict[str, list[tuple[bool, int]]]:
    """Map each term that begins a line to the (is indented, line number) of every such line."""
    lines: dict[str, list[tuple[bool, int]]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.lstrip()
        term = stripped.split(maxsplit=1)[0].rstrip(";,.") if stripped else ""
        if term:
            lines.setdefault(term, []).append((stripped != line, number))
    return lines


def _textual_forms(iri: URIRef, prefixes: list[tuple[str, URIRef]]) -> list[str]:
    prefixed = [f"{prefix}:{iri[len(ns):]}" for prefix, ns in prefixes if iri.startswith(ns)]
    return [f"<{iri}>", *prefixed]


def _with_stable_blank_nodes(graph: Graph, source: _SourceFile) -> Graph:
    """Return a copy of `graph` whose blank node labels depend only on its content and file.

    rdflib labels blank nodes at random, which would make every build's N-Quads (and so its
    version hash) different. The canonical labels depend only on the triples around each blank
    node; mixing in the file's graph and path keeps equal-looking blank nodes of two files apart.
    """
    def stable(term: Node) -> Node:
        if not isinstance(term, BNode):
            return term
        digest = hashlib.sha256(f"{source.graph}/{source.key}\n{term}".encode()).hexdigest()
        return BNode("b" + digest[:24])  # a letter first, as RDF/XML's rdf:nodeID must be an NCName

    # Only the triples that hold blank nodes are labelled canonically (the other triples do not
    # change the labels, and canonicalising a whole file took most of the time to load it).
    with_blank_nodes, without = Graph(bind_namespaces="none"), []
    for triple in graph:
        if isinstance(triple[0], BNode) or isinstance(triple[2], BNode):
            with_blank_nodes.add(triple)
        else:
            without.append(triple)
    if not with_blank_nodes:
        return graph
    stable_graph = Graph(bind_namespaces="none")
    stable_graph.addN((*triple, stable_graph) for triple in without)
    stable_graph.addN((stable(subject), predicate, stable(obj), stable_graph)
                      for subject, predicate, obj in to_canonical_graph(with_blank_nodes))
    return stable_graph


def _read_utf8(path: Path) -> str:
    """The text of `path`, without the byte order mark (BOM) a Windows editor may begin it with."""
    data = path.read_bytes().removeprefix(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise not_utf8(path, data, error) from error
