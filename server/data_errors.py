"""What is wrong in a data file, where, and what to do: DataFileError and the messages the office reads.

Each parser reports a bad file its own way, some with a position and some without; `parser_error`
turns any of them into a DataFileError with the position where one can be had (Oxigraph, a strict
parser that tells line and column, is asked where rdflib does not say). rdflib also reads IRIs that
are not IRIs, and then fails to write them, or drops them without a word (JSON-LD): `check_iris`
and `check_json_ld` find those. Every message says, in English and Czech, what is wrong and
what to do, and is printed as one line.
"""

import difflib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple
from xml.sax import SAXParseException
from xml.sax.saxutils import escape

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.plugins.parsers.notation3 import BadSyntax

from .formats import NTRIPLES, TURTLE
from .namespaces import PREFIXES

# What kind of problem a DataFileError is, as its one-line report names it.
SYNTAX_ERROR = {"en": "syntax error", "cs": "chyba zápisu"}
MISSING_FILE = {"en": "missing file", "cs": "chybějící soubor"}
LINK_LOOP = {"en": "link loop", "cs": "zacyklený odkaz"}


class DataFileError(Exception):
    """An RDF file that cannot be read or parsed; line and column are 1-based, None if unknown.

    `explanation` says, by language ("en", "cs"), what is wrong and what to do; `message` is the
    English one. `label` names the kind of problem (SYNTAX_ERROR, MISSING_FILE, LINK_LOOP) by language.
    """

    def __init__(self, path: Path, line: int | None, column: int | None, explanation: dict[str, str],
                 label: dict[str, str] = SYNTAX_ERROR) -> None:
        self.path = path
        self.line = line
        self.column = column
        self.explanation = explanation
        self.label = label
        self.message = explanation["en"]
        super().__init__(f"{self.location}: {self.message}")

    def __reduce__(self):
        # Files are read by a pool of processes, which hands the error back pickled.
        return DataFileError, (self.path, self.line, self.column, self.explanation, self.label)

    @property
    def location(self) -> str:
        """The place of the error as `path:line:column`, leaving out what is unknown."""
        parts = [display_path(self.path), self.line, self.column if self.line else None]
        return ":".join(str(part) for part in parts if part is not None)

    def describe(self, lang: str = "en") -> str:
        """The error as one line for the office: `path:line:column: syntax error: what; what to do`."""
        label = self.label.get(lang, self.label["en"])
        # A parser's message may quote the file across a line break; the report stays one line.
        return " ".join(f"{self.location}: {label}: {self.explanation.get(lang, self.message)}".split("\n"))


