"""Benchmark lodpub against Oxigraph server on the same data, side by side in one run.

    python3 bench/run.py --agreements 1000 [--rounds 15] [--seconds 10] [--out bench/results]

For one size it: generates the data (bench/generate.py), builds a release (time and peak memory),
starts `lodpub serve` on the embedded store (cold start to first answer, resident memory) and
Oxigraph server in memory holding the same release (its files loaded as ours are), then measures,
alternating between the two so that the machine's noise hits both alike:

- latency of a query mix (the twelve competency questions plus typical consumer queries), p50
  and p95 per query, and the geometric mean of the p50 ratios;
- throughput of the mix with 4 and 16 concurrent clients;
- dereferencing throughput: our resource documents (Turtle and HTML) against Oxigraph's DESCRIBE.

Results are printed as a table and written as JSON. See bench/README.md.
"""

import argparse
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests

from lodpub.store.embedded import release_files

CHECKOUT = Path(__file__).resolve().parent.parent
BASE = "https://data.kraj-lbc.cz/partnerships/"
PREFIXES = f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX time: <http://www.w3.org/2006/time#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX rp: <{BASE}ontology/>
"""
# Typical consumer queries, besides the competency questions (server/queries/*.rq).
CONSUMER_QUERIES = {
    "lookup-by-iri": "SELECT ?p ?o WHERE {{ <{iri}> ?p ?o }}",
    "count-by-class": "SELECT ?class (COUNT(?s) AS ?n) WHERE { ?s a ?class } GROUP BY ?class ORDER BY DESC(?n)",
    "agreements-with-labels": "SELECT ?a ?title WHERE { ?a a rp:Agreement ; dcterms:title ?title FILTER (LANG(?title) = 'en') }",
    "signed-after-2010": "SELECT ?s ?d WHERE { ?s a rp:Signing ; time:hasTime/time:inXSDDate ?d FILTER (?d >= '2010-01-01'^^<http://www.w3.org/2001/XMLSchema#date>) }",
    "text-filter": "SELECT ?r ?l WHERE { ?r a rp:Region ; rdfs:label ?l FILTER (CONTAINS(LCASE(STR(?l)), 'ob')) }",
    "ordered-page": "SELECT ?e ?l WHERE { ?e a rp:Event ; rdfs:label ?l FILTER (LANG(?l) = 'en') } ORDER BY ?l LIMIT 20 OFFSET 40",
    "optional-heavy": "SELECT ?a ?title ?date ?place WHERE { ?a a rp:Agreement . OPTIONAL { ?a dcterms:title ?title } "
                      "OPTIONAL { ?s rp:agreement ?a ; time:hasTime/time:inXSDDate ?date } "
                      "OPTIONAL { ?s rp:agreement ?a ; rp:signedAt ?place } } LIMIT 500",
    "construct-partnerships": "CONSTRUCT { ?p ?q ?o } WHERE { ?p a rp:Partnership ; ?q ?o } LIMIT 2000",
    "describe-resource": "DESCRIBE <{iri}>",
    "ask": "ASK { ?s a rp:Agreement }",
}

# A query slower than this on either server at this size is left out of the timed mix (and reported).
QUERY_CAP_SECONDS = 30
# Both servers stop a query after this long: a query left out must not go on loading the machine
# (twice the cap, so that the noise of a loaded run does not stop one kept in the mix).
QUERY_TIMEOUT_SECONDS = 2 * QUERY_CAP_SECONDS

# The endpoint's public bounds would cut the comparison short: Oxigraph runs with none but the timeout.
# The engine is the one a server of the default settings chooses up to 10 000 agreements (per-worker):
# with 32 slots the automatic choice would count 32 more copies of the store and choose one engine.
# bench/engine.py measures the engines, "auto" among them (--set engine=auto here).
# What a run measures (--parts chooses among them).
PARTS = ["latency", "throughput", "dereferencing"]

UNBOUNDED = {"LODPUB_SPARQL_SLOTS": "32", "LODPUB_SPARQL_MAX_ROWS": "10000000",
             "LODPUB_SPARQL_TIMEOUT": str(QUERY_TIMEOUT_SECONDS), "LODPUB_SPARQL_MAX_MEMORY_MB": "16000",
             "LODPUB_ENGINE": "per-worker"}


def main() -> int:
    options = _arguments()
    work = options.work or Path(tempfile.mkdtemp(prefix="lodpub-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        settings = UNBOUNDED | {f"LODPUB_{name.upper()}": value for name, value in options.set}
        results = run(options.agreements, options.rounds, options.seconds, work, not options.no_shapes, settings,
                      options.queries, options.parts)
    finally:
        if not options.work:
            shutil.rmtree(work, ignore_errors=True)
    options.out.mkdir(parents=True, exist_ok=True)
    path = options.out / f"results-{options.agreements}.json"
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(report(results))
    print(f"\nwritten to {path}")
    return 0


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agreements", type=int, default=1000, help="size of the generated data")
    parser.add_argument("--rounds", type=int, default=15, help="timed runs of each query on each server")
    parser.add_argument("--seconds", type=float, default=10, help="duration of each throughput run")
    parser.add_argument("--out", type=Path, default=CHECKOUT / "bench" / "results")
    parser.add_argument("--no-shapes", action="store_true", help="build without SHACL validation (the same files; "
                                                                    "for sizes where validation alone takes hours)")
    parser.add_argument("--work", type=Path, help="working folder to keep (data, release, logs); a second run "
                                                  "with the same folder and size reuses its data and release")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", type=setting_option,
                        help="a server setting of lodpub other than the bench's, e.g. workers=1 (LODPUB_WORKERS)")
    parser.add_argument("--queries", type=names_option, help="only these queries of the mix, by name, comma-separated "
                                                              "(e.g. lookup-by-iri,ask); the mix's geometric mean is then theirs")
    parser.add_argument("--parts", type=names_option, default=PARTS,
                        help=f"which measurements to make, comma-separated (default: {','.join(PARTS)})")
    return parser.parse_args()


def names_option(text: str) -> list[str]:
    """A comma-separated list of names."""
    return [name.strip() for name in text.split(",") if name.strip()]


def setting_option(text: str) -> tuple[str, str]:
    """NAME=VALUE of a --set option: a lodpub setting, named without LODPUB_ and in lowercase."""
    name, equals, value = text.partition("=")
    if not equals or not re.fullmatch(r"[a-z_]+", name):
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE with a lowercase setting name, got {text!r}")
    return name, value


def run(agreements: int, rounds: int, seconds: float, work: Path, shapes: bool = True,
        settings: dict[str, str] = UNBOUNDED, only: list[str] | None = None, parts: list[str] = PARTS) -> dict:
    """The measurements named in `parts` for one size of data, lodpub run with the LODPUB_* `settings`,
    on the whole mix or the queries named in `only`."""
    data, build = prepare(agreements, work, shapes)
    results: dict = {"agreements": agreements, "machine": {"cpus": os.cpu_count()},
                     "lodpub_settings": {name: value for name, value in settings.items() if UNBOUNDED.get(name) != value}}
    results["build"] = build
    release = (work / "dist" / "current").resolve()
    results["triples"] = json.loads((release / "manifest.json").read_text())["triples"]
    ours, started = start(["lodpub", str(work / "dist"), str(data)], work, settings)
    peer, _ = start(["oxigraph"], work)
    try:
        results["cold_start_s"] = started
        load_into_oxigraph(release, peer)
        results["rss_mb"] = {"lodpub": ours.rss_mb(), "oxigraph": peer.rss_mb()}
        mix = query_mix(sample_iri(ours))
        unknown = set(only or ()) - set(mix)
        if unknown:
            raise SystemExit(f"no such query in the mix: {', '.join(sorted(unknown))} (known: {', '.join(mix)})")
        queries, results["left_out"] = feasible({name: mix[name] for name in only or mix}, ours, peer)
        if "latency" in parts:
            results["latency"] = measure_latency(queries, ours, peer, rounds)
        if "throughput" in parts:
            results["throughput"] = {str(clients): measure_throughput(queries, ours, peer, clients, seconds)
                                     for clients in (4, 16)}
        if "dereferencing" in parts:
            # (first visits are to the documents written ahead: their writer's CPU would count as ours)
            results["documents_written_ahead"] = documents_written(ours, work)
            results["dereferencing"] = measure_dereferencing(ours, peer, seconds)
    finally:
        ours.stop()
        peer.stop()
    return results


def load_into_oxigraph(release: Path, peer: "Server") -> None:
    """Load the files our embedded store loads, into the same graphs of Oxigraph server, by its
    Graph Store Protocol (a bulk load, streamed). `lodpub publish` would load staging graphs and
    move them in place: at 16 M triples the store then holds twice the memory, and ran out of it
    beside us (tests/test_store_remote.py tests publish itself)."""
    base_iri = json.loads((release / "manifest.json").read_text(encoding="utf-8"))["base_iri"]
    for path, rdf_format, graph in release_files(release, base_iri):
        with open(path, "rb") as file:
            response = requests.post(peer.base + "store", params={"graph": graph.value} if graph else {},
                                     data=file, headers={"Content-Type": rdf_format.media_type}, timeout=3600)
        response.raise_for_status()


def prepare(agreements: int, work: Path, shapes: bool = True) -> tuple[Path, dict]:
    """Generated data of `agreements` agreements in work/data and a release of it in work/dist (both
    kept, and reused by a later call on the same folder); the data folder and the build's measures."""
    data, built = work / "data", work / "build.json"
    if not (data / "generation.json").is_file():
        _check(subprocess.run([sys.executable, str(CHECKOUT / "bench" / "generate.py"), "--agreements",
                               str(agreements), "--out", str(data)], capture_output=True, text=True))
    if not built.is_file():
        built.write_text(json.dumps(measure_build(data, work / "dist", shapes)), encoding="utf-8")
    return data, json.loads(built.read_text(encoding="utf-8"))


