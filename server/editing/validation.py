"""Validation before a save: the whole dataset, with the change applied, against the shapes.

It is `lodpub validate`'s validation (validate.py), run on a copy of the data folder in which the
partnership's file holds the new text; each result is given as a problem at a (focus node, path)
with its message in the editor's language, so that a form can show it at its field.
"""

import dataclasses
import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from rdflib import Graph
from rdflib.term import Node

from ..config import Settings
from ..dataset import load_dataset
from ..validate import load_shapes, validate
from ..validation_report import ValidationReport
from .save import PARTNERSHIPS_FOLDER, partnership_file


@dataclasses.dataclass(frozen=True)
class Problem:
    """One result of validation: where (focus node, property path as SPARQL writes it, or None) and what."""

    severity: str
    focus_node: Node
    path: str | None
    message: str
    # The node the form sent for a focus node named on the way in (a urn:uuid:), by which a page of
    # several forms finds the form the problem belongs to; None when the form sent the focus node itself.
    sent_as: Node | None = None


class Invalid(ValueError):
    """The change does not conform to the shapes: its violations (warnings do not stop a save)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} violation(s) of the shapes")
        self.problems = problems


def validate_change(settings: Settings, name: str, text: str, lang: str = "cs",
                    shapes: Graph | None = None, now: datetime | None = None) -> list[Problem]:
    """The problems of the dataset in which partnership `name`'s file holds `text` (all severities).

    `shapes` are load_shapes(settings) when not given (a caller validating often loads them once).
    """
    partnership_file(settings.data_dir, name)  # an unsafe name is refused before anything is copied
    with tempfile.TemporaryDirectory(prefix="lodpub-edit-") as folder:
        data = Path(folder) / "data"
        shutil.copytree(settings.data_dir, data, symlinks=True)
        (data / PARTNERSHIPS_FOLDER / f"{name}.ttl").write_text(text, encoding="utf-8")
        changed = dataclasses.replace(settings, data_dir=data)
        report = validate(load_dataset(changed), shapes if shapes is not None else load_shapes(settings), now)
    return problems_of(report, lang)


def problems_of(report: ValidationReport, lang: str) -> list[Problem]:
    """The report's results as problems, their messages in `lang` (else another language)."""
    return [Problem(result.severity, result.focus_node, result.result_path, result.message(lang))
            for result in report.results]


def checker(settings: Settings, name: str, lang: str = "cs", shapes: Graph | None = None) -> Callable[[str], None]:
    """A `check` for save.save: raises Invalid when the new text leaves the dataset with violations."""
    def check(text: str) -> None:
        violations = [problem for problem in validate_change(settings, name, text, lang, shapes)
                      if problem.severity == "Violation"]
        if violations:
            raise Invalid(violations)
    return check
