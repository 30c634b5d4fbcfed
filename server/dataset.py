"""Load the RDF files of the dataset into named graphs and remember where each subject was written.

The dataset has three named graphs under the base IRI:

    {base}graph/ontology      RDF files directly in ontology_dir
    {base}graph/vocabularies  RDF files directly in ontology_dir/vocabularies/
    {base}graph/data          RDF files anywhere under data_dir (or data_dir itself, if a file),
                              except data_dir/catalogue/

A file is an RDF file when its suffix is one of RDF_FORMATS; anything else (e.g. the source
texts in data/source/) is ignored. The files are written with IRIs under CANONICAL_BASE and are
moved to the configured base IRI while loading. Loading does not validate: see validate.py.

data_dir/catalogue/ holds what catalogues need to know of the dataset (titles, publisher, contact,
themes...). It is not part of the data: the build completes it into the catalogue record
(describe/dcat.py), which describes the dumps and so cannot be inside them.
"""

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple
from xml.sax import SAXParseException

from rdflib import BNode, Dataset, Graph, URIRef
from rdflib.compare import to_canonical_graph
from rdflib.plugins.parsers.notation3 import BadSyntax
from rdflib.term import Node

from .config import Settings
from .namespaces import CANONICAL_BASE, prefixes_for, rebase, rebase_iri

RDF_FORMATS: dict[str, str] = {
    ".ttl": "turtle",
    ".nt": "nt",
    ".jsonld": "json-ld",
    ".rdf": "xml",
    ".owl": "xml",
}

# Formats in which a subject is written at the start of a line, so its line can be found.
_LINE_ORIENTED_FORMATS = {"turtle", "nt"}


class DataFileError(Exception):
    """An RDF file that cannot be read or parsed; line and column are 1-based, None if unknown."""

    def __init__(self, path: Path, line: int | None, column: int | None, message: str) -> None:
        self.path = path
        self.line = line
        self.column = column
        self.message = message
        super().__init__(f"{self.location}: {message}")

    @property
    def location(self) -> str:
        """The place of the error as `path:line:column`, leaving out what is unknown."""
        parts = [display_path(self.path), self.line, self.column if self.line else None]
        return ":".join(str(part) for part in parts if part is not None)


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
    """Where each subject IRI was written: its first location, and every file it is a subject in."""

    locations: dict[URIRef, SourceLocation] = field(default_factory=dict)
    files: dict[URIRef, list[Path]] = field(default_factory=dict)

    def add(self, subject: URIRef, path: Path, line: int | None) -> None:
        """Record that `subject` is a subject in `path`; the first location with a line wins."""
        files = self.files.setdefault(subject, [])
        if path not in files:
            files.append(path)
        known = self.locations.get(subject)
        if known is None or (known.line is None and line is not None):
            self.locations[subject] = SourceLocation(path, line)

    def location_of(self, node: Node) -> SourceLocation | None:
        """Return where `node` first appears as a subject, or None if it never does."""
        return self.locations.get(node) if isinstance(node, URIRef) else None


@dataclass
class LoadedDataset:
    """The loaded named graphs, where their subjects came from, and the prefixes the files declare."""

    dataset: Dataset
    index: SourceIndex
    base_iri: str
    prefixes: dict[str, str] = field(default_factory=dict)

    def union(self) -> Graph:
        """Return a new graph holding the triples of all named graphs, bound to the prefix table."""
        union = bind_prefix_table(Graph(bind_namespaces="none"), self.base_iri)
        for graph in self.dataset.graphs():
            union += graph
        return union


class _SourceFile(NamedTuple):
    graph: str
    path: Path
    key: str  # the path relative to its graph's directory: the same in every checkout


