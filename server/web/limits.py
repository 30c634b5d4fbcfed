"""Bounds on SPARQL queries: how long and how much memory each may take, and a process of its own
so that nothing it does can harm the server.

Python threads cannot be stopped, and the query engine can be made to crash (a deep enough
expression overflows its stack), so a query never runs, and is never parsed, in the server's own
process: it runs in a query runner, a child process forked from it (sharing the loaded store
copy-on-write), which is killed when the query's time is up. A runner is kept for the next query
rather than forked anew for each: forking a process that holds a store, and letting the child copy
the pages its first query touches, costs more than most queries.

A runner never outlives its worker, nor its query's time: it is killed by the kernel when the
worker dies (a parent-death signal), and by its own alarm clock a little after its query's time
limit, should its worker be unable to stop it (stopped, or busy). Its query runs on a thread with a
large stack, so that what fits under the query size limit cannot overflow it; when a runner dies
anyway, what it last wrote to its error output says why (memory, stack), and the error log says
so. How many queries run at once, and in what order, is admission.py's business.
"""

import ctypes
import logging
import math
import os
import pickle
import resource
import select
import signal
import struct
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# A runner retires after this many queries, or once its address space has grown by half of what
# a query may take (memory its allocator keeps would otherwise shrink the next query's allowance).
QUERIES_PER_RUNNER = 1000
# An idle runner is stopped after this many seconds, so that memory is given back when traffic stops.
IDLE_SECONDS = 60.0
# A runner's alarm clock rings this long after its query's time limit: the worker stops it first,
# unless the worker cannot.
ALARM_GRACE_SECONDS = 5
# The stack of the thread a runner evaluates its queries on. Oxigraph's parser and optimiser
# recurse once per operator of a chain (`!!!…`, `a/b/c/…`, `… UNION …`); with 8 MB (a thread's
# default) 5 000 of them overflow it, with 64 MB none of the 50 000 a 50 KB query can hold do.
RUNNER_STACK_BYTES = 64 * 1024 * 1024
_LENGTH = struct.Struct("!Q")
_PR_SET_PDEATHSIG = 1
_log = logging.getLogger(__name__)


class QueryTimeout(Exception):
    """The query ran past its time and was stopped."""


class QueryCrashed(Exception):
    """The query's process died without an answer; `cause` says why, as far as it is known:
    "memory", "stack", "time" or "crash"."""

    def __init__(self, cause: str, detail: str = "") -> None:
        super().__init__(f"{cause}: {detail}" if detail else cause)
        self.cause, self.detail = cause, detail


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


# Runners are forked by one thread that lives as long as the process: the kernel's parent-death
# signal is sent when the *thread* that forked a child ends, and a request's thread may end first
# (Flask's development server runs a thread per request). One per process: a forked child has none.
_forker: tuple[int, ThreadPoolExecutor] | None = None
_forker_lock = threading.Lock()


def _fork_runner(work: Callable[..., Any], memory_bytes: int, file_bytes: int | None) -> "_Runner":
    global _forker
    with _forker_lock:
        if _forker is None or _forker[0] != os.getpid():
            _forker = (os.getpid(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="lodpub-runner-forker"))
        forker = _forker[1]
    return forker.submit(_Runner.fork, work, memory_bytes, file_bytes).result()


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
        errors = tempfile.TemporaryFile()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the child: serve until told to stop, and leave without cleaning up
            try:
                _die_with(parent)
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
            _send(self.requests, pickle.dumps((arguments, timeout)))
        except BrokenPipeError:
            raise self._crashed() from None
        answer = _receive(self.answers, time.monotonic() + timeout)
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
        self.errors.seek(max(0, os.fstat(self.errors.fileno()).st_size - 2000))
        last_words = self.errors.read().decode("utf-8", "replace").strip()
        crashed = QueryCrashed(_cause(status, last_words), last_words.splitlines()[-1] if last_words else "")
        _log.warning("query runner %d ended by %s (%s): %s", self.pid, _ending(status), crashed.cause,
                     crashed.detail or "no message")
        return crashed


def _cause(status: int, last_words: str) -> str:
    """What killed a runner: "memory", "stack", "time" or "crash"."""
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) in (signal.SIGALRM, signal.SIGXCPU):
        return "time"
    # Rust reports an overflow on its own threads only; on ours the kernel's SIGSEGV is all there is.
    if ("overflowed its stack" in last_words or "stack overflow" in last_words
            or (os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGSEGV)):
        return "stack"
    if "memory allocation" in last_words or "MemoryError" in last_words or "Cannot allocate memory" in last_words:
        return "memory"
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
        return "memory"  # the kernel's OOM killer, the only one but us that sends SIGKILL
    return "crash"


def _ending(status: int) -> str:
    if os.WIFSIGNALED(status):
        return signal.Signals(os.WTERMSIG(status)).name
    return f"exit {os.WEXITSTATUS(status)}"


def _die_with(parent: int) -> None:
    """Have the kernel kill this process when its parent's forking thread ends (the parent dies)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the signal was asked for
        os._exit(0)


def _serve(work: Callable[..., Any], memory_bytes: int, file_bytes: int | None, requests: int, answers: int) -> None:
    """The runner's life: answer requests until the parent goes away or it is time to retire."""
    _close_descriptors_but((0, 1, 2, requests, answers))
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2,
                   signal.SIGALRM):
        signal.signal(number, signal.SIG_DFL)  # not the server's handlers: the parent decides when it ends
    if file_bytes is not None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) rather than kills
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
    threading.stack_size(RUNNER_STACK_BYTES)
    start = _address_space()
    resource.setrlimit(resource.RLIMIT_AS, (start + memory_bytes + RUNNER_STACK_BYTES,
                                            start + memory_bytes + RUNNER_STACK_BYTES))
    evaluator = threading.Thread(target=_answer_requests, args=(work, memory_bytes, start, requests, answers))
    evaluator.start()
    evaluator.join()


def _answer_requests(work: Callable[..., Any], memory_bytes: int, start: int, requests: int, answers: int) -> None:
    for served in range(1, QUERIES_PER_RUNNER + 1):
        request = _receive(requests, None)
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
                    or _address_space() > start + RUNNER_STACK_BYTES + memory_bytes // 2)
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
