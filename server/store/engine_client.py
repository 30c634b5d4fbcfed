"""A worker's side of the shared engine (engine.py): requests sent over its socket, each answered by
`work(*arguments)` in the engine, with the engine's deaths turned into the bounds' refusals.

A request whose engine dies under it is sent once more: it was not at fault (after a death for time,
whose query was told so, it runs beside others again), or probably not (after a crash, it runs alone
in the successor). When it ends that engine too, having run alone (the engine
says when it starts it), it is refused with the cause the keeper recorded (QueryCrashed "memory",
"stack", "crash"); one that was still waiting to run alone is sent again. A request past its time is
told so by the engine (QueryTimeout), which then ends; should the engine not, the asker ends it
(TIMER_GRACE_SECONDS later, when the kernel's timer would have).
"""

import os
import pickle
import select
import signal
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import StoreUnavailable
from .engine import SOCKET, TIMER_GRACE_SECONDS, recorded_death
from .processes import QueryCrashed, QueryTimeout, receive_message, send_message

# How long an asker waits for the keeper's record of how its engine died, and to connect.
DEATH_RECORD_SECONDS = 5.0
CONNECT_SECONDS = 30.0
# A request whose engines die under it before it runs alone (others were at fault) is sent this often at most.
MAX_SENDINGS = 5


class StillRunning(QueryTimeout):
    """The query has not been answered within the time asked for, and runs on (see Call.answer)."""


@dataclass(eq=False)
class _Connection:
    socket: socket.socket
    engine: int  # the pid of the engine at the other end

    def closed_by_engine(self) -> bool:
        """Whether the engine has closed this idle connection (it died): readable means end of file."""
        return bool(select.select([self.socket], [], [], 0)[0])


class EngineClient:
    """The connections of this process to the engine serving from `folder` (engine.SOCKET there)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._idle: list[_Connection] = []
        self._lock = threading.Lock()

    def run(self, arguments: tuple, timeout: float) -> Any:
        """`work(*arguments)` in the engine: its value, or the exception it raised, raised again.
        QueryTimeout past `timeout` seconds, QueryCrashed when it ended the engine (see the docstring)."""
        return self.start(arguments, timeout).answer()

    def start(self, arguments: tuple, timeout: float) -> "Call":
        """Send `arguments` now; the Call answers."""
        return Call(self, arguments, timeout)

    def connection(self) -> _Connection:
        """An idle connection to the engine serving now, or a new one."""
        with self._lock:
            while self._idle:
                connection = self._idle.pop()
                if not connection.closed_by_engine():
                    return connection
                connection.socket.close()
        return self._connect()

    def give_back(self, connection: _Connection) -> None:
        """Keep `connection` for the next request."""
        with self._lock:
            self._idle.append(connection)

    def close(self) -> None:
        """Close the idle connections."""
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.socket.close()

    def _connect(self) -> _Connection:
        """A new connection, and the pid of the engine that accepted it. An engine that dies between
        accepting a connection and greeting it (another request ended it) leaves it to its successor."""
        for _ in range(MAX_SENDINGS):
            client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                client.connect(str(self.folder / SOCKET))
                hello = receive_message(client.fileno(), time.monotonic() + CONNECT_SECONDS)
            except (OSError, QueryTimeout) as error:
                client.close()
                raise StoreUnavailable(f"the query engine does not answer: {error}") from error
            if hello is not None:
                return _Connection(client, pickle.loads(hello))
            client.close()
        raise StoreUnavailable("the query engine closes every connection")

    def death_of(self, engine: int) -> QueryCrashed:
        """Why engine `engine` died, as its keeper recorded it (waiting for the record a little)."""
        deadline = time.monotonic() + DEATH_RECORD_SECONDS
        while (death := recorded_death(self.folder, engine)) is None and time.monotonic() < deadline:
            time.sleep(0.02)
        if death is None:
            return QueryCrashed("crash", "the query engine ended")
        return QueryCrashed(death["cause"], death["detail"])


def _earliest(limit: float | None, within: float | None) -> float | None:
    """The deadline of a wait for the answer: the request's `limit`, or `within` seconds from now."""
    waits = [moment for moment in (limit, None if within is None else time.monotonic() + within) if moment is not None]
    return min(waits, default=None)


class Call:
    """One request to the engine, sent when made."""

    def __init__(self, client: EngineClient, arguments: tuple, timeout: float) -> None:
        self.client, self.arguments, self.timeout = client, arguments, timeout
        self.alone = self.running_alone = False
        self.sent = 0
        self._send()

    def _send(self) -> None:
        self.deadline: float | None = time.monotonic() + self.timeout
        self.sent += 1
        for _ in range(2):  # an idle connection may have been closed by an engine that died since
            self.connection = self.client.connection()
            try:
                send_message(self.connection.socket.fileno(), pickle.dumps((self.arguments, self.timeout, self.alone)))
                return
            except OSError:
                self.connection.socket.close()
        raise StoreUnavailable("the query engine does not take requests")

    def answer(self, within: float | None = None) -> Any:
        """The answer. With `within`, StillRunning when it takes longer than that: the request runs
        on, and `answer()` waits again."""
        while True:
            # While the request waits for its turn in the engine (others run alone), its time does not run.
            limit = None if self.deadline is None else self.deadline + TIMER_GRACE_SECONDS
            try:
                message = receive_message(self.connection.socket.fileno(), _earliest(limit, within))
            except QueryTimeout:
                if limit is None or time.monotonic() < limit:
                    raise StillRunning() from None
                self._end_engine()
                raise
            if message is None:
                self._send_again()
                continue
            kind, value = pickle.loads(message)
            if kind not in ("waiting", "started"):
                return self._outcome(kind, value)
            self.running_alone = self.alone and kind == "started"
            self.deadline = None if kind == "waiting" else time.monotonic() + self.timeout

    def _send_again(self) -> None:
        """The engine died under the request: send it again, unless it ran alone (then it is the one at
        fault), or has been sent too often. After a death for time, whose query was told so, it runs
        beside others again; after a crash, whose query is not known, alone."""
        self.connection.socket.close()
        death = self.client.death_of(self.connection.engine)
        if self.running_alone or self.sent >= MAX_SENDINGS:
            raise death
        self.alone = self.alone or death.cause != "time"
        self._send()

    def abandon(self) -> None:
        """Close the request's connection without waiting for its answer."""
        self.connection.socket.close()

    def _outcome(self, kind: str, value: Any) -> Any:
        if kind == "value":
            self.client.give_back(self.connection)
            return value
        if isinstance(value, (QueryTimeout, QueryCrashed)):
            self.connection.socket.close()  # the engine ends
        else:
            self.client.give_back(self.connection)
        raise value

    def _end_engine(self) -> None:
        """End the engine that runs past a query's time without ending itself."""
        self.connection.socket.close()
        try:
            os.kill(self.connection.engine, signal.SIGALRM)
        except ProcessLookupError:
            pass
