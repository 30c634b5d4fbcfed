"""A Turtle file as a person writes it: text between subjects kept as it is, one block per subject.

`read_blocks` splits a file into its segments: text (the prefix header, banners, blank lines) and
blocks, each a subject's statement with the comment lines right above it. `write_graph` writes a
changed graph back: unchanged blocks byte for byte where they were, changed ones rewritten in the
file's style, new ones in the section of their kind, removed ones gone.
"""

import functools
import re
from dataclasses import dataclass

from rdflib import BNode, Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF

from .turtle_style import Prefixes, description, render_subject

# A line that starts a subject's statement: at column 0, and no comment, directive or blank line.
_SUBJECT_START = re.compile(r"^[^\s#@]")
_PREDICATE_LINE = re.compile(r"^\s{4}(\S+)\s")


@dataclass(frozen=True)
class Block:
    """One subject's statement (`body`), with the comment lines directly above it (`lead`)."""

    subject: URIRef
    lead: str
    body: str

    @property
    def text(self) -> str:
        """The block as it stands in the file."""
        return self.lead + self.body


@dataclass(frozen=True)
class TurtleFile:
    """A file as segments in their order: text (str) and blocks; `header` is the text with its prefixes."""

    segments: list[str | Block]
    header: str

    @property
    def text(self) -> str:
        """The file's text: its segments joined."""
        return "".join(segment if isinstance(segment, str) else segment.text for segment in self.segments)

    @property
    def blocks(self) -> list[Block]:
        """The blocks, in the file's order."""
        return [segment for segment in self.segments if isinstance(segment, Block)]

    def prefixes(self) -> Prefixes:
        """The prefixes the header declares."""
        return Prefixes(parse_turtle(self.header))

    def graph(self) -> Graph:
        """The graph the file states."""
        return parse_turtle(self.text)

    def block_graph(self, block: Block) -> Graph:
        """The triples one block states (read with the header's prefixes); not to be changed (it is kept)."""
        return _parsed_once(self.header + block.body)


def parse_turtle(text: str) -> Graph:
    """Parse Turtle `text` into a graph that keeps the prefixes it declares (and binds no others)."""
    return Graph(bind_namespaces="none").parse(data=text, format="turtle")


@functools.lru_cache(maxsize=1024)
def _parsed_once(text: str) -> Graph:
    """parse_turtle, remembered: an editor's saves compare the same blocks again and again."""
    return parse_turtle(text)


def read_blocks(text: str) -> TurtleFile:
    """Split a Turtle file into text segments and blocks; joined again they are `text`, byte for byte."""
    lines = text.splitlines(keepends=True)
    starts = [number for number, line in enumerate(lines) if _SUBJECT_START.match(line)]
    header_end = _lead_start(lines, starts[0]) if starts else len(lines)
    header = "".join(lines[:header_end])
    segments: list[str | Block] = [header] if header else []
    position = header_end
    for start in starts:
        lead_start = _lead_start(lines, start)
        if lead_start > position:
            segments.append("".join(lines[position:lead_start]))
        end = _body_end(lines, start)
        body = "".join(lines[start:end])
        subject = _first_subject(header + body)
        segments.append(Block(subject, "".join(lines[lead_start:start]), body))
        position = end
    if position < len(lines):
        segments.append("".join(lines[position:]))
    return TurtleFile(segments, header)


def _lead_start(lines: list[str], start: int) -> int:
    """Where the comment lines directly above line `start` begin (`start` when there are none)."""
    while start > 0 and lines[start - 1].startswith("#") and not lines[start - 1].startswith("# ---"):
        start -= 1
    return start


def _body_end(lines: list[str], start: int) -> int:
    """The line after a statement that begins at `start`: its indented continuation lines follow it."""
    end = start + 1
    while end < len(lines) and lines[end][:1] in (" ", "\t") and lines[end].strip():
        end += 1
    return end


def _first_subject(text: str) -> URIRef:
    """The subject a block's statement describes."""
    graph = parse_turtle(text)
    subjects = {subject for subject in graph.subjects() if isinstance(subject, URIRef)}
    if len(subjects) != 1:
        raise ValueError(f"a block must describe one named subject, not {len(subjects)}: {text[-200:]!r}")
    return subjects.pop()


