"""A bounded load test of `lodpub serve` on loopback: mixed traffic from concurrent clients for some
minutes, every answer classified, the server's memory sampled throughout.

    python3 bench/load.py [--minutes 5] [--clients 8] [--agreements N] [--label L] [--out bench/results]

It starts `lodpub serve` (embedded store, gunicorn, its default settings; 127.0.0.1 on a free port) on
the project's data, or on generated data of N agreements (bench/generate.py), and then:

1. warm-up: every kind of request in turn, each answer checked (every page, every SPARQL query of the
   mix, the first of the kinds that cycle through the data's IRIs); a query that the idle server
   does not answer within LEAVE_OUT_SECONDS is left out of the mix, and reported;
2. load: --clients clients, each going round a schedule of kinds (WEIGHTS) for --minutes, each kind
   cycling through its requests (the documents through every IRI of the data);
3. all along, the server's memory every --sample-seconds: master, workers and query runners.

Every answer is classified by `classify`: served (2xx, 3xx), a deliberate rejection (503 from /sparql
for a runaway query or a busy endpoint; 400, 404, 406 or 413 for a request meant to be bad), or an
error (anything else: a 5xx elsewhere, a timeout, a broken connection, or a body that does not parse:
every --check-every-th answer of each kind is parsed). Writes bench/results/load-<label>.json, prints
a table, and exits with 1 if there was any error (the work folder is then kept). See bench/README.md.
"""

import argparse
import base64
import gzip
import hashlib
import itertools
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import requests
from rdflib import Graph
from run import (
    BASE,
    CHECKOUT,
    CONSUMER_QUERIES,
    Server,
    accept_for,
    percentile,
    prepare,
    query_mix,
    sample_iri,
    setting_option,
    start,
)

# How often each kind of request comes in one round of a client's schedule (831 requests): the shares
# of the traffic. A runaway holds its client and a query slot for the whole LODPUB_SPARQL_TIMEOUT
# (10 s), so one in a round keeps a client in runaways about a fifth of the time.
WEIGHTS = {
    "doc turtle": 100, "doc json-ld": 80, "doc n-triples": 60, "doc html": 100, "thing 303": 40, "doc 304": 40,
    "page home": 40, "page ontology": 20, "page changes": 20, "page resource": 60,
    "dump": 30, "health": 40, "sparql": 120, "sparql cq": 60, "runaway": 1, "bad request": 20,
}
# Kinds with many requests (one per IRI, or costly ones): the warm-up sends only their first.
CYCLED_KINDS = {"doc turtle", "doc json-ld", "doc n-triples", "doc html", "thing 303", "doc 304", "runaway"}
QUERY_KINDS = {"sparql", "sparql cq"}
# A query of the mix that the idle server takes longer than this over is left out of the load.
LEAVE_OUT_SECONDS = 5.0
# Queries no endpoint should finish: a count over three unconstrained triple patterns (the cube of
# the data's size), and an ASK whose filter, which needs all three, holds for no row of the cube.
RUNAWAY_QUERIES = {
    "cartesian-count": "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",
    "cartesian-ask": "ASK { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i FILTER (CONCAT(STR(?c), STR(?f), STR(?i)) = 'never') }",
}
DOCUMENT_FORMATS = {  # kind: media type asked for, rdflib's name of the format (None: JSON-LD, or HTML)
    "doc turtle": ("text/turtle", "turtle"),
    "doc json-ld": ("application/ld+json", None),
    "doc n-triples": ("application/n-triples", "nt"),
    "doc html": ("text/html", None),
}
# Dumps up to this size are in the mix ("small ones"); the smallest always is.
SMALL_DUMP_BYTES = 256 * 1024
CONDITIONAL_DOCUMENTS = 20   # documents asked again with the ETag they were served with (304)
SERVED, REJECTED, ERROR = "served", "rejected", "error"
MEMORY_MEASURES = {"rss_mb": "RSS, all", "pss_mb": "PSS, all", "master_and_workers_rss_mb": "RSS, master and workers",
                   "master_and_workers_pss_mb": "PSS, master and workers"}

Check = Callable[[requests.Response], str | None]   # what is wrong with a served answer, or None


