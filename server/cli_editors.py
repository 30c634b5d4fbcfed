"""`lodpub editors add NAME | remove NAME | list`: the editors who may sign in at /edit/.

The password is asked for (twice, on a terminal) or read from the first line of stdin, and only its
werkzeug hash is kept. werkzeug is imported when a password is hashed, so the rest of the command line
does without it.
"""

import argparse
import getpass
import sys
from pathlib import Path

from .cli_data import EXIT_OK, report_error
from .config import Settings
from .editors import check_name, read_editors, write_editors

EDITORS_OPTION = {"--editors-file": ("editors_file", "FILE")}
MIN_PASSWORD_LENGTH = 12


def add_editors_command(commands: argparse._SubParsersAction, add_options) -> None:
    """Add `editors` and its actions to `commands`; `add_options` adds the options that override settings."""
    editors = commands.add_parser("editors", help="add, remove or list the editors who may sign in at /edit/")
    actions = editors.add_subparsers(required=True, metavar="ACTION")
    for name, run, help_text in (("add", run_add, "add an editor, or set a new password (asked for, or from stdin)"),
                                 ("remove", run_remove, "remove an editor"),
                                 ("list", run_list, "list the editors' names")):
        action = actions.add_parser(name, help=help_text)
        add_options(action, EDITORS_OPTION)
        if name != "list":
            action.add_argument("name", metavar="NAME", help="the editor's name")
        action.set_defaults(run=run)


def run_add(args: argparse.Namespace, settings: Settings) -> int:
    """Add the editor `args.name` with a password read from the terminal or stdin, or change theirs."""
    from werkzeug.security import generate_password_hash

    path = _editors_file(settings)
    try:
        name = check_name(args.name)
        password = _read_password()
    except ValueError as error:
        return report_error(f"lodpub: error: {error}")
    editors = read_editors(path)
    editors[name] = generate_password_hash(password)
    write_editors(path, editors)
    print(f"{name} may sign in ({len(editors)} editors in {path})", file=sys.stderr)
    return EXIT_OK


def run_remove(args: argparse.Namespace, settings: Settings) -> int:
    """Remove the editor `args.name`: they cannot sign in again."""
    path = _editors_file(settings)
    editors = read_editors(path)
    if editors.pop(args.name, None) is None:
        return report_error(f"lodpub: error: no editor {args.name!r} in {path}")
    write_editors(path, editors)
    print(f"{args.name} removed ({len(editors)} editors left in {path})", file=sys.stderr)
    return EXIT_OK


def run_list(args: argparse.Namespace, settings: Settings) -> int:
    """Print the editors' names, one a line."""
    for name in read_editors(_editors_file(settings)):
        print(name)
    return EXIT_OK


def _editors_file(settings: Settings) -> Path:
    if settings.editors_file is None:
        raise OSError("no editors file: give --editors-file or LODPUB_EDITORS_FILE")
    return settings.editors_file


def _read_password() -> str:
    """The new password: asked for twice on a terminal, else the first line of stdin."""
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise ValueError("the two passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password has at least {MIN_PASSWORD_LENGTH} characters")
    return password
