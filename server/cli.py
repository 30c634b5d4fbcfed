"""The `lodpub` command: `validate` checks the dataset, `build` writes a release, `publish` puts it
into a remote SPARQL store, `serve` serves it; `releases` lists the releases, `reload` and
`rollback` switch the server to another one.

Exit codes: 0 success (warnings allowed), 1 SHACL violations, 2 an unreadable or invalid RDF
file, a link to a missing file, a missing directory, a full disk, a bad setting or a usage error, 3 a reload or rollback
refused (the release is missing, incomplete or fails its checksums; nothing changed).
"""

import argparse
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from .build import Release, ValidationFailed, build
from .config import Settings, describe_settings, load_settings
from .control import claim_pidfile, may_signal, pidfile_problem, replace_workers, server_pid
from .data_errors import DataFileError
from .dataset import load_dataset
from .release_manifest import current_release_is_up_to_date
from .store import StoreUnavailable, prepare_store
from .store.checksums import DamagedFile
from .store.manifest import MANIFEST, checked_manifest
from .store.releases import (
    CURRENT,
    PIDFILE,
    SERVED,
    ReleaseSummary,
    chosen_version,
    list_releases,
    point,
    pointed_version,
    release_problems,
    releases_dir,
)
from .store.served_release import Decision, chosen_whole, decide, decision_in_force, read_record, record_decision
from .validate import load_shapes, validate
from .validation_report import format_report

EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_ERROR = 2
EXIT_REFUSED = 3
# How long `reload` and `rollback` wait for the server to replace its workers.
WORKER_SWAP_SECONDS = 90

# Command-line option -> (the setting it overrides, its metavar).
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
    options = [*_DATA_OPTIONS.values(), *_BUILD_OPTIONS.values(), *_KEEP_OPTIONS.values(), *_SERVE_OPTIONS.values(),
               *_STORE_OPTIONS.values()]
    try:
        settings = load_settings(**{setting: getattr(args, setting, None) for setting, _ in options})
    except ValueError as error:
        return _error(f"lodpub: error: {error}")
    try:
        return args.run(args, settings)
    except DataFileError as error:
        return _error(error.describe(getattr(args, "lang", "en")))
    except OSError as error:  # a missing directory, an unwritable output, an existing release
        return _error(f"lodpub: error: {error}")
    except (StoreUnavailable, DamagedFile) as error:  # DamagedFile: e.g. a release's manifest.json
        return _error(f"lodpub: error: {error}")


def _error(message: str) -> int:
    print(message, file=sys.stderr)
    return EXIT_ERROR


@contextmanager
def _without_rdflib_logs() -> Iterator[None]:
    """Keep rdflib's log off stderr: it warns of what it finds odd in the data (an ill-typed
    literal, with a traceback; an IRI with a space) in words for programmers, and the report says
    it for the office, at its place in the file. The pool's processes, forked inside, inherit this."""
    logger = logging.getLogger("rdflib")
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(level)


def _run_validate(args: argparse.Namespace, settings: Settings) -> int:
    with _without_rdflib_logs():
        report = validate(load_dataset(settings), load_shapes(settings), jobs=settings.build_jobs)
    print(format_report(report, args.lang))
    return EXIT_OK if report.conforms else EXIT_VIOLATIONS


def _say_waiting(message: str) -> None:
    print(f"lodpub: {message}", file=sys.stderr, flush=True)


def _run_build(args: argparse.Namespace, settings: Settings, check_shapes: bool = True) -> int:
    try:
        with _without_rdflib_logs():
            release = build(settings, check_shapes=check_shapes, on_wait=_say_waiting)
    except ValidationFailed as failure:
        print(format_report(failure.report, args.lang))
        what = f"{failure.where} has" if failure.where else "the dataset has"
        print(f"lodpub: build failed: {what} violations; nothing was written", file=sys.stderr)
        return EXIT_VIOLATIONS
    except OSError as error:  # e.g. a full disk: publish_release removed what it had written
        kept = pointed_version(settings.output_dir, CURRENT)
        still = f"release {kept} is still current" if kept else "there is no release yet"
        return _error(f"lodpub: build failed, nothing was published ({still}): {error}")
    print(_describe_release(release, settings))
    return EXIT_OK


