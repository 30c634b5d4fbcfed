"""Checking and saving what a form produced: the form applied to the partnership's file (form_changes.py),
validated with the whole dataset (validation.py) and saved against the revision the editor loaded (save.py).
A new partnership gets a new file, named by its partner. No web framework here.
"""

import os
from dataclasses import dataclass, replace
from pathlib import Path

from rdflib import RDF, Graph, URIRef
from rdflib.namespace import SH
from rdflib.term import Node

from ..config import Settings
from ..namespaces import CANONICAL_BASE, rebase_iri
from ..rdf_files import find_rdf_files, parse_rdf_file
from ..store.releases import fsync_directory, write_atomically
from .blocks import parse_turtle, read_blocks, write_graph
from .changes import Author, record_change
from .form_changes import Applied, FormError, apply_form, describe_used_times, parse_form
from .form_names import local_name
from .form_shapes import form_shapes
from .form_terms import load_sources
from .names import known_iris
from .save import PARTNERSHIPS_FOLDER, Saved, load, partnership_file, revision_of, save
from .validation import Invalid, Problem, checker, validate_change


@dataclass(frozen=True)
class Form:
    """What an editor's form sent: its graph as Turtle, the kind and IRI (None: new) of what it edits."""

    turtle: str
    kind: str
    subject: str | None


@dataclass(frozen=True)
class FormSaved:
    """A saved form: the save, the partnership's name and the IRI of the resource saved."""

    saved: Saved
    name: str
    subject: URIRef


def data_graph(settings: Settings) -> Graph:
    """Everything the data's files state now."""
    graph = Graph(bind_namespaces="none")
    for path in find_rdf_files(settings.data_dir):
        graph += parse_rdf_file(path)
    return graph


def taken_iris(settings: Settings, data: Graph | None = None) -> set[str]:
    """The IRIs no new resource may be given: every IRI of the data's files now (`data`, else read) and
    of every release (as the data's files write them, under the canonical base)."""
    data = data_graph(settings) if data is None else data
    current = {str(node) for node in data.all_nodes() if isinstance(node, URIRef)}
    released = known_iris((), settings.output_dir)
    return current | {rebase_iri(iri, settings.base_iri, CANONICAL_BASE) for iri in released}


def applied_form(settings: Settings, file_graph: Graph, form: Form) -> Applied:
    """`form` applied to `file_graph`, the named times it uses described as the data's other files
    describe them when this file does not yet (each file describes the times it uses)."""
    data = data_graph(settings)
    applied = apply_form(file_graph, parse_form(form.turtle), form.kind, form.subject, taken_iris(settings, data),
                         offered_properties(settings, form.kind))
    describe_used_times(applied.graph, data)
    return applied


def offered_properties(settings: Settings, kind: str) -> set[URIRef]:
    """The properties the form of `kind` has fields for (its shapes' paths, nested ones too) and rdf:type."""
    try:
        shapes = form_shapes(load_sources(settings), kind)
    except KeyError:
        raise FormError(f"not a kind of resource: {kind!r}") from None
    return {path for path in shapes.objects(None, SH.path) if isinstance(path, URIRef)} | {RDF.type}


@dataclass(frozen=True)
class Proposed:
    """What a save would write: the partnership's name, its file's text with the form applied, the IRI of
    the resource edited, the file's current revision (None for a new file), and the names minted for
    the form's new nodes."""

    name: str
    text: str
    subject: URIRef
    revision: str | None
    names: dict[Node, URIRef]


def proposed_text(settings: Settings, name: str | None, form: Form) -> Proposed:
    """What partnership `name`'s file (None: a new partnership's file) would hold with `form` applied."""
    if name is None:
        applied = applied_form(settings, Graph(), Form(form.turtle, "partnership", None))
        return Proposed(local_name(applied.subject), _new_file_text(settings.data_dir, applied.graph),
                        applied.subject, None, applied.names)
    text, revision = load(settings.data_dir, name)
    original = read_blocks(text)
    applied = applied_form(settings, original.graph(), form)
    try:
        return Proposed(name, write_graph(original, applied.graph), applied.subject, revision, applied.names)
    except ValueError as error:
        raise FormError(str(error)) from error


def as_sent(problems: list[Problem], names: dict[Node, URIRef]) -> list[Problem]:
    """`problems`, each whose focus node was minted on the way in saying the node the form sent for it."""
    sent = {iri: node for node, iri in names.items()}
    return [replace(problem, sent_as=sent[problem.focus_node]) if problem.focus_node in sent else problem
            for problem in problems]


