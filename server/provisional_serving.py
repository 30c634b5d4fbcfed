"""`lodpub serve --data` of a dataset it does not validate answers from the sources as Oxigraph loads
them, and switches to their release once it is built and proven (issue 21, target 1).

A starting server's master loads the sources into the provisional store (provisional_store.py) and
serves it as the provisional release (store/provisional.py) instead of building first. Once its first
workers are forked it starts, niced, `complete` in a process of its own: the release is built as
`lodpub build` builds it (no shapes) and its copy under the public base is written, each with the dumps a
store loads, as a starting server writes them (dump_completion.py), and the provisional store is loaded
again and compared with the copy's N-Quads dump, read as a stream (provisional_store.proof_of): the log
says whether it held exactly the release's quads, loudly when not. The server then switches to the
release as `lodpub reload` does, either way (the release is the canonical, checked one), and the process
writes the release's other dumps as a starting server's master has them written (each served once
written and checked).

A build that fails stops the server, saying why, and `lodpub serve` then exits with the status a build
at start would have given (EXIT_ERROR): data that was not built must not stay published as if it had
been. The files the build is known to refuse though Oxigraph reads them are left to it before anything
is served (provisional_store.py); what remains is a file changed while the server started, a full disk,
a fault of the build's own (docs/operators.md, "Served before it is built").

Stopped half-way, nothing published is touched: the build publishes a release whole or not at all,
and the next start behaves as without this (it serves the release built, or builds one).
"""

import argparse
import logging
import os
import signal
import subprocess
import sys
from contextlib import suppress
from pathlib import Path

from .cli_data import EXIT_ERROR, EXIT_OK, run_build
from .config import Settings
from .data_errors import DataFileError
from .dump_completion import complete_logged
from .dumps import DATA_DUMP
from .provisional_store import digest_of_dump, digest_of_store, proof_of, provisional_load
from .release_manifest import sources_digest
from .release_preparation import prepare_store
from .store import StoreUnavailable, serve_provisionally, served_copy
from .store.checksums import DamagedFile
from .store.engine_choice import with_engine_chosen
from .store.processes import payload_from_parent, start_in_background
from .store.provisional import (
    ProvisionalStore,
    end_provisional,
    mark_served,
    provisional_folder,
    provisional_version,
    write_provisional,
)
from .store.releases import CURRENT, pointed_version, releases_dir
from .switching import SwitchFailed, SwitchRefused, switch_served

_log = logging.getLogger(__name__)
# As the dumps' completion (dump_completion.py): the workers come first.
_NICENESS = 10
# Written in the provisional release's folder when its build failed: the pid of the master it stops.
_BUILD_FAILED = "build-failed"


def start_provisionally(settings: Settings) -> bool:
    """In a starting server's master: load the sources and serve them as the provisional release; False
    (nothing done) when a file is for the build to read, or the store would not be one in memory per
    worker: the caller then builds first, as always."""
    if (settings.store != "embedded" or settings.engine not in ("per-worker", "auto")
            or settings.memory_store_max_triples == 0):
        return False
    load = provisional_load(settings, settings.public_base_iri, settings.memory_store_max_triples)
    if load is None:
        return False
    digest = sources_digest(settings)
    # The engine "auto" chooses (engine_choice.py) for the provisional release as for any other.
    chosen = with_engine_chosen(settings, {"version": provisional_version(digest), "triples": load.quads})
    if chosen.engine != "per-worker":
        return False
    folder, manifest = write_provisional(settings.output_dir, settings.public_base_iri, digest, load.quads)
    serve_provisionally(ProvisionalStore(folder, manifest, load.store, load.written_literals))
    print(f"Serving the provisional release {manifest['version']} ({load.quads} triples read from the sources); "
          "their release is built meanwhile and served once written", file=sys.stderr, flush=True)
    return True


def start_completion(settings: Settings) -> subprocess.Popen:
    """Start `complete` in a fresh, niced process, which does not outlive the caller (the next start
    builds again)."""
    return start_in_background(__name__, "complete_from_stdin", settings)


