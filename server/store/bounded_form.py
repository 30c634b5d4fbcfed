"""Queries whose form bounds their cost: one triple pattern, read from the query's tokens.

A query runs in a query runner because nothing else bounds it: its time, its memory, and whether the
engine's parser survives it (a deep enough nesting overflows its stack). A query of this module's forms
needs none of that, so the endpoint may evaluate it in the worker itself (web/sparql.py, "express"):

- `SELECT (* | ?v …) [WHERE] { s p o [.] } [LIMIT n]`, `ASK [WHERE] { s p o [.] }`,
- `CONSTRUCT WHERE { s p o }` and `CONSTRUCT { s p o } [WHERE] { s p o }`, `DESCRIBE <iri>`,

after a prologue of PREFIX and BASE declarations only; the pattern's terms are IRIs, prefixed names of
declared prefixes, variables, `a`, and strings with a language tag or datatype; at least one of them is
not a variable, and no variable is written twice (which would make the engine scan every triple of a
predicate to find the few that repeat). Such a pattern is one range of one of the engine's indexes, read
lazily: its answer is cut at a row limit after as many steps (the caller's row limit). There is nothing
to nest, no FILTER, ORDER, DISTINCT, GROUP, path, subquery, SERVICE, GRAPH, VALUES or FROM: any token
outside these forms makes the query unbounded here, and it goes to a runner as every query did.
"""

from collections.abc import Sequence
from typing import Protocol


class _Token(Protocol):
    kind: str
    value: str


def bounded_by_form(tokens: Sequence[_Token], prefixes: dict[str, str]) -> bool:
    """Whether `tokens` (a query's, after its prologue, whose prefixes are `prefixes`) are of one of the
    forms above."""
    reader = _Reader(tokens, prefixes)
    try:
        return reader.query() and reader.at_end()
    except IndexError:  # the tokens ended inside the form
        return False


class _Reader:
    """A cursor over the tokens, with one method per part of the forms; each says whether the part is
    there and steps over it."""

    def __init__(self, tokens: Sequence[_Token], prefixes: dict[str, str]) -> None:
        self.tokens, self.prefixes, self.at = tokens, prefixes, 0

    def query(self) -> bool:
        form = self._word()
        if form == "SELECT":
            return self._projection() and self._where_pattern() and self._limit()
        if form == "ASK":
            return self._where_pattern()
        if form == "CONSTRUCT":
            if self._word() == "WHERE":
                return self._pattern(bounded=True)
            self.at -= 1
            return self._pattern(bounded=False) and self._where_pattern()
        return form == "DESCRIBE" and self._constant()

    def at_end(self) -> bool:
        return self.at == len(self.tokens)

    def _next(self) -> _Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def _word(self) -> str | None:
        token = self._next()
        return token.value.upper() if token.kind == "word" else None

    def _is(self, value: str) -> bool:
        """Whether the next token is the punctuation `value` (stepped over if it is)."""
        if self.at < len(self.tokens) and self.tokens[self.at].kind == "other" and self.tokens[self.at].value == value:
            self.at += 1
            return True
        return False

    def _projection(self) -> bool:
        if self._is("*"):
            return True
        count = 0
        while self.tokens[self.at].kind == "variable":
            self.at += 1
            count += 1
        return count > 0

    def _where_pattern(self) -> bool:
        if self.tokens[self.at].kind == "word" and self.tokens[self.at].value.upper() == "WHERE":
            self.at += 1
        return self._pattern(bounded=True)

    def _pattern(self, bounded: bool) -> bool:
        """`{ s p o [.] }`; `bounded`: a pattern that is matched (a constant, no variable twice),
        not a template."""
        if not self._is("{"):
            return False
        terms = [self._term(position) for position in ("subject", "predicate", "object")]
        self._is(".")
        if None in terms or not self._is("}"):
            return False
        variables = [term for term in terms if term.startswith(("?", "$"))]
        names = {variable[1:] for variable in variables}
        return not bounded or (len(variables) < 3 and len(names) == len(variables))

    def _term(self, position: str) -> str | None:
        token = self._next()
        if token.kind == "variable":
            return token.value
        if token.kind == "word" and token.value == "a" and position == "predicate":
            return token.value
        if token.kind == "string" and position == "object":
            return token.value if self._annotation() else None
        self.at -= 1
        return token.value if self._constant() else None

    def _constant(self) -> bool:
        """An IRI, or a prefixed name of a declared prefix."""
        token = self._next()
        return token.kind == "iri" or (token.kind == "pname" and token.value.split(":", 1)[0] in self.prefixes)

    def _annotation(self) -> bool:
        """Nothing, a language tag (`@cs`, `@en-GB`) or a datatype (`^^xsd:date`) after a string."""
        if self._is("@"):
            if self._next().kind != "word":
                return False
            while self._is("-"):
                if self._next().kind not in ("word", "other"):
                    return False
            return True
        if self._is("^"):
            return self._is("^") and self._constant()
        return True

    def _limit(self) -> bool:
        if self.at_end():
            return True
        if self._word() != "LIMIT":
            return False
        digits = 0
        while self.at < len(self.tokens) and self.tokens[self.at].value.isdigit():
            self.at += 1
            digits += 1
        return 0 < digits <= 9