# --- the two servers -----------------------------------------------------------------------------


class Server:
    """A server process on loopback: its base URL, query URL and how to read it."""

    def __init__(self, process: subprocess.Popen, base: str, query: str, log: Path) -> None:
        self.process, self.base, self.query, self.log = process, base, query, log

    def ask(self, query: str, accept: str, timeout: float = 120) -> int:
        """Run `query`; the size of the answer (raises on an error status)."""
        response = requests.post(self.query, data={"query": query}, headers={"Accept": accept}, timeout=timeout)
        response.raise_for_status()
        return len(response.content)

    def get(self, path: str, accept: str) -> int:
        response = requests.get(self.base + path, headers={"Accept": accept}, timeout=120)
        response.raise_for_status()
        return len(response.content)

    def pids(self) -> list[int]:
        """The process and its descendants (gunicorn's workers and their query runners)."""
        return [self.process.pid] + _descendants(self.process.pid)

    def workers(self) -> list[int]:
        """The process's children: gunicorn's workers (Oxigraph has none)."""
        return _children(self.process.pid)

    def rss_mb(self, pids: list[int] | None = None) -> float:
        """Resident memory of `pids` (by default the process and its descendants), in MB; pages they
        share are counted in each."""
        return round(sum(_memory_kb(pid, "VmRSS") for pid in pids or self.pids()) / 1024, 1)

    def pss_mb(self, pids: list[int] | None = None) -> float:
        """Proportional memory of `pids` (by default the process and its descendants), in MB: each
        shared page is divided among the processes sharing it, so forked query runners do not count
        the pages they share with their worker again."""
        return round(sum(_memory_kb(pid, "Pss", "smaps_rollup") for pid in pids or self.pids()) / 1024, 1)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


