"""Bounds on SPARQL queries: how many run at once, how long and how much memory each may take.

Python threads cannot be stopped, so a query never runs in the server's own process: it runs in a
query runner, a child process forked from it (sharing the loaded store copy-on-write), which is
killed when the query's time is up. A runner is kept for the next query rather than forked anew
for each: forking a process that holds a store, and letting the child copy the pages its first
query touches, costs more than most queries. A machine-wide number of slots (file locks, so they
hold across gunicorn's worker processes and are freed even if a worker dies) bounds how many
queries run at once; a query that finds no free slot is refused at once rather than queued.
"""

import fcntl
import hashlib
import os
import pickle
import resource
import select
import signal
import struct
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# A runner retires after this many queries, or once its address space has grown by half of what
# a query may take (memory its allocator keeps would otherwise shrink the next query's allowance).
QUERIES_PER_RUNNER = 1000
# An idle runner is stopped after this many seconds, so that memory is given back when traffic stops.
IDLE_SECONDS = 60.0
_LENGTH = struct.Struct("!Q")


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


class QueryRunners:
    """The query runners of this process: each runs `work(*arguments)` for one query at a time.

    `work` is fixed when the runners are made (a runner holds the process as it was when forked,
    the store included); its arguments and what it returns or raises must be picklable. A query
    may take `memory_bytes` beyond what the process had when its runner was forked; at most
    `keep` runners wait idle for the next query.
    """

    def __init__(self, work: Callable[..., Any], memory_bytes: int, keep: int) -> None:
        self.work = work
        self.memory_bytes = memory_bytes
        self.keep = keep
        self._idle: list[_Runner] = []
        self._lock = threading.Lock()

    def run(self, arguments: tuple, timeout: float) -> Any:
        """`work(*arguments)` in a runner: its value, or the exception it raised, raised again.

        Raises QueryTimeout when it takes longer than `timeout` seconds (the runner is killed)
        and QueryCrashed when its runner dies without an answer.
        """
        runner = self._take_idle() or _Runner.fork(self.work, self.memory_bytes)
        try:
            kind, value, retiring = runner.ask(arguments, time.monotonic() + timeout)
        except BaseException:
            runner.stop()
            raise
        if retiring:
            runner.stop()
        else:
            self._give_back(runner)
        if kind == "error":
            raise QueryCrashed() if isinstance(value, MemoryError) else value
        return value

    def stop(self) -> None:
        """Stop every idle runner (a busy one stops when its query ends and finds no place)."""
        with self._lock:
            idle, self._idle, self.keep = self._idle, [], 0
        for runner in idle:
            runner.stop()

    def _take_idle(self) -> "_Runner | None":
        with self._lock:
            now = time.monotonic()
            stale = [runner for runner in self._idle if now - runner.idle_since > IDLE_SECONDS]
            self._idle = [runner for runner in self._idle if runner not in stale]
            runner = self._idle.pop() if self._idle else None
        for old in stale:
            old.stop()
        return runner

    def _give_back(self, runner: "_Runner") -> None:
        with self._lock:
            if len(self._idle) < self.keep:
                runner.idle_since = time.monotonic()
                self._idle.append(runner)
                return
        runner.stop()


@dataclass(eq=False)
class _Runner:
    """A forked child that answers requests read from one pipe on another."""

    pid: int
    requests: int   # the write end of the pipe the child reads its requests from
    answers: int    # the read end of the pipe the child writes its answers to
    idle_since: float = field(default=0.0)

    @classmethod
    def fork(cls, work: Callable[..., Any], memory_bytes: int) -> "_Runner":
        """Fork a runner of `work`."""
        requests_read, requests_write = os.pipe()
        answers_read, answers_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: serve until told to stop, and leave without cleaning up
            try:
                _serve(work, memory_bytes, requests_read, answers_write)
            finally:
                os._exit(0)
        os.close(requests_read)
        os.close(answers_write)
        return cls(pid, requests_write, answers_read)

    def ask(self, arguments: tuple, deadline: float) -> tuple[str, Any, bool]:
        """Send `arguments`, wait for the answer until `deadline`: (kind, value, retiring)."""
        try:
            _send(self.requests, pickle.dumps(arguments))
        except BrokenPipeError:
            raise QueryCrashed() from None
        answer = _receive(self.answers, deadline)
        if answer is None:
            raise QueryCrashed()
        return pickle.loads(answer)

    def stop(self) -> None:
        """Kill the child (if it still runs) and reap it."""
        for descriptor in (self.requests, self.answers):
            os.close(descriptor)
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(self.pid, 0)


def _serve(work: Callable[..., Any], memory_bytes: int, requests: int, answers: int) -> None:
    """The runner's life: answer requests until the parent goes away or it is time to retire."""
    _close_descriptors_but((0, 1, 2, requests, answers))
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(number, signal.SIG_DFL)  # not the server's handlers: the parent decides when it ends
    start = _address_space()
    resource.setrlimit(resource.RLIMIT_AS, (start + memory_bytes, start + memory_bytes))
    for served in range(1, QUERIES_PER_RUNNER + 1):
        request = _receive(requests, None)
        if request is None:  # the parent closed the pipe (or died)
            return
        try:
            outcome = ("value", work(*pickle.loads(request)))
        except BaseException as error:  # noqa: BLE001 - every failure goes back to the parent
            outcome = ("error", error)
        retiring = (served == QUERIES_PER_RUNNER or isinstance(outcome[1], MemoryError)
                    or _address_space() > start + memory_bytes // 2)
        _send(answers, _pickled(*outcome, retiring))
        if retiring:
            return


def _pickled(kind: str, value: Any, retiring: bool) -> bytes:
    try:
        return pickle.dumps((kind, value, retiring))
    except Exception:  # noqa: BLE001 - an unpicklable value or error is still reported
        return pickle.dumps(("error", RuntimeError(f"{type(value).__name__}: {value}"), retiring))


def _send(descriptor: int, data: bytes) -> None:
    message = memoryview(_LENGTH.pack(len(data)) + data)
    while message:
        message = message[os.write(descriptor, message):]


def _receive(descriptor: int, deadline: float | None) -> bytes | None:
    """One message from the pipe, or None if it closes first; QueryTimeout past `deadline`."""
    header = _read_exactly(descriptor, _LENGTH.size, deadline)
    if header is None:
        return None
    return _read_exactly(descriptor, _LENGTH.unpack(header)[0], deadline)


def _read_exactly(descriptor: int, size: int, deadline: float | None) -> bytes | None:
    chunks, missing = [], size
    while missing:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([descriptor], [], [], remaining)[0]:
                raise QueryTimeout()
        chunk = os.read(descriptor, min(missing, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def _close_descriptors_but(kept: tuple[int, ...]) -> None:
    """Close every inherited file descriptor but `kept`: a runner must not hold the server's client
    connections (they would stay open after the server closes them) nor other runners' pipes."""
    for name in os.listdir("/proc/self/fd"):
        descriptor = int(name)
        if descriptor not in kept:
            try:
                os.close(descriptor)
            except OSError:
                pass  # the descriptor of the listing itself, already gone


def _address_space() -> int:
    """This process's virtual memory size in bytes."""
    return int(Path("/proc/self/statm").read_text().split()[0]) * os.sysconf("SC_PAGE_SIZE")
