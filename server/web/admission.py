"""Who runs a SPARQL query next: a machine-wide number of query slots, a bounded queue of queries
waiting for one, and a fair order among the clients that wait.

The worker processes of a server share one small state (the slots held, the queries waiting, each
client's recent use) in a JSON file under an exclusive lock, in a directory of the machine
(`default_slot_directory`). Whenever the state is read, the entries of processes that are gone are
dropped, so a killed worker frees its slots and places at once (its query runners die with it).

The rules, all of them decided under the lock:
- a query waits in the queue until a slot is free for it, at most `wait_seconds`;
- when slots are free, they go to the waiting queries in this order: the client that holds the
  fewest slots, then the client that used the least slot time lately (it decays, halving every
  USAGE_HALF_LIFE seconds, so a client of cheap queries goes before one of expensive ones), then
  the query that came first;
- no client holds more than `per_client` slots, so one client's runaway queries, however many,
  always leave a slot for the others;
- when every slot is taken, `express_slots` more run the first waiting queries (in the same order)
  for at most `express_seconds`: a cheap query is answered there at once, whatever the slots are
  busy with, and one that runs longer is stopped and waits for a slot of its own (`slot(...,
  express=False)`), having cost that little;
- the queue holds at most `queue_length` queries; when it is full, a newcomer takes the place of
  the newest query of the client with the most queries waiting, if that is another client (so one
  client cannot fill the queue against everyone else), and is refused otherwise.
A client is an IP address (after the trusted proxies' X-Forwarded-For), an IPv6 one by its /64.
"""

import fcntl
import hashlib
import ipaddress
import json
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

# How often a waiting query looks again whether a slot is free for it (a slot freed in its own
# process wakes it at once).
POLL_SECONDS = 0.01
USAGE_HALF_LIFE = 60.0
_STATE, _LOCK = "admission.json", "admission.lock"
_PAGE = 4096


class Busy(Exception):
    """No slot for this query: the message says why, `retry_after` when to try again (seconds)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Limits:
    """The admission settings of a server (see config.Settings: sparql_slots, sparql_slots_per_client,
    sparql_queue_length, sparql_queue_seconds)."""

    slots: int
    per_client: int
    queue_length: int
    wait_seconds: float
    express_slots: int = 1
    express_seconds: float = 1.0


@dataclass(frozen=True)
class Lane:
    """What a query was admitted to: a slot of its own, or an express slot (`express`), and how
    long it may run there (None: as long as a query may)."""

    express: bool
    seconds: float | None


def default_slot_directory(key: str) -> Path:
    """Where the admission state of the servers sharing `key` (their output folder) lives."""
    return Path(tempfile.gettempdir()) / f"lodpub-slots-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


@lru_cache(maxsize=1024)  # (asked for every query; the same few clients ask many)
def client_of(address: str | None) -> str:
    """The client an address counts as: itself, or its /64 network for IPv6 (one host has many)."""
    try:
        parsed = ipaddress.ip_address(address or "")
    except ValueError:
        return address or "unknown"
    if parsed.version == 4:
        return str(parsed)
    if parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    return str(ipaddress.ip_network(f"{parsed}/64", strict=False))


class Admission:
    """The query slots of the servers sharing `directory`, under `limits`."""

    def __init__(self, directory: Path, limits: Limits) -> None:
        self.directory = directory
        self.limits = limits
        self._state, self._lock_path = directory / _STATE, directory / _LOCK
        self._freed = threading.Condition()
        # The lock file, open once per process; its flock is per open file, not per thread, so the
        # threads of a process take turns on it under `_in_process` first.
        self._lock_file: tuple[int, int] | None = None
        self._in_process = threading.Lock()
        directory.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def slot(self, client: str, express: bool = True) -> Iterator[Lane]:
        """Hold a query slot (or, with `express`, maybe an express slot) for `client` for the
        duration, after waiting for it in the queue; raise Busy when there is no slot to wait for,
        the queue is full, or the wait is too long."""
        if self.limits.slots < 1:
            raise Busy("The endpoint takes no queries: it has no query slot (LODPUB_SPARQL_SLOTS is 0).", 60)
        ticket, verdict = self._enter(client, express)
        try:
            lane = self._wait_for_admission(ticket, verdict)
        except BaseException:
            self._change(lambda state: _leave(state, ticket))
            raise
        started = time.monotonic()
        try:
            yield lane
        finally:
            self._change(lambda state: _release(state, ticket, time.monotonic() - started))
            with self._freed:
                self._freed.notify_all()

    def snapshot(self) -> dict[str, Any]:
        """The slots held and queries waiting now (what an operator or a test may look at)."""
        state = self._change(lambda state: None)
        express = sum(1 for entry in state["holders"] if entry["express"])
        return {"slots": self.limits.slots, "running": len(state["holders"]) - express, "express": express,
                "waiting": len(state["waiting"])}

    # --- steps ---------------------------------------------------------------------------------

    def _enter(self, client: str, express: bool) -> tuple[int, str]:
        """Join the queue and, in the same look at the state, take a slot if one is free for this
        query: its ticket and the verdict of `_admit` (one change of the state, not two, for a query
        admitted at once)."""

        def enter(state: dict) -> tuple[int, str]:
            ticket = _join_queue(state, client, express, self.limits.queue_length)
            return ticket, (_admit(state, ticket, self.limits) if ticket >= 0 else "full")

        ticket, verdict = self._change(enter)
        if ticket < 0:
            raise Busy(f"The endpoint is busy: {self.limits.queue_length} queries are waiting for a slot. "
                       "Try again in a few seconds.", 5)
        return ticket, verdict

    def _wait_for_admission(self, ticket: int, verdict: str) -> Lane:
        deadline = time.monotonic() + self.limits.wait_seconds
        while True:
            if verdict == "admitted":
                return Lane(False, None)
            if verdict == "express":
                return Lane(True, self.limits.express_seconds)
            if verdict == "evicted":
                raise Busy("The endpoint is busy: the queue is full and this client has the most queries in it. "
                           "Try again in a few seconds.", 5)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Busy(f"The endpoint is busy: no query slot came free within {self.limits.wait_seconds:g} s. "
                           "Try again in a few seconds.", 5)
            with self._freed:
                self._freed.wait(min(POLL_SECONDS, remaining))
            verdict = self._change(lambda state: _admit(state, ticket, self.limits))

    def _change(self, change) -> Any:
        """Apply `change(state)` to the shared state under the lock; return what it returns (or the
        state, for a change that returns None)."""
        with self._locked(), _opened(self._state) as descriptor:
            written = _read_all(descriptor)
            state = _without_the_dead(_parsed_state(written))
            outcome = change(state)
            after = json.dumps(state).encode()
            if after != written.rstrip():  # most looks change nothing: waiting queries look often
                _write_state(self._state, descriptor, after, len(written))
        return state if outcome is None else outcome

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the lock of the state, against every thread of every process sharing it."""
        with self._in_process:
            if self._lock_file is None or self._lock_file[0] != os.getpid():  # none yet, or a forked copy's
                self._lock_file = (os.getpid(), os.open(self._lock_path, os.O_WRONLY | os.O_CREAT, 0o644))
            descriptor = self._lock_file[1]
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(descriptor, fcntl.LOCK_UN)