# `lodpub serve` of the release built last in an output folder, without looking at the sources.
SERVE_RELEASE = ("import sys; from pathlib import Path; from lodpub.config import load_settings; "
                 "from lodpub.cli_serving import serve_at_start; from lodpub.wsgi import serve_production; "
                 "settings = load_settings(output_dir=Path(sys.argv[1]), port=int(sys.argv[2])); "
                 "from lodpub.allocator import start_with_allocator; "
                 "start_with_allocator(settings.allocator, settings.jemalloc_library); "
                 "serve_at_start(settings); serve_production(settings)")


def start(kind: list[str], work: Path, settings: dict[str, str] = UNBOUNDED) -> tuple[Server, float]:
    """Start ["lodpub", output folder, data folder], ["release", output folder] (lodpub serving the
    release built last there, not built again) or ["oxigraph"] (in memory) on loopback, lodpub with its
    defaults but the LODPUB_* `settings` (none of the caller's); return it and the seconds from process
    start to its first answer."""
    port = _free_port()
    log = open(work / f"{kind[0]}-{port}.log", "w")
    environment = {name: value for name, value in os.environ.items() if not name.startswith("LODPUB_")} | settings
    if kind[0] == "oxigraph":
        command = [shutil.which("oxigraph") or "oxigraph", "serve", "--bind", f"127.0.0.1:{port}", "--union-default-graph",
                   "--timeout-s", str(QUERY_TIMEOUT_SECONDS)]
        base, query, probe = f"http://127.0.0.1:{port}/", f"http://127.0.0.1:{port}/query", "query?query=ASK%7B%7D"
    else:
        # --data as built, so that serve finds the release up to date and starts at once; published
        # under the canonical base, as in production, so both servers answer the same queries alike
        command = ([sys.executable, "-c", SERVE_RELEASE, kind[1], str(port)] if kind[0] == "release" else
                   [sys.executable, "-m", "lodpub.cli", "serve", "--output", kind[1], "--data", kind[2],
                    "--port", str(port)])
        environment = {"LODPUB_PUBLIC_BASE": BASE} | environment
        base, query, probe = f"http://127.0.0.1:{port}/", f"http://127.0.0.1:{port}/sparql", "health"
    began = time.perf_counter()
    process = subprocess.Popen(command, cwd=CHECKOUT, env=environment, stdout=log, stderr=subprocess.STDOUT)
    while True:
        try:
            if requests.get(base + probe, timeout=2).status_code == 200:
                return Server(process, base, query, Path(log.name)), round(time.perf_counter() - began, 3)
        except requests.RequestException:  # not listening yet, or still loading the release
            pass
        if process.poll() is not None:
            raise RuntimeError(f"{kind[0]} exited: see {log.name}")
        time.sleep(0.02)