@dataclass(frozen=True)
class Request:
    """One request of the mix."""

    kind: str
    name: str                       # what is asked, for the report: a path, a query's name
    path: str                       # relative to the server's base
    headers: dict[str, str] = field(default_factory=dict)
    form: dict[str, str] | None = None   # sent by POST when given
    refused_with: frozenset[int] = frozenset()   # for a request meant to be bad: the statuses refusing it
    check: Check | None = None


@dataclass
class Outcome:
    """What became of one request."""

    kind: str
    name: str
    at: float                       # seconds since the load began (negative: warm-up)
    seconds: float
    status: int | None
    verdict: str                    # SERVED, REJECTED or ERROR
    reason: str = ""
    checked: bool = False


def main() -> int:
    """Run the load test as the command line asks; 0 without errors, 1 with."""
    options = _arguments()
    work = options.work or Path(tempfile.mkdtemp(prefix="lodpub-load-"))
    work.mkdir(parents=True, exist_ok=True)
    label = options.label or (str(options.agreements) if options.agreements else "project")
    results = run_load_test(options, work)
    options.out.mkdir(parents=True, exist_ok=True)
    path = options.out / f"load-{label}.json"
    path.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(report(results))
    print(f"\nwritten to {path}")
    if results["errors"]:
        print(f"{results['errors']} errors: the server's log and the release are kept in {work}")
        return 1
    if not options.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5, help="duration of the load (after the warm-up)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument("--agreements", type=int, help="serve generated data of this size instead of data/")
    parser.add_argument("--label", help="names the results file load-<label>.json (default: 'project' or the size)")
    parser.add_argument("--out", type=Path, default=CHECKOUT / "bench" / "results")
    parser.add_argument("--work", type=Path, help="working folder to keep (release, server log); generated data "
                                                  "and its release are reused from it")
    parser.add_argument("--sample-seconds", type=float, default=5, help="time between two memory samples")
    parser.add_argument("--check-every", type=int, default=5, help="parse every n-th answer of each kind")
    parser.add_argument("--request-timeout", type=float, default=60,
                        help="seconds a client waits for an answer (above LODPUB_SPARQL_TIMEOUT)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", type=setting_option,
                        help="a server setting other than its default, e.g. sparql_timeout=3 (LODPUB_SPARQL_TIMEOUT)")
    return parser.parse_args()


def run_load_test(options: argparse.Namespace, work: Path) -> dict:
    """Start the server, warm it up, load it and sample its memory; everything measured."""
    results: dict = {"date": datetime.now(UTC).isoformat(timespec="seconds"),
                     "machine": {"cpus": os.cpu_count(), "load_average_before": os.getloadavg()},
                     "options": {"clients": options.clients, "minutes": options.minutes,
                                 "check_every": options.check_every, "sample_seconds": options.sample_seconds,
                                 "server_settings": dict(options.set) or "defaults"}}
    if options.agreements:
        data, results["build"] = prepare(options.agreements, work)
    else:
        data = CHECKOUT / "data"
    settings = {f"LODPUB_{name.upper()}": value for name, value in options.set}
    server, results["cold_start_s"] = start(["lodpub", str(work / "dist"), str(data)], work, settings)
    try:
        release = (work / "dist" / "served").resolve()
        traffic = Traffic(build_requests(server, release))
        results["data"] = {"folder": str(data), "agreements": options.agreements,
                           "triples": json.loads((release / "manifest.json").read_text())["triples"],
                           "documents": len(traffic.by_kind["doc turtle"])}
        warm, results["left_out"] = warm_up(server, traffic, options.request_timeout)
        results["warm_up"] = summarise(warm, sum(outcome.seconds for outcome in warm))
        outcomes, elapsed, samples = load(server, traffic, options)
        results["server_log"] = read_server_log(server.log)
    finally:
        server.stop()
    results["machine"]["load_average_after"] = os.getloadavg()
    results["seconds"] = round(elapsed, 1)
    results |= summarise(outcomes, elapsed)
    results["errors"] = results["warm_up"]["totals"]["errors"] + results["totals"]["errors"]
    results["memory"] = memory_trend(samples)
    return results


# --- the requests --------------------------------------------------------------------------------


