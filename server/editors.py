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


class EditorsFileError(ValueError):
    """The editors file (or its sign-out file) cannot be read or written, or is not what it should be."""


# A name as it appears in logs and in the commits of the editor's changes: short, no spaces or markup.
EDITOR_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


def read_editors(path: Path) -> dict[str, str]:
    """The editors of the file at `path` (name -> password hash); none when the file does not exist."""
    return _read_object(path, str, "an editors file (a JSON object of names and password hashes)")


def write_editors(path: Path, editors: dict[str, str]) -> None:
    """Replace the file at `path` with `editors`, atomically, readable by its owner only."""
    _write_object(path, editors)


def signed_out_file(path: Path) -> Path:
    """Where the server notes when each editor of the editors file at `path` last signed out."""
    return path.with_name(path.name + ".signed-out")


def signed_out_at(path: Path) -> dict[str, float]:
    """When each editor of the editors file at `path` last signed out (a Unix time); a session from
    before that is over, wherever its cookie is (sessions are cookies, not records the server keeps)."""
    return _read_object(signed_out_file(path), (int, float), "a sign-out file (a JSON object of names and times)")


def record_sign_out(path: Path, name: str, when: float) -> None:
    """Note that `name` of the editors file at `path` signed out at `when`: their sessions so far end."""
    try:
        _write_object(signed_out_file(path), {**signed_out_at(path), name: when})
    except OSError as error:
        raise EditorsFileError(f"cannot note a sign-out in {signed_out_file(path)}: {error.strerror}") from error


def _read_object(path: Path, value_type: type | tuple, what: str) -> dict:
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise EditorsFileError(f"cannot read {path}: {error.strerror}") from error
    except ValueError as error:  # not UTF-8, or not JSON
        raise EditorsFileError(f"{path} is not {what}: {error}") from error
    if not isinstance(found, dict) or not all(isinstance(value, value_type) for value in found.values()):
        raise EditorsFileError(f"{path} is not {what}")
    return found


def _write_object(path: Path, editors: dict) -> None:
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
