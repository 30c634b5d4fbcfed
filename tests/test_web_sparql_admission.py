"""The SPARQL endpoint under load and attack, served by `lodpub serve` (gunicorn) on loopback: bursts
are answered, one client's runaway queries leave the others theirs, hostile queries harm no
worker, runners die with their workers, and answers and bodies stay within their memory bounds.

Different clients are different loopback addresses (127.0.0.2, 127.0.0.3, ...): the server tells
clients apart by address.
"""

import gzip
import http.client
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
import requests
from served import workers_of
from tiers import tiered

from lodpub import create_app
from lodpub.config import load_settings
from lodpub.control import children
from lodpub.control import running as alive
from tests.conftest import running_server
from tests.test_web_sparql import RUNAWAY


def long_answer_query(power: int, rows: int = 1) -> str:
    """A query of `rows` answers, each `10 ** power` characters long (each REPLACE multiplies by ten)."""
    text = '"x"'
    for _ in range(power):
        text = f'REPLACE({text}, "x", "xxxxxxxxxx")'
    values = " ".join(str(number) for number in range(rows))
    return f"SELECT ?n (CONCAT(STR(?n), {text}) AS ?text) WHERE {{ VALUES ?n {{ {values} }} }}"


def ask(base: str, query: str, source: str = "127.0.0.1", timeout: float = 60,
        accept: str = "application/sparql-results+json") -> tuple[int, dict[str, str], bytes, float]:
    """Send the query from `source` (a loopback address): status, headers, body and seconds taken."""
    address = urlsplit(base)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=timeout,
                                            source_address=(source, 0))
    started = time.monotonic()
    try:
        if len(query) < 6000:
            connection.request("GET", "/sparql?" + urlencode({"query": query}), headers={"Accept": accept})
        else:  # too long for a request line
            connection.request("POST", "/sparql", body=query.encode(),
                               headers={"Accept": accept, "Content-Type": "application/sparql-query"})
        response = connection.getresponse()
        body = response.read()
        return response.status, dict(response.getheaders()), body, time.monotonic() - started
    finally:
        connection.close()


def process_tree(master: int) -> dict[int, set[int]]:
    """The workers of a gunicorn master, each with its query runners."""
    return {worker: children(worker) for worker in workers_of(master)}


@pytest.fixture(scope="module", params=["per-worker", "shared"])
@tiered("served")
def busy_server(project_release, tmp_path_factory, request):
    """Two slots, a three-second limit: runaways show quickly. On each engine (settings.engine)."""
    with running_server(project_release.path.parent.parent, tmp_path_factory.mktemp("busy"), engine=request.param,
                        sparql_timeout="3", sparql_slots="2", sparql_queue_seconds="15") as base:
        yield base


@pytest.mark.served
def test_a_burst_of_fifty_cheap_queries_is_answered_whole(busy_server):
    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(lambda _: ask(busy_server, "ASK {}"), range(50)))
    assert [status for status, *_ in answers].count(200) == 50, {status for status, *_ in answers}


@pytest.mark.parametrize("runaways", [2, 8])
@pytest.mark.served
def test_any_number_of_runaways_from_one_client_leave_the_others_their_answers(busy_server, runaways):
    with ThreadPoolExecutor(max_workers=runaways) as pool:
        flood = [pool.submit(ask, busy_server, RUNAWAY, "127.0.0.2") for _ in range(runaways)]
        time.sleep(0.8)
        others = [ask(busy_server, "SELECT ?s WHERE { ?s ?p ?o } LIMIT 3", "127.0.0.3") for _ in range(5)]
        outcomes = [future.result() for future in flood]
    assert all(status == 200 for status, *_ in others), [(status, body) for status, _, body, _ in others]
    assert max(took for *_, took in others) < 2.5
    # The runaways are stopped at their limit (503), or wait their turn and are stopped too.
    assert {status for status, *_ in outcomes} == {503}


@pytest.mark.served
def test_a_query_that_finds_no_slot_in_time_gets_503_with_retry_after(project_release, tmp_path):
    with running_server(project_release.path.parent.parent, tmp_path, sparql_timeout="4", sparql_slots="1",
                        sparql_express_slots="0", sparql_queue_seconds="1") as server:
        with ThreadPoolExecutor(max_workers=1) as pool:
            runaway = pool.submit(ask, server, RUNAWAY)
            time.sleep(0.8)
            status, headers, body, took = ask(server, "ASK {}", "127.0.0.3")
            assert status == 503 and headers["Retry-After"].isdigit() and b"within 1 s" in body
            assert 0.9 < took < 3
            assert runaway.result()[0] == 503
        assert ask(server, "ASK {}")[0] == 200