def build_requests(server: Server, release: Path) -> dict[str, list[Request]]:
    """Every request of the mix, by kind."""
    iris = resource_iris(release)
    ours = [iri for iri in iris if iri.startswith(BASE)]
    example = sample_iri(server)[len(BASE):]
    queries = query_mix(BASE + example)
    by_kind = {kind: [Request(kind, iri, document_path(iri), {"Accept": media}, check=document_check(kind))
                      for iri in iris] for kind, (media, _) in DOCUMENT_FORMATS.items()}
    by_kind["thing 303"] = [Request("thing 303", iri, iri[len(BASE):], check=see_other(iri[len(BASE):])) for iri in ours]
    by_kind["doc 304"] = conditional_requests(server, by_kind["doc turtle"][:CONDITIONAL_DOCUMENTS])
    by_kind["page home"] = [html_request("page home", "", language) for language in ("cs", "en")]
    by_kind["page ontology"] = [html_request("page ontology", "doc/ontology", language) for language in ("cs", "en")]
    by_kind["page changes"] = [html_request("page changes", "changes", language) for language in ("cs", "en")]
    by_kind["page resource"] = [html_request("page resource", "doc/" + path, language)
                                for path in (example, "id/region/liberec-region") for language in ("cs", "en")]
    by_kind["dump"] = dump_requests(release)
    by_kind["health"] = [Request("health", "health", "health", check=healthy)]
    by_kind["sparql"] = [query_request("sparql", name, text) for name, text in queries.items() if name in CONSUMER_QUERIES]
    by_kind["sparql cq"] = [query_request("sparql cq", name, text) for name, text in queries.items()
                            if name not in CONSUMER_QUERIES]
    by_kind["runaway"] = [query_request("runaway", name, text) for name, text in RUNAWAY_QUERIES.items()]
    by_kind["bad request"] = bad_requests(ours[0][len(BASE):])
    return by_kind


def resource_iris(release: Path) -> list[str]:
    """Every IRI the data describes (the subjects of the release's N-Triples dump), in a fixed
    shuffled order so that a client's next document is not the neighbour of its last."""
    subjects = set()
    with open(release / "partnerships.nt", encoding="utf-8") as dump:
        for line in dump:
            if line.startswith("<"):
                subjects.add(line[1:line.index(">")])
    iris = sorted(subjects)
    random.Random(1).shuffle(iris)
    return iris


def document_path(iri: str) -> str:
    """Where the document about `iri` is served: /doc/<path> for ours, /doc?iri= for another publisher's."""
    return "doc/" + iri[len(BASE):] if iri.startswith(BASE) else "doc?iri=" + quote(iri, safe="")


def conditional_requests(server: Server, documents: list[Request]) -> list[Request]:
    """`documents` asked again with the ETag they are served with: each should be 304 Not Modified."""
    conditional = []
    for document in documents:
        etag = requests.get(server.base + document.path, headers=document.headers, timeout=60).headers["ETag"]
        conditional.append(Request("doc 304", document.name, document.path, {**document.headers, "If-None-Match": etag},
                                   check=not_modified))
    return conditional


def html_request(kind: str, path: str, language: str) -> Request:
    """The page at `path` in `language`, as a browser asks for it."""
    return Request(kind, f"{path or '/'} ({language})", path, {"Accept": "text/html", "Accept-Language": language},
                   check=html_page(language))


def dump_requests(release: Path) -> list[Request]:
    """The dumps listing, manifest and checksums, and the small dumps."""
    files = json.loads((release / "manifest.json").read_text())["files"]
    smallest = min(entry["bytes"] for entry in files if entry["name"].startswith("partnerships."))
    small = [entry["name"] for entry in files if entry["name"].startswith("partnerships.")
             and entry["bytes"] <= max(SMALL_DUMP_BYTES, smallest)]
    return [Request("dump", "dumps/", "dumps/", {"Accept": "text/html"}, check=html_page("en"))] + [
        Request("dump", name, "dumps/" + name, check=intact_dump) for name in ["manifest.json", "SHA256SUMS", *small]]


def query_request(kind: str, name: str, query: str) -> Request:
    """`query` sent by POST, asking for the format `run.py` asks for."""
    accept = accept_for(query)
    return Request(kind, name, "sparql", {"Accept": accept}, {"query": query}, check=query_answer(accept))