def _run_serve(args: argparse.Namespace, settings: Settings) -> int:
    from .wsgi import serve_development, serve_production

    if settings.store == "remote":
        print(f"Serving the release held by {settings.store_query_url}", file=sys.stderr)
    else:
        status = EXIT_OK if args.dev else _claim_output(settings.output_dir)
        if status == EXIT_OK:
            status = _release_at_start(args, settings)
        if status != EXIT_OK:
            return status
    print(f"lodpub serving on http://{settings.host}:{settings.port}/", file=sys.stderr, flush=True)
    (serve_development if args.dev else serve_production)(settings)
    return EXIT_OK


def _claim_output(output_dir: Path) -> int:
    """Refuse (EXIT_ERROR, saying why) when a server of `output_dir` runs already, or its gunicorn
    could not write its pidfile there (read-only, full): checked before anything is built. (A
    folder still to be made is made by the build.)"""
    if not output_dir.is_dir():
        return EXIT_OK
    if not claim_pidfile(output_dir):
        return _error(f"lodpub: error: a server of {output_dir} is running already (pid "
                      f"{server_pid(output_dir)}): stop it first, or switch it with 'lodpub reload'")
    problem = pidfile_problem(output_dir)
    if problem is not None:
        return _error(f"lodpub: error: cannot write the pidfile {output_dir / PIDFILE} ({problem}): the server "
                      "writes its pid there, for 'lodpub reload' and 'rollback'. Free some space or make the "
                      "folder writable; a read-only store of releases can be linked in as its releases/ "
                      "(README, \"Releases, reload and rollback\")")
    return EXIT_OK


def _release_at_start(args: argparse.Namespace, settings: Settings) -> int:
    """Build a release when the sources changed since the last build, then decide what to serve."""
    damage = _damage_of_current(settings.output_dir)
    if damage is not None:
        print(f"lodpub: warning: {damage}; not building: run 'lodpub build' to replace it", file=sys.stderr)
    elif not current_release_is_up_to_date(settings):
        # Another dataset (--data) is validated only against shapes given for it (--shapes):
        # ours describe our partnerships, not its data.
        defaults = Settings()
        foreign = settings.data_dir != defaults.data_dir and settings.shapes_dir == defaults.shapes_dir
        status = _run_build(args, settings, check_shapes=not foreign)
        if status != EXIT_OK:
            return status
        return _serve_at_start(settings, chosen=pointed_version(settings.output_dir, CURRENT))
    return _serve_at_start(settings)


def _damage_of_current(output_dir: Path) -> str | None:
    """What is wrong with the manifest of the release built last, which tells whether the sources
    changed since (None: nothing, or there is no release). Held to SHA256SUMS: a changed byte of
    its sources_digest must not pass for changed sources."""
    version = pointed_version(output_dir, CURRENT)
    if version is None or not (releases_dir(output_dir) / version).is_dir():
        return None
    try:
        checked_manifest(releases_dir(output_dir) / version)
    except DamagedFile as damage:
        return f"release {version}, built last, is damaged: {damage}"
    return None


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


def _serve_at_start(settings: Settings, chosen: str | None = None) -> int:
    """Decide what a starting server serves (store/served_release.py): the release `chosen`, else the one
    served last, else the one built last, or a fallback for it; record the decision, writing only
    what changes, and say it. A file of it that fails its checksum is reported here and withheld
    by the server."""
    output_dir = settings.output_dir
    chosen = chosen or chosen_version(output_dir)
    if chosen is None:
        return _error(f"lodpub: error: no release in {releases_dir(output_dir)}: run 'lodpub build' first")
    record = read_record(output_dir)
    decision, _ = decide(output_dir, chosen, record.rolled_back_from if record else ())
    if decision.serving is None:
        return _error(f"lodpub: error: {decision.describe()}. Run 'lodpub build', or repair a release and "
                      "'lodpub reload' it")
    for problem in release_problems(releases_dir(output_dir) / decision.serving):
        print(f"lodpub: warning: release {decision.serving}: {problem}", file=sys.stderr)
    _keep_decision(output_dir, decision)
    print(f"Serving {decision.describe()}", file=sys.stderr)
    if decision.fallback:
        print(f"Repair release {chosen} and run 'lodpub reload {chosen}', or build a new release and "
              "'lodpub reload' it", file=sys.stderr)
    latest = pointed_version(output_dir, CURRENT)
    if latest not in (chosen, decision.serving):
        print(f"Release {latest} was built last: 'lodpub reload' serves it", file=sys.stderr)
    return EXIT_OK


