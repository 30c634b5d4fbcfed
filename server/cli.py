"""The `lodpub` command: `validate` checks the dataset, `build` writes a release, `publish` puts it
into a remote SPARQL store, `serve` serves it; `releases` lists the releases, `reload` and
`rollback` switch the server to another one; `editors` manages who may sign in at /edit/.

Exit codes: 0 success (warnings allowed), 1 SHACL violations, 2 an unreadable or invalid RDF
file, a link to a missing file, a missing directory, a full disk, a bad setting or a usage error, 3 a reload or rollback
refused (the release is missing, incomplete or fails its checksums; nothing changed).

The commands are in cli_data.py (validate, build, publish) and cli_serving.py (serve, releases,
reload, rollback); this module holds the parser, the options that override settings, and `main`.
"""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .cli_data import STORE_OPTIONS, report_error, run_build, run_publish, run_validate
from .cli_editors import EDITORS_OPTION, add_editors_command
from .cli_serving import run_releases, run_reload, run_rollback, run_serve
from .config import describe_settings, load_settings
from .data_errors import DataFileError
from .store import StoreUnavailable
from .store.checksums import DamagedFile

# Command-line option -> (the setting it overrides, its metavar); the remote store's are cli_data.STORE_OPTIONS.
_PROJECT_OPTION = {"--project": ("project_dir", "DIR")}
_DATA_OPTIONS = {
    **_PROJECT_OPTION,
    "--data": ("data_dir", "PATH"),
    "--ontology": ("ontology_dir", "DIR"),
    "--shapes": ("shapes_dir", "DIR"),
    "--base-iri": ("base_iri", "IRI"),
}
_BUILD_OPTIONS = {"--output": ("output_dir", "DIR")}
_KEEP_OPTIONS = {"--keep": ("keep_releases", "N")}
_SERVE_OPTIONS = {
    "--host": ("host", "ADDRESS"),
    "--port": ("port", "PORT"),
    "--workers": ("workers", "N"),
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line `argv` (default: sys.argv[1:]) and return its exit code."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:  # argparse exits on --help and on usage errors
        return int(exit_.code or 0)
    options = [*_DATA_OPTIONS.values(), *_BUILD_OPTIONS.values(), *_KEEP_OPTIONS.values(), *_SERVE_OPTIONS.values(),
               *STORE_OPTIONS.values(), *EDITORS_OPTION.values()]
    try:
        settings = load_settings(**{setting: getattr(args, setting, None) for setting, _ in options})
    except ValueError as error:
        return report_error(f"lodpub: error: {error}")
    try:
        return args.run(args, settings)
    except DataFileError as error:
        return report_error(error.describe(getattr(args, "lang", "en")))
    except OSError as error:  # a missing directory, an unwritable output, an existing release
        return report_error(f"lodpub: error: {error}")
    except (StoreUnavailable, DamagedFile) as error:  # DamagedFile: e.g. a release's manifest.json
        return report_error(f"lodpub: error: {error}")


def _parser() -> argparse.ArgumentParser:
    data_options = argparse.ArgumentParser(add_help=False)
    _add_setting_options(data_options, _DATA_OPTIONS)
    data_options.add_argument("--lang", choices=("cs", "en"), default="en", help="language of the messages")

    parser = argparse.ArgumentParser(prog="lodpub", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    validate_parser = commands.add_parser(
        "validate", parents=[data_options], help="check the dataset against the SHACL shapes"
    )
    validate_parser.set_defaults(run=run_validate)
    build_parser = commands.add_parser(
        "build", parents=[data_options], help="validate, then write and publish a new release"
    )
    _add_setting_options(build_parser, {**_BUILD_OPTIONS, **_KEEP_OPTIONS})
    build_parser.set_defaults(run=run_build)
    serve_parser = commands.add_parser(
        "serve", parents=[data_options],
        help="build a release if the sources changed, then serve it (gunicorn; --dev for Flask's server)",
    )
    _add_setting_options(serve_parser, {**_BUILD_OPTIONS, **_KEEP_OPTIONS, **_SERVE_OPTIONS})
    serve_parser.add_argument("--dev", action="store_true",
                              help="Flask's development server, reloading on code changes (not for production)")
    _add_setting_options(serve_parser, STORE_OPTIONS)
    serve_parser.set_defaults(run=run_serve)
    publish_parser = commands.add_parser(
        "publish", help="load a release into the remote SPARQL store and switch to it atomically",
    )
    _add_setting_options(publish_parser, {**_PROJECT_OPTION, **_BUILD_OPTIONS, **{
        option: setting for option, setting in STORE_OPTIONS.items() if option != "--store"}})
    publish_parser.add_argument("--release", type=Path, metavar="DIR",
                                help="the release folder to publish (default: the output directory's 'current')")
    publish_parser.set_defaults(run=run_publish)
    _add_release_commands(commands)
    add_editors_command(commands, _add_setting_options)
    return parser


def _add_release_commands(commands: argparse._SubParsersAction) -> None:
    """`releases`, `reload` and `rollback`: what is served, and switching it."""
    releases_parser = commands.add_parser("releases", help="list the releases: which is served, which was built last")
    _add_setting_options(releases_parser, {**_PROJECT_OPTION, **_BUILD_OPTIONS})
    releases_parser.set_defaults(run=run_releases)
    for name, run, help_text, version_help in (
        ("reload", run_reload, "serve the release built last (or VERSION), checked first, without dropping requests",
         "the release to serve (default: the one built last)"),
        ("rollback", run_rollback, "serve the release before the served one (or VERSION), checked first",
         "the release to serve (default: the one before the served one)"),
    ):
        command = commands.add_parser(name, help=help_text)
        _add_setting_options(command, {**_PROJECT_OPTION, **_BUILD_OPTIONS})
        command.add_argument("version", nargs="?", metavar="VERSION", help=version_help)
        command.set_defaults(run=run)


def _add_setting_options(parser: argparse.ArgumentParser, options: dict[str, tuple[str, str]]) -> None:
    """Add options that override settings, with the settings' own help texts."""
    help_texts = {setting.name: setting.help for setting in describe_settings()}
    for option, (setting, metavar) in options.items():
        parser.add_argument(option, dest=setting, metavar=metavar, help=help_texts[setting])


if __name__ == "__main__":
    sys.exit(main())
