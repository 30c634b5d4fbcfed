"""The fixed cost of a query: cheap queries on lodpub and on Oxigraph server, side by side in one run.

    python3 bench/fixed_cost.py --agreements 1000 --work /tmp/b1k [--rounds 200] [--seconds 5]

bench/run.py's mix is dominated by queries of a second or more, where what every query costs us
besides its evaluation (the query runner's pipe, the admission slot, reading the query for safety,
gunicorn, Flask, the access log) disappears. Here only cheap queries are asked, so that cost is all
that shows. On the release bench/run.py prepares in `--work` (made there if missing), it starts both
servers and measures, alternating between them:

- p50 of each cheap query, one client on a kept-alive connection, `--rounds` times;
- the CPU time (user and system, from /proc) each server's processes spend per lookup by IRI, on a kept-alive
  connection and on a new connection per lookup (as bench/run.py asks);
- the lookup by IRI's throughput with 4 clients on kept-alive connections (`--seconds`);
- documents asked for the first time (Turtle) against Oxigraph's DESCRIBE of the same IRIs, 4 clients,
  and the CPU time each costs its server (one client).

Results are printed and written to bench/results/fixed-cost-<agreements>.json.
"""

import argparse
import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import requests
from run import (
    BASE,
    PREFIXES,
    UNBOUNDED,
    Server,
    _per_second,
    documents_written,
    load_into_oxigraph,
    prepare,
    setting_option,
    start,
)

CHEAP = {
    "lookup-by-iri": "SELECT ?p ?o WHERE {{ <{iri}> ?p ?o }}",
    "describe-resource": "DESCRIBE <{iri}>",
    "ask": "ASK {{ <{iri}> a rp:Agreement }}",
    "construct-small": "CONSTRUCT {{ <{iri}> ?p ?o }} WHERE {{ <{iri}> ?p ?o }}",
}
CLIENTS = 4


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agreements", type=int, default=1000)
    parser.add_argument("--work", type=Path, required=True, help="bench/run.py's working folder (reused)")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--compare", type=int, default=200,
                        help="documents compared triple for triple with those the store gives (0: none)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", type=setting_option,
                        help="a server setting of lodpub other than the bench's, e.g. max_requests=0 (no worker "
                             "replaced, and its release loaded again, during the measures)")
    options = parser.parse_args()
    options.work.mkdir(parents=True, exist_ok=True)
    data, _ = prepare(options.agreements, options.work, shapes=False)
    settings = {f"LODPUB_{name.upper()}": value for name, value in options.set}
    results = measure(options.work, data, options.rounds, options.seconds, options.compare, settings)
    results["agreements"] = options.agreements
    results["settings"] = settings
    options.out.mkdir(parents=True, exist_ok=True)
    path = options.out / f"fixed-cost-{options.agreements}.json"
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))
    return 0


def measure(work: Path, data: Path, rounds: int, seconds: float, compared: int = 200,
            settings: dict[str, str] | None = None) -> dict:
    """Every measurement of this benchmark on the release in `work`, lodpub with the bench's settings and
    `settings` (LODPUB_* variables)."""
    ours, _ = start(["lodpub", str(work / "dist"), str(data)], work, UNBOUNDED | (settings or {}))
    peer, _ = start(["oxigraph"], work)
    try:
        load_into_oxigraph((work / "dist" / "current").resolve(), peer)
        results = {"documents_written_ahead": documents_written(ours, work)}
        iris = _agreements(ours)
        results["latency_p50_ms"] = latency(ours, peer, iris, rounds)
        results["cpu_ms_per_lookup"] = {label: cpu_per_lookup(server, iris) for label, server in
                                        (("lodpub", ours), ("oxigraph", peer))}
        results["cpu_ms_per_new_connection_lookup"] = {label: cpu_per_lookup(server, iris, new_connections=True)
                                                       for label, server in (("lodpub", ours), ("oxigraph", peer))}
        results["lookup_per_second"] = lookup_throughput(ours, peer, iris, seconds)
        resources = _resources(ours)
        results["cpu_ms_per_first_visit"] = cpu_per_first_visit(ours, peer, resources)
        results["first_visit_per_second"] = first_visits(ours, peer, resources, seconds)
        results["written_documents_compared"] = compare_documents(ours, work, resources, compared)
        ratios = [entry["ratio"] for entry in results["latency_p50_ms"].values()]
        results["latency_geomean_ratio"] = round(statistics.geometric_mean(ratios), 2)
    finally:
        ours.stop()
        peer.stop()
    return results


