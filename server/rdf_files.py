"""RDF files: finding them, reading and parsing one, and noting where each subject was written in it.

A file is an RDF file when its suffix is one of RDF_FORMATS; anything else (e.g. the source
texts in data/source/) is ignored. Reading a file (`read_source`) gives its triples as N-Triples
lines, rebased from CANONICAL_BASE to the configured base IRI, with blank nodes labelled stably
(the same file gives the same lines in every build), the line on which each subject is written,
and the prefixes the file declares. Which files form which named graph is dataset.py's business.
"""

import codecs
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from rdflib import BNode, Graph, URIRef
from rdflib.term import Node

from .data_errors import (
    check_iris,
    check_json_ld,
    dangling_link,
    display_path,
    link_loop,
    not_utf8,
    parser_error,
)
from .formats import NTRIPLES, READ_SUFFIXES, TURTLE
from .namespaces import CANONICAL_BASE, rebase, rebase_iri
from .oxigraph_read import read_with_oxigraph
from .stable_blank_nodes import stably_labelled

# The files read as data, by suffix: rdflib's name of their format.
RDF_FORMATS: dict[str, str] = {suffix: fmt.serializer for suffix, fmt in READ_SUFFIXES.items()}

# Formats in which a subject is written at the start of a line, so its line can be found.
_LINE_ORIENTED_FORMATS = {TURTLE.serializer, NTRIPLES.serializer}


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

class SourceFile(NamedTuple):
    """An RDF file to load: the named graph ("data"...) it goes to, and where it is."""

    graph: str
    path: Path
    key: str  # the path relative to its graph's directory: the same in every checkout


def parse_rdf_file(path: Path) -> Graph:
    """Parse one RDF file, its format chosen by suffix, into a new graph bound to its prefixes.

    Raises DataFileError when the file is not UTF-8 or not valid in its format.
    """
    return _parse(path, _read_utf8(path))


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


# What read_source gives of a file: its triples as N-Triples lines, where each subject was written, its prefixes.
SourceRead = tuple[list[bytes], list[tuple[URIRef, int | None, tuple[int, ...]]], list[tuple[str, str]]]


def read_source(base_iri: str, source: SourceFile, locate: bool = True) -> SourceRead:
    """Parse one file: its triples as N-Triples lines (rebased, blank nodes labelled stably), where
    each subject was written (not looked up without `locate`: only validation reports it), and the
    prefixes it declares.

    Turtle and N-Triples are read by Oxigraph's parser, which is fifty times faster than rdflib's,
    into the lines rdflib would write (oxigraph_read.py); a file it cannot read as rdflib would
    (one it refuses, or whose text holds what only rdflib keeps) is read by rdflib, which also says
    what is wrong with a bad file."""
    text = _read_utf8(source.path)
    read = read_with_oxigraph(base_iri, source.path.absolute().as_uri(), text, RDF_FORMATS[source.path.suffix.lower()],
                              subjects=locate)
    if read is not None:
        lines = read.lines + _nt_lines(with_stable_blank_nodes(read.with_blank_nodes, source))
        located = _located(source, text, base_iri, read.subjects, read.prefixes) if locate else []
        return lines, located, _rebased_prefixes(read.prefixes, base_iri)
    return read_source_with_rdflib(base_iri, source, text)


def read_source_with_rdflib(base_iri: str, source: SourceFile, text: str) -> SourceRead:
    """read_source of the file's `text` by rdflib's parser (for any format, and any file)."""
    parsed = _parse(source.path, text)
    prefixes = [(prefix, str(namespace)) for prefix, namespace in parsed.namespaces()]
    located = _located(source, text, base_iri, {subject for subject in parsed.subjects() if isinstance(subject, URIRef)},
                       prefixes)
    rebase(parsed, CANONICAL_BASE, base_iri)
    return _nt_lines(with_stable_blank_nodes(parsed, source)), located, _rebased_prefixes(prefixes, base_iri)


def _nt_lines(graph: Graph) -> list[bytes]:
    """The N-Triples lines (without their line ends) rdflib writes of `graph`."""
    if not len(graph):
        return []
    return [line for line in graph.serialize(format="nt", encoding="utf-8").splitlines() if line.strip()]


def _located(source: SourceFile, text: str, base_iri: str, subjects: set[URIRef],
             prefixes: list[tuple[str, str]]) -> list[tuple[URIRef, int | None, tuple[int, ...]]]:
    """Where each of the file's (canonical) `subjects` was written, each moved to `base_iri`: the
    lines are looked up before rebasing, as the text has the canonical IRIs."""
    return [(URIRef(rebase_iri(subject, CANONICAL_BASE, base_iri)), line, blocks)
            for subject, (line, blocks) in _subject_lines(source, text, subjects, prefixes).items()]


def _rebased_prefixes(prefixes: list[tuple[str, str]], base_iri: str) -> list[tuple[str, str]]:
    """The file's prefixes, those of namespaces under the canonical base moved to `base_iri`."""
    return [(prefix, rebase_iri(namespace, CANONICAL_BASE, base_iri)) for prefix, namespace in prefixes]


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


def _subject_lines(source: SourceFile, text: str, subjects: set[URIRef],
                   prefixes: list[tuple[str, str]]) -> dict[URIRef, tuple[int | None, tuple[int, ...]]]:
    """Find the line on which each subject IRI of the file is written, by a textual heuristic,
    and the lines on which a block about it begins.

    A subject is found on a line that begins (after indentation) with one of its textual forms:
    `<full-iri>` or `prefix:local` for any prefix the file declares. A line where the form starts
    in the first column is preferred, as that is how a subject is written in our files (and such a
    line begins a block); otherwise the first indented one is taken (which may be an object
    continued on its own line). The line is None when no line matches (e.g. an IRI written
    relative to @base), or for formats other than Turtle and N-Triples.
    """
    if RDF_FORMATS[source.path.suffix.lower()] not in _LINE_ORIENTED_FORMATS:
        return dict.fromkeys(subjects, (None, ()))
    leading_terms = _lines_of_leading_terms(text)
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


def _textual_forms(iri: URIRef, prefixes: list[tuple[str, str]]) -> list[str]:
    text = str(iri)  # str's startswith: URIRef's is many times slower, and this runs for every subject
    prefixed = [f"{prefix}:{text[len(ns):]}" for prefix, ns in prefixes if text.startswith(ns)]
    return [f"<{text}>", *prefixed]


def with_stable_blank_nodes(graph: Graph, source: SourceFile) -> Graph:
    """Return a copy of `graph` whose blank node labels depend only on its content and file
    (stable_blank_nodes.py)."""
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
    stable_graph.addN((*triple, stable_graph) for triple in stably_labelled(with_blank_nodes,
                                                                             f"{source.graph}/{source.key}"))
    return stable_graph


def _read_utf8(path: Path) -> str:
    """The text of `path`, without the byte order mark (BOM) a Windows editor may begin it with."""
    data = path.read_bytes().removeprefix(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise not_utf8(path, data, error) from error
