"""Running the publisher: gunicorn by default, Flask's development server only behind --dev."""

import os
import subprocess
import sys

import pytest
import requests
from conftest import CHECKOUT, free_port, wait_until_up

from lodpub.config import load_settings
from lodpub.wsgi import gunicorn_options


def test_production_runs_under_gunicorn(server):
    assert requests.get(server + "health", timeout=30).headers["Server"].startswith("gunicorn")


@pytest.mark.served
def test_dev_runs_flasks_development_server(project_release, tmp_path):
    port = free_port()
    environment = {name: value for name, value in os.environ.items() if not name.startswith("LODPUB_")}
    environment["LODPUB_OUTPUT_DIR"] = str(project_release.path.parent.parent)
    log = tmp_path / "dev.log"
    with open(log, "w") as output:
        process = subprocess.Popen([sys.executable, "-m", "lodpub.cli", "serve", "--dev", "--host", "127.0.0.1",
                                    "--port", str(port)], cwd=CHECKOUT, env=environment, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/health", process, log)
        response = requests.get(f"http://127.0.0.1:{port}/doc/id/region/bursa", headers={"Accept": "text/turtle"},
                                timeout=30)
        assert response.status_code == 200 and response.headers["Server"].startswith("Werkzeug")
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)


def test_workers_get_time_to_finish_the_longest_request_before_they_are_stopped():
    embedded = gunicorn_options(load_settings(sparql_timeout="20", store_timeout="90"))
    assert embedded["graceful_timeout"] > 20 and embedded["graceful_timeout"] < 90
    remote = gunicorn_options(load_settings(store="remote", store_query_url="http://127.0.0.1:1/query",
                                            sparql_timeout="20", store_timeout="90"))
    assert remote["graceful_timeout"] > 90


def test_worker_recycling_is_jittered_and_can_be_turned_off(tmp_path):
    options = gunicorn_options(load_settings(max_requests="1000", output_dir=tmp_path))
    assert (options["max_requests"], options["max_requests_jitter"]) == (1000, 100)
    assert options["pidfile"] == str(tmp_path / "lodpub.pid")
    off = gunicorn_options(load_settings(max_requests="0"))
    assert (off["max_requests"], off["max_requests_jitter"]) == (0, 0)
