"""What runs inside the shared engine (engine.py): the thread that answers one connection, the watchdog
that ends the engine past a query's time, the gate that lets a request run alone, and the address space
limit that grows and shrinks with the threads."""

import ctypes
import os
import pickle
import resource
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from .processes import (
    QueryCrashed,
    QueryTimeout,
    give_back_freed_memory,
    pickled_outcome,
    receive_message,
    send_message,
)

# As a runner's (web/limits.py): what fits under the query size limit cannot overflow it.
STACK_BYTES = 64 * 1024 * 1024
# The malloc arenas the engine's threads share (glibc reserves 64 MB of address space for each).
ARENAS = 4
ARENA_BYTES = 64 * 1024 * 1024
_M_ARENA_MAX = -8
# The watchdog looks this often; the kernel's timer ends the engine this long after a query's time,
# should the watchdog not (a thread holding the GIL).
WATCH_SECONDS = 0.05
TIMER_GRACE_SECONDS = 2.0
# Memory the queries freed is given back to the kernel at most this often, when no query runs (see Watch.run).
TRIM_SECONDS = 1.0


def fewer_arenas() -> None:
    """At most ARENAS malloc arenas (each reserves 64 MB of address space), whatever the threads."""
    ctypes.CDLL(None).mallopt(_M_ARENA_MAX, ARENAS)


class Memory:
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
class Connection:
    """A worker's connection; the lock keeps the watchdog's word and the answer from crossing."""

    socket: socket.socket
    lock: threading.Lock = field(default_factory=threading.Lock)
    ended: bool = False

    def send(self, data: bytes) -> None:
        with self.lock:
            if not self.ended:
                send_message(self.socket.fileno(), data)


_WAITING, _STARTED = pickle.dumps(("waiting", None)), pickle.dumps(("started", None))


def answer(connection: Connection, work: Callable[..., Any], watch: "Watch", gate: "Gate") -> None:
    """Answer the requests of one connection, one at a time, until it closes."""
    descriptor = connection.socket.fileno()
    try:
        send_message(descriptor, pickle.dumps(os.getpid()))  # so that the asker can learn how it died
        while (request := receive_message(descriptor, None)) is not None:
            arguments, timeout, alone = pickle.loads(request)
            with gate.held(alone, lambda: connection.send(_WAITING)) as waited:
                if alone or waited:  # its time counts from now; and one run alone is at fault if the engine dies now
                    connection.send(_STARTED)
                with watch.running(time.monotonic() + timeout, connection):
                    outcome = _outcome(work, arguments)
                # Sent before the gate opens: a request let in next may end the engine at once.
                connection.send(pickled_outcome(*outcome))
    except OSError:
        pass  # the worker went away
    finally:
        connection.socket.close()


def _outcome(work: Callable[..., Any], arguments: tuple) -> tuple[str, Any]:
    """("value", what `work(*arguments)` gave) or ("error", what it raised)."""
    try:
        return "value", work(*arguments)
    except MemoryError:
        return "error", QueryCrashed("memory", "out of memory in the query")
    except BaseException as error:  # noqa: BLE001 - every failure goes back to the asker
        return "error", error


class Watch:
    """The deadlines of the queries running; the engine ends when one passes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.deadlines: dict[Connection, float] = {}
        self.ran_since_trim = False
        self.trimmed = 0.0

    @contextmanager
    def running(self, deadline: float, connection: Connection) -> Iterator[None]:
        with self.lock:
            self.deadlines[connection] = deadline
            self.ran_since_trim = True
        try:
            yield
        finally:
            with self.lock:
                del self.deadlines[connection]

    def run(self) -> None:
        """Look at the deadlines; end the engine past one, its query's asker told first. When no query
        runs, give back the memory the queries since the last look freed (at most every TRIM_SECONDS)."""
        while True:
            time.sleep(WATCH_SECONDS)
            with self.lock:
                now = time.monotonic()
                late = [connection for connection, deadline in self.deadlines.items() if deadline <= now]
                earliest = min(self.deadlines.values(), default=None)
                trim = earliest is None and self.ran_since_trim and now - self.trimmed >= TRIM_SECONDS
                if trim:
                    self.ran_since_trim, self.trimmed = False, now
            # The kernel's timer ends the engine should this thread not get to look again.
            signal.setitimer(signal.ITIMER_REAL, 0 if earliest is None else max(earliest - now, 0) + TIMER_GRACE_SECONDS)
            if late:
                self._end(late)
            if trim:
                give_back_freed_memory()

    @staticmethod
    def _end(late: list[Connection]) -> None:
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


class Gate:
    """Shared for the requests that may run beside others, exclusive for one that runs alone."""

    def __init__(self) -> None:
        self.condition = threading.Condition()
        self.running = 0
        self.alone_waiting = 0
        self.alone_running = False

    @contextmanager
    def held(self, alone: bool, waiting: Callable[[], None]) -> Iterator[bool]:
        """Held for one request (`alone` or not), saying whether it waited; `waiting()` is called first if it must."""
        with self.condition:
            waited = not self._may_run(alone)
            if waited:
                waiting()
            self.alone_waiting += alone
            self.condition.wait_for(lambda: self._may_run(alone))
            self.alone_waiting -= alone
            if alone:
                self.alone_running = True
            else:
                self.running += 1
        try:
            yield waited
        finally:
            with self.condition:
                if alone:
                    self.alone_running = False
                else:
                    self.running -= 1
                self.condition.notify_all()

    def _may_run(self, alone: bool) -> bool:
        if alone:
            return self.running == 0 and not self.alone_running
        return not self.alone_running and not self.alone_waiting
