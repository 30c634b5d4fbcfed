"""The editors file: who may sign in at /edit/, each with a werkzeug password hash (never a password).

A JSON object, name -> hash, written only by `lodpub editors` (cli_editors.py): atomically (a
temporary file renamed over the old one) and readable by its owner only. The server reads it at
each sign-in, so an editor added or removed counts at once, without a restart.
"""

import json
import os
import re
import tempfile
from pathlib import Path

# A name as it appears in logs and in the commits of the editor's changes: short, no spaces or markup.
EDITOR_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


def read_editors(path: Path) -> dict[str, str]:
    """The editors of the file at `path` (name -> password hash); none when the file does not exist."""
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    if not isinstance(found, dict) or not all(isinstance(value, str) for value in found.values()):
        raise ValueError(f"{path} is not an editors file (a JSON object of names and password hashes)")
    return found


def write_editors(path: Path, editors: dict[str, str]) -> None:
    """Replace the file at `path` with `editors`, atomically, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(dict(sorted(editors.items())), file, indent=2)
            file.write("\n")
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def check_name(name: str) -> str:
    """`name` if it can be an editor's name; ValueError says why not."""
    if not EDITOR_NAME.fullmatch(name):
        raise ValueError(f"an editor's name is 1 to 64 letters, digits and . _ @ - (starting with a letter or "
                         f"digit), not {name!r}")
    return name
