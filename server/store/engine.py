"""One engine process for the whole server: the release held once, every worker's queries evaluated on
its threads (settings.engine = "shared"; docs/developers.md, "One engine for the server").

A *keeper* process loads the store once and never queries it; it listens on a Unix socket and forks
the *engine*, which accepts the workers' connections on that socket and answers each connection's
requests on a thread of its own (pyoxigraph evaluates without the GIL, so queries run in parallel).
Reading Oxigraph's in-memory store writes to the pages it reads, so the engine's pages part from the
keeper's as it works: at most two copies of the store, against one per worker and per busy runner.

Python threads cannot be stopped, so the bounds of a query are kept by ending the engine: a query
past its time (the engine's watchdog tells its asker, then ends the engine with SIGALRM; the kernel's
timer does it should the watchdog not run), or one that makes the engine run out of memory or
overflow a stack. The keeper forks a successor at once, which accepts on the same socket (a
connection made meanwhile waits in its backlog), and records why the engine died (DEATHS), so that
engine_client.py can send the other queries once more and refuse the one that ends an engine alone.
A request marked `alone` runs while no other runs (a query sent again after a death).
"""

import ctypes
import json
import logging
import os
import pickle
import resource
import signal
import socket
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import StoreUnavailable
from .processes import (
    QueryCrashed,
    QueryTimeout,
    address_space,
    cause_of_death,
    close_descriptors_but,
    default_signals,
    die_with,
    ending,
    fork_on_lasting_thread,
    last_words,
    pickled_outcome,
    receive_message,
    send_message,
)

SOCKET = "engine.sock"
DEATHS = "deaths.json"
# As a runner's (web/limits.py): what fits under the query size limit cannot overflow it.
STACK_BYTES = 64 * 1024 * 1024
# The malloc arenas the engine's threads share (glibc reserves 64 MB of address space for each).
ARENAS = 4
THREAD_BYTES = 64 * 1024 * 1024
_M_ARENA_MAX = -8
# The watchdog looks this often; the kernel's timer ends the engine this long after a query's time,
# should the watchdog not (a thread holding the GIL).
WATCH_SECONDS = 0.05
TIMER_GRACE_SECONDS = 2.0
DEATHS_KEPT = 64
_log = logging.getLogger(__name__)


@dataclass(eq=False)
class Keeper:
    """A keeper this process started: its pid and folder (the socket, the record of deaths)."""

    pid: int
    folder: Path
    owner: int = field(default_factory=os.getpid)

    def stop(self) -> None:
        """End the keeper and its engine, and reap it (only in the process that started it: a
        worker forked from the master holds a copy of the master's keepers)."""
        if self.owner != os.getpid():
            return
        try:
            os.kill(self.pid, signal.SIGTERM)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


@dataclass(frozen=True)
class Plan:
    """What an engine serves and within which bounds: `load()` gives its `work` (a request `arguments`
    is answered with `work(*arguments)`); it may take `memory_bytes` beyond what it holds when it starts
    serving, and write files of at most `file_bytes`. With `keep_copy`, the keeper loads and keeps the
    store, and a successor is forked at once (its pages part from the keeper's as it reads them: up to
    two copies); without, each engine loads it (one copy; a successor serves once it has loaded)."""

    load: Callable[[], Callable[..., Any]]
    memory_bytes: int
    file_bytes: int | None
    keep_copy: bool = True


def start_engine(plan: Plan, folder: Path) -> Keeper:
    """Fork a keeper that serves `plan` at folder/SOCKET. Returns once the engine accepts; raises
    StoreUnavailable with the reason when the store cannot be loaded (or the keeper was killed)."""
    folder.mkdir(parents=True, exist_ok=True)
    ready_read, ready_write = os.pipe()
    pid = fork_on_lasting_thread(_fork_keeper, plan, folder, ready_write)
    os.close(ready_write)
    problem = _word_from(pid, ready_read, "ready")
    if problem is not None:
        raise StoreUnavailable(problem or "the query engine did not start")
    return Keeper(pid, folder)


def _word_from(child: int, pipe: int, expected: str) -> str | None:
    """None when `child` says `expected` on `pipe` (closed here); else what it said instead ("" for
    nothing), once it is reaped."""
    try:
        message = receive_message(pipe, None)
    finally:
        os.close(pipe)
    said = pickle.loads(message) if message is not None else ""
    if said == expected:
        return None
    os.waitpid(child, 0)
    return said


def _fork_keeper(plan: Plan, folder: Path, ready: int) -> int:
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        try:
            die_with(parent)
            _keep(plan, folder, ready)
        finally:
            os._exit(1)
    return pid


class _LoadFailed(Exception):
    """The store could not be loaded; the message says why."""


