"""Names (IRIs) for new resources, made by the rules the data's names follow.

A resource is named <base>id/<kind>/<name>: a person by its name (person/pavel-novak), an event by
its partnership, day and what happened (event/bursa-2010-10-06-visit), anything else of a
partnership by the partnership and its label. A name is readable (lower case ASCII, Czech
diacritics folded, words joined by "-") and never reused: when it is taken now or was in any earlier
release, -2, -3... is added.
"""

import re
import unicodedata
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from rdflib import URIRef

# The kinds whose names do not start with the partnership's.
_OWN_NAMES = {"person", "place", "town", "region", "organisation", "time"}
_NOT_A_WORD = re.compile(r"[^a-z0-9]+")
_IRI = re.compile(r"<([^>]*)>")
RELEASE_DUMP = "partnerships.nq"  # (dumps.py) every triple of a release, in N-Quads
_LONGEST = 80  # characters of a name's slug, before any -2


def slug(text: str) -> str:
    """`text` as a name: diacritics folded, lower case, runs of anything else one "-"."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    words = _NOT_A_WORD.sub("-", folded).strip("-")
    return words[:_LONGEST].rstrip("-")


def new_iri(base_iri: str, kind: str, label: str, known: set[str], partnership: str | None = None,
            day: date | str | None = None) -> URIRef:
    """A new IRI for a resource of `kind` (e.g. "event", "person") labelled `label`, not in `known`.

    `day` (a date, or "yyyy-mm" / "yyyy" when only that is known) goes after the partnership, as
    in events' names. Raises ValueError when nothing readable is left of the parts.
    """
    if not re.fullmatch(r"[a-z][a-z-]*", kind):
        raise ValueError(f"not a kind of resource: {kind!r}")
    parts = [] if kind in _OWN_NAMES else [slug(partnership or "")]
    parts += [str(day.isoformat() if isinstance(day, date) else day or ""), slug(label)]
    name = "-".join(part for part in parts if part)
    if not slug(label) and not day:
        raise ValueError("a name needs a label or a day")
    stem = f"{base_iri}id/{kind}/{name}"
    candidate, number = stem, 1
    while candidate in known:
        number += 1
        candidate = f"{stem}-{number}"
    return URIRef(candidate)


def known_iris(current: Iterable[str], output_dir: Path | None) -> set[str]:
    """The IRIs taken: those given (the dataset's now) and every IRI in the N-Quads dump of each
    release in `output_dir` (its folders; `current` is a link to one of them, hidden ones are unfinished)."""
    known = set(current)
    dumps = [] if output_dir is None or not output_dir.is_dir() else sorted(
        folder / RELEASE_DUMP for folder in output_dir.iterdir()
        if not folder.name.startswith(".") and not folder.is_symlink() and (folder / RELEASE_DUMP).is_file())
    for dump in dumps:
        with dump.open(encoding="utf-8") as lines:
            for line in lines:
                known.update(_IRI.findall(line))
    return known
