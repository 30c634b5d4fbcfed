"""Saving a partnership's file: checked against the revision the editor loaded, written atomically,
recorded as a change.

The revision is the file's content hash: a save based on another revision is refused with the
current one and a diff (StaleRevision), and never overwrites. The new text is written to a
temporary file in the same folder, synced, and renamed over the old one, so a reader sees the old
file or the new one, never half of one. Saves of one file run one at a time (a lock on the file).
"""

import difflib
import fcntl
import hashlib
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph
from rdflib.compare import isomorphic

from ..store.releases import write_atomically
from .blocks import parse_turtle, read_blocks, write_graph
from .changes import Author, record_change

PARTNERSHIPS_FOLDER = "partnerships"
# A partnership's name as the data's files are named: no dots, slashes, NULs or upper case.
_PARTNERSHIP_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?")


class UnsafeName(ValueError):
    """A partnership name that is no file name of data/partnerships (e.g. "../../etc/passwd")."""


class StaleRevision(Exception):
    """The file changed since the editor loaded it: its current revision, and the diff of the two texts."""

    def __init__(self, current: str, diff: str) -> None:
        super().__init__(f"the file has changed since it was loaded (now revision {current})")
        self.current = current
        self.diff = diff


@dataclass(frozen=True)
class Saved:
    """What a save did: the file, its new revision and how the change was recorded ("git", "log", or
    "unchanged" when the file already said it)."""

    path: Path
    revision: str
    recorded: str


def partnership_file(data_dir: Path, name: str) -> Path:
    """The file of partnership `name` in `data_dir`; UnsafeName when `name` could be anything else."""
    if not isinstance(name, str) or not _PARTNERSHIP_NAME.fullmatch(name):
        raise UnsafeName(f"not a partnership's name: {name!r}")
    folder = (data_dir / PARTNERSHIPS_FOLDER).resolve()
    path = folder / f"{name}.ttl"
    if path.resolve().parent != folder:  # a symbolic link out of the folder
        raise UnsafeName(f"not a partnership's file: {name!r}")
    return path


def revision_of(content: bytes) -> str:
    """The revision of a file's content: its SHA-256, in hex."""
    return hashlib.sha256(content).hexdigest()


def load(data_dir: Path, name: str) -> tuple[str, str]:
    """The text of partnership `name`'s file and its revision, which a save is then based on."""
    content = partnership_file(data_dir, name).read_bytes()
    return content.decode("utf-8"), revision_of(content)


def save(data_dir: Path, name: str, change: Graph | str, base_revision: str, author: Author, message: str,
         check: Callable[[str], None] | None = None) -> Saved:
    """Save `change` as partnership `name`'s file, if the file is still at `base_revision`; record it.

    `change` is the graph the file is to state (written as blocks.write_graph writes it) or its new
    Turtle text. `check` is called with the new text before anything is written (e.g. to validate
    it) and stops the save by raising. Raises UnsafeName, StaleRevision (with the diff of the
    current text and the one this save would write), ValueError for text that is not Turtle, or
    what `check` raises.
    """
    path = partnership_file(data_dir, name)
    if isinstance(change, str):
        parse_turtle(change)  # what is not Turtle is refused before the lock is taken
    with _locked(path) as old:
        text = change if isinstance(change, str) else _written(old.decode("utf-8"), change)
        if revision_of(old) != base_revision:
            raise StaleRevision(revision_of(old), _diff(old.decode("utf-8"), text))
        if check is not None:
            check(text)
        new = text.encode("utf-8")
        if new == old:  # nothing to write, and nothing to record (git would refuse an empty commit)
            return Saved(path, base_revision, "unchanged")
        write_atomically(path, new)
        recorded = record_change(path, author, message, base_revision, revision_of(new))
    return Saved(path, revision_of(new), recorded)


def _written(old: str, graph: Graph) -> str:
    """`old` changed to state `graph`, checked to state exactly that."""
    text = write_graph(read_blocks(old), graph)
    if not isomorphic(parse_turtle(text), graph):
        raise ValueError("the file written would not state the graph saved")
    return text


def _diff(current: str, proposed: str) -> str:
    """The unified diff from the file's current text to the text a refused save would have written."""
    return "".join(difflib.unified_diff(current.splitlines(keepends=True), proposed.splitlines(keepends=True),
                                        "current", "proposed"))


@contextmanager
def _locked(path: Path) -> Iterator[bytes]:
    """Hold the lock on `path` (the file now at that path, not one renamed away) and give its content."""
    while True:
        with open(path, "rb") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            if os.fstat(handle.fileno()).st_ino != os.stat(path).st_ino:
                continue  # another save replaced the file while this one waited: lock the new one
            yield handle.read()
            return
