"""What a server's master does before its workers serve a release: check that there is one to serve,
and prepare it (the copy under the public base, the on-disk store of a large release, and the dumps still
to be written). Above the store layer: it starts the writing of dumps (dump_completion.py), which the
store does not know of.
"""

import logging
import multiprocessing
from pathlib import Path

from .config import Settings
from .store import StoreUnavailable, served_copy

_log = logging.getLogger(__name__)


def check_servable(settings: Settings) -> list[Path]:
    """Raise StoreUnavailable, without loading anything, when the embedded store has no release to
    serve: none was built, or none that a server may serve can be loaded (served_release.py; a remote
    store is asked by each worker, and may come back later). Build the on-disk store of the release
    to be served if it needs one (prepare_store). Return the folders whose dumps are still to be written,
    for dump_completion.start_completion once the first workers are forked (their load comes first)."""
    if settings.store == "remote":
        return []
    from .store.releases import releases_dir
    from .store.served_release import decision_in_force

    decision = decision_in_force(settings.output_dir)
    if decision.serving is None:
        raise StoreUnavailable(decision.describe())
    return prepare_store(settings, releases_dir(settings.output_dir) / decision.serving, decision.manifest,
                         defer_dumps=True)


def prepare_store(settings: Settings, release: Path, manifest: dict | None = None,
                  defer_dumps: bool = False) -> list[Path]:
    """Write the copy of `release` (whose checked `manifest` is read here if not given) mapped to the
    public base, and build its on-disk store if it is too large for memory, now, each if not done yet.
    The dumps of the release and of its copy that are still to be written (dump_completion.py) are
    written now, or with `defer_dumps` (a starting server's master) left to a process that runs while the
    server answers: the folders to complete are returned, the copy first (it is what is served).

    Built by the first gunicorn worker instead, a store of a few million triples would take longer
    than gunicorn lets a worker start (a minute: see wsgi.gunicorn_options) and the worker would be
    killed half-way, again and again. The build runs in a fresh Python process (spawned, not
    forked): the caller then holds no RocksDB threads for the workers it forks, and a caller that
    has opened a store already (a test, an embedding program) passes the child none of its threads'
    locks, which hung a forked build. A failure is only logged: the workers then say why the
    release cannot be served, and serve another (open_store).
    """
    from .dump_completion import complete_release, is_pending
    from .store.checksums import DamagedFile
    from .store.embedded import build_on_disk_logged, held_on_disk
    from .store.manifest import load_manifest
    from .store.ondisk import is_built

    if settings.store == "remote":
        return []
    built = release
    try:
        if not defer_dumps:  # a release switched to, or published: whole before it is served
            complete_release(built, settings.build_jobs)
            manifest = None
        release, manifest = served_copy(settings, built, manifest or load_manifest(built), settings.build_jobs,
                                        defer_dumps)
        if not defer_dumps:
            complete_release(release, settings.build_jobs)
    except (DamagedFile, StoreUnavailable, OSError) as failure:
        _log.error("release %s: %s", release.name, failure)
        return []  # the workers say why, and serve another release
    if not is_built(release) and held_on_disk(manifest, settings.memory_store_max_triples):
        builder = multiprocessing.get_context("spawn").Process(target=build_on_disk_logged,
                                                               args=(release.resolve(), manifest))
        builder.start()
        builder.join()
    return [folder for folder in dict.fromkeys((release, built)) if defer_dumps and is_pending(folder)]