def check_form(settings: Settings, name: str | None, form: Form, lang: str, shapes: Graph | None = None) -> list[Problem]:
    """The problems (every severity) that the dataset has with `form` applied and not without it: what
    the editor's change brings, not the warnings the data had before (another signing's missing
    signatories), which the form could not mend and would show at the wrong field."""
    if name is not None and form.kind == "partnership" and not form.subject:
        raise FormError("a new partnership is not made in another's file")
    proposed = proposed_text(settings, name, form)
    name = proposed.name
    if (settings.data_dir / PARTNERSHIPS_FOLDER / f"{name}.ttl").exists():
        before = set(_problems_now(settings, name, lang, shapes))
        brought = [problem for problem in validate_change(settings, name, proposed.text, lang, shapes)
                   if problem not in before]
    else:  # a new file brings the problems of what it describes, not those of the other files
        _refuse_taken(settings.data_dir, name)
        described = set(parse_turtle(proposed.text).subjects())
        brought = [problem for problem in validate_change(settings, name, proposed.text, lang, shapes)
                   if problem.focus_node in described]
    return as_sent(brought, proposed.names)


def _problems_now(settings: Settings, name: str, lang: str, shapes: Graph | None) -> list[Problem]:
    """The problems of the dataset as its files are now, validated once for each state of the files."""
    files = tuple((str(path), path.stat().st_mtime_ns, path.stat().st_size) for path in find_rdf_files(settings.data_dir))
    key = (str(settings.data_dir), name, lang, files)
    if key not in _PROBLEMS_NOW:
        _PROBLEMS_NOW.clear()  # only the latest state is asked about again
        _PROBLEMS_NOW[key] = validate_change(settings, name, load(settings.data_dir, name)[0], lang, shapes)
    return _PROBLEMS_NOW[key]


_PROBLEMS_NOW: dict[tuple, list[Problem]] = {}


def save_form(settings: Settings, name: str | None, form: Form, revision: str | None, author: Author, message: str,
              lang: str, shapes: Graph | None = None) -> FormSaved:
    """Save `form` into partnership `name`'s file (None: a new partnership's file), if it is still at
    `revision` and the dataset then has no violation. Raises FormError, save.UnsafeName,
    save.StaleRevision, validation.Invalid."""
    if name is None:
        return _save_new(settings, form, author, message, lang, shapes)
    text, _ = load(settings.data_dir, name)
    applied = applied_form(settings, read_blocks(text).graph(), form)
    try:
        saved = save(settings.data_dir, name, applied.graph, revision or "", author, message,
                     check=checker(settings, name, lang, shapes))
    except ValueError as error:
        if isinstance(error, Invalid):
            raise
        raise FormError(str(error)) from error
    return FormSaved(saved, name, applied.subject)


def _save_new(settings: Settings, form: Form, author: Author, message: str, lang: str,
              shapes: Graph | None) -> FormSaved:
    """A new partnership's file: validated, then written only if no file has its name (never replaced)."""
    proposed = proposed_text(settings, None, form)
    name, text, subject = proposed.name, proposed.text, proposed.subject
    path = _refuse_taken(settings.data_dir, name)
    problems = [problem for problem in validate_change(settings, name, text, lang, shapes)
                if problem.severity == "Violation"]
    if problems:
        raise Invalid(as_sent(problems, proposed.names))
    _create(path, text.encode("utf-8"))
    recorded = record_change(path, author, message, "", revision_of(text.encode("utf-8")))
    return FormSaved(Saved(path, revision_of(text.encode("utf-8")), recorded), name, subject)


def _refuse_taken(data_dir: Path, name: str) -> Path:
    path = partnership_file(data_dir, name)
    if path.exists():
        raise FormError(f"a partnership's file {name}.ttl exists already")
    return path


def _create(path: Path, content: bytes) -> None:
    """Write a new file whole and durably under a hidden name, then link it to `path`, which fails
    (FileExistsError) if another save made that file meanwhile: never a part of a file, never one replaced."""
    hidden = path.with_name(f".{path.name}-{os.getpid()}.new")
    try:
        write_atomically(hidden, content)
        os.link(hidden, path)
    finally:
        hidden.unlink(missing_ok=True)
    fsync_directory(path.parent)


def _new_file_text(data_dir: Path, graph: Graph) -> str:
    """A new file stating `graph`, with the header (prefixes) of the data's files."""
    # The prefixes of an existing partnership's file (the data's files all declare the same), else none.
    models = sorted((data_dir / PARTNERSHIPS_FOLDER).glob("*.ttl"))
    header = read_blocks(models[0].read_text(encoding="utf-8")).header if models else ""
    prefixes_only = "".join(line for line in header.splitlines(keepends=True) if line.startswith("@prefix"))
    return write_graph(read_blocks(prefixes_only + "\n"), graph)
