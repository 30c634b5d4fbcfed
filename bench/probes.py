"""Probes of how `lodpub serve` withstands hostile or unlucky clients, on loopback, each bounded in time:

- slowloris: clients that send a header line every few seconds and never finish their request;
- idle: sockets that connect and never send a byte;
- stopped worker: keep-alive clients while one worker is stopped (SIGSTOP) for a while;
- reloads: `lodpub reload` again and again while a client runs;
- recycling: workers replaced after a few requests (max_requests) while a client runs.

Each probe runs a normal client beside the trouble and reports what it saw: answers, failed requests,
latency percentiles, the longest time without an answer, and the memory of the server's process tree.

`python3 bench/probes.py --out bench/results/probes.json` starts a server of its own on the project's
data for each probe; tests/test_serving.py runs short versions of the same probes.
"""

import argparse
import contextlib
import http.client
import json
import os
import random
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from urllib.parse import urlsplit

CHECKOUT = Path(__file__).resolve().parent.parent

# How long one request of the normal client may take before it counts as failed.
REQUEST_TIMEOUT = 30.0


@dataclass
class Tally:
    """What clients saw: when each answer came and how long it took, and each failure."""

    answers: list[tuple[float, float, int]] = field(default_factory=list)  # (monotonic time, seconds taken, client)
    failures: list[str] = field(default_factory=list)
    workers: dict[int, int] = field(default_factory=dict)  # worker pid: answers it gave
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answered(self, started: float, worker: int | None = None, client: int = 0) -> None:
        """Record an answer to `client`'s request sent at `started` (and the worker that gave it)."""
        now = time.monotonic()
        with self.lock:
            self.answers.append((now, now - started, client))
            if worker is not None:
                self.workers[worker] = self.workers.get(worker, 0) + 1

    def failed(self, reason: str) -> None:
        """Record a failed request."""
        with self.lock:
            self.failures.append(reason)

    def summary(self, since: float, until: float) -> dict:
        """Answers, failures, latency percentiles (ms) and the longest wait for an answer (s) in [since,
        until]: of all clients together, and of the client that waited longest."""
        times = sorted(at for at, _, _ in self.answers)
        latencies = sorted(taken for _, taken, _ in self.answers)
        clients = {client for _, _, client in self.answers}
        return {
            "answers": len(times),
            "failed": len(self.failures),
            "failures": sorted(set(self.failures))[:5],
            "p50_ms": _percentile(latencies, 0.50),
            "p99_ms": _percentile(latencies, 0.99),
            "longest_gap_s": _longest_gap(times, since, until),
            "longest_client_gap_s": max((_longest_gap(sorted(at for at, _, who in self.answers if who == client),
                                                      since, until) for client in clients), default=None),
        }


def _longest_gap(times: list[float], since: float, until: float) -> float:
    edges = [since, *times, until]
    return round(max(later - earlier for earlier, later in pairwise(edges)), 2)


def _percentile(sorted_values: list[float], fraction: float) -> float | None:
    if not sorted_values:
        return None
    return round(1000 * sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))], 1)


def _address(base: str) -> tuple[str, int]:
    parts = urlsplit(base)
    return parts.hostname or "127.0.0.1", parts.port or 80


def _ask_health(connection: http.client.HTTPConnection) -> int | None:
    """GET /health on `connection`; the pid of the worker that answered (None for another status)."""
    connection.request("GET", "/health", headers={"Accept": "application/json"})
    response = connection.getresponse()
    body = response.read()
    if response.status != 200:
        raise OSError(f"status {response.status}")
    return json.loads(body).get("worker_pid")


def fresh_client(base: str, until: float, tally: Tally, client: int = 0, pause: float = 0.05) -> None:
    """A client that opens a new connection for each GET /health until `until` (monotonic)."""
    host, port = _address(base)
    while time.monotonic() < until:
        started = time.monotonic()
        connection = http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT)
        try:
            tally.answered(started, _ask_health(connection), client)
        except (OSError, http.client.HTTPException, ValueError) as error:
            tally.failed(type(error).__name__ + ": " + str(error)[:80])
        finally:
            connection.close()
        time.sleep(pause)


def keepalive_client(base: str, until: float, tally: Tally, client: int = 0, pause: float = 0.05,
                     stop: threading.Event | None = None) -> None:
    """A client that keeps one connection open for its GET /health requests, opening another when the
    server closes it (as browsers and HTTP libraries do), until `until` or `stop`; a request that fails
    is not retried."""
    host, port = _address(base)
    connection = http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT)
    while time.monotonic() < until and not (stop and stop.is_set()):
        started = time.monotonic()
        try:
            tally.answered(started, _ask_health(connection), client)
        except http.client.RemoteDisconnected:
            connection.close()  # closed while idle: the library sends the request again, on a new one
            continue
        except (OSError, http.client.HTTPException, ValueError) as error:
            tally.failed(type(error).__name__ + ": " + str(error)[:80])
            connection.close()
        time.sleep(pause)
    connection.close()