def _keep_decision(output_dir: Path, decision: Decision) -> None:
    """Point `served` at the chosen release and record the decision, each only when it changes; on a
    folder that cannot take them (read-only, full) say so: every worker then decides the same."""
    try:
        if pointed_version(output_dir, SERVED) != decision.chosen:
            point(output_dir, SERVED, releases_dir(output_dir) / decision.chosen)
        record_decision(output_dir, decision)
    except OSError as error:
        print(f"lodpub: warning: cannot record in {output_dir} which release is served "
              f"({error.strerror or error}): each worker decides for itself, in the same way", file=sys.stderr)


def _run_releases(args: argparse.Namespace, settings: Settings) -> int:
    print(_releases_table(settings.output_dir))
    return EXIT_OK


def _releases_table(output_dir: Path) -> str:
    """One line per release, newest first: version, build time, source commit, triples, and which
    is served (and whether as a fallback), which was chosen and refused, and which was built last;
    then, for a fallback, why."""
    latest = pointed_version(output_dir, CURRENT)
    decision = _decision_or_none(output_dir)
    lines = [f"{'VERSION':<26} {'BUILT AT':<21} {'SOURCE COMMIT':<22} {'TRIPLES':>8}  STATE"]
    for release in reversed(list_releases(output_dir)):
        manifest = release.manifest or {}
        source = manifest.get("source")
        commit = (source["commit"][:12] + (" +changes" if source["uncommitted_changes"] else "")) if source else "-"
        marks = _release_marks(release, decision) + (["latest"] if release.version == latest else [])
        lines.append(f"{release.version:<26} {manifest.get('built_at', '?'):<21} {commit:<22} "
                     f"{manifest.get('triples', '?'):>8}  {', '.join(marks)}".rstrip())
    if decision is not None and decision.fallback:
        lines.append(f"\nServed: {decision.describe()}")
    return "\n".join(lines)


def _decision_or_none(output_dir: Path) -> Decision | None:
    try:
        return decision_in_force(output_dir)
    except StoreUnavailable:  # no release at all
        return None


def _release_marks(release: ReleaseSummary, decision: Decision | None) -> list[str]:
    """What the STATE column says of `release`: served, chosen, refused, damaged."""
    marks = []
    if decision is not None and release.version == decision.serving:
        marks.append("served (fallback)" if decision.fallback else "served")
    if decision is not None and decision.fallback and release.version == decision.chosen:
        marks.append("chosen")
    refusal = next((refusal for refusal in (decision.refused if decision else ()) if refusal.version == release.version),
                   None)
    if refusal is not None:
        marks.append(f"refused: {refusal.reason}")
    elif release.manifest is None:
        missing = not (release.path / MANIFEST).exists()
        marks.append("incomplete: no manifest.json" if missing else f"damaged: {release.problem}")
    return marks


def _run_reload(args: argparse.Namespace, settings: Settings) -> int:
    return _switch_served(settings, args.version or pointed_version(settings.output_dir, CURRENT), "reload")


def _run_rollback(args: argparse.Namespace, settings: Settings) -> int:
    version = args.version or _previous_release(settings.output_dir)
    return _switch_served(settings, version, "rollback")


def _previous_release(output_dir: Path) -> str | None:
    """The release built before the one served (None if there is none)."""
    served = pointed_version(output_dir, SERVED) or pointed_version(output_dir, CURRENT)
    older = [release.version for release in list_releases(output_dir) if served is None or release.version < served]
    return older[-1] if older else None


