"""The cost of queries answered by a query runner: two lodpub checkouts and Oxigraph server side by side.

    python3 bench/runner_cost.py --work /tmp/b10k --before-work /tmp/b10k-copy --before-pythonpath "" [--rounds 8]

Both lodpub servers serve the release bench/run.py built in their work folders (`--work` for this
checkout, `--before-work` for the other: a hard-linked copy of the first, since a server keeps its pid
file there), the other one with PYTHONPATH set to `--before-pythonpath` ("" for the installed package,
main's). Oxigraph server holds the same release in memory. Queries that go to a runner (not bounded by
their form: web/sparql_answers.py) are asked of the three servers in turn, in alternating order, each
request on a new connection as bench/run.py asks; for each, the p50 and the CPU time (user and system,
from /proc) each server's processes spend per query. Both servers run on the same loaded machine at
the same moments, so their ratio is steadier than two runs of bench/run.py one after the other.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import requests
from fixed_cost import _cpu_seconds
from run import CONSUMER_QUERIES, PREFIXES, UNBOUNDED, Server, load_into_oxigraph, start

JSON, N_TRIPLES = "application/sparql-results+json", "application/n-triples"
QUERIES = {
    "construct-partnerships": (N_TRIPLES, CONSUMER_QUERIES["construct-partnerships"]),
    "optional-heavy": (JSON, CONSUMER_QUERIES["optional-heavy"]),
    "tiny-ask": (JSON, "ASK { ?s a rp:Agreement ; ?p ?o }"),
    "tiny-select": (JSON, "SELECT ?s WHERE { ?s a rp:Agreement ; ?p ?o } LIMIT 1"),
}
SETTINGS = UNBOUNDED | {"LODPUB_DOCUMENTS_AHEAD": "off", "LODPUB_MAX_REQUESTS": "0"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="bench/run.py's working folder, for this checkout")
    parser.add_argument("--before-work", type=Path, required=True, help="the same, for the other checkout")
    parser.add_argument("--before-pythonpath", default="", help="PYTHONPATH of the other checkout ('' for main)")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--requests", type=int, default=25, help="requests per server, query and round")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "runner-cost.json")
    options = parser.parse_args()
    servers = {"before": _lodpub(options.before_work, options.before_pythonpath),
               "after": _lodpub(options.work, os.environ.get("PYTHONPATH", ""))}
    servers["oxigraph"], _ = start(["oxigraph"], options.work)
    try:
        load_into_oxigraph((options.work / "dist" / "current").resolve(), servers["oxigraph"])
        results = {name: measure(servers, accept, PREFIXES + text, options.rounds, options.requests)
                   for name, (accept, text) in QUERIES.items()}
    finally:
        for server in servers.values():
            server.stop()
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    for name, measured in results.items():
        print(f"{name:24s}", "  ".join(f"{label} p50 {value['p50_ms']:6.2f} ms CPU {value['cpu_ms']:5.2f} ms"
                                       for label, value in measured.items() if label != "load"),
              f"(load {measured['load'][0]}-{measured['load'][1]})")
    return 0


def _lodpub(work: Path, pythonpath: str) -> Server:
    """lodpub serving the release in `work`, its code found by `pythonpath` ('' for the installed package)."""
    saved = os.environ.pop("PYTHONPATH", None)
    if pythonpath:
        os.environ["PYTHONPATH"] = pythonpath
    try:
        server, _ = start(["lodpub", str(work / "dist"), str(work / "data")], work, SETTINGS)
    finally:
        os.environ.pop("PYTHONPATH", None)
        if saved is not None:
            os.environ["PYTHONPATH"] = saved
    return server


def measure(servers: dict[str, Server], accept: str, query: str, rounds: int, per_round: int) -> dict:
    """p50 (ms) and CPU (ms per query) of `query` on each server, `rounds` turns of `per_round` requests."""
    walls: dict[str, list[float]] = {label: [] for label in servers}
    cpu = dict.fromkeys(servers, 0.0)
    for server in servers.values():  # runners forked, pages touched
        for _ in range(5):
            _ask(server, accept, query)
    loads = [os.getloadavg()[0]]
    for turn in range(rounds):
        for label in (list(servers) if turn % 2 == 0 else list(reversed(servers))):
            server = servers[label]
            pids = server.pids()
            began = _cpu_seconds(pids)
            for _ in range(per_round):
                walls[label].append(_ask(server, accept, query))
            cpu[label] += _cpu_seconds(set(pids) | set(server.pids())) - began
        loads.append(os.getloadavg()[0])
    measured = {label: {"p50_ms": round(statistics.median(walls[label]) * 1000, 3),
                        "cpu_ms": round(cpu[label] / (rounds * per_round) * 1000, 3)} for label in servers}
    return measured | {"load": [round(min(loads), 1), round(max(loads), 1)]}


def _ask(server: Server, accept: str, query: str) -> float:
    """Seconds to the last byte of the answer, on a new connection."""
    began = time.perf_counter()
    response = requests.post(server.query, data={"query": query}, headers={"Accept": accept}, timeout=120)
    response.raise_for_status()
    return time.perf_counter() - began


if __name__ == "__main__":
    sys.exit(main())