# --- measurements --------------------------------------------------------------------------------


def measure_build(data: Path, output: Path, shapes: bool = True) -> dict:
    """`lodpub build` of the generated data: wall time and peak memory (GNU time). Without `shapes`,
    the release is written without SHACL validation (its files are the same: validation only
    decides whether they are written), for sizes where validation alone would take hours."""
    command = (["-m", "lodpub.cli", "build", "--data", str(data), "--output", str(output)] if shapes else
               ["-c", "import sys; from pathlib import Path; from lodpub.build import build; "
                      "from lodpub.config import load_settings; "
                      "build(load_settings(data_dir=Path(sys.argv[1]), output_dir=Path(sys.argv[2])), check_shapes=False)",
                str(data), str(output)])
    began = time.perf_counter()
    finished = subprocess.run(["/usr/bin/time", "-f", "%M", sys.executable, *command],
                              cwd=CHECKOUT, capture_output=True, text=True)
    _check(finished)
    return {"seconds": round(time.perf_counter() - began, 2), "peak_mb": round(int(finished.stderr.split()[-1]) / 1024, 1),
            "shapes": shapes}


def query_mix(iri: str) -> dict[str, str]:
    """The queries measured: the competency questions and CONSUMER_QUERIES, by name."""
    mix = {path.stem: path.read_text(encoding="utf-8") for path in sorted((CHECKOUT / "server" / "queries").glob("*.rq"))}
    mix |= {name: PREFIXES + text.replace("{iri}", iri).replace("{{", "{").replace("}}", "}")
            for name, text in CONSUMER_QUERIES.items()}
    return mix