def _switch_served(settings: Settings, version: str | None, command: str) -> int:
    """Check that release `version` is complete, point `served` at it, record that it is served
    (store/served_release.py) and have a running server switch to it; refuse, changing nothing, when the
    release cannot be served."""
    output_dir = settings.output_dir
    before = _decision_or_none(output_dir)
    keeps = _still_served(before)
    if version is None:
        wanted = "release to switch to" if command == "reload" else "older release"
        print(f"lodpub: {command} refused: there is no {wanted} in {releases_dir(output_dir)}; {keeps}",
              file=sys.stderr)
        return EXIT_REFUSED
    release = releases_dir(output_dir) / Path(version).name
    problems = release_problems(release)
    pid = server_pid(output_dir)
    if pid is not None and not may_signal(pid):
        problems.append(f"the server (pid {pid}) runs as another user: run 'lodpub {command}' as that user")
    if problems:
        print(f"lodpub: {command} refused: release {version} cannot be served: {'; '.join(problems)}; {keeps}",
              file=sys.stderr)
        return EXIT_REFUSED
    # A release too large for memory gets its on-disk store now, not in a new worker, which
    # gunicorn would kill for starting too slowly.
    prepare_store(settings, release)
    try:
        record_decision(output_dir, chosen_whole(output_dir, release.name, _rolled_back_from(before, command)))
        point(output_dir, SERVED, release)
    except OSError as error:
        return _error(f"lodpub: {command} failed: cannot record in {output_dir} that release {release.name} is "
                      f"served ({error.strerror or error}); {keeps}")
    if pid is None:
        print(f"Release {version} will be served: no server is running from {output_dir}")
        return EXIT_OK
    if not replace_workers(pid, WORKER_SWAP_SECONDS):
        return _error(f"lodpub: the server (pid {pid}) did not replace its workers within "
                      f"{WORKER_SWAP_SECONDS} s, or stopped: see its log")
    print(f"Release {version} is served: the server (pid {pid}) replaced its workers")
    return EXIT_OK


def _still_served(decision: Decision | None) -> str:
    """What a refused switch leaves served, in words."""
    if decision is None or decision.serving is None:
        return "nothing changed"
    fallback = f" (a fallback for release {decision.chosen})" if decision.fallback else ""
    return f"release {decision.serving} is still served{fallback}"


def _rolled_back_from(before: Decision | None, command: str) -> tuple[str, ...]:
    """The releases rolled back from once the server leaves `before` by `command`: a rollback adds
    the release chosen before (never a fallback for what the operator now chooses)."""
    rolled = before.rolled_back_from if before else ()
    return (*rolled, before.chosen) if before and command == "rollback" and before.chosen not in rolled else rolled


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
    source = release.manifest["source"]
    changes = " with uncommitted changes" if source and source["uncommitted_changes"] else ""
    lines.append(f"Source commit: {source['commit']}{changes}" if source
                 else "Source commit: none (the data is not in a git checkout)")
    if release.deleted:
        lines.append(f"Deleted older releases (keeping {settings.keep_releases}): {', '.join(release.deleted)}")
    served = pointed_version(settings.output_dir, SERVED)
    if served and served != release.version:
        lines.append(f"Release {served} is still served: 'lodpub reload' serves this one")
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
    _add_setting_options(build_parser, {**_BUILD_OPTIONS, **_KEEP_OPTIONS})
    build_parser.set_defaults(run=_run_build)
    serve_parser = commands.add_parser(
        "serve", parents=[data_options],
        help="build a release if the sources changed, then serve it (gunicorn; --dev for Flask's server)",
    )
    _add_setting_options(serve_parser, {**_BUILD_OPTIONS, **_KEEP_OPTIONS, **_SERVE_OPTIONS})
    serve_parser.add_argument("--dev", action="store_true",
                              help="Flask's development server, reloading on code changes (not for production)")
    _add_setting_options(serve_parser, _STORE_OPTIONS)
    serve_parser.set_defaults(run=_run_serve)
    publish_parser = commands.add_parser(
        "publish", help="load a release into the remote SPARQL store and switch to it atomically",
    )
    _add_setting_options(publish_parser, {**_PROJECT_OPTION, **_BUILD_OPTIONS, **{
        option: setting for option, setting in _STORE_OPTIONS.items() if option != "--store"}})
    publish_parser.add_argument("--release", type=Path, metavar="DIR",
                                help="the release folder to publish (default: the output directory's 'current')")
    publish_parser.set_defaults(run=_run_publish)
    _add_release_commands(commands)
    return parser


def _add_release_commands(commands: argparse._SubParsersAction) -> None:
    """`releases`, `reload` and `rollback`: what is served, and switching it."""
    releases_parser = commands.add_parser("releases", help="list the releases: which is served, which was built last")
    _add_setting_options(releases_parser, {**_PROJECT_OPTION, **_BUILD_OPTIONS})
    releases_parser.set_defaults(run=_run_releases)
    for name, run, help_text, version_help in (
        ("reload", _run_reload, "serve the release built last (or VERSION), checked first, without dropping requests",
         "the release to serve (default: the one built last)"),
        ("rollback", _run_rollback, "serve the release before the served one (or VERSION), checked first",
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
