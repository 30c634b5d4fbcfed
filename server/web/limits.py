"""Bounds on SPARQL queries: how many run at once, how long and how much memory each may take.

Python threads cannot be stopped, so a query never runs in the server's own process: it runs in
a child forked for it (sharing the loaded store, copy-on-write), which is killed when its time is
up. A machine-wide number of slots (file locks, so they hold across gunicorn's worker processes
and are freed even if a worker dies) bounds how many queries run at once; a query that finds no
free slot is refused at once rather than queued.
"""

import fcntl
import hashlib
import os
import pickle
import resource
import select
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


class NoFreeSlot(Exception):
    """Every query slot is taken: the server is busy."""


class QueryTimeout(Exception):
    """The query ran past its time and was stopped."""


class QueryCrashed(Exception):
    """The query's process died without an answer (most likely it ran out of its memory)."""


@contextmanager
def query_slot(directory: Path, slots: int) -> Iterator[int]:
    """Hold one of `slots` machine-wide slots for the duration; raise NoFreeSlot when all are taken."""
    directory.mkdir(parents=True, exist_ok=True)
    for number in range(slots):
        handle = open(directory / f"slot-{number}.lock", "w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        try:
            yield number
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()
        return
    raise NoFreeSlot()


def default_slot_directory(key: str) -> Path:
    """Where the slot files of the servers sharing `key` (their output folder) live."""
    return Path(tempfile.gettempdir()) / f"lodpub-slots-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def run_bounded(work: Callable[[], Any], timeout: float, memory_bytes: int) -> Any:
    """Run `work()` in a forked child and return what it returns (it must be picklable).

    The child is killed after `timeout` seconds (QueryTimeout) and may take `memory_bytes` of
    memory beyond what the server already has (QueryCrashed if it dies). An exception raised by
    `work` is raised here again.
    """
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # the child: do the work, hand back the outcome, and leave without cleaning up
        os.close(reader)
        _limit_memory(memory_bytes)
        try:
            outcome = ("value", work())
        except BaseException as error:  # noqa: BLE001 - every failure goes back to the parent
            outcome = ("error", error)
        try:
            data = pickle.dumps(outcome)
        except Exception as error:  # noqa: BLE001 - an unpicklable error still gets reported
            data = pickle.dumps(("error", RuntimeError(f"{type(outcome[1]).__name__}: {outcome[1]}")))
        with os.fdopen(writer, "wb") as pipe:
            pipe.write(data)
        os._exit(0)
    os.close(writer)
    try:
        data = _read_until(reader, time.monotonic() + timeout)
    except QueryTimeout:
        os.kill(child, signal.SIGKILL)
        raise
    finally:
        os.close(reader)
        os.waitpid(child, 0)
    if not data:
        raise QueryCrashed()
    kind, value = pickle.loads(data)
    if kind == "error":
        raise value
    return value


def _read_until(descriptor: int, deadline: float) -> bytes:
    chunks = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise QueryTimeout()
        ready, _, _ = select.select([descriptor], [], [], remaining)
        if not ready:
            raise QueryTimeout()
        chunk = os.read(descriptor, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _limit_memory(extra_bytes: int) -> None:
    """Cap the child's address space at what it has now plus `extra_bytes`."""
    pages = int(Path("/proc/self/statm").read_text().split()[0])
    limit = pages * os.sysconf("SC_PAGE_SIZE") + extra_bytes
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
