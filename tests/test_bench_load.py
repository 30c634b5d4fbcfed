"""bench/load.py: a short load test on the project's data accounts for every answer and finds no error."""

import json
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from tiers import tiered

CHECKOUT = Path(__file__).resolve().parent.parent
LOAD = CHECKOUT / "bench" / "load.py"
KINDS = {"doc turtle", "doc json-ld", "doc n-triples", "doc html", "thing 303", "doc 304", "page home",
         "page ontology", "page changes", "page resource", "dump", "health", "sparql", "sparql cq", "runaway",
         "bad request"}
SECONDS = 15


@pytest.fixture(scope="module")
@tiered("served")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str]:
    """The results file and the printed table of 2 clients for SECONDS (queries stopped after 3 s, so
    that the runaway of the warm-up is quick)."""
    out = tmp_path_factory.mktemp("load")
    finished = subprocess.run(
        [sys.executable, str(LOAD), "--minutes", str(SECONDS / 60), "--clients", "2", "--sample-seconds", "2",
         "--set", "sparql_timeout=3", "--out", str(out), "--label", "test"],
        capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    return json.loads((out / "load-test.json").read_text(encoding="utf-8")), finished.stdout


@pytest.fixture(scope="module")
def results(run: tuple[dict, str]) -> dict:
    return run[0]


def test_no_answer_is_an_error(results):
    assert results["errors"] == 0
    assert results["errors_by_reason"] == {} and results["error_samples"] == []
    assert results["warm_up"]["totals"]["errors"] == 0
    assert [kind for kind, figures in results["kinds"].items() if figures["errors"]] == []


def test_the_server_logged_no_error_and_answered_nothing_with_a_500(results):
    log = results["server_log"]

    assert log["error_lines"] == 0 and log["worker_timeouts"] == 0
    assert [status for status in log["access_log_statuses"] if status.startswith("5") and status != "503"] == []


def test_every_kind_was_sent_in_the_warm_up_and_every_answer_served_was_checked(results):
    warm = results["warm_up"]["kinds"]

    assert set(warm) == KINDS
    assert results["left_out"] == {}
    assert {kind: figures["checked"] for kind, figures in warm.items()} == {
        kind: 0 if kind in ("runaway", "bad request") else figures["served"] for kind, figures in warm.items()}


def test_the_runaway_was_stopped_and_each_bad_request_refused_as_meant(results):
    warm = results["warm_up"]["kinds"]

    assert warm["runaway"]["statuses"] == {"503": 1} and warm["runaway"]["rejections"] == {"stopped": 1}
    assert warm["bad request"]["rejections"] == {"400 as meant": 2, "413 as meant": 1, "404 as meant": 1,
                                                 "406 as meant": 1}


def test_the_load_counts_add_up(results):
    totals, kinds = results["totals"], results["kinds"]

    assert totals["requests"] == sum(figures["requests"] for figures in kinds.values()) > 50
    for figures in [totals, *kinds.values()]:
        assert figures["requests"] == figures["served"] + sum(figures["rejections"].values()) + figures["errors"]
        assert figures["requests"] == sum(figures["statuses"].values())
        if figures["served"]:
            assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["p99_ms"]
    assert totals["per_second"] == pytest.approx(totals["requests"] / results["seconds"], rel=0.02)
    assert SECONDS <= results["seconds"] < SECONDS + 30
    assert totals["checked"] > 0
    assert {"doc turtle", "doc html", "sparql", "health"} <= {kind for kind, f in kinds.items() if f["served"]}


def test_memory_was_sampled_from_start_to_end(results):
    memory = results["memory"]

    assert len(memory["samples"]) >= SECONDS / 2
    assert memory["samples"][0]["t"] == 0 and memory["samples"][-1]["t"] >= SECONDS
    for sample in memory["samples"]:
        assert 0 < sample["master_and_workers_rss_mb"] <= sample["rss_mb"]
        assert 0 < sample["pss_mb"] <= sample["rss_mb"]
    for measure in ("rss_mb", "pss_mb", "master_and_workers_rss_mb", "master_and_workers_pss_mb"):
        assert memory[measure]["start"] == memory["samples"][0][measure]
        assert memory[measure]["end"] == memory["samples"][-1][measure]


def test_the_table_names_every_kind_and_the_total(run):
    printed = run[1]

    for kind in KINDS | {"all"}:
        assert f"\n{kind} " in printed
    assert "RSS, master and workers" in printed and "written to" in printed


# --- the classification, against a loopback server that answers wrongly on purpose ----------------


class _Wrong(BaseHTTPRequestHandler):
    """Answers each path as its name says: sound Turtle, broken Turtle, 500, or a busy or stopped 503."""

    ANSWERS = {
        "/doc/sound": (200, {"Content-Type": "text/turtle"}, b"<http://a> <http://b> <http://c> .\n"),
        "/doc/broken": (200, {"Content-Type": "text/turtle"}, b"<http://a> <http://b> \n"),
        "/doc/html": (200, {"Content-Type": "text/html"}, b"<!doctype html><html lang=\"en\"></html>"),
        "/doc/failing": (500, {"Content-Type": "text/plain"}, b"Internal Server Error"),
        "/sparql": (503, {"Content-Type": "text/plain", "Retry-After": "5"}, b"busy"),
        "/sparql-stopped": (503, {"Content-Type": "text/plain"}, b"The query ran longer than 10 s"),
    }

    def do_GET(self) -> None:
        status, headers, body = self.ANSWERS[self.path.split("?")[0]]
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def wrong_server() -> str:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Wrong)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.fixture(scope="module")
def load_module():
    sys.path.insert(0, str(LOAD.parent))
    try:
        import load
    finally:
        sys.path.remove(str(LOAD.parent))
    return load


@pytest.mark.parametrize(("kind", "path", "verdict", "reason"), [
    ("doc turtle", "doc/sound", "served", ""),
    ("doc turtle", "doc/broken", "error", "malformed: does not parse as turtle"),
    ("doc turtle", "doc/html", "error", "malformed: Content-Type 'text/html', not text/turtle"),
    ("doc turtle", "doc/failing", "error", "HTTP 500: Internal Server Error"),
    ("sparql", "sparql", "rejected", "busy"),
    ("sparql", "sparql-stopped", "error", "HTTP 503: The query ran longer"),
    ("runaway", "sparql-stopped", "rejected", "stopped"),
    ("bad request", "sparql", "rejected", "busy"),
    ("bad request", "doc/sound", "error", "HTTP 200 where 400 was meant"),
])
def test_answers_are_classified_and_checked(load_module, wrong_server, kind, path, verdict, reason):
    check = load_module.rdf_answer("text/turtle", "turtle")
    refused_with = frozenset({400}) if kind == "bad request" else frozenset()
    request = load_module.Request(kind, path, path, form={"query": "ASK {}"} if "sparql" in path else None,
                                  refused_with=refused_with, check=check)
    with requests.Session() as session:
        outcome = load_module.send(session, wrong_server, request, 10, True, 0)

    assert (outcome.verdict, outcome.reason[:len(reason)]) == (verdict, reason)


def test_no_answer_at_all_is_an_error(load_module):
    request = load_module.Request("health", "health", "health")
    with requests.Session() as session:
        outcome = load_module.send(session, f"http://127.0.0.1:{_closed_port()}/", request, 10, True, 0)

    assert outcome.verdict == "error" and outcome.reason.startswith("ConnectionError")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