def bad_requests(path: str) -> list[Request]:
    """Requests meant to be refused, with the statuses that refuse them."""
    def bad(name: str, where: str, refused_with: int, headers: dict | None = None, form: dict | None = None) -> Request:
        return Request("bad request", name, where, headers or {}, form, frozenset({refused_with}))

    return [
        bad("malformed query", "sparql", 400, form={"query": "SELECT ?s WHERE { ?s ?p }"}),
        bad("update", "sparql", 400, form={"update": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}),
        bad("query too long", "sparql", 413, form={"query": "ASK {}\n#" + "x" * 60_000}),
        bad("unknown resource", "doc/id/agreement/no-such-agreement", 404, {"Accept": "text/turtle"}),
        bad("not acceptable", "doc/" + path, 406, {"Accept": "image/png"}),
    ]


class Traffic:
    """The requests of each kind; all clients together go round each kind's requests in turn."""

    def __init__(self, by_kind: dict[str, list[Request]]) -> None:
        self.by_kind = by_kind
        self._turns = {kind: itertools.count() for kind in by_kind}

    def next(self, kind: str) -> tuple[Request, int]:
        """The next request of `kind`, and how many of that kind came before it."""
        turn = next(self._turns[kind])   # atomic under the GIL: no two clients get the same turn
        return self.by_kind[kind][turn % len(self.by_kind[kind])], turn

    def leave_out(self, request: Request) -> None:
        """Send `request` no more."""
        self.by_kind[request.kind] = [kept for kept in self.by_kind[request.kind] if kept is not request]

    def schedule(self) -> list[str]:
        """One round of kinds, each as often as its weight and spread evenly over the round (smooth
        weighted round robin); kinds with no request left are left out."""
        weights = {kind: weight for kind, weight in WEIGHTS.items() if self.by_kind.get(kind)}
        total, credit, order = sum(weights.values()), dict.fromkeys(weights, 0), []
        for _ in range(total):
            for kind, weight in weights.items():
                credit[kind] += weight
            chosen = max(credit, key=credit.__getitem__)
            credit[chosen] -= total
            order.append(chosen)
        return order


# --- what a sound answer looks like --------------------------------------------------------------


def document_check(kind: str) -> Check:
    """What a document of `kind` (one of DOCUMENT_FORMATS) must look like."""
    media, rdf_format = DOCUMENT_FORMATS[kind]
    if rdf_format:
        return rdf_answer(media, rdf_format)
    return jsonld_answer if media == "application/ld+json" else html_page("en")


def rdf_answer(media: str, rdf_format: str, may_be_empty: bool = False) -> Check:
    """An answer in `media` that rdflib parses as `rdf_format`, into triples unless `may_be_empty`."""
    def check(response: requests.Response) -> str | None:
        problem = _media_type_problem(response, media)
        if problem:
            return problem
        try:
            graph = Graph().parse(data=response.content.decode("utf-8"), format=rdf_format)
        except Exception as error:  # any parser's complaint is the finding
            return f"does not parse as {rdf_format}: {str(error)[:200]}"
        return None if len(graph) or may_be_empty else "no triples"
    return check


def json_answer(media: str, sound: Callable[[dict], bool], what: str) -> Check:
    """An answer in `media` whose body is a JSON object for which `sound` holds (it is `what`)."""
    def check(response: requests.Response) -> str | None:
        problem = _media_type_problem(response, media)
        if problem:
            return problem
        try:
            body = json.loads(response.content)
        except ValueError as error:
            return f"not JSON: {error}"
        return None if isinstance(body, dict) and sound(body) else f"not {what}"
    return check


jsonld_answer = json_answer("application/ld+json", lambda document: "@context" in document, "JSON-LD with a @context")
sparql_results = json_answer("application/sparql-results+json",
                             lambda answer: "head" in answer and ("results" in answer or "boolean" in answer),
                             "SPARQL results")
healthy = json_answer("application/json", lambda health: health.get("status") == "ok", "a health report saying ok")


def html_page(language: str) -> Check:
    """A whole HTML page in `language`."""
    def check(response: requests.Response) -> str | None:
        problem = _media_type_problem(response, "text/html")
        if problem:
            return problem
        text = response.content.decode("utf-8", errors="replace")
        if not text.lower().startswith("<!doctype html>") or "</html>" not in text[-200:]:
            return "not a whole HTML page"
        return None if f'<html lang="{language}">' in text[:200] else f"not a page in {language}"
    return check