def display_path(path: Path) -> str:
    """Return `path` relative to the working directory when it lies below it, else unchanged."""
    try:
        return str(path.absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def line_and_column(text_before: str) -> tuple[int, int]:
    """The 1-based line and column of the character that follows `text_before`."""
    line_start = text_before.rfind("\n") + 1
    return text_before.count("\n") + 1, len(text_before) - line_start + 1


# --- files that are not there, or not text ------------------------------------------------------


def not_utf8(path: Path, data: bytes, error: UnicodeDecodeError) -> DataFileError:
    """The error of a file (`data`, read as UTF-8 after any BOM) that is not UTF-8."""
    line, column = line_and_column(data[:error.start].decode("utf-8"))
    byte = f"0x{data[error.start]:02x}"
    return DataFileError(path, line, column, {
        "en": f"not valid UTF-8 (byte {byte}). Save the file in the UTF-8 encoding (in the editor: Save as… → UTF-8).",
        "cs": f"soubor není v kódování UTF-8 (bajt {byte}). Uložte jej v kódování UTF-8 (v editoru: Uložit jako… → UTF-8).",
    })


def dangling_link(link: Path) -> DataFileError:
    """The error of a link whose target does not exist: data meant to be published is missing."""
    target = os.readlink(link)
    return DataFileError(link, None, None, {
        "en": f"this is a link to {target}, which does not exist. Restore that file (or correct the link), "
              "or delete the link if its data is no longer to be published.",
        "cs": f"toto je odkaz na {target}, který neexistuje. Obnovte ten soubor (nebo odkaz opravte), "
              "nebo odkaz smažte, pokud se jeho data už nemají zveřejnit.",
    }, MISSING_FILE)


def link_loop(link: Path, folder: Path) -> DataFileError:
    """The error of a folder link that leads back to `folder`, a folder that holds it."""
    return DataFileError(link, None, None, {
        "en": f"this link leads back to the folder {folder}, which holds it, so its files would be read "
              "without end. Delete the link.",
        "cs": f"tento odkaz vede zpět do složky {folder}, ve které sám je, takže by se její soubory četly "
              "donekonečna. Odkaz smažte.",
    }, LINK_LOOP)


# --- what a parser said ---------------------------------------------------------------------------


def parser_error(path: Path, rdf_format: str, text: str, error: Exception) -> DataFileError:
    """Translate the exception of rdflib's parser of `rdf_format` into a DataFileError with whatever
    position it offers, or else with the one Oxigraph gives (Turtle, N-Triples)."""
    if isinstance(error, BadSyntax):
        # `_i` indexes the parsed text in characters (although `_str` holds it UTF-8 encoded).
        # Both line and column come from it: the parser's own `lines` counter can run ahead.
        parsed = error._str.decode("utf-8")
        return DataFileError(path, *line_and_column(parsed[:error._i]), _explain_turtle_error(error._why, parsed))
    if isinstance(error, SAXParseException):
        return DataFileError(path, error.getLineNumber(), error.getColumnNumber() + 1, _explain(error.getMessage()))
    if isinstance(error, json.JSONDecodeError):
        return DataFileError(path, error.lineno, error.colno, _explain(error.msg))
    strict = _strict_syntax_error(path, rdf_format, text)
    if strict is None:
        return DataFileError(path, None, None, _explain(str(error) or type(error).__name__))
    written = _bad_iri_written(strict, text)
    if written is not None:
        return DataFileError(path, strict.line, strict.column, _explain_bad_iri(written))
    explain = _explain_ntriples_error if rdf_format == "nt" else _explain_turtle_error
    return DataFileError(path, strict.line, strict.column, explain(strict.message, text))


class _StrictError(NamedTuple):
    """Oxigraph's first error in a file: where (`end_column` None when it is on another line), and what."""

    line: int
    column: int
    end_column: int | None
    message: str


_OXIGRAPH_FORMATS = {fmt.serializer: fmt.oxigraph for fmt in (TURTLE, NTRIPLES)}
# The position Oxigraph writes around its message; the report gives it its own way.
_OXIGRAPH_POSITION = re.compile(r"^Parser error (?:at line \d+ (?:between columns \d+ and \d+|column \d+)"
                                r"|between line \d+ column \d+ and line \d+ column \d+): | \(line \d+\)$")


def _strict_syntax_error(path: Path, rdf_format: str, text: str) -> _StrictError | None:
    """Where Oxigraph first finds `text` wrong, and what it says; None when it reads the text, or
    does not read `rdf_format`."""
    oxigraph_format = _OXIGRAPH_FORMATS.get(rdf_format)
    if oxigraph_format is None:
        return None
    try:
        for _ in ox.parse(text.encode("utf-8"), format=oxigraph_format, base_iri=path.absolute().as_uri()):
            pass
    except SyntaxError as error:
        if error.lineno is None or error.offset is None:
            return None
        end_column = error.end_offset if error.end_lineno == error.lineno else None
        return _StrictError(error.lineno, error.offset, end_column, _OXIGRAPH_POSITION.sub("", error.msg))
    return None


# rdflib's words for a prefixed name whose prefix the file never declared.
_UNBOUND_PREFIX = re.compile(r'Prefix "([^"]*):" not bound')
_DECLARED_PREFIX = re.compile(r"^\s*@?prefix\s+([\w.-]*):", re.IGNORECASE | re.MULTILINE)


def _explain(parser_message: str) -> dict[str, str]:
    """What a parser said about a file that is not Turtle (RDF/XML, JSON-LD), and what to do."""
    said = parser_message.rstrip(".!")
    return {"en": f"{said}. Correct the file at this place.",
            "cs": f"{said}. Opravte soubor na tomto místě."}


def _explain_ntriples_error(parser_message: str, text: str) -> dict[str, str]:
    """What is wrong in an N-Triples file, and what to do, from the parser's message."""
    return {
        "en": f"{parser_message}. Each line of an N-Triples file is one statement: subject, predicate and object, "
              'each written in full (<…>, _:… or "…"), and " ." at the end of the line.',
        "cs": f"{parser_message}. Každý řádek souboru N-Triples je jeden výrok: subjekt, predikát a objekt, "
              'každý zapsaný celý (<…>, _:… nebo "…"), a na konci řádku " .".',
    }


def _explain_turtle_error(parser_message: str, text: str) -> dict[str, str]:
    """What is wrong in a Turtle file, and what to do, from the parser's message."""
    unbound = _UNBOUND_PREFIX.search(parser_message)
    if unbound:
        return _explain_unknown_prefix(unbound.group(1), text)
    return {
        "en": f"{parser_message}. The mistake is here or just before (often at the end of the previous line): "
              'inside a block every line ends with ";" or ",", a block ends with ".", texts are in quotes '
              '("…"@cs) and full IRIs in <…>.',
        "cs": f"{parser_message}. Chyba je zde nebo těsně před tímto místem (často na konci předchozího řádku): "
              'uvnitř bloku končí každý řádek ";" nebo ",", blok končí ".", texty jsou v uvozovkách ("…"@cs) '
              "a celá IRI v <…>.",
    }


def _explain_unknown_prefix(prefix: str, text: str) -> dict[str, str]:
    """An undeclared prefix: the declaration to add when it is one of ours, else the likely typo."""
    head = {"en": f'unknown prefix "{prefix}:": the file does not declare it.',
            "cs": f'neznámý prefix "{prefix}:": soubor jej nedeklaruje.'}
    if prefix in PREFIXES:
        declaration = f"@prefix {prefix}: <{PREFIXES[prefix]}> ."
        return {"en": f"{head['en']} Add the line  {declaration}  to the prefixes at the top of the file.",
                "cs": f"{head['cs']} Doplňte mezi prefixy na začátku souboru řádek  {declaration}"}
    known = set(_DECLARED_PREFIX.findall(text)) | set(PREFIXES)
    close = difflib.get_close_matches(prefix, sorted(known), n=1)
    guess = {"en": f' Did you mean "{close[0]}:"?', "cs": f' Nemysleli jste "{close[0]}:"?'} if close else {"en": "", "cs": ""}
    return {
        "en": f"{head['en']}{guess['en']} Correct the spelling, or declare the prefix at the top of the file "
              f"(@prefix {prefix}: <…> .).",
        "cs": f"{head['cs']}{guess['cs']} Opravte překlep, nebo prefix deklarujte na začátku souboru "
              f"(@prefix {prefix}: <…> .).",
    }


# --- IRIs that are not IRIs ---------------------------------------------------------------------

# What no IRI may hold (RFC 3987; Turtle's IRIREF): spaces and control characters, and <>"{}|^`\ .
NOT_IN_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\]')


