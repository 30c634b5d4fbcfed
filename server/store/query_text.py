"""What a SPARQL query says, read from its text before anything runs it.

A small lexer (strings, IRIs and comments skipped as the SPARQL grammar defines them) is enough to
know the query's form, the graphs it names (FROM, FROM NAMED), the endpoints it would call
(SERVICE) and how deeply it nests: what the endpoint must refuse or bound. The query itself is
parsed and run by the store's engine.
"""

import re
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import urljoin

import pyoxigraph as ox

from .bounded_form import bounded_by_form

SPARQL_TOKEN = re.compile(
    r'''(?P<string>"""(?:[^"\\]|\\.|"(?!""))*"""|'\'\'(?:[^'\\]|\\.|'(?!''))*'\'\'|"(?:[^"\\\n\r]|\\.)*"|'(?:[^'\\\n\r]|\\.)*')'''
    r'''|(?P<iri><[^<>"{}|^`\\\x00-\x20]*>)'''
    r'''|(?P<comment>\#[^\n\r]*)'''
    r'''|(?P<space>\s+)'''
    r'''|(?P<variable>[?$][\w\u00b7\u0300-\u036f\u203f-\u2040]+)'''
    r'''|(?P<pname>(?:[A-Za-z\u00c0-\uffff][\w.\-\u00b7\u00c0-\uffff]*)?:(?:[\w\u00c0-\uffff:%\\\-.]*[\w\u00c0-\uffff:%\-])?)'''
    r'''|(?P<word>[A-Za-z_][A-Za-z_0-9]*)'''
    r'''|(?P<other>.)''',
    re.S,
)

FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
UPDATES = ("INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH")
OPENING, CLOSING = "{([", "})]"
# Prefix operators: a run of them (`!!!!x`, `^^^^p`, `- - -1`) nests as deeply as brackets do.
PREFIX_OPERATORS = "!^-+"


class UnreadableQuery(ValueError):
    """The text is not a query we can read (e.g. an unterminated string); the message says where,
    as "error at line:column: ...", like the engine's own syntax errors."""


class Token(NamedTuple):
    """A token of the query: its kind (a group of SPARQL_TOKEN), its text, and where it is written."""

    kind: str
    value: str
    start: int
    end: int


@dataclass
class QueryText:
    """A query's text and the facts about it that the endpoint and the stores act on: read once,
    when the request comes in, and handed down with the text to the store that runs it."""

    text: str
    form: str | None                        # SELECT, ASK, CONSTRUCT, DESCRIBE, or None when it is not a query
    update_keyword: str | None = None       # the update operation it starts with, if it is an update
    default_graphs: list[str] = field(default_factory=list)   # FROM
    named_graphs: list[str] = field(default_factory=list)     # FROM NAMED
    services: list[str] = field(default_factory=list)         # SERVICE <iri> (a variable is "?")
    depth: int = 0
    dataset_clauses: list[tuple[int, int]] = field(default_factory=list)   # where each FROM clause is written
    # Where the IRI of each BASE declaration is written, and the absolute base it declares.
    base_declarations: list[tuple[int, int, str]] = field(default_factory=list)
    # Whether its form bounds its cost, so that it may be evaluated outside a runner (bounded_form.py).
    bounded: bool = False

    @property
    def names_a_dataset(self) -> bool:
        """Whether the query has FROM or FROM NAMED clauses."""
        return bool(self.dataset_clauses)