def _keep(plan: Plan, folder: Path, ready: int) -> None:
    """The keeper's life: load (or have the engine load), listen, and keep an engine running until told to stop."""
    close_descriptors_but((0, 1, 2, ready))
    default_signals()
    listener, provisional = _listening(folder / SOCKET)
    try:
        work = plan.load() if plan.keep_copy else None
        engine = _Engine.start(listener, plan, work)
    except Exception as error:  # noqa: BLE001 - the starter says why
        send_message(ready, pickle.dumps(str(error)))
        return
    provisional.rename(folder / SOCKET)  # only now may a client connect
    signal.signal(signal.SIGTERM, lambda *_: _leave(folder / SOCKET))
    send_message(ready, pickle.dumps("ready"))
    os.close(ready)
    deaths: deque[dict] = deque(maxlen=DEATHS_KEPT)
    while True:
        _, status = os.waitpid(engine.pid, 0)
        deaths.append(engine.death(status))
        _write_deaths(folder / DEATHS, list(deaths))
        try:
            engine = _Engine.start(listener, plan, work)
        except _LoadFailed as failure:
            _log.error("the query engine cannot load the release again (%s): it stops", failure)
            _leave(folder / SOCKET)


def _leave(socket_path: Path) -> None:
    """The keeper's end (SIGTERM): its socket goes, its engine dies with it (parent-death signal)."""
    try:
        socket_path.unlink()
    except OSError:
        pass
    os._exit(0)


def _listening(path: Path) -> tuple[socket.socket, Path]:
    """A socket listening under a provisional name beside `path`, renamed to `path` once the engine
    serves, so that a client never connects to an engine that is not there; and that name."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    provisional = path.with_name(f".{path.name}.{os.getpid()}")
    provisional.unlink(missing_ok=True)
    listener.bind(str(provisional))
    listener.listen(128)
    return listener, provisional


def _write_deaths(path: Path, deaths: list[dict]) -> None:
    provisional = path.with_name(f".{path.name}.{os.getpid()}")
    provisional.write_text(json.dumps(deaths))
    provisional.rename(path)


def recorded_death(folder: Path, pid: int) -> dict | None:
    """What the keeper in `folder` recorded of the death of engine `pid` (cause, detail), if it has."""
    try:
        deaths = json.loads((folder / DEATHS).read_text())
    except (OSError, ValueError):
        return None
    return next((death for death in deaths if death.get("pid") == pid), None)


@dataclass(eq=False)
class _Engine:
    """An engine as its keeper sees it."""

    pid: int
    errors: Any  # the file its error output goes to

    @classmethod
    def start(cls, listener: socket.socket, plan: Plan, work: Callable[..., Any] | None) -> "_Engine":
        """Fork an engine serving `work` (loaded by the engine when None); return once it serves.
        Raises _LoadFailed when it could not load the store."""
        errors = tempfile.TemporaryFile()
        status_read, status_write = os.pipe()
        keeper = os.getpid()
        pid = os.fork()
        if pid == 0:
            try:
                die_with(keeper)
                os.close(status_read)
                os.dup2(errors.fileno(), 2)
                _serve(listener, plan, work, status_write)
            finally:
                os._exit(0)
        os.close(status_write)
        problem = _word_from(pid, status_read, "serving")
        if problem is not None:
            raise _LoadFailed(problem or "the query engine died as it started")
        return cls(pid, errors)

    def death(self, status: int) -> dict:
        """Why the engine died, logged and as recorded in DEATHS."""
        words = last_words(self.errors)
        self.errors.close()
        cause, detail = cause_of_death(status, words), (words.splitlines()[-1] if words else "")
        _log.warning("query engine %d ended by %s (%s): %s; its successor serves", self.pid, ending(status),
                     cause, detail or "no message")
        return {"pid": self.pid, "cause": cause, "detail": detail}


def _serve(listener: socket.socket, plan: Plan, work: Callable[..., Any] | None, status: int) -> None:
    """The engine's life: load if it must, then accept connections, and answer each on a thread of its own."""
    if work is None:
        try:
            work = plan.load()
        except Exception as error:  # noqa: BLE001 - the keeper says why
            send_message(status, pickle.dumps(str(error)))
            return
    if plan.file_bytes is not None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) rather than kills
        resource.setrlimit(resource.RLIMIT_FSIZE, (plan.file_bytes, plan.file_bytes))
    _fewer_arenas()
    threading.stack_size(STACK_BYTES)
    watch, gate = _Watch(), _Gate()
    threading.Thread(target=watch.run, name="lodpub-engine-watchdog", daemon=True).start()
    memory = _Memory(address_space() + ARENAS * THREAD_BYTES + plan.memory_bytes)
    send_message(status, pickle.dumps("serving"))
    os.close(status)
    while True:
        connection, _ = listener.accept()
        threading.Thread(target=memory.counted, args=(_answer, _Connection(connection), work, watch, gate),
                         daemon=True).start()


