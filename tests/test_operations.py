"""Running in production: the health endpoint, the JSON access log, request ids, the pid file and
worker recycling, against real `lodpub serve` (gunicorn) processes on loopback.

Each server here has an output folder of its own (the release is linked into it), so that its pid
file and its logs are its own.
"""

import contextlib
import json
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from conftest import RunningServer, free_port, publish_to, running_oxigraph, running_server
from tiers import tiered

from lodpub.namespaces import CANONICAL_BASE

ACCESS_LOG_FIELDS = {"time", "method", "path", "query", "status", "bytes", "duration_ms", "remote_addr",
                     "user_agent", "request_id"}


def access_log(path: Path) -> list[dict]:
    """The access log's entries; each line must be one JSON object."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def entry_of(log: Path, request_id: str) -> dict:
    """The one access log entry of the request `request_id` (gunicorn writes it once the response is sent)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        entries = [entry for entry in access_log(log) if entry["request_id"] == request_id]
        if entries:
            assert len(entries) == 1, entries
            return entries[0]
        time.sleep(0.05)
    raise AssertionError(f"no access log entry for {request_id}")


@pytest.fixture(scope="module")
@tiered("served")
def logged_server(project_release, tmp_path_factory) -> RunningServer:
    """`lodpub serve` on the embedded store behind one proxy, with its access and error logs in files of
    their own."""
    folder = tmp_path_factory.mktemp("operations")
    with running_server(project_release.path.parent.parent, folder, access_log=str(folder / "access.log"),
                        error_log=str(folder / "error.log"), proxy_hops="1") as server:
        yield server


# --- health -------------------------------------------------------------------------------------


@pytest.mark.served
def test_health_says_ok_with_the_release_served_and_is_never_cached(logged_server, project_release):
    response = requests.get(logged_server + "health", timeout=30)
    health = response.json()
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    assert health["status"] == "ok" and health["store"] == "embedded"
    assert health["version"] == project_release.version
    # The release the operator chose is the one served: no fallback, nothing refused.
    assert health["chosen"] == project_release.version and health["fallback"] is False and "refused" not in health
    built_at = datetime.fromisoformat(project_release.manifest["built_at"].replace("Z", "+00:00"))
    assert datetime.fromisoformat(health["built_at"]) == built_at
    assert health["triples"] == project_release.manifest["triples"]
    assert response.headers["Cache-Control"] == "no-store"
    assert "ETag" not in response.headers and "Last-Modified" not in response.headers


@pytest.mark.served
def test_health_answers_head_and_plain_text_for_load_balancers(logged_server, project_release):
    head = requests.head(logged_server + "health", timeout=30)
    assert head.status_code == 200 and head.content == b""
    text = requests.get(logged_server + "health", headers={"Accept": "text/plain"}, timeout=30)
    assert text.status_code == 200 and text.text.startswith(f"ok {project_release.version} ")


@pytest.mark.served
def test_health_takes_no_sparql_slot(project_release, tmp_path):
    # No query slot at all: /health still answers, and a query is refused for want of one.
    with running_server(project_release.path.parent.parent, tmp_path, sparql_slots="0") as server:
        assert requests.get(server + "health", timeout=30).status_code == 200
        assert requests.get(server + "sparql", params={"query": "ASK {}"}, timeout=30).status_code == 503


@pytest.mark.served
@pytest.mark.stores
def test_health_says_503_while_the_remote_store_is_down_and_200_once_it_is_back(project_release, tmp_path):
    port = free_port()
    with contextlib.ExitStack() as first_run:
        store = first_run.enter_context(running_oxigraph(tmp_path, port))
        assert publish_to(store, project_release.path).returncode == 0
        with running_server(project_release.path.parent.parent, tmp_path, unavailable_is_up=True,
                            error_log=str(tmp_path / "error.log"), public_base=CANONICAL_BASE,
                            **store.settings()) as server:
            up = requests.get(server + "health", timeout=30).json()
            assert up["status"] == "ok" and up["store"] == "remote" and up["store_answers"] is True
            assert up["version"] == project_release.version

            first_run.close()  # the store stops
            started = time.monotonic()
            down = requests.get(server + "health", timeout=30)
            assert time.monotonic() - started < 5
            assert down.status_code == 503 and down.headers["Retry-After"]
            assert down.headers["Cache-Control"] == "no-store"
            report = down.json()
            assert report["status"] == "unavailable" and report["store_answers"] is False
            assert f"the store at http://127.0.0.1:{port}/query does not answer" in report["reason"]
            assert "version" not in report
            failed = requests.get(server + "doc/id/region/bursa", headers={"X-Request-ID": "while-down"}, timeout=30)
            assert failed.status_code == 503

            with running_oxigraph(tmp_path, port) as restarted:  # in memory: it comes back empty
                empty = health_until(server, lambda report: "reason" in report and "lodpub publish" in report["reason"])
                assert empty["status"] == "unavailable" and empty["store_answers"] is True
                assert publish_to(restarted, project_release.path).returncode == 0
                back = health_until(server, lambda report: report["status"] == "ok")
                assert back["version"] == project_release.version
    # The store's failure went to the error log, with the request's id.
    assert re.search(r"\[request while-down\] store unavailable: .*does not answer", (tmp_path / "error.log").read_text())


