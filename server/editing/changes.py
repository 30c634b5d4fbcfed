"""Recording a saved change with its author and message: a git commit of the one file when the data
folder is in a git work tree, else a line in a changes log beside the file."""

import json
import os
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

CHANGES_LOG = "changes.log"
# Who commits when git knows no one (the author is the editor; the committer is the application).
_COMMITTER = {"GIT_COMMITTER_NAME": "lodpub", "GIT_COMMITTER_EMAIL": "lodpub@localhost"}


@dataclass(frozen=True)
class Author:
    """The person who made a change."""

    name: str
    email: str

    def __post_init__(self) -> None:
        for part in (self.name, self.email):
            if not part or any(char in part for char in "<>\n\r\0"):
                raise ValueError(f"not usable as an author: {part!r}")

    @property
    def git(self) -> str:
        """As git's --author takes it."""
        return f"{self.name} <{self.email}>"


def record_change(path: Path, author: Author, message: str, before: str, after: str) -> str:
    """Record the change of `path` from revision `before` to `after`: "git" or "log", by where it went."""
    if _in_git_work_tree(path.parent):
        _commit(path, author, message)
        return "git"
    entry = {"time": datetime.now(UTC).isoformat(timespec="seconds"), "file": path.name, "author": author.name,
             "email": author.email, "message": message, "before": before, "after": after}
    with open(path.parent / CHANGES_LOG, "a", encoding="utf-8") as log:
        log.write(json.dumps(entry, ensure_ascii=False) + "\n")
        log.flush()
        os.fsync(log.fileno())
    return "log"


def _git(folder: Path, *args: str) -> subprocess.CompletedProcess:
    environment = {**_COMMITTER, **os.environ}
    return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, env=environment,
                          check=False)


def _in_git_work_tree(folder: Path) -> bool:
    try:
        return _git(folder, "rev-parse", "--is-inside-work-tree").stdout.strip() == "true"
    except FileNotFoundError:  # no git on this machine
        return False


def _commit(path: Path, author: Author, message: str) -> None:
    """Commit `path` alone (whatever else is staged stays staged)."""
    for args in (("add", "--", path.name), ("commit", "--quiet", f"--author={author.git}", "-m", message or "Edit",
                                             "--only", "--", path.name)):
        done = _git(path.parent, *args)
        if done.returncode != 0:
            raise OSError(f"git {args[0]} failed: {done.stderr.strip()}")


# --- reading the changes back (the review before publishing) -------------------------------------


@dataclass(frozen=True)
class RecordedChange:
    """A change as recorded: when (ISO 8601), by whom, why, of which file(s), and where to find its diff
    (a commit, or the file's revisions before and after)."""

    time: str
    author: str
    message: str
    files: tuple[str, ...]
    reference: str


def recorded_since(folder: Path, since: datetime) -> list[RecordedChange]:
    """The changes recorded for the files of `folder` after `since`, newest first: its git log when it
    is in a git work tree, else the lines of its changes log."""
    if _in_git_work_tree(folder):
        return _git_log_since(folder, since)
    try:
        lines = (folder / CHANGES_LOG).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    entries = [json.loads(line) for line in lines if line.strip()]
    found = [RecordedChange(entry["time"], entry["author"], entry["message"], (entry["file"],),
                            f"{entry['before'][:12]} → {entry['after'][:12]}")
             for entry in entries if datetime.fromisoformat(entry["time"]) > since]
    return found[::-1]


def _git_log_since(folder: Path, since: datetime) -> list[RecordedChange]:
    """The commits that touched `folder` after `since`, newest first, with the files they changed there."""
    done = _git(folder, "log", f"--since={since.isoformat()}", "--format=%x1e%h%x1f%aI%x1f%an%x1f%s", "--name-only",
                "--relative", "--", ".")
    if done.returncode != 0:
        raise OSError(f"git log failed: {done.stderr.strip()}")
    changes = []
    for record in done.stdout.split("\x1e")[1:]:
        header, _, names = record.partition("\n")
        commit, when, author, message = header.split("\x1f", 3)
        if datetime.fromisoformat(when) > since:  # git's --since is to the second, and inclusive
            files = tuple(name for name in names.splitlines() if name)
            changes.append(RecordedChange(when, author, message, files, commit))
    return changes