def see_other(path: str) -> Check:
    """A 303 to the document at /doc/`path`."""
    def check(response: requests.Response) -> str | None:
        location = response.headers.get("Location", "")
        if response.status_code == 303 and location.endswith("/doc/" + path):
            return None
        return f"{response.status_code} to {location!r}, not 303 to /doc/{path}"
    return check


def not_modified(response: requests.Response) -> str | None:
    """A 304 without a body."""
    if response.status_code == 304 and not response.content:
        return None
    return f"{response.status_code} with {len(response.content)} bytes where 304 was due"


def intact_dump(response: requests.Response) -> str | None:
    """The body matches its Repr-Digest, and unpacks or loads as its name says."""
    digest = base64.b64encode(hashlib.sha256(response.content).digest()).decode()
    if response.headers.get("Repr-Digest") != f"sha-256=:{digest}:":
        return f"Repr-Digest {response.headers.get('Repr-Digest')!r} does not match the body ({digest})"
    try:
        if response.url.endswith(".gz"):
            gzip.decompress(response.content)
        elif response.url.endswith(".json"):
            json.loads(response.content)
    except (OSError, ValueError) as error:
        return f"broken: {error}"
    return None


def query_answer(accept: str) -> Check:
    """A SPARQL answer in `accept`: JSON results, or a graph (which may be empty)."""
    return sparql_results if accept == "application/sparql-results+json" else rdf_answer(accept, "nt", may_be_empty=True)


def _media_type_problem(response: requests.Response, media: str) -> str | None:
    given = response.headers.get("Content-Type", "")
    return None if given.split(";")[0].strip() == media else f"Content-Type {given!r}, not {media}"


# --- sending and classifying ---------------------------------------------------------------------


def send(session: requests.Session, base: str, request: Request, timeout: float, check: bool, began: float) -> Outcome:
    """Send `request`, time it (until the whole body is in) and classify the answer."""
    at = time.monotonic() - began
    started = time.perf_counter()
    try:
        response = session.request("POST" if request.form else "GET", base + request.path, headers=request.headers,
                                   data=request.form, timeout=timeout, allow_redirects=False)
    except requests.Timeout:
        return Outcome(request.kind, request.name, at, time.perf_counter() - started, None, ERROR,
                       f"no answer within {timeout:g} s")
    except requests.RequestException as error:
        return Outcome(request.kind, request.name, at, time.perf_counter() - started, None, ERROR,
                       f"{type(error).__name__}: {str(error)[:200]}")
    seconds = time.perf_counter() - started
    verdict, reason = classify(request, response)
    checked = check and verdict == SERVED and request.check is not None
    if checked:
        problem = request.check(response)
        if problem:
            verdict, reason = ERROR, "malformed: " + problem
    return Outcome(request.kind, request.name, at, seconds, response.status_code, verdict, reason, checked)


def classify(request: Request, response: requests.Response) -> tuple[str, str]:
    """SERVED, REJECTED (deliberately, and why) or ERROR (and what went wrong)."""
    status = response.status_code
    if status == 503 and request.path == "sparql" and "Retry-After" in response.headers:
        return REJECTED, "busy"   # every slot taken: refused before the query is read, even a bad one
    if request.refused_with:
        if status in request.refused_with:
            return REJECTED, f"{status} as meant"
        return ERROR, f"HTTP {status} where {'/'.join(map(str, sorted(request.refused_with)))} was meant"
    if 200 <= status < 400:
        return SERVED, ""
    if status == 503 and request.kind == "runaway":
        return REJECTED, "stopped"
    return ERROR, f"HTTP {status}: {response.content[:200].decode('utf-8', errors='replace').strip()}"


# --- the phases ----------------------------------------------------------------------------------