def feasible(queries: dict[str, str], ours: Server, peer: Server) -> tuple[dict[str, str], dict[str, str]]:
    """The queries both servers answer within QUERY_CAP_SECONDS (this run also warms them up), and
    why the others were left out."""
    kept, left_out = {}, {}
    for name, query in queries.items():
        for label, server in (("oxigraph", peer), ("lodpub", ours)):
            try:
                began = time.perf_counter()
                server.ask(query, accept_for(query), timeout=QUERY_CAP_SECONDS)
            except requests.RequestException as error:
                left_out[name] = f"{label}: {type(error).__name__} after {time.perf_counter() - began:.0f} s"
                print(f"left out {name}: {left_out[name]} ({error})", file=sys.stderr, flush=True)
                break
        else:
            kept[name] = query
    return kept, left_out


def accept_for(query: str) -> str:
    graph = any(word in query.split("WHERE")[0].upper() for word in ("CONSTRUCT", "DESCRIBE"))
    return "application/n-triples" if graph else "application/sparql-results+json"


def measure_latency(queries: dict[str, str], ours: Server, peer: Server, rounds: int) -> dict:
    """p50 and p95 (ms) of each query on both servers, alternating which goes first; the ratio of
    p50s and its geometric mean over the mix."""
    times: dict[str, dict[str, list[float]]] = {name: {"lodpub": [], "oxigraph": []} for name in queries}
    sizes: dict[str, dict[str, int]] = {name: {} for name in queries}
    for round_ in range(1, rounds + 1):  # `feasible` has warmed both up
        for name, query in queries.items():
            pair = [("lodpub", ours), ("oxigraph", peer)]
            for label, server in pair if round_ % 2 else reversed(pair):
                began = time.perf_counter()
                sizes[name][label] = server.ask(query, accept_for(query))
                times[name][label].append((time.perf_counter() - began) * 1000)
    per_query = {}
    for name, measured in times.items():
        p50 = {label: statistics.median(values) for label, values in measured.items()}
        p95 = {label: percentile(values, 95) for label, values in measured.items()}
        per_query[name] = {"p50_ms": _rounded(p50), "p95_ms": _rounded(p95),
                           "ratio_p50": round(p50["lodpub"] / p50["oxigraph"], 2), "bytes": sizes[name]}
    ratios = [entry["ratio_p50"] for entry in per_query.values()]
    geomean = round(math.exp(statistics.fmean(map(math.log, ratios))), 2) if ratios else None
    return {"queries": per_query, "geomean_ratio_p50": geomean}