@pytest.mark.served
def test_a_deeply_nested_query_is_refused_and_harms_no_worker(busy_server):
    workers = set(process_tree(busy_server.pid))
    deep = "ASK { FILTER(" + "!" * 20000 + "true) }"
    status, _, body, _ = ask(busy_server, deep)
    assert status == 400 and b"nests 20002 levels" in body
    # With every slot taken, the query is not parsed in the worker either.
    with ThreadPoolExecutor(max_workers=3) as pool:
        runaways = [pool.submit(ask, busy_server, RUNAWAY, "127.0.0.2") for _ in range(3)]
        time.sleep(0.5)
        assert ask(busy_server, deep)[0] == 400
        for future in runaways:
            future.result()
    assert set(process_tree(busy_server.pid)) == workers
    assert ask(busy_server, "ASK {}")[0] == 200


@pytest.mark.served
def test_the_deepest_query_the_size_limit_lets_through_is_answered(project_release, tmp_path):
    """With the nesting bound lifted, 45 000 operators (a 45 KB query) run: the runner's stack holds them."""
    with running_server(project_release.path.parent.parent, tmp_path, sparql_max_nesting="100000") as server:
        workers = set(process_tree(server.pid))
        status, _, body, _ = ask(server, "ASK { FILTER(" + "!" * 45000 + "true) }")
        assert status == 200 and b"true" in body
        assert set(process_tree(server.pid)) == workers


@pytest.mark.served
def test_a_killed_worker_takes_its_running_queries_with_it(project_release, tmp_path):
    with running_server(project_release.path.parent.parent, tmp_path, sparql_timeout="300") as server:
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(ask, server, RUNAWAY, timeout=10)
            deadline = time.monotonic() + 10
            while not any(process_tree(server.pid).values()):
                assert time.monotonic() < deadline, "no query runner started"
                time.sleep(0.05)
            worker, runners = next((worker, runners) for worker, runners in process_tree(server.pid).items() if runners)
            os.kill(worker, signal.SIGKILL)
            deadline = time.monotonic() + 3
            while any(alive(runner) for runner in runners):
                assert time.monotonic() < deadline, "a query runner outlived its worker"
                time.sleep(0.05)
        assert requests.get(server + "health", timeout=30).status_code == 200


def _peak_memory_kb(pids) -> int:
    return sum(int(line.split()[1]) for pid in pids
               for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("VmHWM"))


@pytest.mark.served
def test_a_large_answer_streams_through_the_worker_and_a_larger_one_is_refused(project_release, tmp_path):
    with running_server(project_release.path.parent.parent, tmp_path, sparql_max_answer_mb="50") as server:
        workers = list(process_tree(server.pid))
        ask(server, "ASK {}")
        before = _peak_memory_kb(workers)
        status, headers, body, _ = ask(server, long_answer_query(6, rows=30), accept="text/tab-separated-values")
        assert status == 200 and len(body) > 30 * 10**6 and body.count(b"\n") == 31
        # 30 MB went through the workers; their peak memory grew by far less.
        assert _peak_memory_kb(workers) - before < 12 * 1024
        status, _, body, _ = ask(server, long_answer_query(6, rows=60), accept="text/tab-separated-values")
        assert status == 503 and b"larger than 50 MB" in body
        gzipped = requests.get(server + "sparql", params={"query": long_answer_query(6, rows=3)},
                               headers={"Accept": "text/csv", "Accept-Encoding": "gzip"}, timeout=60, stream=True)
        sent = gzipped.raw.read(decode_content=False)
        assert gzipped.headers["Content-Encoding"] == "gzip" and len(sent) < 100_000
        rows = gzip.decompress(sent).splitlines()[1:]
        assert [len(row) for row in rows] == [len("0,0") + 10**6] * 3


def test_a_body_beyond_the_limit_is_refused_before_it_is_read(project_release):
    settings = load_settings(output_dir=project_release.path.parent.parent, max_body_bytes=1000)
    client = create_app(settings).test_client()
    refused = client.post("/sparql", data=b"ASK {}" + b" " * 2000, content_type="application/sparql-query")
    assert refused.status_code == 413 and b"larger than 1000 bytes" in refused.data
    assert refused.mimetype == "text/plain"
    taken = client.post("/sparql", data=b"ASK {}", content_type="application/sparql-query",
                        headers={"Accept": "application/sparql-results+json"})
    assert taken.status_code == 200


@pytest.mark.parametrize("chunk", [1, 3, 7, 64])
def test_a_streamed_answer_is_the_answer_byte_for_byte_in_any_chunks(tmp_path, monkeypatch, chunk):
    """Nothing is replaced on the way out, not even a string that holds another base."""
    from lodpub.web import sparql

    monkeypatch.setattr(sparql, "STREAM_CHUNK_BYTES", chunk)
    text = b'<http://127.0.0.1:5000/a> "https://data.kraj-lbc.cz/partnerships/ is a string" <https://canon.ex'
    (tmp_path / "answer").write_bytes(text)
    assert b"".join(sparql._chunks(open(tmp_path / "answer", "rb"))) == text
