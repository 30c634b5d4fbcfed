"""The `lodpub` command: `validate` checks the dataset, `build` writes a release, `publish` puts it
into a remote SPARQL store, `serve` serves it.

Exit codes: 0 success (warnings allowed), 1 SHACL violations, 2 an unreadable or invalid RDF
file, a missing directory, a bad setting or a usage error.
"""

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .build import Release, ValidationFailed, build, current_release_is_up_to_date
from .config import Settings, describe_settings, load_settings
from .dataset import DataFileError, load_dataset
from .store import StoreUnavailable
from .validate import format_report, load_shapes, validate

EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_ERROR = 2

# Command-line option -> (the setting it overrides, its metavar).
_DATA_OPTIONS = {
    "--data": ("data_dir", "PATH"),
    "--ontology": ("ontology_dir", "DIR"),
    "--shapes": ("shapes_dir", "DIR"),
    "--base-iri": ("base_iri", "IRI"),
}
_BUILD_OPTIONS = {"--output": ("output_dir", "DIR")}
_SERVE_OPTIONS = {
    "--host": ("host", "ADDRESS"),
    "--port": ("port", "PORT"),
    "--workers": ("workers", "N"),
}
# The remote store (credentials come from the environment only, never from a command line).
_STORE_OPTIONS = {
    "--store": ("store", "KIND"),
    "--query-url": ("store_query_url", "URL"),
    "--update-url": ("store_update_url", "URL"),
    "--graph-store-url": ("store_graph_store_url", "URL"),
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line `argv` (default: sys.argv[1:]) and return its exit code."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:  # argparse exits on --help and on usage errors
        return int(exit_.code or 0)
    options = [*_DATA_OPTIONS.values(), *_BUILD_OPTIONS.values(), *_SERVE_OPTIONS.values(), *_STORE_OPTIONS.values()]
    try:
        settings = load_settings(**{setting: getattr(args, setting, None) for setting, _ in options})
    except ValueError as error:
        return _error(f"lodpub: error: {error}")
    try:
        return args.run(args, settings)
    except DataFileError as error:
        return _error(f"{error.location}: syntax error: {error.message}")
    except OSError as error:  # a missing directory, an unwritable output, an existing release
        return _error(f"lodpub: error: {error}")
    except StoreUnavailable as error:
        return _error(f"lodpub: error: {error}")


def _error(message: str) -> int:
    print(message, file=sys.stderr)
    return EXIT_ERROR


def _run_validate(args: argparse.Namespace, settings: Settings) -> int:
    report = validate(load_dataset(settings), load_shapes(settings))
    print(format_report(report, args.lang))
    return EXIT_OK if report.conforms else EXIT_VIOLATIONS


def _run_build(args: argparse.Namespace, settings: Settings, check_shapes: bool = True) -> int:
    try:
        release = build(settings, check_shapes=check_shapes)
    except ValidationFailed as failure:
        print(format_report(failure.report, args.lang))
        print("lodpub: build failed: the dataset has violations; nothing was written", file=sys.stderr)
        return EXIT_VIOLATIONS
    print(_describe_release(release, settings))
    return EXIT_OK


def _run_serve(args: argparse.Namespace, settings: Settings) -> int:
    from .wsgi import serve_development, serve_production

    if settings.store == "remote":
        print(f"Serving the release held by {settings.store_query_url}", file=sys.stderr)
    elif current_release_is_up_to_date(settings):
        print(f"Serving the current release in {settings.output_dir / 'current'}", file=sys.stderr)
    else:
        # Another dataset (--data) is validated only against shapes given for it (--shapes):
        # ours describe our partnerships, not its data.
        defaults = Settings()
        foreign = settings.data_dir != defaults.data_dir and settings.shapes_dir == defaults.shapes_dir
        status = _run_build(args, settings, check_shapes=not foreign)
        if status != EXIT_OK:
            return status
    print(f"lodpub serving on http://{settings.host}:{settings.port}/", file=sys.stderr, flush=True)
    (serve_development if args.dev else serve_production)(settings)
    return EXIT_OK


def _run_publish(args: argparse.Namespace, settings: Settings) -> int:
    from .store.remote import endpoints_from, publish

    missing = [option for option, (setting, _) in _STORE_OPTIONS.items()
               if setting != "store" and not getattr(settings, setting)]
    if missing:
        return _error(f"lodpub: error: publish needs the remote store's {', '.join(missing)} "
                      "(or the LODPUB_STORE_* variables)")
    release = (args.release or settings.output_dir / "current").resolve()
    if not (release / "manifest.json").is_file():
        return _error(f"lodpub: error: no release at {release}: run 'lodpub build' first")
    version = publish(release, endpoints_from(settings))
    print(f"Published release {version} to {settings.store_query_url}")
    return EXIT_OK


def _describe_release(release: Release, settings: Settings) -> str:
    """The release's path, a table of its files (name, bytes, sha256 prefix) and where `current` points."""
    current = settings.output_dir / "current"
    lines = [f"Release {release.version} written to {release.path}"]
    lines += [
        f"  {entry['name']:<24} {entry['bytes']:>10}  {entry['sha256'][:12]}"
        for entry in release.manifest["files"]
    ]
    counts = ", ".join(f"{count} {severity}" for severity, count in release.report.counts().items())
    lines.append(f"Validation: {counts}")
    lines.append(f"{current} -> {os.readlink(current)}")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    data_options = argparse.ArgumentParser(add_help=False)
    _add_setting_options(data_options, _DATA_OPTIONS)
    data_options.add_argument("--lang", choices=("cs", "en"), default="en", help="language of the messages")

    parser = argparse.ArgumentParser(prog="lodpub", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    validate_parser = commands.add_parser(
        "validate", parents=[data_options], help="check the dataset against the SHACL shapes"
    )
    validate_parser.set_defaults(run=_run_validate)
    build_parser = commands.add_parser(
        "build", parents=[data_options], help="validate, then write and publish a new release"
    )
    _add_setting_options(build_parser, _BUILD_OPTIONS)
    build_parser.set_defaults(run=_run_build)
    serve_parser = commands.add_parser(
        "serve", parents=[data_options],
        help="build a release if the sources changed, then serve it (gunicorn; --dev for Flask's server)",
    )
    _add_setting_options(serve_parser, {**_BUILD_OPTIONS, **_SERVE_OPTIONS})
    serve_parser.add_argument("--dev", action="store_true",
                              help="Flask's development server, reloading on code changes (not for production)")
    _add_setting_options(serve_parser, _STORE_OPTIONS)
    serve_parser.set_defaults(run=_run_serve)
    publish_parser = commands.add_parser(
        "publish", help="load a release into the remote SPARQL store and switch to it atomically",
    )
    _add_setting_options(publish_parser, {**_BUILD_OPTIONS, **{option: setting for option, setting in
                                                             _STORE_OPTIONS.items() if option != "--store"}})
    publish_parser.add_argument("--release", type=Path, metavar="DIR",
                                help="the release folder to publish (default: the output directory's 'current')")
    publish_parser.set_defaults(run=_run_publish)
    return parser


def _add_setting_options(parser: argparse.ArgumentParser, options: dict[str, tuple[str, str]]) -> None:
    """Add options that override settings, with the settings' own help texts."""
    help_texts = {setting.name: setting.help for setting in describe_settings()}
    for option, (setting, metavar) in options.items():
        parser.add_argument(option, dest=setting, metavar=metavar, help=help_texts[setting])


if __name__ == "__main__":
    sys.exit(main())