def check_iris(path: Path, rdf_format: str, text: str, graph: Graph) -> None:
    """Raise DataFileError when an IRI of `graph`, parsed from `text`, holds a character no IRI may.

    rdflib reads `<https://example.org/a b>` (with a warning) and then cannot write it. The error
    is placed where the IRI is written, when that can be found.
    """
    bad = sorted(iri for iri in _iris_of(graph) if NOT_IN_IRI.search(iri))
    if bad:
        raise _bad_iri_error(path, rdf_format, text, bad)


def check_json_ld(path: Path, text: str) -> None:
    """Raise DataFileError when the JSON-LD document `text` writes an IRI that holds a character no
    IRI may, or a language tag that is none: the JSON-LD algorithms drop the node, statement or text
    that has one (or put the document's own IRI in place of the IRI), without a word."""
    try:
        document = json.loads(text)
    except ValueError:
        return  # not JSON: the parser says where
    pairs = list(_json_pairs(document))
    bad = sorted({iri for iri in _json_ld_iris(pairs) if NOT_IN_IRI.search(iri)})
    if bad:
        raise _bad_iri_error(path, "json-ld", text, bad)
    tags = sorted({tag for key, tag in pairs if key == "@language" and isinstance(tag, str)
                   and not _LANGUAGE_TAG.fullmatch(tag)})
    if tags:
        raise _bad_language_tag_error(path, text, tags[0])


def _iris_of(graph: Graph) -> set[str]:
    """Every IRI of `graph`, once: subjects, predicates, objects and literals' datatypes."""
    terms: set[Any] = set()
    for triple in graph:
        terms.update(triple)  # fewer terms than triples to look at: each IRI is checked once
    return ({str(term) for term in terms if isinstance(term, URIRef)}
            | {str(term.datatype) for term in terms if isinstance(term, Literal) and term.datatype is not None})


# JSON-LD keywords whose values are IRIs (a value that is a keyword itself, "@id", is not).
_JSON_LD_IRI_KEYWORDS = ("@id", "@type", "@vocab", "@base", "@reverse")
# A language tag as RDF has it (BCP 47's shape, as Turtle's LANGTAG).
_LANGUAGE_TAG = re.compile(r"[a-zA-Z]{1,8}(?:-[a-zA-Z0-9]{1,8})*")


def _json_ld_iris(pairs: list[tuple[str, Any]]) -> Iterator[str]:
    """The strings of a JSON-LD document (its `pairs`) that are IRIs as written: the values of
    _JSON_LD_IRI_KEYWORDS and of the terms a context types as "@id" or "@vocab", what a context
    defines a term as, and each key that no context defines (it is an IRI, or lost)."""
    contexts = [context for key, value in pairs if key == "@context"
                for context in (value if isinstance(value, list) else [value]) if isinstance(context, dict)]
    terms = {term for context in contexts for term in context}
    links = {term for context in contexts for term, definition in context.items()
             if isinstance(definition, dict) and definition.get("@type") in ("@id", "@vocab")}
    for key, value in pairs:
        if key in _JSON_LD_IRI_KEYWORDS or key in links:
            yield from _iri_strings(value)
        elif not key.startswith("@") and key not in terms:
            yield key
    yield from (definition for context in contexts for definition in _iri_strings(list(context.values())))