def complete_from_stdin() -> None:
    """`complete` of the settings, for the master that started it, niced. (It exits with 0 whatever
    happens: gunicorn, whose master reaps it, stops the server when a child exits with 3 or 4.)"""
    logging.basicConfig(format="%(message)s")
    settings, master = payload_from_parent()
    os.nice(_NICENESS)
    complete(settings, master)


def complete(settings: Settings, master: int | None) -> bool:
    """Build the release of the sources, prove the provisional store held its quads, and switch the server
    (`master`; None: none to tell) to it. False, saying why, when it cannot be switched to; a build
    that fails stops the server."""
    provisional = provisional_folder(settings.output_dir)
    if _built(settings) != EXIT_OK:  # (with only the dumps a store loads: the others follow, as at a start)
        _log.error("lodpub: error: the sources served provisionally cannot be built (see above): the server stops")
        if master is not None:
            with suppress(OSError):  # (a full disk: the server stops all the same, its status 0)
                (provisional / _BUILD_FAILED).write_text(str(master), encoding="utf-8")
            os.kill(master, signal.SIGTERM)
        return False
    version = pointed_version(settings.output_dir, CURRENT)
    try:
        pending = prepare_store(settings, releases_dir(settings.output_dir) / version, defer_dumps=True)
        folder, _ = served_copy(settings, releases_dir(settings.output_dir) / version)
        _prove(settings, version, folder / DATA_DUMP)
        end_provisional(provisional)  # (first: switch_served refuses to switch a server serving it)
        switch_served(settings, version, "reload", defer_dumps=True)
    except (StoreUnavailable, DamagedFile, SwitchRefused, SwitchFailed, OSError) as failure:
        mark_served(provisional)  # its workers serve it still
        _log.error("lodpub: error: release %s was built but cannot be served (%s): the provisional release is "
                   "still served; repair it and restart the server", version, failure)
        return False
    if master is not None:
        os.kill(master, signal.SIGHUP)  # as `lodpub reload` asks (control.ask_to_replace_workers)
    _log.warning("lodpub: release %s is built and served; the provisional release is no longer", version)
    complete_logged(pending, settings.build_jobs)  # its dumps, as a server starting with it writes them
    return True


def _built(settings: Settings) -> int:
    """run_build without shapes, a file it refuses reported as `lodpub serve` reports it."""
    try:
        return run_build(argparse.Namespace(lang="en"), settings, check_shapes=False, defer_dumps=True)
    except DataFileError as error:
        print(error.describe("en"), file=sys.stderr)
    except OSError as error:
        print(f"lodpub: error: {error}", file=sys.stderr)
    except Exception:  # a fault of the build's own must stop the server too, not end this process unheard
        _log.exception("lodpub: error: the build failed")
    return EXIT_ERROR


def forget_failed_build(output_dir: Path) -> None:
    """Forget that a failed build stopped an earlier server of `output_dir` (a container's master has the
    same pid at every start: stopped_status would take it for this one's)."""
    with suppress(OSError):  # (none, or a folder this server cannot write either: it says so elsewhere)
        (provisional_folder(output_dir) / _BUILD_FAILED).unlink()


def stopped_status(output_dir: Path) -> int | None:
    """EXIT_ERROR when this process is the master a failed build of its provisional release stopped (see
    `complete`), else None."""
    try:
        failed = (provisional_folder(output_dir) / _BUILD_FAILED).read_text(encoding="utf-8")
    except OSError:
        return None
    return EXIT_ERROR if failed == str(os.getpid()) else None


def _prove(settings: Settings, version: str, dump: Path) -> None:
    """Compare the release's N-Quads `dump` with the provisional store loaded again, and log the verdict:
    one after the other, so that this process holds one store (peaks: bench/README.md, "Time to first answer")."""
    theirs = digest_of_dump(dump)
    load = provisional_load(settings, settings.public_base_iri)
    if load is None:  # a file changed since the start into one for the build to read
        _log.error("lodpub: error: the sources changed since the server started: the provisional store was "
                   "not proven to hold release %s", version)
        return
    proof = proof_of(digest_of_store(load), theirs)
    if proof.held:
        _log.warning("lodpub: %s %s", proof.describe(), version)
    else:
        _log.error("lodpub: ERROR: %s %s: the server served other data than its release until now; it serves "
                   "the release from now on. Please report this with the data (issue 21)", proof.describe(), version)