def read_query(text: str, base_iri: str = "") -> QueryText:
    """Read the form, dataset, SERVICE calls and nesting depth of a SPARQL query; its relative IRIs
    are resolved against `base_iri` (then against its BASE)."""
    tokens = _tokens(text)
    prefixes, base, position = _prologue(tokens, base_iri)
    keyword = next((token.value.upper() for token in tokens[position:] if token.kind == "word"), None)
    query = QueryText(
        text,
        form=keyword if keyword in FORMS else None,
        update_keyword=keyword if keyword in UPDATES else None,
        depth=_depth(tokens),
        bounded=keyword in FORMS and bounded_by_form(tokens[position:], prefixes),
    )
    declared_base = base_iri
    for index, (kind, value, start, _) in enumerate(tokens):
        if kind != "word":
            continue
        upper = value.upper()
        if upper == "FROM":
            named = _word_at(tokens, index + 1) == "NAMED"
            target = _iri_at(tokens, index + (2 if named else 1), prefixes, base)
            (query.named_graphs if named else query.default_graphs).append(target or "?")
            query.dataset_clauses.append((start, tokens[min(index + (2 if named else 1), len(tokens) - 1)].end))
        elif upper == "BASE" and index + 1 < len(tokens) and tokens[index + 1].kind == "iri":
            declared = tokens[index + 1]
            declared_base = urljoin(declared_base, declared.value[1:-1])
            query.base_declarations.append((declared.start, declared.end, declared_base))
        elif upper == "SERVICE":
            silent = _word_at(tokens, index + 1) == "SILENT"
            query.services.append(_iri_at(tokens, index + (2 if silent else 1), prefixes, base) or "?")
    return query


def _tokens(text: str) -> list[Token]:
    tokens = []
    for match in SPARQL_TOKEN.finditer(text):
        kind = match.lastgroup
        if kind in ("space", "comment"):
            continue
        if kind == "other" and match.group() in "\"'":
            before = text[: match.start()]
            line, column = before.count("\n") + 1, match.start() - (before.rfind("\n") + 1) + 1
            raise UnreadableQuery(f"error at {line}:{column}: a string is opened here and never closed")
        tokens.append(Token(kind, match.group(), match.start(), match.end()))
    return tokens


def _prologue(tokens: list[Token], base: str) -> tuple[dict[str, str], str, int]:
    """The PREFIX and BASE declarations at the start, and where the query proper begins."""
    prefixes: dict[str, str] = {}
    position = 0
    while position < len(tokens) and tokens[position][0] == "word":
        keyword = tokens[position][1].upper()
        if keyword == "BASE" and position + 1 < len(tokens) and tokens[position + 1][0] == "iri":
            base = urljoin(base, tokens[position + 1][1][1:-1])
            position += 2
        elif keyword == "PREFIX" and position + 2 < len(tokens) and tokens[position + 1][0] == "pname" \
                and tokens[position + 2][0] == "iri":
            prefixes[tokens[position + 1][1].rstrip(":")] = urljoin(base, tokens[position + 2][1][1:-1])
            position += 3
        else:
            break
    return prefixes, base, position


def _word_at(tokens: list[Token], index: int) -> str | None:
    return tokens[index][1].upper() if index < len(tokens) and tokens[index][0] == "word" else None


def _iri_at(tokens: list[Token], index: int, prefixes: dict[str, str], base: str) -> str | None:
    """The IRI written at `index` (as <...> or prefix:local), made absolute; None for anything else."""
    if index >= len(tokens):
        return None
    kind, value, _, _ = tokens[index]
    if kind == "iri":
        return urljoin(base, value[1:-1])
    if kind == "pname":
        prefix, local = value.split(":", 1)
        return prefixes[prefix] + local if prefix in prefixes else None
    return None


def _depth(tokens: list[Token]) -> int:
    """How deeply the query nests: brackets, and runs of prefix operators inside them."""
    depth = deepest = run = 0
    for kind, value, _, _ in tokens:
        if kind == "other" and value in PREFIX_OPERATORS:
            run += 1
            deepest = max(deepest, depth + run)
            continue
        run = 0
        if kind == "other" and value in OPENING:
            depth += 1
            deepest = max(deepest, depth)
        elif kind == "other" and value in CLOSING:
            depth -= 1
    return deepest


def syntax_error(text: str, base_iri: str = "") -> str | None:
    """What Oxigraph's SPARQL parser finds wrong with the query ("error at 1:10: expected …"), or
    None when it parses, or when it calls a SERVICE (not checked then: to parse a query, Oxigraph
    plans and starts it, on an empty store here, and a SERVICE would be called)."""
    try:
        if read_query(text, base_iri).services:
            return None
    except UnreadableQuery as error:
        return str(error)
    try:
        _EMPTY.query(text, base_iri=base_iri or None)
    except SyntaxError as error:
        return str(error)
    except Exception:  # evaluating on no data: nothing a parser objects to
        return None
    return None


_EMPTY = ox.Store()
