"""The commands for releases and serving: `serve` (which builds first when the sources changed),
`releases`, `reload` and `rollback`; what a starting server serves, and switching a running one.
"""

import argparse
import sys
from pathlib import Path

from .allocator import AllocatorMissing, allocator_said, start_with_allocator
from .cli_data import EXIT_OK, EXIT_REFUSED, report_error, run_build
from .config import Settings
from .control import claim_pidfile, pidfile_problem, replace_workers, server_pid
from .dataset import CATALOGUE_FOLDER
from .dump_completion import finish_interrupted_all
from .provisional_serving import forget_failed_build, start_provisionally, stopped_status
from .release_manifest import current_release_is_up_to_date
from .store.checksums import DamagedFile
from .store.manifest import MANIFEST, checked_manifest, completion_failure, pending_files
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
from .store.served_release import Decision, decide, read_record, record_decision
from .switching import SwitchFailed, SwitchRefused, decision_or_none, previous_release, switch_served

# How long `reload` and `rollback` wait for the server to replace its workers.
WORKER_SWAP_SECONDS = 90


def run_serve(args: argparse.Namespace, settings: Settings) -> int:
    """`lodpub serve`: build a release if the sources changed, decide what to serve, and serve it."""
    from .wsgi import serve_development, serve_production

    try:
        allocator = start_with_allocator(settings.allocator, settings.jemalloc_library)
    except AllocatorMissing as missing:
        return report_error(f"lodpub: error: {missing}")
    if settings.store == "remote":
        print(f"Serving the release held by {settings.store_query_url}", file=sys.stderr)
    else:
        status = EXIT_OK if args.dev else _claim_output(settings.output_dir)
        if status == EXIT_OK:
            status = release_at_start(args, settings)
        if status != EXIT_OK:
            return status
    print(f"lodpub: allocator {settings.allocator}: {allocator_said(allocator, settings)}", file=sys.stderr)
    print(f"lodpub serving on http://{settings.host}:{settings.port}/", file=sys.stderr, flush=True)
    settings = with_session_key(settings)
    forget_failed_build(settings.output_dir)
    try:
        (serve_development if args.dev else serve_production)(settings)
    except SystemExit:  # how gunicorn's master ends; stopped by a failed build, with the build's status
        status = stopped_status(settings.output_dir)
        if status is not None:
            return status
        raise
    return EXIT_OK


def with_session_key(settings: Settings) -> Settings:
    """`settings` with a key for editors' sessions made now when editing is on and none is configured: made
    once, here, so that every worker signs with it (sessions then last until the server stops)."""
    if not settings.editing or settings.secret_key or settings.secret_key_file is not None:
        return settings
    import dataclasses
    import secrets

    return dataclasses.replace(settings, secret_key=secrets.token_hex(32))


def _claim_output(output_dir: Path) -> int:
    """Refuse (EXIT_ERROR, saying why) when a server of `output_dir` runs already, or its gunicorn
    could not write its pidfile there (read-only, full): checked before anything is built. (A
    folder still to be made is made by the build.)"""
    if not output_dir.is_dir():
        return EXIT_OK
    if not claim_pidfile(output_dir):
        return report_error(f"lodpub: error: a server of {output_dir} is running already (pid "
                            f"{server_pid(output_dir)}): stop it first, or switch it with 'lodpub reload'")
    problem = pidfile_problem(output_dir)
    if problem is not None:
        return report_error(f"lodpub: error: cannot write the pidfile {output_dir / PIDFILE} ({problem}): the server "
                            "writes its pid there, for 'lodpub reload' and 'rollback'. Free some space or make the "
                            "folder writable; a read-only store of releases can be linked in as its releases/ "
                            "(docs/operators.md, \"Releases, reload and rollback\")")
    return EXIT_OK