def write_graph(original: TurtleFile, graph: Graph) -> str:
    """The text of `original` changed to state exactly `graph` (see the module's docstring).

    Raises ValueError when the graph cannot be written as blocks (a blank node not below a named subject).
    """
    prefixes = original.prefixes()
    named = sorted({subject for subject in graph.subjects() if isinstance(subject, URIRef)})
    _check_blank_nodes(graph, named)
    written: set[URIRef] = set()
    segments: list[str | Block] = []
    dropped = False  # a removed block leaves no gap: the blank line before (else after) it goes too
    for segment in original.segments:
        if isinstance(segment, str):
            if not (dropped and _is_blank([segment])):
                segments.append(segment)
            dropped = False
            continue
        if segment.subject in written or segment.subject not in named:
            dropped = not _is_blank(segments[-1:])
            if not dropped:
                segments.pop()  # the blank line before the removed block goes with it
            continue
        written.add(segment.subject)
        segments.append(_kept_or_rewritten(original, segment, graph, prefixes))
    if dropped and _is_blank(segments[-1:]):
        segments.pop()
    for subject in named:
        if subject not in written:
            order = _order_of_kind(original, subject, prefixes)
            _insert_new(segments, Block(subject, "", render_subject(graph, subject, prefixes, order)), graph)
    return "".join(segment if isinstance(segment, str) else segment.text for segment in segments)


def _is_blank(segments: list[str | Block]) -> bool:
    """Whether the one segment given is text of blank lines only."""
    return len(segments) == 1 and isinstance(segments[0], str) and segments[0].strip() == ""


def _check_blank_nodes(graph: Graph, named: list[URIRef]) -> None:
    """Every blank node must be written inline, below one named subject."""
    reached = {node for subject in named for node in description(graph, subject).subjects()}
    loose = {subject for subject in graph.subjects() if isinstance(subject, BNode)} - reached
    if loose:
        raise ValueError("a blank node must be the value of a named subject's property")


def _kept_or_rewritten(original: TurtleFile, block: Block, graph: Graph, prefixes: Prefixes) -> Block:
    """`block` itself when the graph says of its subject what it said, else the subject rewritten."""
    new = description(graph, block.subject)
    if isomorphic(original.block_graph(block), new) and _described_once(original, block.subject):
        return block
    return Block(block.subject, block.lead, render_subject(graph, block.subject, prefixes, _predicate_order(block, prefixes)))


def _described_once(original: TurtleFile, subject: URIRef) -> bool:
    return sum(block.subject == subject for block in original.blocks) == 1


def _predicate_order(block: Block, prefixes: Prefixes) -> list[URIRef]:
    """The predicates as the block writes them, in its order (a changed block keeps it)."""
    order = []
    for line in block.body.splitlines()[1:]:
        match = _PREDICATE_LINE.match(line)
        term = prefixes.expand(match.group(1)) if match else None
        if term is not None and term not in order:
            order.append(term)
    return order


def _order_of_kind(original: TurtleFile, subject: URIRef, prefixes: Prefixes) -> list[URIRef]:
    """The predicates in the order the file's last block of the same namespace writes them, so that a
    new event reads as the file's events do (its kind and partnership first, its labels last)."""
    namespace = subject.rsplit("/", 1)[0]
    same = [block for block in original.blocks if block.subject.rsplit("/", 1)[0] == namespace]
    return _predicate_order(same[-1], prefixes) if same else []


def _insert_new(segments: list[str | Block], block: Block, graph: Graph) -> None:
    """Put a new block after the last block of its kind (same namespace, else same class), else at the end."""
    kind = _kind_matchers(block.subject, graph)
    for matches in kind:
        places = [index for index, segment in enumerate(segments) if isinstance(segment, Block) and matches(segment)]
        if places:
            segments[places[-1] + 1:places[-1] + 1] = ["\n", block]
            return
    if segments and not _text_of(segments[-1]).endswith("\n\n"):
        segments.append("\n")
    segments.append(block)


def _kind_matchers(subject: URIRef, graph: Graph) -> list:
    namespace = subject.rsplit("/", 1)[0]
    classes = set(graph.objects(subject, RDF.type))

    def same_namespace(block: Block) -> bool:
        return block.subject.rsplit("/", 1)[0] == namespace

    def same_class(block: Block) -> bool:
        return bool(classes & set(graph.objects(block.subject, RDF.type)))

    return [same_namespace, same_class]


def _text_of(segment: str | Block) -> str:
    return segment if isinstance(segment, str) else segment.text