def _fewer_arenas() -> None:
    """At most ARENAS malloc arenas (each reserves 64 MB of address space), whatever the threads."""
    ctypes.CDLL(None).mallopt(_M_ARENA_MAX, ARENAS)


class _Memory:
    """The engine's address space limit: what it had, the queries' allowance, and a stack per thread."""

    def __init__(self, base: int) -> None:
        self.base, self.threads, self.lock = base, 0, threading.Lock()
        self._set()

    def counted(self, function: Callable[..., Any], *arguments: Any) -> None:
        """`function(*arguments)` on this thread, its stack counted while it runs."""
        with self.lock:
            self.threads += 1
            self._set()
        try:
            function(*arguments)
        finally:
            with self.lock:
                self.threads -= 1
                self._set()

    def _set(self) -> None:
        limit = self.base + (self.threads + 1) * STACK_BYTES  # (the watchdog's)
        resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))


@dataclass(eq=False)
class _Connection:
    """A worker's connection; the lock keeps the watchdog's word and the answer from crossing."""

    socket: socket.socket
    lock: threading.Lock = field(default_factory=threading.Lock)
    ended: bool = False

    def send(self, data: bytes) -> None:
        with self.lock:
            if not self.ended:
                send_message(self.socket.fileno(), data)


def _answer(connection: _Connection, work: Callable[..., Any], watch: "_Watch", gate: "_Gate") -> None:
    """Answer the requests of one connection, one at a time, until it closes."""
    descriptor = connection.socket.fileno()
    try:
        send_message(descriptor, pickle.dumps(os.getpid()))  # so that the asker can learn how it died
        while (request := receive_message(descriptor, None)) is not None:
            arguments, timeout, alone = pickle.loads(request)
            with gate.held(alone), watch.running(time.monotonic() + timeout, connection):
                try:
                    outcome = ("value", work(*arguments))
                except MemoryError:
                    outcome = ("error", QueryCrashed("memory", "out of memory in the query"))
                except BaseException as error:  # noqa: BLE001 - every failure goes back to the asker
                    outcome = ("error", error)
            connection.send(pickled_outcome(*outcome))
    except OSError:
        pass  # the worker went away
    finally:
        connection.socket.close()


class _Watch:
    """The deadlines of the queries running; the engine ends when one passes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.deadlines: dict[_Connection, float] = {}

    @contextmanager
    def running(self, deadline: float, connection: _Connection) -> Iterator[None]:
        with self.lock:
            self.deadlines[connection] = deadline
        try:
            yield
        finally:
            with self.lock:
                del self.deadlines[connection]

    def run(self) -> None:
        """Look at the deadlines; end the engine past one, its query's asker told first."""
        while True:
            time.sleep(WATCH_SECONDS)
            with self.lock:
                now = time.monotonic()
                late = [connection for connection, deadline in self.deadlines.items() if deadline <= now]
                earliest = min(self.deadlines.values(), default=None)
            # The kernel's timer ends the engine should this thread not get to look again.
            signal.setitimer(signal.ITIMER_REAL, 0 if earliest is None else max(earliest - now, 0) + TIMER_GRACE_SECONDS)
            if late:
                self._end(late)

    @staticmethod
    def _end(late: list[_Connection]) -> None:
        for connection in late:
            with connection.lock:
                try:
                    send_message(connection.socket.fileno(), pickled_outcome("error", QueryTimeout()))
                except OSError:
                    pass
                connection.ended = True
        os.write(2, b"query past its time: the engine ends\n")  # (fd 2 is the engine's error file)
        os.kill(os.getpid(), signal.SIGALRM)
        time.sleep(60)  # (the signal ends the process)


class _Gate:
    """Shared for the requests that may run beside others, exclusive for one that runs alone."""

    def __init__(self) -> None:
        self.condition = threading.Condition()
        self.running = 0
        self.alone_waiting = 0
        self.alone_running = False

    @contextmanager
    def held(self, alone: bool) -> Iterator[None]:
        with self.condition:
            if alone:
                self.alone_waiting += 1
                self.condition.wait_for(lambda: self.running == 0 and not self.alone_running)
                self.alone_waiting -= 1
                self.alone_running = True
            else:
                self.condition.wait_for(lambda: not self.alone_running and not self.alone_waiting)
                self.running += 1
        try:
            yield
        finally:
            with self.condition:
                if alone:
                    self.alone_running = False
                else:
                    self.running -= 1
                self.condition.notify_all()


__all__ = ["Keeper", "Plan", "QueryCrashed", "QueryTimeout", "recorded_death", "start_engine"]