def release_at_start(args: argparse.Namespace, settings: Settings) -> int:
    """Build a release when the sources changed since the last build, then decide what to serve."""
    # `lodpub serve` in production (not --dev, nor a caller without the option) answers before the
    # release's other dumps are written (dump_completion.py).
    deferring = getattr(args, "dev", None) is False
    if deferring:  # a server of this folder was stopped while it completed a release's dumps
        finish_interrupted_all(settings.output_dir)
    damage = _damage_of_current(settings.output_dir)
    if damage is not None:
        print(f"lodpub: warning: {damage}; not building: run 'lodpub build' to replace it", file=sys.stderr)
    elif not current_release_is_up_to_date(settings):
        # Another dataset (--data) is validated only against shapes given for it (--shapes):
        # ours describe our partnerships, not its data.
        defaults = Settings()
        foreign = settings.data_dir != defaults.data_dir and settings.shapes_dir == defaults.shapes_dir
        # Nor is one built before it is served: it is served from its sources as Oxigraph loads them,
        # and its release follows (provisional_serving.py); not one with a catalogue record.
        if deferring and foreign and not (settings.data_dir / CATALOGUE_FOLDER).is_dir() \
                and start_provisionally(settings):
            return EXIT_OK
        status = run_build(args, settings, check_shapes=not foreign, defer_dumps=deferring)
        if status != EXIT_OK:
            return status
        return serve_at_start(settings, chosen=pointed_version(settings.output_dir, CURRENT))
    return serve_at_start(settings)


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


def serve_at_start(settings: Settings, chosen: str | None = None) -> int:
    """Decide what a starting server serves (store/served_release.py): the release `chosen`, else the one
    served last, else the one built last, or a fallback for it; record the decision, writing only
    what changes, and say it. A file of it that fails its checksum is reported here and withheld
    by the server."""
    output_dir = settings.output_dir
    chosen = chosen or chosen_version(output_dir)
    if chosen is None:
        return report_error(f"lodpub: error: no release in {releases_dir(output_dir)}: run 'lodpub build' first")
    record = read_record(output_dir)
    decision, _ = decide(output_dir, chosen, record.rolled_back_from if record else ())
    if decision.serving is None:
        return report_error(f"lodpub: error: {decision.describe()}. Run 'lodpub build', or repair a release and "
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


def run_releases(args: argparse.Namespace, settings: Settings) -> int:
    """`lodpub releases`: print the table of releases."""
    print(_releases_table(settings.output_dir))
    return EXIT_OK


def _releases_table(output_dir: Path) -> str:
    """One line per release, newest first: version, build time, source commit, triples, and which
    is served (and whether as a fallback), which was chosen and refused, and which was built last;
    then, for a fallback, why."""
    latest = pointed_version(output_dir, CURRENT)
    decision = decision_or_none(output_dir)
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
    elif release.manifest is not None and pending_files(release.manifest):
        failure = completion_failure(release.path)
        marks.append(f"dumps not written: {failure}" if failure else
                     f"dumps being written ({len(pending_files(release.manifest))} files to go; "
                     "'lodpub serve' writes them)")
    elif release.manifest is None:
        missing = not (release.path / MANIFEST).exists()
        marks.append("incomplete: no manifest.json" if missing else f"damaged: {release.problem}")
    return marks


def run_reload(args: argparse.Namespace, settings: Settings) -> int:
    """`lodpub reload`: serve the release built last (or the one named)."""
    return _switch_served(settings, args.version or pointed_version(settings.output_dir, CURRENT), "reload")


def run_rollback(args: argparse.Namespace, settings: Settings) -> int:
    """`lodpub rollback`: serve the release before the served one (or the one named)."""
    return _switch_served(settings, args.version or previous_release(settings.output_dir), "rollback")


def _switch_served(settings: Settings, version: str | None, command: str) -> int:
    """Switch the served release (switching.switch_served) and wait for a running server to replace
    its workers; refuse, changing nothing, when the release cannot be served."""
    try:
        switched = switch_served(settings, version, command)
    except SwitchRefused as refusal:
        print(f"lodpub: {refusal}", file=sys.stderr)
        return EXIT_REFUSED
    except SwitchFailed as failure:
        return report_error(f"lodpub: {failure}")
    pid = switched.pid
    if pid is None:
        print(f"Release {switched.version} will be served: no server is running from {settings.output_dir}")
        return EXIT_OK
    if not replace_workers(pid, WORKER_SWAP_SECONDS):
        return report_error(f"lodpub: the server (pid {pid}) did not replace its workers within "
                            f"{WORKER_SWAP_SECONDS} s, or stopped: see its log")
    print(f"Release {switched.version} is served: the server (pid {pid}) replaced its workers")
    return EXIT_OK
