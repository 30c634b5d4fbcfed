"""The bytes of a SPARQL answer, cut at the row limit, written by Oxigraph's own serialisers.

Oxigraph serialises a whole answer only and does not say how many rows it wrote, so an answer is
written into a writer that keeps what it is given and stops the evaluation (by raising) once it
knows enough. No row is read into Python on the way:

- Solutions asked for in JSON or XML are written in that format at once. The writer counts the
  places where a row may end: `},{` in JSON (Oxigraph's compact writer puts it between two rows, and
  a string may hold it too: the count can only be too high) and `<result>` in XML (whose text escapes
  `<`). An answer with no more rows than the limit, so counted, is whole and sent as written. One
  that may have more is closed after the last mark written, read back and cut as below; should that
  not hold more rows than the limit after all (marks in strings), it is evaluated again (`evaluate`).
- Other solutions (and those evaluated again) are written as TSV, a row a line, kept up to the
  limit; Oxigraph reads that TSV and writes the format asked for.
- A graph is written as N-Triples, a triple a line, each line kept once (an engine may yield a
  triple per solution: the record queries of NKOD's LKOD validator and of its harvest repeat each
  one thousands of times, and the limit counts triples, not repetitions) up to the limit. When a
  literal the store changed may be among them (written_literals), the triples are read back and
  given their literals as the release wrote them; then, or for another format, Oxigraph reads the
  lines and writes the format asked for.

`tests/test_store_answer_bytes.py` holds these answers to those of the former way, which read every
triple into Python, byte for byte.
"""

from collections.abc import Callable, Iterable

import pyoxigraph as ox

from .. import expanded_json_ld
from ..formats import JSONLD, rdf_format_of, results_format_of
from ..terms import QuotedTriple
from . import QueryError

TSV = "text/tab-separated-values"
N_TRIPLES = "application/n-triples"
# Where a row of a results format may end, how many rows an answer holds besides (JSON: one more
# than the places between rows), and how a part of an answer cut at the last such place is closed
# (cut before the mark + closing). No mark overlaps itself or another.
_ROW_MARKS = {"application/sparql-results+json": ((b"},{",), 1, 1, b"]}}"),
              "application/sparql-results+xml": ((b"<result>", b"<result/>"), 0, 0, b"</results></sparql>")}


def solutions_bytes(solutions: ox.QuerySolutions, evaluate: Callable[[], ox.QuerySolutions] | None,
                    max_rows: int, media_type: str) -> tuple[bytes, bool]:
    """SELECT results in `media_type`, cut after `max_rows` rows: (body, whether it was cut).
    `evaluate` gives the solutions again, if that may be asked (see the module's docstring)."""
    marks = _ROW_MARKS.get(media_type)
    if marks is None or evaluate is None:
        return _through_tsv(solutions, max_rows, media_type)
    fmt = results_format_of(media_type).oxigraph
    written = _RowCounter(marks[0], marks[1], max_rows + 1)  # (one more row whole tells a cut)
    try:
        solutions.serialize(written, format=fmt)
    except _Enough:
        return _cut(b"".join(written.chunks), media_type, max_rows) or _through_tsv(evaluate(), max_rows, media_type)
    if written.rows <= max_rows:
        return b"".join(written.chunks), False
    return _through_tsv(ox.parse_query_results(b"".join(written.chunks), fmt), max_rows, media_type)


def _cut(written: bytes, media_type: str, max_rows: int) -> tuple[bytes, bool] | None:
    """The answer of which `written` is the beginning, cut after `max_rows` rows, when `written` holds
    more; else None. Closed after its last mark, `written` is read and cut as TSV (as _through_tsv):
    a mark that was in a string leaves that string open, which Oxigraph refuses to read."""
    marks, _, before, closing = _ROW_MARKS[media_type]
    end = max(written.rfind(mark) for mark in marks)
    if end < 0:
        return None
    try:
        solutions = ox.parse_query_results(written[:end + before] + closing, results_format_of(media_type).oxigraph)
        body, truncated = _through_tsv(solutions, max_rows, media_type)
    except Exception:  # noqa: BLE001 - whatever Oxigraph finds wrong with it, the answer is evaluated again
        return None
    return (body, True) if truncated else None


def _through_tsv(solutions: ox.QuerySolutions, max_rows: int, media_type: str) -> tuple[bytes, bool]:
    """The answer written as TSV, cut after `max_rows` rows, then in `media_type`."""
    writer = _LineLimitedWriter(max_rows + 2)  # the header, the rows, and one more to tell a cut
    try:
        solutions.serialize(writer, format=ox.QueryResultsFormat.TSV)
    except _Enough:
        pass
    body, truncated = writer.body(max_rows + 1)
    if media_type == TSV:
        return body, truncated
    solutions = ox.parse_query_results(body, ox.QueryResultsFormat.TSV)
    return solutions.serialize(format=results_format_of(media_type).oxigraph), truncated


def distinct_lines(triples: ox.QueryTriples | Iterable[ox.Triple], max_rows: int) -> list[bytes]:
    """The distinct triples of a graph answer as N-Triples lines (without their newline), in the
    order first given, no more than `max_rows` + 1 (one more tells a cut). Evaluates the query."""
    writer = _DistinctLines(max_rows + 1)
    try:
        if isinstance(triples, ox.QueryTriples):
            triples.serialize(writer, format=ox.RdfFormat.N_TRIPLES)
        else:
            ox.serialize(triples, writer, format=ox.RdfFormat.N_TRIPLES)
    except _Enough:
        pass
    return writer.lines()


