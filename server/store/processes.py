"""What the processes that evaluate queries share, whether forked per worker (web/limits.py, the query
runners) or one for the whole server (engine.py): messages over a pipe or socket, why such a process
died, and how it is tied to the process that started it.

A message is a length (8 bytes, network order) and that many bytes (a pickle, by convention).
"""

import atexit
import ctypes
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from typing import IO, Any, TypeVar

_LENGTH = struct.Struct("!Q")
_PR_SET_PDEATHSIG = 1
Forked = TypeVar("Forked")


class QueryTimeout(Exception):
    """The query ran past its time and was stopped."""


class QueryCrashed(Exception):
    """The query's process died without an answer; `cause` says why, as far as it is known:
    "memory", "stack", "time" or "crash"."""

    def __init__(self, cause: str, detail: str = "") -> None:
        super().__init__(f"{cause}: {detail}" if detail else cause)
        self.cause, self.detail = cause, detail


def cause_of_death(status: int, last_words: str) -> str:
    """What killed a query's process (its wait `status`, the end of its error output): "memory",
    "stack", "time" or "crash"."""
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


def ending(status: int) -> str:
    """How a process ended, for the log: the signal's name, or its exit code."""
    if os.WIFSIGNALED(status):
        return signal.Signals(os.WTERMSIG(status)).name
    return f"exit {os.WEXITSTATUS(status)}"


def last_words(errors: IO[bytes]) -> str:
    """The end of what a process wrote to its error output (the file `errors`)."""
    errors.seek(max(0, os.fstat(errors.fileno()).st_size - 2000))
    return errors.read().decode("utf-8", "replace").strip()


def die_with(parent: int) -> None:
    """Have the kernel kill this process when its parent's forking thread ends (the parent dies)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the signal was asked for
        os._exit(0)


# Children are forked by one thread that lives as long as the process: the kernel's parent-death
# signal is sent when the *thread* that forked a child ends, and a request's thread may end first
# (Flask's development server runs a thread per request). One per process: a forked child has none.
_forker: tuple[int, ThreadPoolExecutor] | None = None
_forker_lock = threading.Lock()


def fork_on_lasting_thread(fork: Callable[..., Forked], *arguments: Any) -> Forked:
    """`fork(*arguments)`, called on this process's forking thread (see above)."""
    global _forker
    with _forker_lock:
        if _forker is None or _forker[0] != os.getpid():
            _forker = (os.getpid(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="lodpub-forker"))
        forker = _forker[1]
    return forker.submit(fork, *arguments).result()


def send_message(descriptor: int, data: bytes) -> None:
    """Write one message to the pipe or socket `descriptor`: its length and its bytes in one system call
    (writev: no copy of a large answer, the search index's parts), so that the reader, woken by the
    length, finds the bytes there and is not woken twice (as it was when each was written alone)."""
    parts = [memoryview(_LENGTH.pack(len(data))), memoryview(data)]
    while parts:
        written = os.writev(descriptor, parts)
        while parts and written >= len(parts[0]):
            written -= len(parts.pop(0))
        if parts:
            parts[0] = parts[0][written:]


def receive_message(descriptor: int, deadline: float | None) -> bytes | None:
    """One message from the pipe or socket, or None if it closes first; QueryTimeout past `deadline`."""
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
        try:
            chunk = os.read(descriptor, min(missing, 1 << 20))
        except ConnectionResetError:
            return None
        if not chunk:
            return None
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def pickled_outcome(kind: str, value: Any, *more: Any) -> bytes:
    """The message that says how a request ended: ("value" or "error", what, *more); an unpicklable
    value or error is still reported, as a RuntimeError that names it."""
    try:
        return pickle.dumps((kind, value, *more))
    except Exception:  # noqa: BLE001 - whatever it is, the asker hears of it
        return pickle.dumps(("error", RuntimeError(f"{type(value).__name__}: {value}"), *more))


def close_descriptors_but(kept: tuple[int, ...]) -> None:
    """Close every inherited file descriptor but `kept`: a query's process must not hold the server's
    client connections (they would stay open after the server closes them) nor other children's pipes."""
    global _statm
    _statm = None  # (address_space's descriptor, closed here or kept under a number another file may take)
    for name in os.listdir("/proc/self/fd"):
        descriptor = int(name)
        if descriptor not in kept:
            try:
                os.close(descriptor)
            except OSError:
                pass  # the descriptor of the listing itself, already gone


def default_signals() -> None:
    """The default action for the signals the server handles: the parent decides when a child ends."""
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2,
                   signal.SIGALRM, signal.SIGCHLD):
        signal.signal(number, signal.SIG_DFL)
    # A thread that forked may block signals (a test runner's timer does): the child would not end by one.
    signal.pthread_sigmask(signal.SIG_SETMASK, set())


def start_in_background(module: str, function: str, payload: object) -> subprocess.Popen:
    """Run `module.function()` in a fresh Python process, in a session of its own (stop_session stops it
    and what it forks), given `payload` on its stdin with this process's pid (read them with
    `payload_from_parent`); stopped when this process exits, and killed by the kernel when it dies."""
    # (Run by -c, not -m: a module the package imports would be run a second time by -m.)
    process = subprocess.Popen([sys.executable, "-c", f"import {module} as m; m.{function}()"],
                               stdin=subprocess.PIPE, start_new_session=True)
    with suppress(BrokenPipeError):
        process.stdin.write(pickle.dumps((payload, os.getpid())))
        process.stdin.close()
    atexit.register(stop_session, process.pid)
    return process


def payload_from_parent() -> tuple[Any, int]:
    """In a process started by start_in_background: its payload and its parent's pid. From now on the
    process is killed when its parent dies, and exits at once if the parent died already (a master
    killed outright leaves nothing working for it: its pid might be another process's by then)."""
    payload, parent = pickle.load(sys.stdin.buffer)
    die_with(parent)
    return payload, parent


def stop_session(leader: int) -> None:
    """Stop, with SIGTERM, every process of the session `leader` started (a background process of the
    master, started with start_new_session, and the pool it forked), if any still runs."""
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(leader, signal.SIGTERM)


def give_back_freed_memory() -> None:
    """Give the kernel the pages malloc holds free: glibc keeps in its arenas what was freed (in the
    engine, what a query's evaluation and its answer took: a tenth of the store after a query mix at
    30k agreements). ctypes lets go of the GIL for the call. Without glibc (no malloc_trim) the memory
    stays with the process, to be reused by it."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except AttributeError:
        pass


def address_space() -> int:
    """This process's virtual memory size in bytes (a runner asks after every query: its statm is kept
    open, a read of 1 us, where opening and reading it anew took 19)."""
    global _statm
    if _statm is None or _statm[0] != os.getpid():  # none yet, or a forked copy's (which names its parent)
        _statm = (os.getpid(), os.open("/proc/self/statm", os.O_RDONLY | os.O_CLOEXEC))
    return int(os.pread(_statm[1], 256, 0).split()[0]) * _PAGE_BYTES


_statm: tuple[int, int] | None = None
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
