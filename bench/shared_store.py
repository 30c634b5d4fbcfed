"""Can one in-memory Oxigraph store serve every query of a server? Two measurements, on a release:

    python3 bench/shared_store.py --release /tmp/b10k/dist/current [--rounds 6]

1. Threads: does pyoxigraph evaluate queries from two threads in parallel (it releases the GIL while
   it evaluates)? The same queries run `--rounds` times on one thread, then split over two; on two
   idle cores a speedup near 2 says yes. Each answer is serialised by Oxigraph (as the endpoint's
   runners do), and, apart, read row by row in Python (as the store's own lookups do).
2. Processes: do processes forked from one that loaded the store share its pages, or copy them as
   they read it? The parent loads the store; two children forked from it run the queries; the
   memory of each (RSS, PSS, private dirty pages: /proc/PID/smaps_rollup) is read before and after.

Results are printed as JSON (bench/README.md, "One store for the whole server").
"""

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path

import pyoxigraph as ox

QUERIES = {
    "count-by-class": "SELECT ?class (COUNT(?s) AS ?n) WHERE { ?s a ?class } GROUP BY ?class",
    "text-filter": "SELECT ?r ?l WHERE { ?r <http://www.w3.org/2000/01/rdf-schema#label> ?l "
                   "FILTER (CONTAINS(LCASE(STR(?l)), 'ob')) }",
    "join": "SELECT ?s ?d WHERE { ?s ?p ?o . ?o <http://www.w3.org/2006/time#inXSDDate> ?d } LIMIT 100000",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--release", type=Path, required=True, help="a release folder (its partnerships.nq)")
    parser.add_argument("--rounds", type=int, default=6)
    options = parser.parse_args()
    began = time.perf_counter()
    store = ox.Store()
    store.bulk_load(path=str(options.release / "partnerships.nq"), format=ox.RdfFormat.N_QUADS)
    results = {"quads": len(store), "load_s": round(time.perf_counter() - began, 1), "cpus": os.cpu_count(),
               "load_average": os.getloadavg()[0]}
    results["threads"] = {name: threads(store, query, options.rounds) for name, query in QUERIES.items()}
    results["threads_against_processes"] = {name: threads_against_processes(store, query, options.rounds)
                                            for name, query in QUERIES.items()}
    results["python_while_evaluating"] = {name: python_while_evaluating(store, query) for name, query in QUERIES.items()}
    results["processes"] = processes(store, options.rounds)
    print(json.dumps(results, indent=2))
    return 0


def threads(store: ox.Store, query: str, rounds: int) -> dict:
    """Wall seconds of `rounds` runs of `query` on one thread and split over two; serialised by
    Oxigraph, and read in Python."""
    def serialised() -> None:
        store.query(query, use_default_graph_as_union=True).serialize(format=ox.QueryResultsFormat.TSV)

    def read_in_python() -> None:
        for solution in store.query(query, use_default_graph_as_union=True):
            [term.value for term in solution if term is not None]

    result = {}
    for label, work in (("serialised", serialised), ("read_in_python", read_in_python)):
        work()  # warm up
        one, _ = _timed(work, rounds, 1)
        two, cpu = _timed(work, rounds, 2)
        # CPU seconds per wall second above 1 is only possible with both threads evaluating at once.
        result[label] = {"one_thread_s": round(one, 3), "two_threads_s": round(two, 3), "speedup": round(one / two, 2),
                         "two_threads_cpu_per_wall": round(cpu / two, 2)}
    return result


def threads_against_processes(store: ox.Store, query: str, rounds: int) -> dict:
    """Wall seconds, and CPU seconds per wall second, of `rounds` runs of `query` (serialised by
    Oxigraph) on each of two threads of this process, then on each of two processes forked from it,
    in the same minute: on a shared machine only the ratio of the two says whether threads get the
    cores that processes get."""
    def work() -> None:
        for _ in range(rounds):
            store.query(query, use_default_graph_as_union=True).serialize(format=ox.QueryResultsFormat.TSV)

    wall, cpu = _timed(work, 2, 2)
    began, before = time.perf_counter(), os.times()
    children = [_forked(work) for _ in range(2)]
    for pid in children:
        os.waitpid(pid, 0)
    forked_wall, after = time.perf_counter() - began, os.times()
    forked_cpu = after.children_user + after.children_system - before.children_user - before.children_system
    return {"threads_s": round(wall, 2), "threads_cpu_per_wall": round(cpu / wall, 2),
            "processes_s": round(forked_wall, 2), "processes_cpu_per_wall": round(forked_cpu / forked_wall, 2),
            "threads_against_processes": round(forked_wall / wall, 2)}


def _forked(work) -> int:
    """The pid of a child that does `work` and leaves."""
    pid = os.fork()
    if pid == 0:
        work()
        os._exit(0)
    return pid


def python_while_evaluating(store: ox.Store, query: str) -> float:
    """How fast a Python thread counts while another thread has Oxigraph evaluate `query`, as a
    fraction of how fast it counts alone: near 1 when the evaluation lets go of the GIL, near 0
    when it holds it (a measure that does not need two idle cores, as the speedup does)."""
    def count_for(seconds: float, stop: threading.Event | None = None) -> float:
        """Counts per second, for `seconds` or until `stop`."""
        counted, began = 0, time.perf_counter()
        while time.perf_counter() - began < seconds and not (stop and stop.is_set()):
            counted += 1
        return counted / (time.perf_counter() - began)

    began = time.perf_counter()
    store.query(query, use_default_graph_as_union=True).serialize(format=ox.QueryResultsFormat.TSV)
    alone = count_for(time.perf_counter() - began)
    rates: list[float] = []
    done = threading.Event()
    counter = threading.Thread(target=lambda: rates.append(count_for(3600, done)))
    counter.start()
    store.query(query, use_default_graph_as_union=True).serialize(format=ox.QueryResultsFormat.TSV)
    done.set()
    counter.join()
    return round(rates[0] / alone, 2)


def _timed(work, rounds: int, threads_: int) -> tuple[float, float]:
    """Wall and CPU seconds (of this process) for `rounds` calls of `work`, shared by `threads_` threads."""
    def run(count: int) -> None:
        for _ in range(count):
            work()

    workers = [threading.Thread(target=run, args=(rounds // threads_,)) for _ in range(threads_)]
    began, cpu = time.perf_counter(), time.process_time()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - began, time.process_time() - cpu


def processes(store: ox.Store, rounds: int) -> dict:
    """Memory (MB) of the parent and of two forked children, before and after each child ran every query
    `rounds` times, and the children's wall time."""
    result = {"parent_before": memory(os.getpid())}
    children = []
    for _ in range(2):
        ready_read, ready_write = os.pipe()
        go_read, go_write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.write(ready_write, b".")
            os.read(go_read, 1)
            for _ in range(rounds):
                for query in QUERIES.values():
                    store.query(query, use_default_graph_as_union=True).serialize(format=ox.QueryResultsFormat.TSV)
            os.write(ready_write, b".")
            os.read(go_read, 1)
            os._exit(0)
        os.read(ready_read, 1)
        children.append((pid, ready_read, go_write))
    result["children_forked"] = [memory(pid) for pid, _, _ in children]
    began = time.perf_counter()
    for _, _, go in children:
        os.write(go, b".")
    for _, ready, _ in children:
        os.read(ready, 1)
    result["children_seconds"] = round(time.perf_counter() - began, 2)
    result["children_after_queries"] = [memory(pid) for pid, _, _ in children]
    result["parent_after"] = memory(os.getpid())
    for pid, _, go in children:
        os.write(go, b".")
        os.waitpid(pid, 0)
    return result


def memory(pid: int) -> dict:
    """Rss, Pss and private dirty pages of `pid`, in MB (from /proc/PID/smaps_rollup)."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        if name in ("Rss", "Pss", "Private_Dirty", "Shared_Clean", "Shared_Dirty"):
            fields[name] = round(int(value.split()[0]) / 1024, 1)
    return fields


if __name__ == "__main__":
    sys.exit(main())
