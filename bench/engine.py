"""Who should evaluate the queries: each worker (its runners), or one engine for the whole server? Each
setting of LODPUB_ENGINE against Oxigraph server in memory, in one run, on a release built already:

    python3 bench/engine.py --work /tmp/b10k [--engines per-worker,shared,shared-one-copy,auto] [--rounds 30]

For each engine, one after the other, on the release bench/run.py built in `--work` (not built again):
the cheap queries of fixed_cost.py (p50, CPU per lookup, lookups per second, documents asked the first
time), the query mix of run.py (p50 of one round, throughput with 4 clients), and the memory of every
process of each server (RSS, and PSS, which counts a page shared by several processes once) after all
that. The queries the mix keeps (both servers answer them within run.py's cap) are chosen once.

Results are printed and written to bench/results/engine-<triples>.json.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import fixed_cost
import requests
from run import (
    QUERY_TIMEOUT_SECONDS,
    UNBOUNDED,
    Server,
    feasible,
    load_into_oxigraph,
    measure_latency,
    measure_throughput,
    query_mix,
    sample_iri,
    setting_option,
    start,
)

ENGINES = ("per-worker", "shared", "shared-one-copy")  # and "auto", which chooses one of the others
# Oxigraph server's threads at which it is taken to have settled (see `settled`): 4 000 of the 65 530 maps it may have.
PEER_THREADS_SETTLED = 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="bench/run.py's working folder, with a release")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--rounds", type=int, default=30, help="rounds of the cheap queries")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", type=setting_option,
                        help="a server setting of lodpub other than the bench's, e.g. documents_ahead=off")
    parser.add_argument("--no-cheap", action="store_true",
                        help="leave out the cheap queries (at 100k Oxigraph server stopped answering after them)")
    options = parser.parse_args()
    release = (options.work / "dist" / "current").resolve()
    triples = json.loads((release / "manifest.json").read_text())["triples"]
    results: dict = {"triples": triples, "cpus": os.cpu_count(), "engines": {}}
    peer, _ = start(["oxigraph"], options.work)
    try:
        load_into_oxigraph(release, peer)
        mix = None
        for engine in options.engines.split(","):
            results["engines"][engine], mix = measure(engine, options, peer, mix)
            print(json.dumps({engine: results["engines"][engine]}, indent=2), flush=True)
    finally:
        peer.stop()
    options.out.mkdir(parents=True, exist_ok=True)
    (options.out / f"engine-{triples}.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


def measure(engine: str, options: argparse.Namespace, peer: Server, mix: dict | None) -> tuple[dict, dict]:
    """Every measurement of lodpub on `engine` against `peer`; and the mix kept (chosen now if `mix` is None)."""
    # In memory whatever its size (beyond LODPUB_MEMORY_STORE_MAX_TRIPLES the store would be on disk); but
    # "auto" chooses with the server's own limit, as an operator's server would.
    in_memory = {} if engine == "auto" else {"LODPUB_MEMORY_STORE_MAX_TRIPLES": str(10**9)}
    settings = UNBOUNDED | {f"LODPUB_{name.upper()}": value for name, value in options.set} | {
        "LODPUB_ENGINE": engine, "LODPUB_PUBLIC_BASE": fixed_cost.BASE, **in_memory}
    ours, started = start(["release", str(options.work / "dist")], options.work, settings)
    result: dict = {"load_average_before": os.getloadavg(), "cold_start_s": started}
    try:
        health = requests.get(ours.base + "health", timeout=60).json()
        result["engine_chosen"] = [health.get("engine"), health.get("engine_chosen")]
        result["memory_after_start_mb"] = {"lodpub": memory(ours), "oxigraph": memory(peer)}
        print(json.dumps({engine: result}), flush=True)
        if not options.no_cheap:
            result |= cheap(ours, peer, options)
        if mix is None:
            mix, result["left_out"] = feasible(query_mix(sample_iri(ours)), ours, peer)
        result["mix"] = measure_latency(mix, ours, peer, 1)
        result["mix_throughput_4"] = measure_throughput(mix, ours, peer, 4, options.seconds)
        time.sleep(1)
        result["memory_mb"] = {"lodpub": memory(ours), "oxigraph": memory(peer)}
        result["load_average_after"] = os.getloadavg()
    finally:
        ours.stop()
    return result, mix


def cheap(ours: Server, peer: Server, options: argparse.Namespace) -> dict:
    """fixed_cost.py's measures of the cheap queries on both servers (the peer settled before each)."""
    iris = fixed_cost._agreements(ours)
    result: dict = {"peer_settled_s": [settled(peer)]}
    result["cheap_p50_ms"] = fixed_cost.latency(ours, peer, iris, options.rounds)
    result["cheap_geomean_ratio"] = round(statistics.geometric_mean(
        [entry["ratio"] for entry in result["cheap_p50_ms"].values()]), 2)
    result["peer_settled_s"].append(settled(peer))
    result["cpu_ms_per_lookup"] = {"lodpub": fixed_cost.cpu_per_lookup(ours, iris),
                                   "oxigraph": fixed_cost.cpu_per_lookup(peer, iris)}
    result["peer_settled_s"].append(settled(peer))
    result["lookup_per_second"] = fixed_cost.lookup_throughput(ours, peer, iris, options.seconds)
    result["peer_settled_s"].append(settled(peer))
    result["first_visit_per_second"] = fixed_cost.first_visits(ours, peer, fixed_cost._resources(ours),
                                                               options.seconds)
    result["peer_settled_s"].append(settled(peer))
    return result


def settled(peer: Server, most: int = PEER_THREADS_SETTLED) -> float:
    """Wait until Oxigraph server has at most `most` threads; the seconds waited.

    With --timeout-s it starts a thread per query that sleeps out the timeout (measured: 3 000 ASKs in 3.5 s,
    3 002 threads 10 s later), each with four memory maps: some 16 000 queries within the timeout reach the
    kernel's vm.max_map_count (65 530), and every request after is `Resource temporarily unavailable (os
    error 11)` until it panics. The cheap queries ask thousands a second, so the peer is let settle between
    them (its threads end within the timeout)."""
    started = time.monotonic()
    while _threads(peer.process.pid) > most and time.monotonic() - started < QUERY_TIMEOUT_SECONDS + 10:
        time.sleep(1)
    return round(time.monotonic() - started, 1)


def _threads(pid: int) -> int:
    """How many threads process `pid` runs (0 once it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("Threads:")))


def memory(server: Server) -> dict:
    """RSS and PSS (MB) of the server's processes, summed, and each process's PSS by its pid."""
    pids = server.pids()
    return {"rss": server.rss_mb(pids), "pss": server.pss_mb(pids), "processes": len(pids),
            "pss_each": [server.pss_mb([pid]) for pid in pids]}


if __name__ == "__main__":
    sys.exit(main())