class Background:
    """Something that runs in a thread of its own (`_run`, until `_stop` is set) while a block runs."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        raise NotImplementedError


class Attackers(Background):
    """Sockets that hold the server's attention without asking anything of it, kept up until stopped:
    `lines_every` seconds each sends one more header line of a request it never finishes (slowloris), or
    with `lines_every` None they connect and never send. A socket the server closes is opened again."""

    def __init__(self, base: str, count: int, lines_every: float | None) -> None:
        super().__init__()
        self.address = _address(base)
        self.count = count
        self.lines_every = lines_every
        self.reconnects = 0

    def _open(self) -> socket.socket:
        sock = socket.create_connection(self.address, timeout=5)
        if self.lines_every is not None:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n")
        return sock

    def _run(self) -> None:
        sockets = [self._open() for _ in range(self.count)]
        next_line = time.monotonic()
        while not self._stop.is_set():
            readable, _, _ = select.select(sockets, [], [], 0.2)
            for sock in readable:  # the server answered (408) or closed it: come back
                sockets[sockets.index(sock)] = self._reopen(sock)
            if self.lines_every is not None and time.monotonic() >= next_line:
                next_line = time.monotonic() + self.lines_every
                for index, sock in enumerate(sockets):
                    try:
                        sock.sendall(f"X-Pad-{random.randrange(10**6)}: a\r\n".encode())
                    except OSError:
                        sockets[index] = self._reopen(sock)
        for sock in sockets:
            sock.close()

    def _reopen(self, sock: socket.socket) -> socket.socket:
        sock.close()
        self.reconnects += 1
        return self._open()


# --- the server's process tree ------------------------------------------------------------------


def process_tree(pid: int) -> list[int]:
    """`pid` and every process below it."""
    tree, index = [pid], 0
    while index < len(tree):
        for task in Path(f"/proc/{tree[index]}/task").glob("*"):
            with contextlib.suppress(OSError):
                tree.extend(int(child) for child in (task / "children").read_text().split())
        index += 1
    return tree


def tree_memory_mb(pid: int) -> float:
    """The proportional set size (PSS: shared pages split between their users) of the tree below `pid`, in MB."""
    total = 0
    for member in process_tree(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{member}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
    return round(total / 1024, 1)


class MemoryWatch(Background):
    """The largest memory of the tree below `pid` seen while the block runs, sampled every second."""

    def __init__(self, pid: int) -> None:
        super().__init__()
        self.pid = pid
        self.peak_mb = 0.0

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, tree_memory_mb(self.pid))
            self._stop.wait(1.0)


def run_clients(target, count: int, base: str, until: float, tally: Tally, **options) -> list[threading.Thread]:
    """Start `count` threads running client `target` until `until` (with `options` for it)."""
    threads = [threading.Thread(target=target, args=(base, until, tally, client), kwargs=options, daemon=True)
               for client in range(count)]
    for thread in threads:
        thread.start()
    return threads


def _join(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.join(timeout=REQUEST_TIMEOUT + 10)


# --- the probes ---------------------------------------------------------------------------------


def probe_attackers(base: str, master: int, seconds: float, count: int, lines_every: float | None) -> dict:
    """A normal client (a new connection per request) for `seconds` beside `count` slowloris or idle sockets."""
    tally = Tally()
    with MemoryWatch(master) as memory, Attackers(base, count, lines_every) as attackers:
        time.sleep(0.5)  # the sockets are open before the client starts
        started = time.monotonic()
        _join(run_clients(fresh_client, 1, base, started + seconds, tally))
        ended = time.monotonic()
    return {**tally.summary(started, ended), "attacker_reconnects": attackers.reconnects,
            "memory_mb": memory.peak_mb}


def probe_stopped_worker(base: str, master: int, clients: int, warmup: float, stopped: float,
                         after: float) -> dict:
    """`clients` keep-alive clients, started as the server starts; after `warmup` seconds the worker that
    gives the most answers is stopped (SIGSTOP) for `stopped` seconds, then let go (SIGCONT)."""
    tally = Tally()
    with MemoryWatch(master) as memory:
        started = time.monotonic()
        threads = run_clients(keepalive_client, clients, base, started + warmup + stopped + after, tally)
        time.sleep(warmup)
        victim = max(tally.workers, key=tally.workers.get)
        before = dict(tally.workers)
        answers_before = len(tally.answers)
        stop_at = time.monotonic()
        os.kill(victim, signal.SIGSTOP)
        try:
            time.sleep(stopped)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGCONT)
        _join(threads)
        ended = time.monotonic()
    during = [at for at, _, _ in tally.answers[answers_before:] if at < stop_at + stopped]
    return {**tally.summary(started, ended), "answers_by_worker_before_stop": sorted(before.values(), reverse=True),
            "answers_while_stopped": len(during),
            "traffic_resumed_after_s": _resumed_after(tally, stop_at),
            "memory_mb": memory.peak_mb}


def _resumed_after(tally: Tally, since: float) -> float:
    """Seconds from `since` to the first answer after it, in the answers of every client."""
    later = [at for at, _, _ in tally.answers if at >= since]
    return round(min(later) - since, 2) if later else float("inf")


def probe_reloads(base: str, master: int, output: Path, count: int, clients: int = 4) -> dict:
    """Keep-alive clients while `lodpub reload` runs `count` times, one after another."""
    tally = Tally()
    with MemoryWatch(master) as memory:
        started = time.monotonic()
        stop = threading.Event()
        threads = run_clients(keepalive_client, clients, base, started + 3600, tally, stop=stop)
        time.sleep(1)
        failed_reloads = 0
        for _ in range(count):
            reload = subprocess.run([sys.executable, "-m", "lodpub.cli", "reload", "--output", str(output)],
                                    cwd=CHECKOUT, capture_output=True, text=True, timeout=180)
            failed_reloads += reload.returncode != 0
        time.sleep(1)
        stop.set()
        _join(threads)
        ended = time.monotonic()
    return {**tally.summary(started, ended), "reloads": count, "failed_reloads": failed_reloads,
            "memory_mb": memory.peak_mb}


def probe_recycling(base: str, master: int, seconds: float, clients: int = 4) -> dict:
    """Keep-alive clients for `seconds` on a server whose workers are replaced every few requests."""
    tally = Tally()
    with MemoryWatch(master) as memory:
        started = time.monotonic()
        _join(run_clients(keepalive_client, clients, base, started + seconds, tally))
        ended = time.monotonic()
    return {**tally.summary(started, ended), "workers_seen": len(tally.workers), "memory_mb": memory.peak_mb}


# --- a server of its own for each probe ---------------------------------------------------------


@contextlib.contextmanager
def serving(output: Path, log: Path, **settings: str) -> Iterator[tuple[str, int]]:
    """`lodpub serve` (2 workers) of `output` on a free loopback port: (base URL, master pid)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {name: value for name, value in os.environ.items() if not name.startswith("LODPUB_")}
    environment |= {f"LODPUB_{name.upper()}": value for name, value in settings.items()}
    environment |= {"LODPUB_OUTPUT_DIR": str(output), "LODPUB_ACCESS_LOG": os.devnull}
    with open(log, "a") as log_file:
        server = subprocess.Popen([sys.executable, "-m", "lodpub.cli", "serve", "--port", str(port), "--workers", "2"],
                                  cwd=CHECKOUT, env=environment, stdout=log_file, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_answering(base, server)
        yield base, server.pid
    finally:
        server.terminate()
        server.wait(timeout=60)


def _wait_until_answering(base: str, server: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}")
        with contextlib.suppress(OSError, http.client.HTTPException, ValueError):
            _ask_health(http.client.HTTPConnection(*_address(base), timeout=2))
            return
        time.sleep(0.2)
    raise TimeoutError(f"{base} did not answer within {seconds} s")


def run_all(output: Path, log: Path, scale: float = 1.0) -> dict:
    """Every probe, each on a fresh server of `output`; `scale` shortens them (1: the figures of bench/README.md)."""
    results = {}
    for name, lines_every, count in (("slowloris", 3.0, 20), ("idle", None, 200)):
        with serving(output, log) as (base, master):
            results[name] = probe_attackers(base, master, 30 * scale, count, lines_every)
    with serving(output, log) as (base, master):
        results["stopped_worker"] = probe_stopped_worker(base, master, 16, 10 * scale, 20 * scale, 5 * scale)
    with serving(output, log) as (base, master):
        results["reloads"] = probe_reloads(base, master, output, max(2, int(10 * scale)))
    with serving(output, log, max_requests="50") as (base, master):
        results["recycling"] = probe_recycling(base, master, 30 * scale)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=Path("/tmp/lodpub-probes/dist"),
                        help="the output folder served; a release of the project's data is built there if it has none")
    parser.add_argument("--scale", type=float, default=1.0, help="a fraction of every probe's duration")
    parser.add_argument("--label", default="", help="a name for this run in the results file")
    parser.add_argument("--out", type=Path, help="a JSON file the results are added to, under the label")
    args = parser.parse_args()
    if not (args.output / "current").exists():
        subprocess.run([sys.executable, "-m", "lodpub.cli", "build", "--output", str(args.output)], cwd=CHECKOUT,
                       check=True, capture_output=True)
    results = run_all(args.output, args.output.parent / "probes-server.log", args.scale)
    print(json.dumps(results, indent=1))
    if args.out:
        previous = json.loads(args.out.read_text()) if args.out.exists() else {}
        args.out.write_text(json.dumps(previous | {args.label: results}, indent=1) + "\n")


if __name__ == "__main__":
    main()