def compare_documents(ours: Server, work: Path, iris: list[str], count: int) -> dict:
    """The Turtle documents of `count` of `iris` (spread over them) as lodpub sends them (written ahead)
    against those its store gives for the same IRIs, opened here: triple for triple, blank nodes
    labelled alike by their surroundings (blank_nodes.stable_triples)."""
    if not count:
        return {"compared": 0}
    import pyoxigraph as ox

    from lodpub.blank_nodes import stable_triples
    from lodpub.store.embedded import EmbeddedStore

    store = EmbeddedStore((work / "dist" / "current").resolve())
    session, chosen, differ = requests.Session(), iris[::max(1, len(iris) // count)][:count], []
    for iri in chosen:
        response = session.get(ours.base + "doc/" + iri[len(BASE):], headers={"Accept": "text/turtle"}, timeout=120)
        sent = [quad.triple for quad in ox.parse(response.content, format=ox.RdfFormat.TURTLE)]
        if stable_triples(sent) != stable_triples(store.document_triples(iri)):
            differ.append(iri)
    return {"compared": len(chosen), "differ": differ}


def latency(ours: Server, peer: Server, iris: list[str], rounds: int) -> dict:
    """p50 (ms) of each cheap query on both servers, each on its own kept-alive connection."""
    sessions = {"lodpub": (ours, requests.Session()), "oxigraph": (peer, requests.Session())}
    times: dict[str, dict[str, list[float]]] = {name: {"lodpub": [], "oxigraph": []} for name in CHEAP}
    for round_ in range(rounds + 3):  # three rounds to warm up
        for name, template in CHEAP.items():
            query = PREFIXES + template.format(iri=iris[round_ % len(iris)])
            order = ("lodpub", "oxigraph") if round_ % 2 else ("oxigraph", "lodpub")
            for label in order:
                server, session = sessions[label]
                began = time.perf_counter()
                _ask(session, server, query)
                if round_ >= 3:
                    times[name][label].append((time.perf_counter() - began) * 1000)
    return {name: {label: round(statistics.median(values), 3) for label, values in measured.items()}
            | {"ratio": round(statistics.median(measured["lodpub"]) / statistics.median(measured["oxigraph"]), 2)}
            for name, measured in times.items()}


def cpu_per_lookup(server: Server, iris: list[str], lookups: int = 500, new_connections: bool = False) -> float:
    """CPU time (ms, user and system) the server's processes spend per lookup by IRI, one client on a
    kept-alive connection (or, with `new_connections`, each lookup on a connection of its own, as
    bench/run.py asks): what a query costs the machine, however loaded (wall time is not)."""
    return cpu_per_call(server, lambda session, i: _ask(
        requests if new_connections else session, server,
        PREFIXES + CHEAP["lookup-by-iri"].format(iri=iris[i % len(iris)])), lookups)


def cpu_per_first_visit(ours: Server, peer: Server, iris: list[str], calls: int = 300) -> dict:
    """CPU time (ms) per Turtle document asked for the first time (ours, the last `calls` of `iris`)
    and per DESCRIBE (Oxigraph's, the `calls` before them): first_visits' measure, steady under load."""
    documents, described = iris[-calls:], iris[-2 * calls:-calls]
    return {"lodpub_document": cpu_per_call(ours, lambda session, i: _document(session, ours, documents[i]), calls),
            "oxigraph_describe": cpu_per_call(peer, lambda session, i: _describe(session, peer, described[i]), calls)}


def cpu_per_call(server: Server, call: Callable[[requests.Session, int], None], calls: int) -> float:
    """CPU time (ms, user and system) the server's processes spend per `call`, one client on a kept-alive connection."""
    session = requests.Session()
    pids = server.pids()
    began = _cpu_seconds(pids)
    for i in range(calls):
        call(session, i)
    return round((_cpu_seconds(set(pids) | set(server.pids())) - began) / calls * 1000, 3)


def _cpu_seconds(pids) -> float:
    """User and system CPU seconds of `pids` (and of their children that ended)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone (a runner retired): its time is lost, a small undercount
            continue
        total += sum(int(value) for value in fields[11:15])
    return total / os.sysconf("SC_CLK_TCK")


def lookup_throughput(ours: Server, peer: Server, iris: list[str], seconds: float) -> dict:
    """Lookups by IRI answered per second by CLIENTS clients on kept-alive connections."""
    result = {}
    for label, server in (("oxigraph", peer), ("lodpub", ours), ("oxigraph-again", peer), ("lodpub-again", ours)):
        def call(session: requests.Session, i: int, server: Server = server) -> None:
            _ask(session, server, PREFIXES + CHEAP["lookup-by-iri"].format(iri=iris[i % len(iris)]))
        result[label] = per_second(call, seconds)
    result["ratio"] = round((result["lodpub"] + result["lodpub-again"])
                            / (result["oxigraph"] + result["oxigraph-again"]), 2)
    return result


def first_visits(ours: Server, peer: Server, iris: list[str], seconds: float) -> dict:
    """Turtle documents never asked before, against Oxigraph's DESCRIBE of other IRIs, per second."""
    half = len(iris) // 2
    ours_iris, peer_iris = iris[:half], iris[half:]
    result = {"oxigraph_describe": per_second(lambda session, i: _describe(session, peer, peer_iris[i % half]), seconds),
              "lodpub_turtle": per_second(lambda session, i: _document(session, ours, ours_iris[i % half]), seconds),
              "iris": half}
    result["ratio"] = round(result["lodpub_turtle"] / result["oxigraph_describe"], 2)
    return result


def _document(session: requests.Session, ours: Server, iri: str) -> None:
    """Ask lodpub for the Turtle document about `iri`."""
    response = session.get(ours.base + "doc/" + iri[len(BASE):], headers={"Accept": "text/turtle"}, timeout=120)
    response.raise_for_status()


def _describe(session: requests.Session, peer: Server, iri: str) -> None:
    """Ask Oxigraph server to DESCRIBE `iri` in Turtle."""
    response = session.post(peer.query, data={"query": f"DESCRIBE <{iri}>"}, headers={"Accept": "text/turtle"},
                            timeout=120)
    response.raise_for_status()


def per_second(call: Callable[[requests.Session, int], None], seconds: float) -> float:
    """Calls answered per second by CLIENTS clients (run._per_second), each on a kept-alive
    session of its own."""
    return _per_second(lambda i: call(_session(), i), CLIENTS, seconds)["per_second"]


_sessions = threading.local()


def _session() -> requests.Session:
    """This thread's session."""
    if not hasattr(_sessions, "session"):
        _sessions.session = requests.Session()
    return _sessions.session


def _ask(session: requests.Session | ModuleType, server: Server, query: str) -> None:
    accept = "application/n-triples" if "DESCRIBE" in query or "CONSTRUCT" in query else "application/sparql-results+json"
    response = session.post(server.query, data={"query": query}, headers={"Accept": accept}, timeout=120)
    response.raise_for_status()


def _agreements(ours: Server) -> list[str]:
    """The agreements' IRIs, in the order the store gives them."""
    return _select_iris(ours, PREFIXES + "SELECT ?s WHERE { ?s a rp:Agreement }")


def _resources(ours: Server) -> list[str]:
    """IRIs of the resources of the data (at most 20 000), each with a document of ours."""
    return _select_iris(ours, f"SELECT DISTINCT ?s WHERE {{ ?s ?p ?o FILTER STRSTARTS(STR(?s), '{BASE}id/') }} "
                              "LIMIT 20000")


def _select_iris(ours: Server, query: str) -> list[str]:
    answer = requests.post(ours.query, data={"query": query}, headers={"Accept": "application/sparql-results+json"},
                           timeout=120).json()
    return [row["s"]["value"] for row in answer["results"]["bindings"]]


if __name__ == "__main__":
    sys.exit(main())
