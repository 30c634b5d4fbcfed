"""The shared engine under `lodpub serve` (gunicorn): one engine for the whole server, whose death on
a runaway query costs the other queries nothing, and which a reload switches to the new release."""

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from served import workers_of
from tiers import tiered

from lodpub.build import build
from lodpub.control import children
from tests.conftest import mini_release_settings, running_server
from tests.test_releases import BURSA, add_a_fact, served_version, wait_for
from tests.test_web_sparql import RUNAWAY
from tests.test_web_sparql_admission import ask


@pytest.fixture(scope="module")
@tiered("served")
def engine_server(project_release, tmp_path_factory):
    """The shared engine, a three-second limit."""
    with running_server(project_release.path.parent.parent, tmp_path_factory.mktemp("engine"), engine="shared",
                        sparql_timeout="3", sparql_slots="2") as base:
        yield base


def engines(master: int) -> dict[int, set[int]]:
    """The keepers of a gunicorn master (its children that have children: workers have none on the
    shared engine), each with its engines."""
    return {keeper: engines for keeper in children(master) if (engines := children(keeper))}


@pytest.mark.served
def test_the_workers_hold_no_store_and_one_engine_serves_them(engine_server):
    assert ask(engine_server, "ASK {}")[0] == 200
    (keeper, running), = engines(engine_server.pid).items()
    assert len(running) == 1
    workers = workers_of(engine_server.pid) - {keeper}
    assert len(workers) == 2


@pytest.mark.served
def test_a_runaway_ends_the_engine_and_the_other_queries_are_answered(engine_server):
    (keeper, before), = engines(engine_server.pid).items()
    slow_but_fine = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c }"
    with ThreadPoolExecutor(max_workers=4) as pool:
        runaway = pool.submit(ask, engine_server, RUNAWAY, "127.0.0.2")
        time.sleep(0.5)
        others = [pool.submit(ask, engine_server, slow_but_fine, f"127.0.0.{3 + i}") for i in range(3)]
        status, _, body, _ = runaway.result()
        answered = [other.result() for other in others]
    assert status == 503 and b"ran longer than 3 s" in body, body
    assert [answer[0] for answer in answered] == [200, 200, 200], answered
    wait_for(lambda: list(engines(engine_server.pid).values()) not in ([], [before]))
    (same_keeper, after), = engines(engine_server.pid).items()
    assert same_keeper == keeper and after != before
    assert "ended by SIGALRM (time)" in engine_server.log.read_text()
    assert requests.get(engine_server + "sparql", params={"query": "ASK {}"}, timeout=10,
                        headers={"Accept": "application/sparql-results+json"}).status_code == 200


@pytest.mark.served
def test_a_reload_switches_the_engine_to_the_new_release(mini_settings, tmp_path):
    build(mini_settings)
    with running_server(mini_settings.output_dir, tmp_path, shared=False, engine="shared",
                        **mini_release_settings(mini_settings)) as base:
        first = served_version(base)
        (old_keeper, _), = engines(base.pid).items()
        add_a_fact(mini_settings)
        newer = build(mini_settings)
        reload = subprocess.run([sys.executable, "-m", "lodpub.cli", "reload", "--output", str(mini_settings.output_dir)],
                                capture_output=True, text=True, timeout=120)
        assert reload.returncode == 0, reload.stderr
        wait_for(lambda: served_version(base) == newer.version and list(engines(base.pid)) not in ([], [old_keeper])
                 and len(engines(base.pid)) == 1)
        assert newer.version != first
        bursa = BURSA.replace(mini_settings.base_iri, base)
        assert b"a note added later" in ask(base, f"SELECT ?c WHERE {{ <{bursa}> ?p ?c }}")[2]
