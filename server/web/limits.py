"""Bounds on SPARQL queries: how long and how much memory each may take, and a process of its own
so that nothing it does can harm the server.

Python threads cannot be stopped, and the query engine can be made to crash (a deep enough
expression overflows its stack), so a query never runs, and is never parsed, in the server's own
process (but one bounded by its form, store/bounded_form.py, which can do neither): it runs in a
query runner, a child process forked from it (sharing the loaded store copy-on-write), which is
killed when the query's time is up. A runner is kept for the next query
rather than forked anew for each: forking a process that holds a store, and letting the child copy
the pages its first query touches, costs more than most queries.

A runner never outlives its worker, nor its query's time: it is killed by the kernel when the
worker dies (a parent-death signal), and by its own alarm clock a little after its query's time
limit, should its worker be unable to stop it (stopped, or busy). Its query runs on a thread with a
large stack, so that what fits under the query size limit cannot overflow it; when a runner dies
anyway, what it last wrote to its error output says why (memory, stack), and the error log says
so. How many queries run at once, and in what order, is admission.py's business.
"""

import fcntl
import logging
import math
import os
import pickle
import resource
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..store.engine_client import Call, EngineClient, StillRunning
from ..store.processes import (
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

__all__ = ["EngineRunners", "QueryCrashed", "QueryRunners", "QueryTimeout", "StillRunning"]

# A runner retires after this many queries, or once its address space has grown by half of what
# a query may take (memory its allocator keeps would otherwise shrink the next query's allowance).
QUERIES_PER_RUNNER = 1000
# An idle runner is stopped after this many seconds, so that memory is given back when traffic stops.
IDLE_SECONDS = 60.0
# A runner's alarm clock rings this long after its query's time limit: the worker stops it first,
# unless the worker cannot.
ALARM_GRACE_SECONDS = 5
# The answers' pipe holds an answer that comes back through it (answer_files.INLINE_BYTES) whole, so
# the runner writes it at once and the worker reads it at once: with the kernel's 64 KiB, an answer of
# 400 KB took seven turns of each, 0.27 ms against 0.06 on a quiet machine, more when the cores are busy.
ANSWER_PIPE_BYTES = 1 << 20
# The stack of the thread a runner evaluates its queries on. Oxigraph's parser and optimiser
# recurse once per operator of a chain (`!!!…`, `a/b/c/…`, `… UNION …`); with 8 MB (a thread's
# default) 5 000 of them overflow it, with 64 MB none of the 50 000 a 50 KB query can hold do.
RUNNER_STACK_BYTES = 64 * 1024 * 1024
_log = logging.getLogger(__name__)


class QueryRunners:
    """The query runners of this process: each runs `work(*arguments)` for one query at a time.

    `work` is fixed when the runners are made (a runner holds the process as it was when forked,
    the store included); its arguments and what it returns or raises must be picklable. A query
    may take `memory_bytes` beyond what the process had when its runner was forked, and write
    files of at most `file_bytes` (its answer); at most `keep` runners wait idle for the next query,
    and none for longer than IDLE_SECONDS.
    """

    def __init__(self, work: Callable[..., Any], memory_bytes: int, keep: int, file_bytes: int | None = None) -> None:
        self.work = work
        self.memory_bytes = memory_bytes
        self.file_bytes = file_bytes
        self.keep = keep
        self._idle: list[_Runner] = []
        self._lock = threading.Lock()
        self._reaper: threading.Thread | None = None

    def run(self, arguments: tuple, timeout: float) -> Any:
        """`work(*arguments)` in a runner: its value, or the exception it raised, raised again.

        Raises QueryTimeout when it takes longer than `timeout` seconds (the runner is killed)
        and QueryCrashed when its runner dies without an answer.
        """
        runner = self._take_idle() or _fork_runner(self.work, self.memory_bytes, self.file_bytes)
        try:
            kind, value, retiring = runner.ask(arguments, timeout)
        except BaseException:
            runner.stop()
            raise
        if retiring:
            runner.stop()
        else:
            self._give_back(runner)
        if kind == "error":
            raise QueryCrashed("memory", "out of memory in the query") if isinstance(value, MemoryError) else value
        return value

    def start(self, arguments: tuple, timeout: float) -> "_Rerun":
        """The query, to be run when its answer is asked for (see _Rerun)."""
        return _Rerun(self, arguments, timeout)

    def stop(self) -> None:
        """Stop every idle runner (a busy one stops when its query ends and finds no place)."""
        with self._lock:
            idle, self._idle, self.keep = self._idle, [], 0
        for runner in idle:
            runner.stop()

    def idle_count(self) -> int:
        """How many runners wait for a query now."""
        with self._lock:
            return len(self._idle)

    def _take_idle(self) -> "_Runner | None":
        with self._lock:
            return self._idle.pop() if self._idle else None

    def _give_back(self, runner: "_Runner") -> None:
        with self._lock:
            if len(self._idle) < self.keep:
                runner.idle_since = time.monotonic()
                self._idle.append(runner)
                self._start_reaper()
                return
        runner.stop()

    def _start_reaper(self) -> None:
        """Start, once, the thread that stops runners idle for longer than IDLE_SECONDS (called
        with the lock held)."""
        if self._reaper is None or not self._reaper.is_alive():
            self._reaper = threading.Thread(target=self._reap, name="lodpub-runner-reaper", daemon=True)
            self._reaper.start()

    def _reap(self) -> None:
        while True:
            time.sleep(min(IDLE_SECONDS / 4, 15.0))
            with self._lock:
                now = time.monotonic()
                stale = [runner for runner in self._idle if now - runner.idle_since > IDLE_SECONDS]
                self._idle = [runner for runner in self._idle if runner not in stale]
            for runner in stale:
                runner.stop()


@dataclass
class _Rerun:
    """A query for the runners, run when its answer is asked for: within a time (an express slot's),
    it is stopped past that time (StillRunning), and run again in full when asked again."""

    runners: QueryRunners
    arguments: tuple
    timeout: float

    def answer(self, within: float | None = None) -> Any:
        """The answer (see the class's docstring)."""
        if within is None:
            return self.runners.run(self.arguments, self.timeout)
        try:
            return self.runners.run(self.arguments, within)
        except QueryTimeout:
            raise StillRunning() from None

    def abandon(self) -> None:
        """Nothing runs between answers."""


@dataclass
class EngineRunners:
    """The runners' interface on the shared engine (store/engine_client.py): `work(store, *arguments)`
    evaluated there, on the store it holds. A query asked within a time runs on past it."""

    engine: EngineClient
    work: Callable[..., Any]

    def run(self, arguments: tuple, timeout: float) -> Any:
        """As QueryRunners.run."""
        return self.engine.run((self.work, *arguments), timeout)

    def start(self, arguments: tuple, timeout: float) -> Call:
        """As QueryRunners.start, but sent at once, and not stopped when asked within a time."""
        return self.engine.start((self.work, *arguments), timeout)

    def stop(self) -> None:
        """Close the idle connections to the engine (which the server, not this app, stops)."""
        self.engine.close()


def _fork_runner(work: Callable[..., Any], memory_bytes: int, file_bytes: int | None) -> "_Runner":
    return fork_on_lasting_thread(_Runner.fork, work, memory_bytes, file_bytes)


@dataclass(eq=False)
class _Runner:
    """A forked child that answers requests read from one pipe on another."""

    pid: int
    requests: int   # the write end of the pipe the child reads its requests from
    answers: int    # the read end of the pipe the child writes its answers to
    errors: Any     # the file the child's error output goes to (read when it dies)
    idle_since: float = field(default=0.0)
    reaped: bool = False

    @classmethod
    def fork(cls, work: Callable[..., Any], memory_bytes: int, file_bytes: int | None) -> "_Runner":
        """Fork a runner of `work`."""
        requests_read, requests_write = os.pipe()
        answers_read, answers_write = os.pipe()
        _widen(answers_write, ANSWER_PIPE_BYTES)
        errors = tempfile.TemporaryFile()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the child: serve until told to stop, and leave without cleaning up
            try:
                die_with(parent)
                os.dup2(errors.fileno(), 2)
                _serve(work, memory_bytes, file_bytes, requests_read, answers_write)
            finally:
                os._exit(0)
        os.close(requests_read)
        os.close(answers_write)
        return cls(pid, requests_write, answers_read, errors)

    def ask(self, arguments: tuple, timeout: float) -> tuple[str, Any, bool]:
        """Send `arguments`, wait `timeout` seconds for the answer: (kind, value, retiring)."""
        try:
            send_message(self.requests, pickle.dumps((arguments, timeout)))
        except BrokenPipeError:
            raise self._crashed() from None
        answer = receive_message(self.answers, time.monotonic() + timeout)
        if answer is None:
            raise self._crashed()
        return pickle.loads(answer)

    def stop(self) -> None:
        """Kill the child (if it still runs) and reap it."""
        for descriptor in (self.requests, self.answers):
            os.close(descriptor)
        self.errors.close()
        if self.reaped:
            return
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(self.pid, 0)

    def _crashed(self) -> QueryCrashed:
        """Why the child died without an answer, from how it ended and what it last wrote; logged."""
        _, status = os.waitpid(self.pid, 0)
        self.reaped = True
        words = last_words(self.errors)
        crashed = QueryCrashed(cause_of_death(status, words), words.splitlines()[-1] if words else "")
        _log.warning("query runner %d ended by %s (%s): %s", self.pid, ending(status), crashed.cause,
                     crashed.detail or "no message")
        return crashed


def _widen(pipe: int, size: int) -> None:
    """Let `pipe` hold `size` bytes, if the system allows (a user's pipes beyond its soft limit,
    /proc/sys/fs/pipe-user-pages-soft, keep their size: the pipe works as before)."""
    try:
        fcntl.fcntl(pipe, fcntl.F_SETPIPE_SZ, size)
    except OSError:
        pass


def _serve(work: Callable[..., Any], memory_bytes: int, file_bytes: int | None, requests: int, answers: int) -> None:
    """The runner's life: answer requests until the parent goes away or it is time to retire."""
    close_descriptors_but((0, 1, 2, requests, answers))
    default_signals()
    if file_bytes is not None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) rather than kills
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
    threading.stack_size(RUNNER_STACK_BYTES)
    start = address_space()
    resource.setrlimit(resource.RLIMIT_AS, (start + memory_bytes + RUNNER_STACK_BYTES,
                                            start + memory_bytes + RUNNER_STACK_BYTES))
    evaluator = threading.Thread(target=_answer_requests, args=(work, memory_bytes, start, requests, answers))
    evaluator.start()
    evaluator.join()


def _answer_requests(work: Callable[..., Any], memory_bytes: int, start: int, requests: int, answers: int) -> None:
    for served in range(1, QUERIES_PER_RUNNER + 1):
        request = receive_message(requests, None)
        if request is None:  # the parent closed the pipe (or died)
            return
        arguments, timeout = pickle.loads(request)
        signal.alarm(math.ceil(timeout) + ALARM_GRACE_SECONDS)
        try:
            outcome = ("value", work(*arguments))
        except BaseException as error:  # noqa: BLE001 - every failure goes back to the parent
            outcome = ("error", error)
        signal.alarm(0)
        retiring = (served == QUERIES_PER_RUNNER or isinstance(outcome[1], MemoryError)
                    or address_space() > start + RUNNER_STACK_BYTES + memory_bytes // 2)
        send_message(answers, pickled_outcome(*outcome, retiring))
        if retiring:
            return


