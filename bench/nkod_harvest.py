"""NKOD's harvest of our catalogue, timed: its pipeline's own queries (tests/nkod/, sent and run as
tests/nkod/pipeline.py does) against `lodpub serve` on loopback, through both access points.

For a release (an output folder that `lodpub build` wrote), it starts a server with the given
settings and reports, for each step, the status and the median time of `--runs` runs: the list of
datasets and the record query sent to /sparql, and the whole harvest through the documents; then,
without HTTP, how many solutions the record query's WHERE clause has on the record, and how long
Oxigraph takes to make the CONSTRUCT of them.

    python3 bench/nkod_harvest.py --output dist --runs 10
    python3 bench/nkod_harvest.py --output /tmp/old-dist --runs 3 --set SPARQL_TIMEOUT=120
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

CHECKOUT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(CHECKOUT / "tests")]

from conftest import free_port  # noqa: E402 (found through the sys.path above)
from nkod import pipeline  # noqa: E402 (found through the sys.path above)

from lodpub.store.embedded import EmbeddedStore  # noqa: E402 (installed: pip install -e .)


@contextmanager
def serving(output: Path, settings: dict[str, str]) -> Iterator[str]:
    """`lodpub serve` (2 workers) of the release in `output` on a free loopback port: its base URL."""
    port = free_port()
    environment = {name: value for name, value in os.environ.items() if not name.startswith("LODPUB_")}
    environment |= {"LODPUB_OUTPUT_DIR": str(output), **{f"LODPUB_{name}": value for name, value in settings.items()}}
    process = subprocess.Popen([sys.executable, "-m", "lodpub.cli", "serve", "--port", str(port), "--workers", "2"],
                               cwd=CHECKOUT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(600):
            try:
                if requests.get(base + "health", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def timed(runs: int, step: Callable[[], object]) -> tuple[list[float], list[object]]:
    """Each run's seconds and outcome."""
    seconds, outcomes = [], []
    for _ in range(runs):
        started = time.perf_counter()
        outcomes.append(step())
        seconds.append(time.perf_counter() - started)
    return seconds, outcomes


def summary(seconds: list[float], outcomes: list[object]) -> dict:
    return {"median_s": round(statistics.median(seconds), 3), "min_s": round(min(seconds), 3),
            "max_s": round(max(seconds), 3), "outcomes": sorted({str(outcome) for outcome in outcomes})}


def over_http(base: str, runs: int) -> dict:
    """The harvest's requests, each step timed on its own."""
    endpoint = base + "sparql"
    registration = pipeline.Registration(endpoint, "DcatApSparql")
    list_query = pipeline.generated_query("sparql-1-list-query.rq", registration)
    record_query = pipeline.generated_query("sparql-3-record-query.rq", registration).replace(
        "${VALUES}", pipeline.values_clause("dataset", [base + "id/dataset/partnerships"]))
    return {
        "sparql list query": summary(*timed(runs, lambda: pipeline.send(endpoint, list_query).status_code)),
        "sparql record query": summary(*timed(runs, lambda: pipeline.send(endpoint, record_query, timeout="10000").status_code)),
        "documents harvest (downloads and NKOD's own queries)": summary(*timed(
            runs, lambda: len(pipeline.harvest_documents(base + "id/catalog/lkod").nkod_record))),
    }


def in_process(output: Path, runs: int) -> dict:
    """The record query's solutions on the release's record, and Oxigraph's time for its CONSTRUCT."""
    store = EmbeddedStore(output / "current")
    dataset = store.base_iri + "id/dataset/partnerships"
    record_query = pipeline.generated_query("sparql-3-record-query.rq", pipeline.Registration(
        store.base_iri + "sparql", "DcatApSparql")).replace("${VALUES}", pipeline.values_clause("dataset", [dataset]))
    prologue, where = record_query.split("CONSTRUCT", 1)[0], record_query.split("\nWHERE {", 1)[1]
    (row,) = store.oxigraph.query(prologue + "SELECT (COUNT(*) AS ?n) WHERE {" + where, use_default_graph_as_union=True)
    construct = summary(*timed(runs, lambda: len(set(store.oxigraph.query(record_query, use_default_graph_as_union=True)))))
    return {"record query solutions": int(row["n"].value), "record query CONSTRUCT in Oxigraph": construct}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, required=True, help="an output folder with a built release")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a LODPUB_ setting of the server, without the prefix (e.g. SPARQL_TIMEOUT=120)")
    args = parser.parse_args()
    settings = dict(item.split("=", 1) for item in args.set)
    with serving(args.output, settings) as base:
        results = {"settings": settings, **over_http(base, args.runs)}
    results |= in_process(args.output, args.runs)
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
