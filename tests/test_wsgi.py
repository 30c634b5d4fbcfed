"""Running the publisher: gunicorn by default, Flask's development server only behind --dev."""

import os
import subprocess
import sys

import requests

from conftest import CHECKOUT, free_port, wait_until_up


def test_production_runs_under_gunicorn(server):
    assert requests.get(server + "health", timeout=30).headers["Server"].startswith("gunicorn")


def test_dev_runs_flasks_development_server(project_release, tmp_path):
    port = free_port()
    environment = {name: value for name, value in os.environ.items() if not name.startswith("LODPUB_")}
    environment["LODPUB_OUTPUT_DIR"] = str(project_release.path.parent.parent)
    log = tmp_path / "dev.log"
    with open(log, "w") as output:
        process = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--dev", "--host", "127.0.0.1",
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