def display_path(path: Path) -> str:
    """Return `path` relative to the working directory when it lies below it, else unchanged."""
    try:
        return str(path.absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def graph_iri(base_iri: str, graph: str) -> URIRef:
    """Return the name of one of the graphs "ontology", "vocabularies" or "data"."""
    return URIRef(f"{base_iri}graph/{graph}")


def load_dataset(settings: Settings) -> LoadedDataset:
    """Load the ontology, vocabulary and data files into named graphs under settings.base_iri.

    Raises FileNotFoundError when ontology_dir or data_dir is missing and DataFileError for a
    file that is not UTF-8 or not valid RDF.
    """
    loaded = LoadedDataset(bind_prefix_table(Dataset(), settings.base_iri), SourceIndex(), settings.base_iri)
    for source in _source_files(settings):
        _load_file(source, loaded)
    return loaded


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
    Raises FileNotFoundError when `root` does not exist.
    """
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise FileNotFoundError(f"no such file or directory: {root}")
    candidates = root.rglob("*") if recursive else root.iterdir()
    return [
        path
        for path in sorted(candidates)
        if path.suffix.lower() in RDF_FORMATS
        and path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(root).parts)
    ]


def bind_prefix_table(graph: Graph, base_iri: str) -> Graph:
    """Bind the prefix table to `graph` (and return it), so that its serialisations use our prefixes."""
    for prefix, namespace in prefixes_for(base_iri).items():
        graph.bind(prefix, namespace, override=True, replace=True)
    return graph


def _source_files(settings: Settings) -> list[_SourceFile]:
    roots = [("ontology", settings.ontology_dir, False)]
    if (settings.ontology_dir / "vocabularies").is_dir():
        roots.append(("vocabularies", settings.ontology_dir / "vocabularies", False))
    roots.append(("data", settings.data_dir, True))
    catalogue = settings.data_dir / CATALOGUE_FOLDER
    return [
        _SourceFile(graph, path, path.name if path == root else path.relative_to(root).as_posix())
        for graph, root, recursive in roots
        for path in find_rdf_files(root, recursive)
        if not path.is_relative_to(catalogue)
    ]


def _load_file(source: _SourceFile, loaded: LoadedDataset) -> None:
    """Parse one file, index its subjects, and add it, rebased, to its named graph."""
    text = _read_utf8(source.path)
    parsed = _parse(source.path, text)
    # Lines are looked up before rebasing, as the text has the canonical IRIs.
    for subject, line in _subject_lines(source, text, parsed).items():
        loaded.index.add(URIRef(rebase_iri(subject, CANONICAL_BASE, loaded.base_iri)), source.path, line)
    rebase(parsed, CANONICAL_BASE, loaded.base_iri)
    for prefix, namespace in parsed.namespaces():
        loaded.prefixes.setdefault(prefix, str(namespace))
    named_graph = loaded.dataset.graph(graph_iri(loaded.base_iri, source.graph))
    named_graph += _with_stable_blank_nodes(parsed, source)


def _parse(path: Path, text: str) -> Graph:
    graph = Graph(bind_namespaces="none")
    try:
        graph.parse(data=text, format=RDF_FORMATS[path.suffix.lower()], publicID=path.absolute().as_uri())
    except Exception as error:  # each parser has its own exceptions; all mean a bad file
        raise _data_file_error(path, error) from error
    return graph


def _subject_lines(source: _SourceFile, text: str, graph: Graph) -> dict[URIRef, int | None]:
    """Find the line on which each subject IRI of the file is written, by a textual heuristic.

    A subject is found on a line that begins (after indentation) with one of its textual forms:
    `<full-iri>` or `prefix:local` for any prefix the file declares. A line where the form starts
    in the first column is preferred, as that is how a subject is written in our files; otherwise
    the first indented one is taken (which may be an object continued on its own line). The line
    is None when no line matches (e.g. an IRI written relative to @base), or for formats other
    than Turtle and N-Triples.
    """
    subjects = {subject for subject in graph.subjects() if isinstance(subject, URIRef)}
    if RDF_FORMATS[source.path.suffix.lower()] not in _LINE_ORIENTED_FORMATS:
        return dict.fromkeys(subjects)
    first_lines = _first_line_of_leading_terms(text)
    prefixes = list(graph.namespaces())
    lines: dict[URIRef, int | None] = {}
    for subject in subjects:
        found = [first_lines[form] for form in _textual_forms(subject, prefixes) if form in first_lines]
        lines[subject] = min(found)[1] if found else None
    return lines


def _first_line_of_leading_terms(text: str) -> dict[str, tuple[bool, int]]:
    """Map each term that begins a line to (is indented, line number) of its best line."""
    first: dict[str, tuple[bool, int]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.lstrip()
        term = stripped.split(maxsplit=1)[0].rstrip(";,.") if stripped else ""
        if term:
            candidate = (stripped != line, number)
            first[term] = min(first.get(term, candidate), candidate)
    return first


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

    stable_graph = Graph(bind_namespaces="none")
    for subject, predicate, obj in to_canonical_graph(graph):
        stable_graph.add((stable(subject), predicate, stable(obj)))
    return stable_graph


def _read_utf8(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line, column = _line_and_column(data[: error.start].decode("utf-8"))
        message = f"not valid UTF-8 (byte 0x{data[error.start]:02x})"
        raise DataFileError(path, line, column, message) from error


def _line_and_column(text_before: str) -> tuple[int, int]:
    """The 1-based line and column of the character that follows `text_before`."""
    line_start = text_before.rfind("\n") + 1
    return text_before.count("\n") + 1, len(text_before) - line_start + 1


def _data_file_error(path: Path, error: Exception) -> DataFileError:
    """Translate a parser's exception into a DataFileError with whatever position it offers."""
    if isinstance(error, BadSyntax):
        # `_i` indexes the parsed text in characters (although `_str` holds it UTF-8 encoded).
        # Both line and column come from it: the parser's own `lines` counter can run ahead.
        text = error._str.decode("utf-8")
        return DataFileError(path, *_line_and_column(text[: error._i]), error._why)
    if isinstance(error, SAXParseException):
        return DataFileError(path, error.getLineNumber(), error.getColumnNumber() + 1, error.getMessage())
    if isinstance(error, json.JSONDecodeError):
        return DataFileError(path, error.lineno, error.colno, error.msg)
    return DataFileError(path, None, None, str(error) or type(error).__name__)