def measure_throughput(queries: dict[str, str], ours: Server, peer: Server, clients: int, seconds: float) -> dict:
    """Queries answered per second by `clients` concurrent clients, each going round the whole mix
    from a query of its own (client n's k-th query is the (n + k)-th of the mix)."""
    mix = list(queries.values())

    def query(i: int) -> str:  # _per_second's i: client i % clients, its (i // clients)-th call
        return mix[(i % clients + i // clients) % len(mix)]

    result = {}
    for label, server in (("oxigraph", peer), ("lodpub", ours)):
        result[label] = _per_second(lambda i, server=server: server.ask(query(i), accept_for(query(i))), clients, seconds)
    result["ratio"] = round(result["lodpub"]["per_second"] / result["oxigraph"]["per_second"], 2)
    return result


def measure_dereferencing(ours: Server, peer: Server, seconds: float, clients: int = 4) -> dict:
    """Resource documents per second: ours in Turtle and in HTML, Oxigraph's DESCRIBE of the same IRIs.

    Ours are measured twice: on 200 IRIs asked again and again, after a round of the same length
    that is not counted (each worker renders a document once and keeps it: the steady state of a
    published dataset), and on IRIs each asked once (every document rendered afresh)."""
    iris = [row["s"]["value"] for row in json.loads(requests.post(ours.query, data={"query": (
        f"SELECT DISTINCT ?s WHERE {{ ?s ?p ?o FILTER STRSTARTS(STR(?s), '{BASE}id/') }} LIMIT 20000")},
        headers={"Accept": "application/sparql-results+json"}, timeout=120).content)["results"]["bindings"]]
    paths = ["doc/" + iri[len(BASE):] for iri in iris]
    canonical = iris
    repeated = 200
    calls = {
        "lodpub_turtle": lambda i: ours.get(paths[i % repeated], "text/turtle"),
        "lodpub_html": lambda i: ours.get(paths[i % repeated], "text/html"),
        "oxigraph_describe": lambda i: peer.ask(f"DESCRIBE <{canonical[i % repeated]}>", "text/turtle"),
    }
    result = {}
    for label, call in calls.items():
        _per_second(call, clients, seconds)  # the warm-up round
        result[label] = _per_second(call, clients, seconds)
    # Each request a document not asked before (as long as the IRIs last: `first_visit_iris`).
    fresh = paths[repeated:]
    result["lodpub_turtle_first_visit"] = _per_second(lambda i: ours.get(fresh[i % len(fresh)], "text/turtle"),
                                                      clients, seconds)
    result["first_visit_iris"] = len(fresh)
    describe = result["oxigraph_describe"]["per_second"]
    result["ratio_turtle"] = round(result["lodpub_turtle"]["per_second"] / describe, 2)
    result["ratio_html"] = round(result["lodpub_html"]["per_second"] / describe, 2)
    result["ratio_first_visit"] = round(result["lodpub_turtle_first_visit"]["per_second"] / describe, 2)
    return result


def documents_written(ours: Server, work: Path, at_most: float = 3600) -> dict:
    """Wait until lodpub has written the served release's documents ahead (web/documents_ahead.py: a
    process of its own, whose CPU would count as the server's): the seconds waited, and what was written."""
    began = time.perf_counter()
    while any("write_served_from_stdin" in _command_line(pid) for pid in ours.pids()):
        if time.perf_counter() - began > at_most:
            raise RuntimeError("the documents were not written ahead in time")
        time.sleep(1)
    manifests = [json.loads(path.read_text()) for path in (work / "dist" / "documents").glob("*/manifest.json")]
    return {"seconds_waited": round(time.perf_counter() - began, 1),
            "documents": sum(manifest["documents"] for manifest in manifests),
            "mb": round(sum(manifest["data_bytes"] for manifest in manifests) / 2**20, 1)}


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except OSError:
        return ""


def sample_iri(ours: Server) -> str:
    """A resource of the data, in canonical form, for the lookup queries."""
    answer = requests.post(ours.query, data={"query": PREFIXES + "SELECT ?a WHERE { ?a a rp:Agreement } LIMIT 1"},
                           headers={"Accept": "application/sparql-results+json"}, timeout=60).json()
    return answer["results"]["bindings"][0]["a"]["value"]


def _per_second(call: Callable[[int], int], clients: int, seconds: float) -> dict:
    done, errors, stop = [0] * clients, [0] * clients, threading.Event()

    def client(number: int) -> None:
        i = number
        while not stop.is_set():
            try:
                call(i)
                done[number] += 1
            except requests.RequestException:
                errors[number] += 1
            i += clients

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    began, cpu_began = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu_began
    # The clients' own CPU per call: at a few hundred microseconds of server time a call, these threads
    # (one Python process) can be what bounds the rate (bench/README.md, "Session 21, merged").
    client_cpu_ms = round(cpu / max(1, sum(done) + sum(errors)) * 1000, 3)
    return {"per_second": round(sum(done) / elapsed, 1), "errors": sum(errors), "client_cpu_ms": client_cpu_ms}


# --- reporting -----------------------------------------------------------------------------------


def report(results: dict) -> str:
    """The results as a readable table."""
    lines = [f"{results['agreements']} agreements, {results['triples']} triples, {results['machine']['cpus']} CPUs",
             f"build: {results['build']['seconds']} s, peak {results['build']['peak_mb']} MB"
             + ("" if results['build'].get('shapes', True) else " (without SHACL validation)"),
             f"cold start to first answer: {results['cold_start_s']} s; "
             f"resident memory: lodpub {results['rss_mb']['lodpub']} MB, oxigraph {results['rss_mb']['oxigraph']} MB",
             ]
    if "latency" in results:
        lines += ["", f"{'query':<28}{'lodpub p50':>11}{'p95':>9}{'oxigraph p50':>14}{'p95':>9}{'ratio':>7}"]
        for name, entry in results["latency"]["queries"].items():
            lines.append(f"{name:<28}{entry['p50_ms']['lodpub']:>11}{entry['p95_ms']['lodpub']:>9}"
                         f"{entry['p50_ms']['oxigraph']:>14}{entry['p95_ms']['oxigraph']:>9}{entry['ratio_p50']:>7}")
        lines.append(f"geometric mean of p50 ratios: {results['latency']['geomean_ratio_p50']}")
    for name, reason in results["left_out"].items():
        lines.append(f"left out (over {QUERY_CAP_SECONDS} s): {name}: {reason}")
    for clients, entry in results.get("throughput", {}).items():
        lines.append(f"throughput, {clients} clients: lodpub {entry['lodpub']['per_second']}/s "
                     f"({entry['lodpub']['errors']} errors), oxigraph {entry['oxigraph']['per_second']}/s, ratio {entry['ratio']}")
    if "dereferencing" in results:
        d = results["dereferencing"]
        lines.append(f"dereferencing: lodpub Turtle {d['lodpub_turtle']['per_second']}/s, HTML {d['lodpub_html']['per_second']}/s,"
                     f" oxigraph DESCRIBE {d['oxigraph_describe']['per_second']}/s, ratio {d['ratio_turtle']};"
                     f" first visits {d['lodpub_turtle_first_visit']['per_second']}/s, ratio {d['ratio_first_visit']};"
                     f" the clients' CPU per answer: first visit {d['lodpub_turtle_first_visit']['client_cpu_ms']} ms,"
                     f" DESCRIBE {d['oxigraph_describe']['client_cpu_ms']} ms")
    return "\n".join(lines)


def percentile(values: list[float], percent: float) -> float:
    """The value below which `percent` % of `values` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(percent / 100 * len(ordered)) - 1)]


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {label: round(value, 2) for label, value in values.items()}


def _check(finished: subprocess.CompletedProcess) -> None:
    if finished.returncode != 0:
        raise RuntimeError(f"{finished.args[:4]} failed: {finished.stderr[-2000:]}")


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _children(pid: int) -> list[int]:
    """The children of `pid`. Every thread's are read: a query runner is forked by the worker thread
    that serves the query, and the main thread's list does not hold it."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:  # the thread or the process has ended
            pass
    return found


def _descendants(pid: int) -> list[int]:
    children = _children(pid)
    return children + [grandchild for child in children for grandchild in _descendants(child)]


def _memory_kb(pid: int, field: str, source: str = "status") -> int:
    """A memory field (kB) of /proc/<pid>/status or smaps_rollup; 0 for a process that has gone."""
    try:
        lines = Path(f"/proc/{pid}/{source}").read_text().splitlines()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in lines if line.startswith(field + ":")), 0)


if __name__ == "__main__":
    sys.exit(main())
