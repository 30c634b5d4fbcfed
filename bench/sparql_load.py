"""Probes of the SPARQL endpoint of `lodpub serve` under bursts, runaway queries and hostile queries,
on loopback, each bounded in time:

- burst: 50 simultaneous `ASK {}`;
- mix: 16 clients running the competency questions over and over;
- runaways: one client keeps four runaway queries running while another asks cheap ones;
- deep: an expression of 20 000 `!` (20 KB), with every slot free and with every slot taken;
- orphans: a worker killed (SIGKILL) while its runner runs a query with a five-minute limit;
- large answer: a 260 MB answer, and the largest memory of the server's processes meanwhile;
- large body: a 200 MB POST, and the same.

Clients are told apart by their loopback address (127.0.0.2, 127.0.0.3, ...), as the server tells them apart.
`python3 bench/sparql_load.py --label after --out bench/results/sparql_load.json` runs them on a server of
its own; `--checkout` runs another checkout's server (the figures "before" came from the commit before
issue 16's SPARQL work). tests/test_web_sparql_admission.py runs short versions.
"""

import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import probes
from probes import MemoryWatch, serving

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from lodpub.control import children  # noqa: E402
from lodpub.control import running as alive

CHECKOUT = Path(__file__).resolve().parent.parent
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
DEEP = "ASK { FILTER(" + "!" * 20000 + "true) }"


def ask(base: str, query: str, source: str = "127.0.0.1", timeout: float = 120,
        accept: str = "application/sparql-results+json") -> tuple[int, float, int]:
    """Send `query` from `source`: (status, seconds, body bytes); status 0 when the connection failed."""
    address = urlsplit(base)
    started = time.monotonic()
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=timeout,
                                            source_address=(source, 0))
    try:
        connection.request("POST", "/sparql", body=urlencode({"query": query}).encode(),
                           headers={"Accept": accept, "Content-Type": "application/x-www-form-urlencoded"})
        response = connection.getresponse()
        size = 0
        while chunk := response.read(1 << 20):
            size += len(chunk)
        return response.status, time.monotonic() - started, size
    except (OSError, http.client.HTTPException):
        return 0, time.monotonic() - started, 0
    finally:
        connection.close()


def summary(outcomes: list[tuple[int, float, int]]) -> dict:
    """How many were answered (200) and refused, and the latency percentiles of the answers."""
    times = sorted(seconds for status, seconds, _ in outcomes if status == 200)
    refused = [status for status, _, _ in outcomes if status != 200]
    return {"requests": len(outcomes), "failed": len(refused),
            "failed_percent": round(100 * len(refused) / max(1, len(outcomes)), 1),
            "statuses": sorted(set(refused)),
            "p50_ms": probes._percentile(times, 0.5), "p99_ms": probes._percentile(times, 0.99)}


def workers_of(master: int) -> set[int]:
    """The worker processes of gunicorn's `master`."""
    return children(master)


# --- the probes ---------------------------------------------------------------------------------


def probe_burst(base: str) -> dict:
    """50 simultaneous `ASK {}` on a cold server (no runner forked yet), then again on a warm one."""
    results = {}
    for moment in ("cold", "warm"):
        with ThreadPoolExecutor(max_workers=50) as pool:
            results[moment] = summary(list(pool.map(lambda _: ask(base, "ASK {}"), range(50))))
    return results


def probe_mix(base: str, seconds: float) -> dict:
    queries = [path.read_text() for path in sorted((CHECKOUT / "server" / "queries").glob("*.rq"))]
    until, outcomes, lock = time.monotonic() + seconds, [], threading.Lock()

    def client(number: int) -> None:
        turn = number
        while time.monotonic() < until:
            outcome = ask(base, queries[turn % len(queries)])
            with lock:
                outcomes.append(outcome)
            turn += 1

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(client, range(16)))
    return summary(outcomes)


def probe_runaways(base: str, seconds: float, runaways: int = 4) -> dict:
    until = time.monotonic() + seconds
    flood: list[tuple[int, float, int]] = []

    def runaway_client() -> None:
        while time.monotonic() < until:
            flood.append(ask(base, RUNAWAY, "127.0.0.2"))

    threads = [threading.Thread(target=runaway_client, daemon=True) for _ in range(runaways)]
    for thread in threads:
        thread.start()
    time.sleep(1)
    others = []
    while time.monotonic() < until:
        others.append(ask(base, "SELECT ?s WHERE { ?s ?p ?o } LIMIT 3", "127.0.0.3"))
        time.sleep(0.1)
    for thread in threads:
        thread.join(150)
    return {"others": summary(others), "runaways": summary(flood)}


def probe_deep(base: str, master: int) -> dict:
    before = workers_of(master)
    free = ask(base, DEEP)
    with ThreadPoolExecutor(max_workers=8) as pool:
        busy = [pool.submit(ask, base, RUNAWAY, "127.0.0.2") for _ in range(6)]
        time.sleep(1)
        deep_while_busy = ask(base, DEEP, "127.0.0.3")
        for future in busy:
            future.result()
    time.sleep(1)
    return {"status_with_slots_free": free[0], "status_with_slots_taken": deep_while_busy[0],
            "workers_lost": len(before - workers_of(master))}