def _iri_strings(value: Any) -> list[str]:
    """The strings of a JSON value, or of the list it is, that are not keywords."""
    return [item for item in (value if isinstance(value, list) else [value])
            if isinstance(item, str) and not item.startswith("@")]


def _json_pairs(node: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) of every JSON object in `node`, at any depth."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _json_pairs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _json_pairs(item)


def _bad_iri_error(path: Path, rdf_format: str, text: str, bad: list[str]) -> DataFileError:
    """The error of the IRIs `bad` (sorted), at the first place one of them is written: where
    Oxigraph finds it (also an IRI made of a prefix), else where the text holds one of them whole."""
    strict = _strict_syntax_error(path, rdf_format, text)
    written = _bad_iri_written(strict, text) if strict is not None else None
    if written is not None:
        return DataFileError(path, strict.line, strict.column, _explain_bad_iri(written))
    found = sorted((index, iri) for iri in bad if (index := _find_written(text, iri)) >= 0)
    if found:
        index, iri = found[0]
        return DataFileError(path, *line_and_column(text[:index]), _explain_bad_iri(iri))
    return DataFileError(path, None, None, _explain_bad_iri(bad[0]))


# An escaped character in a Turtle or N-Triples IRI: \u0020 is a space.
_UCHAR = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def _bad_iri_written(strict: _StrictError, text: str) -> str | None:
    """The IRI as written (`<…>` or inside a longer IRI) where Oxigraph's error is, when that is an
    IRI that holds a character no IRI may; else None."""
    if strict.end_column is None:
        return None
    written = text.split("\n")[strict.line - 1][strict.column - 1:strict.end_column - 1]
    iri = _UCHAR.sub(lambda match: chr(int(match.group(1) or match.group(2), 16)),
                     written.removeprefix("<").removesuffix(">"))
    return iri if written.startswith("<") and NOT_IN_IRI.search(iri) else None


def _find_written(text: str, iri: str) -> int:
    """Where `iri` is written in `text`, as it is or escaped for XML or JSON; -1 if nowhere."""
    for written in (iri, escape(iri, {'"': "&quot;"}), json.dumps(iri, ensure_ascii=False)[1:-1]):
        index = text.find(written)
        if index >= 0:
            return index
    return -1


def _bad_language_tag_error(path: Path, text: str, tag: str) -> DataFileError:
    """The error of a JSON-LD text's language tag that is none, where it is written if it can be found."""
    index = text.find(json.dumps(tag, ensure_ascii=False))
    line, column = line_and_column(text[:index + 1]) if index >= 0 else (None, None)
    return DataFileError(path, line, column, {
        "en": f'"{tag}" is not a language tag, so the text would be left out. Write the language in letters '
              'and hyphens, e.g. "cs" or "en-GB".',
        "cs": f'"{tag}" není jazyková značka, takže by se text vynechal. Jazyk zapište písmeny a spojovníky, '
              'např. "cs" nebo "en-GB".',
    })


# The characters a message names in words; the others are named as themselves or by code point.
_CHARACTER_NAMES = {
    " ": {"en": "a space", "cs": "mezeru"},
    "\t": {"en": "a tab", "cs": "tabulátor"},
    "\n": {"en": "a line break", "cs": "konec řádku"},
}


def _explain_bad_iri(iri: str) -> dict[str, str]:
    """What is wrong with an IRI that holds a character no IRI may, and how to write it instead."""
    character = NOT_IN_IRI.search(iri).group(0)
    code = f"%{ord(character):02X}"
    name = _CHARACTER_NAMES.get(character) or (
        {"en": f"the control character U+{ord(character):04X}", "cs": f"řídicí znak U+{ord(character):04X}"}
        if character < " " else {"en": f'the character "{character}"', "cs": f'znak "{character}"'})
    shown = re.sub(r"[\x00-\x1f]", lambda match: f"\\x{ord(match.group(0)):02x}", iri)
    encoded = NOT_IN_IRI.sub(lambda match: f"%{ord(match.group(0)):02X}", iri)
    return {
        "en": f"the IRI <{shown}> contains {name['en']}, which no IRI may contain. Remove that character, "
              f"or write it as {code}: <{encoded}>.",
        "cs": f"IRI <{shown}> obsahuje {name['cs']}, což žádné IRI obsahovat nesmí. Tento znak odstraňte, "
              f"nebo jej zapište jako {code}: <{encoded}>.",
    }
