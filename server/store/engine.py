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

import json
import logging
import os
import pickle
import resource
import signal
import socket
import tempfile
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import StoreUnavailable
from .engine_threads import (
    ARENA_BYTES,
    ARENAS,
    STACK_BYTES,
    TIMER_GRACE_SECONDS,
    Connection,
    Gate,
    Memory,
    Watch,
    answer,
    fewer_arenas,
)
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
    receive_message,
    send_message,
)

SOCKET = "engine.sock"
DEATHS = "deaths.json"
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
    fewer_arenas()
    threading.stack_size(STACK_BYTES)
    watch, gate = Watch(), Gate()
    threading.Thread(target=watch.run, name="lodpub-engine-watchdog", daemon=True).start()
    memory = Memory(address_space() + ARENAS * ARENA_BYTES + plan.memory_bytes)
    send_message(status, pickle.dumps("serving"))
    os.close(status)
    while True:
        connection, _ = listener.accept()
        threading.Thread(target=memory.counted, args=(answer, Connection(connection), work, watch, gate),
                         daemon=True).start()


__all__ = ["TIMER_GRACE_SECONDS", "Keeper", "Plan", "QueryCrashed", "QueryTimeout", "recorded_death", "start_engine"]