def graph_bytes(lines: list[bytes], max_rows: int, media_type: str, changed: dict,
                as_written: Callable[[ox.Triple], ox.Triple]) -> tuple[bytes, bool]:
    """The triples of distinct_lines in `media_type`, cut after `max_rows`: (body, whether it was
    cut). `changed` is the store's written_literals, `as_written` gives a triple its literal as written."""
    truncated, kept = len(lines) > max_rows, lines[:max_rows]
    body = b"\n".join(kept) + b"\n" if kept else b""
    if _may_hold_one_of(body, changed):
        return serialised_graph([as_written(triple) for triple in _read_triples(body)], media_type), truncated
    if media_type == N_TRIPLES:
        return body, truncated
    return serialised_graph(_read_triples(body), media_type), truncated


def serialised_graph(triples: list[ox.Triple], media_type: str) -> bytes:
    """A graph answer in `media_type`. JSON-LD is written by expanded_json_ld (types as "@type"),
    grouped by subject; raises QueryError for a quoted triple, which JSON-LD cannot hold."""
    fmt = rdf_format_of(media_type)
    if fmt is not JSONLD:
        return ox.serialize(triples, format=fmt.oxigraph)
    try:
        return expanded_json_ld.serialised(sorted(triples, key=lambda triple: str(triple.subject)))
    except QuotedTriple as error:
        raise QueryError(str(error)) from error


def _read_triples(body: bytes) -> list[ox.Triple]:
    return [quad.triple for quad in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)]


_MARKERS: dict[int, tuple[dict, tuple[bytes, ...]]] = {}


def _may_hold_one_of(body: bytes, changed: dict) -> bool:
    """Whether N-Triples `body` may hold a literal of `changed` (written_literals, keyed by
    (subject, predicate, stored literal)): whether it has a literal of one of their datatypes."""
    if not changed:
        return False
    known = _MARKERS.get(id(changed))
    if known is None or known[0] is not changed:
        datatypes = {key[2].datatype.value for key in changed}
        known = changed, tuple(f'"^^<{datatype}>'.encode() for datatype in sorted(datatypes))
        _MARKERS.clear()  # (a process serves one release at a time: keep one)
        _MARKERS[id(changed)] = known
    return any(marker in body for marker in known[1])


class _Enough(Exception):
    """The writer has all it wants."""


class _RowCounter:
    """A binary file that keeps what is written to it, and refuses more once it may hold more than
    `max_rows` rows: `extra` rows and one per occurrence of each of `marks`."""

    def __init__(self, marks: tuple[bytes, ...], extra: int, max_rows: int) -> None:
        self.marks, self.rows, self.max_rows = marks, extra, max_rows
        self.chunks: list[bytes] = []
        self.tail, self.kept = b"", max(len(mark) for mark in marks) - 1

    def write(self, data: bytes) -> int:
        if self.rows > self.max_rows:  # (Oxigraph may write again what it was refused)
            raise _Enough()
        data = bytes(data)
        # A mark may begin in the previous chunk; one wholly in its tail was counted with it.
        window = self.tail + data
        self.rows += sum(window.count(mark) - self.tail.count(mark) for mark in self.marks)
        self.tail = window[-self.kept:]
        self.chunks.append(data)
        if self.rows > self.max_rows:
            raise _Enough()
        return len(data)

    def flush(self) -> None:
        """Nothing to flush: everything kept is in memory."""


class _LineLimitedWriter:
    """A binary file that keeps the first `lines` lines written to it, then refuses more."""

    def __init__(self, lines: int) -> None:
        self.missing = lines
        self.chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        newlines = data.count(b"\n")
        if newlines < self.missing:
            self.chunks.append(bytes(data))
            self.missing -= newlines
            return len(data)
        end = -1
        for _ in range(self.missing):
            end = data.index(b"\n", end + 1)
        self.chunks.append(bytes(data[:end + 1]))
        self.missing = 0
        raise _Enough()

    def flush(self) -> None:
        """Nothing to flush: everything kept is in memory."""

    def body(self, lines: int) -> tuple[bytes, bool]:
        """The first `lines` lines kept, and whether more were written."""
        text = b"".join(self.chunks)
        if text.count(b"\n") <= lines:
            return text, False
        return text[:text.rindex(b"\n", 0, len(text) - 1) + 1], True


class _DistinctLines:
    """A binary file that keeps each line written to it once, in the order first written, and
    refuses more once it holds `wanted` lines."""

    def __init__(self, wanted: int) -> None:
        self.wanted = wanted
        self.seen: dict[bytes, None] = {}
        self.rest = b""

    def write(self, data: bytes) -> int:
        if len(self.seen) >= self.wanted:  # (Oxigraph may write again what it was refused)
            raise _Enough()
        data = bytes(data)
        lines = (self.rest + data).split(b"\n")
        self.rest = lines.pop()
        self.seen.update(dict.fromkeys(lines))  # (a line seen before keeps its place)
        if len(self.seen) >= self.wanted:
            raise _Enough()
        return len(data)

    def flush(self) -> None:
        """Nothing to flush: everything kept is in memory."""

    def lines(self) -> list[bytes]:
        """The distinct lines (without their newline), no more than `wanted`. (N-Triples ends every
        line, so nothing is left after the last but when the writer was stopped, with enough.)"""
        return list(self.seen)[:self.wanted]