def warm_up(server: Server, traffic: Traffic, timeout: float) -> tuple[list[Outcome], dict[str, str]]:
    """Every kind's requests once, in turn, each answer checked (only the first of a CYCLED_KIND);
    queries of the mix the idle server stops or takes over LEAVE_OUT_SECONDS for are left out of the
    traffic. The outcomes, and why each query was left out."""
    outcomes, left_out, began = [], {}, time.monotonic()
    with requests.Session() as session:
        for kind, kind_requests in list(traffic.by_kind.items()):
            for request in kind_requests[:1] if kind in CYCLED_KINDS else list(kind_requests):
                outcome = send(session, server.base, request, timeout, True, began)
                too_slow = outcome.status == 503 and outcome.reason.startswith("HTTP 503: The query ran longer")
                if kind in QUERY_KINDS and (too_slow or outcome.seconds > LEAVE_OUT_SECONDS):
                    left_out[request.name] = f"{outcome.status} after {outcome.seconds:.1f} s with the server idle"
                    traffic.leave_out(request)
                else:
                    outcomes.append(outcome)
    return outcomes, left_out


def load(server: Server, traffic: Traffic, options: argparse.Namespace) -> tuple[list[Outcome], float, list[dict]]:
    """`options.clients` clients going round the schedule for `options.minutes`, memory sampled
    meanwhile; the outcomes, the seconds until the last answer, and the memory samples."""
    order, outcomes, began = traffic.schedule(), [], time.monotonic()
    deadline = began + options.minutes * 60

    def client(number: int) -> None:
        position = number * len(order) // options.clients   # clients start at different places in the round
        with requests.Session() as session:
            while time.monotonic() < deadline:
                request, turn = traffic.next(order[position % len(order)])
                position += 1
                outcomes.append(send(session, server.base, request, options.request_timeout,
                                     turn % options.check_every == 0, began))

    sampler = MemorySampler(server, options.sample_seconds, began)
    sampler.start()
    clients = [threading.Thread(target=client, args=(number,)) for number in range(options.clients)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    elapsed = time.monotonic() - began
    sampler.finish()
    return outcomes, elapsed, sampler.samples


class MemorySampler(threading.Thread):
    """Samples the server's memory (its processes: gunicorn's master, workers and query runners)
    every `every` seconds from its start until `finish`, which takes a last sample."""

    def __init__(self, server: Server, every: float, began: float) -> None:
        super().__init__(daemon=True)
        self.server, self.every, self.began = server, every, began
        self.samples: list[dict] = []
        self._finished = threading.Event()
        self.sample()

    def run(self) -> None:
        while not self._finished.wait(self.every):
            self.sample()

    def sample(self) -> None:
        every = self.server.pids()
        core = [self.server.process.pid, *self.server.workers()]
        self.samples.append({"t": round(time.monotonic() - self.began, 1),
                             "rss_mb": self.server.rss_mb(every), "pss_mb": self.server.pss_mb(every),
                             "master_and_workers_rss_mb": self.server.rss_mb(core),
                             "master_and_workers_pss_mb": self.server.pss_mb(core),
                             "query_runners": len(set(every) - set(core))})

    def finish(self) -> None:
        self._finished.set()
        self.join()
        self.sample()


# --- results -------------------------------------------------------------------------------------


def summarise(outcomes: list[Outcome], seconds: float) -> dict:
    """Counts, rates and latencies by kind and in total; the errors, grouped and a sample of them."""
    by_kind: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        by_kind.setdefault(outcome.kind, []).append(outcome)
    errors = [outcome for outcome in outcomes if outcome.verdict == ERROR]
    return {
        "kinds": {kind: _figures(found, seconds) for kind, found in by_kind.items()},
        "totals": _figures(outcomes, seconds),
        "errors_by_reason": dict(Counter(f"{error.kind}: {error.reason}" for error in errors).most_common()),
        "error_samples": [asdict(error) for error in errors[:20]],
        "sparql_queries": {name: _figures([o for o in outcomes if o.name == name], seconds)
                           for name in sorted({o.name for o in outcomes if o.kind in QUERY_KINDS | {"runaway"}})},
    }


def _figures(outcomes: list[Outcome], seconds: float) -> dict:
    served = [outcome.seconds * 1000 for outcome in outcomes if outcome.verdict == SERVED]
    figures = {
        "requests": len(outcomes),
        "per_second": round(len(outcomes) / seconds, 2) if seconds else 0,
        "served": len(served),
        "rejections": dict(Counter(o.reason for o in outcomes if o.verdict == REJECTED)),
        "errors": sum(outcome.verdict == ERROR for outcome in outcomes),
        "checked": sum(outcome.checked for outcome in outcomes),
        "statuses": dict(sorted(Counter(str(o.status) for o in outcomes).items())),
    }
    if served:
        figures |= {f"p{p}_ms": round(percentile(served, p), 1) for p in (50, 95, 99)}
    return figures


def memory_trend(samples: list[dict]) -> dict:
    """Start (after the warm-up), end, extremes and slope over the second half, of RSS and PSS."""
    trend: dict = {"samples": samples, "query_runners": [min(s["query_runners"] for s in samples),
                                                         max(s["query_runners"] for s in samples)]}
    second_half = [sample for sample in samples if sample["t"] >= samples[-1]["t"] / 2]
    for measure in MEMORY_MEASURES:
        start, end = samples[0][measure], samples[-1][measure]
        values = [sample[measure] for sample in samples]
        trend[measure] = {"start": start, "end": end, "min": min(values), "max": max(values),
                          "change": round(end - start, 1), "change_percent": round(100 * (end - start) / start, 1)}
        if len(second_half) >= 3:
            slope = statistics.linear_regression([s["t"] for s in second_half], [s[measure] for s in second_half]).slope
            trend[measure]["slope_second_half_mb_per_minute"] = round(slope * 60, 2)
    return trend


def read_server_log(log: Path) -> dict:
    """What the server's own log says: the statuses of its access log, worker starts and timeouts,
    and its error lines (a stack trace, an ERROR), the first few of them."""
    statuses, boots, timeouts, problems = Counter(), 0, 0, []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("{"):
            statuses[str(json.loads(line)["status"])] += 1
        elif "Booting worker" in line:
            boots += 1
        elif "WORKER TIMEOUT" in line:
            timeouts += 1
        if "Traceback" in line or "[ERROR]" in line or "[CRITICAL]" in line:
            problems.append(line[:300])
    return {"access_log_statuses": dict(sorted(statuses.items())), "worker_starts": boots, "worker_timeouts": timeouts,
            "error_lines": len(problems), "first_error_lines": problems[:10]}


def report(results: dict) -> str:
    """The results as a readable table."""
    data = results["data"]
    lines = [f"{results['date']}: {results['options']['clients']} clients for {results['seconds']} s on "
             f"{data['agreements'] or 'the project'}'s data ({data['triples']} triples, {data['documents']} documents), "
             f"{results['machine']['cpus']} CPUs, load average {results['machine']['load_average_before'][0]:.1f} "
             f"before and {results['machine']['load_average_after'][0]:.1f} after",
             "", f"{'kind':<16}{'requests':>9}{'per s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}  rejections"]
    for kind, figures in [*results["kinds"].items(), ("all", results["totals"])]:
        rejections = ", ".join(f"{count} {reason}" for reason, count in figures["rejections"].items())
        lines.append(f"{kind:<16}{figures['requests']:>9}{figures['per_second']:>8}{figures.get('p50_ms', '-'):>9}"
                     f"{figures.get('p95_ms', '-'):>9}{figures.get('p99_ms', '-'):>9}{figures['errors']:>8}  {rejections}")
    warm = results["warm_up"]["totals"]
    lines.append(f"warm-up: {warm['requests']} requests, {warm['errors']} errors; left out of the mix: "
                 + (", ".join(f"{name} ({why})" for name, why in results["left_out"].items()) or "nothing"))
    for reason, count in results["errors_by_reason"].items():
        lines.append(f"error x{count}: {reason}")
    lines.append(f"memory (MB), {results['memory']['query_runners'][0]} to {results['memory']['query_runners'][1]} "
                 f"query runners besides gunicorn's master and workers:")
    for measure, name in MEMORY_MEASURES.items():
        m = results["memory"][measure]
        lines.append(f"  {name:<30} start {m['start']:>7}, end {m['end']:>7} ({m['change']:+} MB, {m['change_percent']:+}%), "
                     f"min {m['min']}, max {m['max']}, slope over the second half "
                     f"{m.get('slope_second_half_mb_per_minute', '-')} MB/min")
    log = results["server_log"]
    lines.append(f"server log: {log['worker_starts']} worker starts, {log['worker_timeouts']} worker timeouts, "
                 f"{log['error_lines']} error lines")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