# --- the rules, on the state as a plain dict -------------------------------------------------------


def _join_queue(state: dict, client: str, express: bool, queue_length: int) -> int:
    """Put a query of `client` in the queue: its ticket, or -1 when the queue is full for it."""
    waiting = state["waiting"]
    if len(waiting) >= queue_length:
        counts = _count_by_client(waiting)
        longest = max(counts, key=lambda other: (counts[other], other), default=None)
        if longest is None or counts[longest] <= counts.get(client, 0):
            return -1
        newest = max((entry for entry in waiting if entry["client"] == longest), key=lambda entry: entry["ticket"])
        waiting.remove(newest)
        state["evicted"].append(newest["ticket"])
    state["next"] += 1
    waiting.append({"ticket": state["next"], "client": client, "express": express, **_me()})
    return state["next"]


def _admit(state: dict, ticket: int, limits: Limits) -> str:
    """"admitted" when `ticket` may take a slot now, "express" when it may take an express slot
    (it moves to the holders either way), "evicted" when it lost its place in the queue, else "waiting"."""
    if ticket in state["evicted"]:
        state["evicted"].remove(ticket)
        return "evicted"
    slots = [entry for entry in state["holders"] if not entry["express"]]
    express = [entry for entry in state["holders"] if entry["express"]]
    chosen = _first_admitted(state["waiting"], _count_by_client(slots), limits.per_client,
                             limits.slots - len(slots), state["usage"])
    if not chosen:
        wanting = [entry for entry in state["waiting"] if entry["express"]]
        chosen = _first_admitted(wanting, _count_by_client(express), 1, limits.express_slots - len(express),
                                 state["usage"])
        lane = "express"
    else:
        lane = "admitted"
    if ticket not in chosen:
        return "waiting"
    entry = next(entry for entry in state["waiting"] if entry["ticket"] == ticket)
    state["waiting"].remove(entry)
    state["holders"].append({**entry, "express": lane == "express", "since": time.monotonic()})
    return lane


