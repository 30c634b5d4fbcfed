"""The on-disk copy of a release: an Oxigraph (RocksDB) store built once, shared read-only.

A release too large to hold in every worker's memory is served from a store on disk. That store
is a cache derived from the release's files, so it lives inside the release folder, as the hidden
folder releases/<version>/.oxigraph/: pruning a release (`releases.prune`) deletes it with the
release, and `list_releases` and `release_problems`, which read only releases/ and the files the
manifest records, never see it.

The first process that needs it builds it in a temporary folder beside it and renames that into
place once complete, holding an exclusive lock (.oxigraph.lock) the whole time; every other
process waits on the lock, then finds it built. So a store killed half-way through its build is
never opened: only a complete one has the final name, and the next builder removes what a killed
one left.

RocksDB handles do not survive fork (the query runners of web/limits.py close every inherited
file descriptor, and RocksDB's background threads stay behind in the parent), so each process
opens the store for itself, on first use: see `ProcessLocalStore`.
"""

import fcntl
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pyoxigraph as ox

from . import StoreUnavailable
from .releases import fsync_directory

FOLDER = ".oxigraph"
LOCK = ".oxigraph.lock"
# A folder being built: .oxigraph-building-<pid>.
BUILDING_PREFIX = ".oxigraph-building-"
# Inside FOLDER: the RocksDB files Oxigraph writes (other files of the cache go beside it).
ENGINE = "engine"


def built_store(release: Path, build: Callable[[Path], None]) -> Path:
    """The folder of the on-disk store of `release`, which `build(folder)` fills (with the
    Oxigraph store in folder/ENGINE) the first time any process asks for it.

    Raises StoreUnavailable, saying why, when it cannot be built (what `build` raises as
    StoreUnavailable goes through as it is)."""
    folder = release / FOLDER
    if is_built(release):  # no need to wait for the lock
        return folder
    try:
        with exclusively(release / LOCK):
            if not folder.is_dir():  # another process may have built it while this one waited
                _remove_leftovers(release)
                build_into_place(folder, build)
    except OSError as error:
        raise StoreUnavailable(f"the on-disk store of release {release.name} cannot be built in "
                               f"{folder}: {error.strerror or error}") from error
    return folder


def is_built(release: Path) -> bool:
    """Whether the on-disk store of `release` is built (only a complete one has its final name)."""
    return (release / FOLDER).is_dir()


def write_engine(folder: Path, fill: Callable[[ox.Store], None]) -> None:
    """Make the Oxigraph store folder/ENGINE, `fill` it, write it to disk and close it (so that
    RocksDB lets go of its lock before the folder is renamed and opened read-only)."""
    engine = ox.Store(str(folder / ENGINE))
    fill(engine)
    engine.flush()
    engine.optimize()
    del engine  # the last reference: Oxigraph closes the database


class ProcessLocalStore:
    """The on-disk store of a folder built by `built_store`, opened read-only by each process
    that uses it, when it first does.

    A query runner is forked from a worker that may hold the store open: the handle it inherits
    reads through file descriptors the runner closes, so it opens its own. The inherited handle
    is kept, never closed: closing it would have RocksDB wait for threads that the fork did not
    copy. Two threads opening at once both succeed; one handle is kept.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._opened: dict[int, ox.Store] = {}

    def __call__(self) -> ox.Store:
        """This process's read-only handle on the store."""
        pid = os.getpid()
        handle = self._opened.get(pid)
        if handle is None:
            handle = self._opened.setdefault(pid, self._open())
        return handle

    def _open(self) -> ox.Store:
        try:
            return ox.Store.read_only(str(self.folder / ENGINE))
        except OSError as error:
            raise StoreUnavailable(f"the on-disk store {self.folder} cannot be opened: {error}") from error


@contextmanager
def exclusively(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `lock_path` (created if needed), waiting for it as long as it takes."""
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_into_place(folder: Path, build: Callable[[Path], None], building_name: str | None = None) -> None:
    """Build in a temporary folder beside `folder` (named `building_name`, by default this store's
    building folder), then give it the final name in one step."""
    building = folder.with_name(building_name or f"{BUILDING_PREFIX}{os.getpid()}")
    building.mkdir()
    try:
        build(building)
        os.rename(building, folder)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    fsync_directory(folder.parent)


def _remove_leftovers(release: Path) -> None:
    """Remove the folders of builds that were killed. Called with the lock held: only its holder
    builds, so every building folder found then is a leftover."""
    for path in release.glob(f"{BUILDING_PREFIX}*"):
        shutil.rmtree(path, ignore_errors=True)
