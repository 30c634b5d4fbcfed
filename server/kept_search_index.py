"""The search index of a release kept on disk, so that it is made once for all of a server's workers and
held in memory once.

The first worker to need the index of a release makes it and writes it into the output folder
(`<output>/search-index/<name>.index`, written whole or not at all; search_index_file.py); every worker,
the first too, then maps that file read only, so that the kernel holds its pages once for all of them
(and the workers that replace them), and each holds only the pages its searches touched. Workers take
turns by a lock on the folder, so that one makes it while the others wait to read it. Only the index of
the release served is kept. The file is a cache the server writes for itself, next to the releases it
also trusts: a damaged one is made again. Where it cannot be written, a worker holds the index it made.
"""

import contextlib
import fcntl
import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from . import search_index_file
from .search_index import SearchIndex
from .store.processes import give_back_freed_memory

FOLDER = "search-index"
SUFFIX = ".index"
# The format's version is part of a file's name, so that an index written by other code is not read.
FORMAT = 2

log = logging.getLogger(__name__)


def index_file(output_dir: Path | None, base: str, version: str) -> Path | None:
    """Where the index of release `version` under `base` is kept, for every worker (None: nowhere)."""
    if output_dir is None:
        return None
    name = hashlib.sha256(f"{FORMAT}\n{base}\n{version}".encode()).hexdigest()[:32]
    return output_dir / FOLDER / f"{name}{SUFFIX}"


def read_or_make(path: Path | None, make: Callable[[], SearchIndex],
                 make_kept: Callable[[Path], bool] | None = None) -> SearchIndex:
    """The index kept in `path`, mapped, else one `make_kept(path)` kept there (whether it did: it makes
    the index where the store is), else one `make` gives, kept there; then mapped (the others are
    removed: their releases are no longer served, and a release served again makes its index again)."""
    with _exclusively(path.parent if path is not None else None):
        if path is not None and path.is_file():
            try:
                return mapped(path)
            except (OSError, search_index_file.FileFormatError) as error:  # the index is only a cache
                log.warning("search index %s unreadable, made again: %s", path, error)
        if path is not None and make_kept is not None and _made_kept(make_kept, path):
            return mapped(path)
        started = time.monotonic()
        index = make()
        log.info("search index made in %.1f s: %d resources", time.monotonic() - started, len(index))
        if path is not None and keep(index.parts(), path):
            del index  # the file's pages, shared, rather than this worker's own copy
            give_back_freed_memory()  # (malloc would keep what making it took: 220 MB at 30k)
            return mapped(path)
        return index


def mapped(path: Path) -> SearchIndex:
    """The index in the file `path`, mapped read only. Raises FileFormatError or OSError."""
    return SearchIndex.from_parts(*search_index_file.read(path))


@contextlib.contextmanager
def _exclusively(folder: Path | None) -> Iterator[None]:
    """Hold the lock of `folder` (its file .lock), if it can be had: else go on without it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        lock = open(folder / ".lock", "a")  # noqa: SIM115 - closed below, after the lock is released
    except (OSError, AttributeError):  # no folder, or one that cannot be written
        yield
        return
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
        except OSError:  # a file system without locks: at worst two workers make the index at once
            pass
        yield


def _made_kept(make_kept: Callable[[Path], bool], path: Path) -> bool:
    """Whether `make_kept` made and kept the index in `path` (else the worker makes it: logged)."""
    started = time.monotonic()
    try:
        if make_kept(path):
            log.info("search index made where the store is in %.1f s", time.monotonic() - started)
            return True
    except Exception as error:  # noqa: BLE001 - e.g. the engine's memory or time: the worker makes it
        log.warning("search index not made where the store is, made here: %s", error)
    return False


def keep(parts: tuple[dict[str, Any], Mapping[str, search_index_file.Part]], path: Path) -> bool:
    """Write the index of `parts` (SearchIndex.parts) to `path` whole or not at all (a temporary file
    renamed), removing the others (of this format or an earlier one); whether it was written."""
    return keep_written(lambda file: search_index_file.write(file, *parts), path)


def keep_written(write: Callable[[BinaryIO], None], path: Path) -> bool:
    """As `keep`, the file written by `write` (search_index_file.write or write_pieces)."""
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".", delete=False) as temporary:
            write(temporary)
        os.replace(temporary.name, path)
        for other in (*path.parent.glob("*" + SUFFIX), *path.parent.glob("*.pickle")):
            if other != path:
                other.unlink(missing_ok=True)
        return True
    except OSError as error:
        log.warning("search index not kept in %s: %s", path.parent, error)
        if temporary is not None:
            Path(temporary.name).unlink(missing_ok=True)
        return False