def _first_admitted(waiting: list[dict], held: dict[str, int], per_client: int, free: int,
                    usage: dict[str, list[float]]) -> list[int]:
    """The tickets of the waiting queries that take the `free` slots, in the fair order, when a
    client may hold `per_client` of them and holds `held` already."""
    held, candidates, chosen = dict(held), list(waiting), []
    # Each client's use as of now, once: decaying as it is read, it would order one client's queries by
    # when they happened to be looked at.
    used = {entry["client"]: _decayed(usage, entry["client"]) for entry in waiting}
    for _ in range(max(0, free)):
        eligible = [entry for entry in candidates if held.get(entry["client"], 0) < per_client]
        if not eligible:
            break
        first = min(eligible, key=lambda entry: (held.get(entry["client"], 0), used[entry["client"]], entry["ticket"]))
        chosen.append(first["ticket"])
        candidates.remove(first)
        held[first["client"]] = held.get(first["client"], 0) + 1
    return chosen


def _leave(state: dict, ticket: int) -> None:
    state["waiting"] = [entry for entry in state["waiting"] if entry["ticket"] != ticket]
    state["holders"] = [entry for entry in state["holders"] if entry["ticket"] != ticket]
    if ticket in state["evicted"]:
        state["evicted"].remove(ticket)


def _release(state: dict, ticket: int, seconds: float) -> None:
    holder = next((entry for entry in state["holders"] if entry["ticket"] == ticket), None)
    _leave(state, ticket)
    if holder is not None:
        now = time.monotonic()
        state["usage"][holder["client"]] = [_decayed(state["usage"], holder["client"]) + seconds, now]
    # Forget the clients whose use has decayed to nothing, so the state stays small.
    state["usage"] = {client: value for client, value in state["usage"].items()
                      if _decayed(state["usage"], client) > 0.001}


def _decayed(usage: dict[str, list[float]], client: str) -> float:
    seconds, updated = usage.get(client, (0.0, 0.0))
    return seconds * 0.5 ** ((time.monotonic() - updated) / USAGE_HALF_LIFE)


def _count_by_client(entries: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in entries:
        counts[entry["client"]] = counts.get(entry["client"], 0) + 1
    return counts


# --- the state file, and who is still alive --------------------------------------------------------


@contextmanager
def _opened(path: Path) -> Iterator[int]:
    """The state file, open for reading and writing (made empty if there is none)."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        yield descriptor
    finally:
        os.close(descriptor)


def _read_all(descriptor: int) -> bytes:
    chunks = []
    while chunk := os.pread(descriptor, 1 << 16, sum(map(len, chunks))):
        chunks.append(chunk)
    return b"".join(chunks)


def _parsed_state(written: bytes) -> dict:
    empty = {"next": 0, "holders": [], "waiting": [], "evicted": [], "usage": {}}
    try:
        state = json.loads(written)
    except ValueError:  # none yet, or damaged: no slot is held by anyone alive we know of
        return empty
    return {**empty, **state} if isinstance(state, dict) else empty


def _write_state(path: Path, descriptor: int, text: bytes, old_size: int) -> None:
    """Write the state, which every reader reads under the lock. A state of one page (the usual: a
    few holders and waiting queries) is written over the old one in place, padded with spaces (which
    JSON ignores) to the old one's length: one write of one page, which a killed process completes
    or does not begin, and which costs a tenth of a new file renamed into place (the rename is a
    journal commit: 0.5 ms and more on a busy disk, three times a query). A larger state is written
    to a new file renamed into place, which no death can leave half written."""
    if max(len(text), old_size) <= _PAGE:
        os.pwrite(descriptor, text.ljust(old_size), 0)
        return
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_bytes(text)
    os.replace(temporary, path)


def _without_the_dead(state: dict) -> dict:
    """The state without the entries of processes that ended (or whose pid now names another process)."""
    me = _me()
    alive: dict[tuple[int, str], bool] = {(me["pid"], me["started"]): True}  # this process is alive

    def lives(entry: dict) -> bool:
        key = (entry["pid"], entry["started"])
        if key not in alive:
            alive[key] = _process_start(entry["pid"]) == entry["started"]
        return alive[key]

    state["holders"] = [entry for entry in state["holders"] if lives(entry)]
    gone = [entry["ticket"] for entry in state["waiting"] if not lives(entry)]
    state["waiting"] = [entry for entry in state["waiting"] if entry["ticket"] not in gone]
    # An evicted query whose process died never collects its notice; old notices are forgotten.
    state["evicted"] = [ticket for ticket in state["evicted"] if ticket > state["next"] - 10000]
    return state


def _me() -> dict[str, Any]:
    pid = os.getpid()
    if _MY_START.get(pid) is None:  # a process's start never changes: read once (per forked process)
        _MY_START.clear()
        _MY_START[pid] = _process_start(pid)
    return {"pid": pid, "started": _MY_START[pid]}


_MY_START: dict[int, str] = {}


def _process_start(pid: int) -> str:
    """When process `pid` started (clock ticks since boot), "" when there is no such process: with
    the pid, it names one process even after the pid is reused."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    fields = stat.rsplit(")", 1)[1].split()
    return "" if fields[0] == "Z" else fields[19]
