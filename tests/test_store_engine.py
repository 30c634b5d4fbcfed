"""The shared engine (settings.engine = "shared"): one process holds the release and answers every
worker's questions on its threads; a query past its time, or one that crashes it, ends it, and its
successor answers the others. Real processes: a keeper, its engines, and this process asking."""

import ctypes
import dataclasses
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from lodpub import create_app
from lodpub.store import open_store
from lodpub.store.engine import Plan, recorded_death, start_engine
from lodpub.store.engine_client import EngineClient, StillRunning
from lodpub.store.engine_store import EngineStore, engine_folder, stop_engines_but
from lodpub.store.processes import QueryCrashed, QueryTimeout

MB = 1024 * 1024


def _work() -> object:
    return _call


def _call(function, *arguments):
    return function(*arguments)


def _pid_after(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def _leave_freed_memory(megabytes: int) -> int:
    """Take `megabytes` in small blocks and free all but the last, which keeps malloc from shrinking its
    heap by itself (as a query's evaluation and answer leave it); the engine's pid."""
    libc = ctypes.CDLL(None)
    libc.malloc.restype, libc.free.argtypes = ctypes.c_void_p, [ctypes.c_void_p]
    blocks = [libc.malloc(1024) for _ in range(megabytes * 1024)]
    for block in blocks[:-1]:
        libc.free(block)
    return os.getpid()


def _resident(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) * 1024


def _crash() -> None:
    ctypes.string_at(0)  # a read at address 0: SIGSEGV, as a stack overflow gives


def _crash_unless_alone(marker: str, seconds: float = 0) -> int:
    """Crash the engine the first time (as if another query had), answer the second, after `seconds`."""
    if not Path(marker).exists():
        Path(marker).touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return _pid_after(seconds)


@pytest.fixture(params=[True, False], ids=["keeper's copy", "one copy"])
def engine(tmp_path, request):
    keeper = start_engine(Plan(_work, 300 * MB, None, request.param), tmp_path / "engine")
    client = EngineClient(tmp_path / "engine")
    yield client
    client.close()
    keeper.stop()


def _alive(pid: int) -> bool:
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False


def test_queries_run_in_one_engine_process_on_threads_of_their_own(engine):
    with ThreadPoolExecutor(max_workers=3) as pool:
        pids = set(pool.map(lambda _: engine.run((_pid_after, 0.5), timeout=10), range(3)))
    assert len(pids) == 1 and os.getpid() not in pids


def test_what_the_work_raises_is_raised_again_and_the_engine_stays(engine):
    pid = engine.run((os.getpid,), timeout=10)
    with pytest.raises(ValueError, match="not a number"):
        engine.run((int, "not a number"), timeout=10)
    assert engine.run((os.getpid,), timeout=10) == pid


def test_a_query_asked_within_a_shorter_time_runs_on_past_it_in_the_same_engine(engine):
    """An express slot's query that outlasts the slot waits for a slot of its own, running on."""
    first = engine.run((os.getpid,), timeout=10)
    query = engine.start((_pid_after, 1.0), timeout=30)
    with pytest.raises(StillRunning):
        query.answer(within=0.1)
    assert query.answer() == first


def test_a_query_past_its_time_ends_the_engine_and_the_others_are_answered_by_its_successor(engine):
    first = engine.run((os.getpid,), timeout=10)
    with ThreadPoolExecutor(max_workers=2) as pool:
        other = pool.submit(engine.run, (_pid_after, 2), 30)
        time.sleep(0.3)
        with pytest.raises(QueryTimeout):
            engine.run((time.sleep, 30), timeout=1)
        successor = other.result()
    assert successor != first and not _alive(first)
    assert recorded_death(engine.folder, first)["cause"] == "time"
    assert engine.run((os.getpid,), timeout=10) == successor


def test_a_query_that_crashes_the_engine_alone_is_refused_with_the_cause(engine):
    first = engine.run((os.getpid,), timeout=10)
    with pytest.raises(QueryCrashed) as crash:
        engine.run((_crash,), timeout=10)
    assert crash.value.cause == "stack"
    assert engine.run((os.getpid,), timeout=10) not in (first, os.getpid())


def test_a_crash_refuses_the_query_at_fault_and_the_one_beside_it_is_answered(engine):
    with ThreadPoolExecutor(max_workers=2) as pool:
        beside = pool.submit(engine.run, (_pid_after, 1), 30)
        time.sleep(0.3)
        with pytest.raises(QueryCrashed):
            engine.run((_crash,), timeout=10)
        assert beside.result() != os.getpid()


def test_a_query_whose_engine_died_under_it_is_sent_once_more(engine, tmp_path):
    first = engine.run((os.getpid,), timeout=10)
    assert engine.run((_crash_unless_alone, str(tmp_path / "crashed")), timeout=10) != first


def test_a_query_waiting_for_one_that_runs_alone_has_its_time_count_from_its_start(engine, tmp_path):
    with ThreadPoolExecutor(max_workers=1) as pool:
        alone = pool.submit(engine.run, (_crash_unless_alone, str(tmp_path / "crashed"), 3), 30)
        while not (tmp_path / "crashed").exists():
            time.sleep(0.05)
        time.sleep(0.5)  # it runs alone in the successor now, for three seconds
        waiting = engine.run((os.getpid,), timeout=1)
        assert alone.result() == waiting


def test_the_memory_a_query_freed_is_given_back_once_no_query_runs(engine):
    """glibc keeps what a thread freed in its arena; the engine gives it back when idle (without, it
    held a tenth of the store more after a query mix)."""
    before = _resident(engine.run((os.getpid,), timeout=10))
    pid = engine.run((_leave_freed_memory, 200), timeout=30)
    waited = time.monotonic() + 30
    while _resident(pid) > before + 100 * MB and time.monotonic() < waited:
        time.sleep(0.1)
    assert _resident(pid) < before + 100 * MB
    assert engine.run((os.getpid,), timeout=10) == pid


def test_a_query_that_takes_too_much_memory_is_refused_and_the_engine_serves_on(engine):
    with pytest.raises(QueryCrashed) as crash:
        engine.run((bytearray, 2000 * MB), timeout=30)
    assert crash.value.cause == "memory"
    assert engine.run((len, "still answering"), timeout=10) == 15


@pytest.mark.parametrize("keep_copy", [True, False])
def test_an_engine_that_cannot_load_says_why(tmp_path, keep_copy):
    def broken():
        raise OSError("no such release")

    with pytest.raises(Exception, match="no such release"):
        start_engine(Plan(broken, 100 * MB, None, keep_copy), tmp_path / "engine")


# --- the store and the app on the shared engine ----------------------------------------------------


@pytest.fixture(scope="module")
def shared_settings(project_release, project_settings):
    return dataclasses.replace(project_settings, output_dir=project_release.path.parent.parent,
                               public_base=project_settings.base_iri, engine="shared")


def test_the_shared_store_answers_as_the_embedded_one(shared_settings):
    shared = open_store(shared_settings)
    embedded = open_store(dataclasses.replace(shared_settings, engine="per-worker"))
    assert isinstance(shared, EngineStore)
    iri = embedded.subjects_under(embedded.base_iri + "id/")[0]
    assert set(shared.document(iri)) == set(embedded.document(iri))
    assert shared.graph_names() == embedded.graph_names()
    assert shared.version == embedded.version and shared.triple_count == embedded.triple_count


def test_the_app_on_the_shared_engine_answers_sparql_and_documents(shared_settings):
    app = create_app(shared_settings)
    client = app.test_client()
    answer = client.get("/sparql", query_string={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
                        headers={"Accept": "application/sparql-results+json"})
    assert answer.status_code == 200, answer.text
    assert int(answer.json["results"]["bindings"][0]["n"]["value"]) > 1000
    assert client.get("/", headers={"Accept": "text/html"}).status_code == 200


def test_an_engine_stopped_is_started_again_by_the_next_store_opened_and_its_clients_reconnect(shared_settings):
    store = open_store(shared_settings)
    folder = engine_folder(store.release)
    assert (folder / "engine.sock").exists()
    names = store.graph_names()
    stop_engines_but([])
    assert not (folder / "engine.sock").exists()
    again = open_store(shared_settings)
    assert again.graph_names() == store.graph_names() == names