def probe_orphans(base: str, master: int, wait: float = 20) -> dict:
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(ask, base, RUNAWAY, timeout=30)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            busy = {worker: children(worker) for worker in workers_of(master)}
            busy = {worker: runners for worker, runners in busy.items() if runners}
            if busy:
                break
            time.sleep(0.05)
        else:
            return {"error": "no runner started"}
        worker, runners = next(iter(busy.items()))
        os.kill(worker, signal.SIGKILL)
        killed = time.monotonic()
        while any(alive(runner) for runner in runners) and time.monotonic() - killed < wait:
            time.sleep(0.05)
        outlived = time.monotonic() - killed
        for runner in runners:  # do not leave them running
            if alive(runner):
                os.kill(runner, signal.SIGKILL)
    return {"runner_outlived_its_worker_s": round(outlived, 2), "capped_at_s": wait}


def long_answer_query(rows: int) -> str:
    """`rows` answers of a million characters each."""
    text = '"x"'
    for _ in range(6):
        text = f'REPLACE({text}, "x", "xxxxxxxxxx")'
    values = " ".join(str(number) for number in range(rows))
    return f"SELECT ?n (CONCAT(STR(?n), {text}) AS ?text) WHERE {{ VALUES ?n {{ {values} }} }}"


def peak_rss_mb(pids) -> float:
    """The largest resident memory each of `pids` ever had (VmHWM), summed, in MB."""
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1])
    return round(total / 1024, 1)


def probe_large_answer(base: str, master: int) -> dict:
    """A 260 MB answer: the peak memory of the tree (runners included) and of the workers alone."""
    ask(base, "ASK {}")
    workers = workers_of(master)
    idle, workers_before = probes.tree_memory_mb(master), peak_rss_mb(workers)
    with MemoryWatch(master) as watch:
        status, seconds, size = ask(base, long_answer_query(260), accept="text/tab-separated-values")
    return {"status": status, "bytes": size, "seconds": round(seconds, 1), "idle_tree_mb": idle,
            "peak_tree_mb": watch.peak_mb, "workers_peak_rss_mb_before": workers_before,
            "workers_peak_rss_mb_after": peak_rss_mb(workers & workers_of(master))}


def probe_large_body(base: str, master: int, megabytes: int = 200) -> dict:
    address = urlsplit(base)
    idle = probes.tree_memory_mb(master)
    with MemoryWatch(master) as watch:
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=120)
        started = time.monotonic()
        try:
            connection.putrequest("POST", "/sparql")
            connection.putheader("Content-Type", "application/sparql-query")
            connection.putheader("Content-Length", str(megabytes << 20))
            connection.endheaders()
            block = b" " * (1 << 20)
            for _ in range(megabytes):
                connection.send(block)
            status = connection.getresponse().status
        except (OSError, http.client.HTTPException):
            status = 0  # the server answered (and closed) before the body was sent
            try:
                status = connection.getresponse().status
            except (OSError, http.client.HTTPException):
                pass
        finally:
            connection.close()
    return {"status": status, "seconds": round(time.monotonic() - started, 2), "idle_tree_mb": idle,
            "peak_tree_mb": watch.peak_mb}


def run_all(output: Path, log: Path, scale: float = 1.0) -> dict:
    """Every probe, on fresh servers of `output`; `scale` shortens the timed ones."""
    results = {}
    with serving(output, log) as (base, master):
        results["burst"] = probe_burst(base)
        results["mix"] = probe_mix(base, 20 * scale)
    with serving(output, log, sparql_timeout="5") as (base, master):
        results["runaways"] = probe_runaways(base, 30 * scale)
        results["deep"] = probe_deep(base, master)
    with serving(output, log, sparql_timeout="300") as (base, master):
        results["orphans"] = probe_orphans(base, master)
    with serving(output, log, sparql_max_answer_mb="400", sparql_max_rows="1000") as (base, master):
        results["large_answer"] = probe_large_answer(base, master)
        results["large_body"] = probe_large_body(base, master)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=Path("/tmp/lodpub-probes/dist"),
                        help="the output folder served; a release of the project's data is built there if it has none")
    parser.add_argument("--checkout", type=Path, default=CHECKOUT, help="the checkout whose server runs")
    parser.add_argument("--scale", type=float, default=1.0, help="a fraction of every timed probe's duration")
    parser.add_argument("--label", default="", help="a name for this run in the results file")
    parser.add_argument("--out", type=Path, help="a JSON file the results are added to, under the label")
    args = parser.parse_args()
    probes.CHECKOUT = args.checkout.resolve()
    if not (args.output / "current").exists():
        subprocess.run([sys.executable, "-m", "lodpub.cli", "build", "--output", str(args.output)],
                       cwd=probes.CHECKOUT, check=True, capture_output=True)
    results = run_all(args.output, args.output.parent / "sparql-load-server.log", args.scale)
    print(json.dumps(results, indent=1))
    if args.out:
        previous = json.loads(args.out.read_text()) if args.out.exists() else {}
        args.out.write_text(json.dumps(previous | {args.label or time.strftime("%Y-%m-%dT%H:%M"): results},
                                       indent=1) + "\n")


if __name__ == "__main__":
    main()
