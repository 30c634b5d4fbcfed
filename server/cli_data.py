"""The commands for the data: `validate`, `build` and `publish`; and what every command shares:
its exit codes (see cli.py) and how it says an error.
"""

import argparse
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from .build import Release, ValidationFailed, build
from .config import Settings
from .dataset import load_dataset
from .store.releases import CURRENT, SERVED, pointed_version
from .validate import load_shapes, validate
from .validation_report import format_report

EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_ERROR = 2
EXIT_REFUSED = 3
# The remote store's options (credentials come from the environment only, never from a command
# line): command-line option -> (the setting it overrides, its metavar).
STORE_OPTIONS = {
    "--store": ("store", "KIND"),
    "--query-url": ("store_query_url", "URL"),
    "--update-url": ("store_update_url", "URL"),
    "--graph-store-url": ("store_graph_store_url", "URL"),
}


def report_error(message: str) -> int:
    """Print `message` to stderr; EXIT_ERROR."""
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


def run_validate(args: argparse.Namespace, settings: Settings) -> int:
    """`lodpub validate`: print the report of the dataset against its shapes."""
    with _without_rdflib_logs():
        report = validate(load_dataset(settings), load_shapes(settings), jobs=settings.build_jobs)
    print(format_report(report, args.lang))
    return EXIT_OK if report.conforms else EXIT_VIOLATIONS


def _say_waiting(message: str) -> None:
    print(f"lodpub: {message}", file=sys.stderr, flush=True)


def run_build(args: argparse.Namespace, settings: Settings, check_shapes: bool = True, defer_dumps: bool = False) -> int:
    """`lodpub build`: validate, then write and publish a release (with `check_shapes`, against the
    shapes; with `defer_dumps`, for a server that writes them while it answers: see build.build)."""
    try:
        with _without_rdflib_logs():
            release = build(settings, check_shapes=check_shapes, on_wait=_say_waiting, defer_dumps=defer_dumps)
    except ValidationFailed as failure:
        print(format_report(failure.report, args.lang))
        what = f"{failure.where} has" if failure.where else "the dataset has"
        print(f"lodpub: build failed: {what} violations; nothing was written", file=sys.stderr)
        return EXIT_VIOLATIONS
    except OSError as error:  # e.g. a full disk: publish_release removed what it had written
        kept = pointed_version(settings.output_dir, CURRENT)
        still = f"release {kept} is still current" if kept else "there is no release yet"
        return report_error(f"lodpub: build failed, nothing was published ({still}): {error}")
    print(_describe_release(release, settings))
    return EXIT_OK


def run_publish(args: argparse.Namespace, settings: Settings) -> int:
    """`lodpub publish`: load a release into the remote SPARQL store."""
    from .dump_completion import complete_release
    from .store import StoreUnavailable, served_copy
    from .store.checksums import DamagedFile
    from .store.endpoints import endpoints_from
    from .store.publish import publish

    missing = [option for option, (setting, _) in STORE_OPTIONS.items()
               if setting != "store" and not getattr(settings, setting)]
    if missing:
        return report_error(f"lodpub: error: publish needs the remote store's {', '.join(missing)} "
                            "(or the LODPUB_STORE_* variables)")
    release = (args.release or settings.output_dir / "current").resolve()
    if not (release / "manifest.json").is_file():
        return report_error(f"lodpub: error: no release at {release}: run 'lodpub build' first")
    try:  # the store holds the release as the server publishes it, under its public base, with every dump
        release = served_copy(settings, release, jobs=settings.build_jobs)[0]
        complete_release(release, settings.build_jobs)
    except (DamagedFile, StoreUnavailable) as error:
        return report_error(f"lodpub: error: release {release.name}: {error}")
    version = publish(release, endpoints_from(settings))
    print(f"Published release {version} under {settings.public_base_iri} to {settings.store_query_url}")
    return EXIT_OK


def _describe_release(release: Release, settings: Settings) -> str:
    """The release's path, a table of its files (name, bytes, sha256 prefix) and where `current` points."""
    current = settings.output_dir / "current"
    lines = [f"Release {release.version} written to {release.path}"]
    lines += [
        f"  {entry['name']:<24} {entry['bytes']:>10}  {entry['sha256'][:12]}"
        for entry in release.manifest["files"]
    ]
    if release.manifest.get("pending"):
        lines.append(f"  {len(release.manifest['pending'])} more dump files are written while the server answers")
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