def health_until(server: str, wanted, seconds: float = 15) -> dict:
    """The first /health report that is `wanted` (a worker trusts the release it read for a few seconds)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        response = requests.get(server + "health", timeout=30)
        report = response.json()
        assert response.status_code == (200 if report["status"] == "ok" else 503)
        if wanted(report):
            return report
        time.sleep(0.2)
    raise AssertionError(f"/health never said what was wanted: {report}")


# --- the access log and request ids ---------------------------------------------------------------


@pytest.mark.served
def test_every_access_log_line_is_a_json_object_with_the_fields(logged_server):
    log = Path(logged_server.log).parent / "access.log"
    agent = 'curl/8 "quoted" \\ {braces}'
    asked = [("GET", "doc/id/region/bursa?format=ttl", 200), ("HEAD", "health", 200),
             ("GET", "doc/id/region/atlantis", 404), ("POST", "sparql", 415)]
    before = datetime.now(UTC) - timedelta(seconds=1)
    sent = []
    for number, (method, path, status) in enumerate(asked):
        # identity: the log counts the bytes sent, and requests would hand back a gzipped body decoded
        response = requests.request(method, logged_server + path, timeout=30, headers={
            "User-Agent": agent, "X-Request-ID": f"fields-{number}", "Accept-Encoding": "identity"})
        assert response.status_code == status
        sent.append(response)
    for number, ((method, path, status), response) in enumerate(zip(asked, sent, strict=True)):
        entry = entry_of(log, f"fields-{number}")
        assert set(entry) == ACCESS_LOG_FIELDS
        assert (entry["method"], entry["status"], entry["user_agent"]) == (method, status, agent)
        assert entry["path"] + ("?" + entry["query"] if entry["query"] else "") == "/" + path
        assert entry["bytes"] == len(response.content) and entry["remote_addr"] == "127.0.0.1"
        logged_at = datetime.fromisoformat(entry["time"])
        assert entry["time"].endswith("Z") and before <= logged_at <= datetime.now(UTC)
        assert 0 < entry["duration_ms"] < 30_000
    # Behind the proxy, the client's address is the one the proxy saw.
    requests.get(logged_server + "health", headers={"X-Forwarded-For": "203.0.113.9", "X-Request-ID": "proxied"},
                 timeout=30)
    assert entry_of(log, "proxied")["remote_addr"] == "203.0.113.9"
    # and every line of the log, whoever made it, is JSON with every field
    assert all(set(entry) == ACCESS_LOG_FIELDS for entry in access_log(log))


@pytest.mark.served
def test_a_sane_request_id_comes_back_and_any_other_is_replaced(logged_server):
    log = Path(logged_server.log).parent / "access.log"
    sane = "Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8"
    assert requests.get(logged_server + "health", headers={"X-Request-ID": sane}, timeout=30
                        ).headers["X-Request-ID"] == sane
    made = set()
    for insane in ("", "two words", "x" * 129, "<script>"):
        answer = requests.get(logged_server + "health", headers={"X-Request-ID": insane}, timeout=30)
        made.add(answer.headers["X-Request-ID"])
    made.add(requests.get(logged_server + "health", timeout=30).headers["X-Request-ID"])
    assert len(made) == 5 and all(re.fullmatch(r"[0-9a-f]{32}", made_id) for made_id in made)
    for request_id in made | {sane}:
        assert entry_of(log, request_id)["path"] == "/health"


@pytest.mark.served
def test_a_browser_script_may_read_the_request_id(logged_server):
    response = requests.get(logged_server + "doc/id/region/bursa", headers={"Origin": "https://example.org"},
                            timeout=30)
    assert "X-Request-ID" in response.headers["Access-Control-Expose-Headers"]


@pytest.mark.served
def test_errors_go_to_the_error_log_not_the_access_log(logged_server):
    folder = Path(logged_server.log).parent
    errors = (folder / "error.log").read_text()
    assert "Booting worker" in errors and "Listening at" in errors
    assert all(line.startswith("{") for line in (folder / "access.log").read_text().splitlines())


@pytest.mark.served
def test_a_get_query_of_8_kb_is_taken_and_a_longer_request_line_refused(logged_server):
    padding = "#" + "x" * 100 + "\n"
    query = padding * 70 + "ASK { ?s ?p ?o }"  # about 7 KB as sent
    taken = requests.get(logged_server + "sparql", params={"query": query}, timeout=30)
    assert taken.status_code == 200 and len(taken.request.url) > 7000
    refused = requests.get(logged_server + "sparql", params={"query": padding * 90 + "ASK {}"}, timeout=30)
    assert refused.status_code == 414  # URI Too Long, from gunicorn


# --- the process ----------------------------------------------------------------------------------


@pytest.mark.served
def test_the_pid_file_names_the_gunicorn_master(logged_server):
    pid = int((logged_server.output / "lodpub.pid").read_text())
    assert pid == logged_server.pid
    workers = {requests.get(logged_server + "health", timeout=30).json()["worker_pid"] for _ in range(20)}
    for worker in workers:
        assert re.search(rf"^PPid:\s+{pid}$", Path(f"/proc/{worker}/status").read_text(), re.M)


@pytest.mark.served
def test_the_pid_file_goes_when_the_server_stops(project_release, tmp_path):
    with running_server(project_release.path.parent.parent, tmp_path) as server:
        output = server.output
        assert int((output / "lodpub.pid").read_text()) == server.pid
    assert not (output / "lodpub.pid").exists()


@pytest.mark.served
def test_workers_are_replaced_after_max_requests_without_dropping_one(project_release, tmp_path):
    with running_server(project_release.path.parent.parent, tmp_path, max_requests="10",
                        recycle_work_ratio="0") as server:
        session = requests.Session()
        seen, deadline = [], time.monotonic() + 60
        while len(set(seen)) < 4 and time.monotonic() < deadline:
            response = session.get(server + "health", timeout=30)
            assert response.status_code == 200  # never a dropped or refused request
            seen.append(response.json()["worker_pid"])
        assert len(set(seen)) >= 4, seen  # 2 workers, each replaced at least once
        assert "requests: it serves on until the master has replaced it" in Path(server.log).read_text()


@pytest.mark.served
def test_a_worker_due_by_max_requests_is_kept_until_it_has_worked_off_its_start(project_release, tmp_path):
    """A worker's start takes about a tenth of a second of CPU here (forked from a master that has imported
    everything); 300 health checks take a tenth of 20 times that, so neither worker asks to be replaced
    although one served far more than 10 requests."""
    with running_server(project_release.path.parent.parent, tmp_path, max_requests="10") as server:
        session = requests.Session()
        seen = {session.get(server + "health", timeout=30).json()["worker_pid"] for _ in range(300)}
        assert len(seen) <= 2, seen
        assert "it serves on until the master has replaced it" not in Path(server.log).read_text()


@pytest.mark.served
def test_with_trusted_hosts_another_host_is_refused_with_400(project_release, tmp_path):
    with running_server(project_release.path.parent.parent, tmp_path, trusted_hosts="127.0.0.1 .kraj-lbc.cz") as server:
        port = server.rstrip("/").rsplit(":", 1)[1]
        assert requests.get(server + "doc/id/region/bursa.ttl", timeout=30).status_code == 200
        published = requests.get(server + "doc/id/region/bursa.nt", headers={"Host": "data.kraj-lbc.cz"}, timeout=30)
        assert published.status_code == 200 and f"<{server}id/region/bursa>" in published.text  # the public base
        for host in (f"evil.example:{port}", "kraj-lbc.cz.evil.example"):
            refused = requests.get(server + "doc/id/region/bursa.ttl", headers={"Host": host}, timeout=30)
            assert refused.status_code == 400, host
            assert "is not trusted" in refused.text and "Traceback" not in refused.text
        forged = requests.get(server + "health", headers={"X-Forwarded-Host": "evil.example"}, timeout=30)
        assert forged.status_code == 200  # without LODPUB_PROXY_HOPS the header is not believed at all
