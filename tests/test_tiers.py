"""The tiers of the suite (tests/tiers.py): what a default run leaves out and says so in one line, what
LODPUB_TEST_TIERS and CI=true bring back, and the guard that fails a test starting a server outside its tier."""

import os
import subprocess
import sys

import pytest
from conftest import CHECKOUT
from tiers import TIERS, entering

SERVED = "tests/test_wsgi.py::test_production_runs_under_gunicorn"  # in `served` through the `server` fixture
UNIT = "tests/test_wsgi.py::test_worker_recycling_is_jittered_and_can_be_turned_off"


def collect(*args: str, **env: str) -> subprocess.CompletedProcess:
    """`pytest --collect-only` of test_wsgi.py in one process, with `env` and without the caller's tier settings."""
    environment = {name: value for name, value in os.environ.items()
                   if not name.startswith("LODPUB_") and name != "CI"}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider", "--collect-only",
                           "-q", "tests/test_wsgi.py", *args], cwd=CHECKOUT, env=environment | env,
                          capture_output=True, text=True, timeout=120)


def left_out_lines(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("tiers left out:")]


def test_a_default_run_leaves_the_other_tiers_out_and_says_how_to_run_them_in_one_line():
    result = collect()
    assert result.returncode == 0, result.stdout + result.stderr
    assert UNIT in result.stdout and SERVED not in result.stdout
    [line] = left_out_lines(result)
    assert "served (2)" in line and "LODPUB_TEST_TIERS=all" in line  # gunicorn and Flask's server
    assert all(tier in line.split(";")[0] for tier in TIERS)


def test_a_tier_asked_for_runs_and_is_no_longer_said_to_be_left_out():
    result = collect(LODPUB_TEST_TIERS="served,browser")
    assert SERVED in result.stdout and UNIT in result.stdout
    [line] = left_out_lines(result)
    left_out = line.split(";")[0]
    assert "served" not in left_out and "browser" not in left_out and "stores" in left_out


@pytest.mark.parametrize("env", [{"CI": "true"}, {"LODPUB_TEST_TIERS": "all"}])
def test_ci_and_all_run_every_tier(env):
    result = collect(**env)
    assert SERVED in result.stdout and UNIT in result.stdout
    assert left_out_lines(result) == []


def test_an_unknown_tier_is_a_usage_error_naming_the_tiers():
    result = collect(LODPUB_TEST_TIERS="servd")
    assert result.returncode == 4
    assert "servd" in result.stderr and "served" in result.stderr


def test_starting_a_server_outside_its_tier_fails_saying_which_mark_is_missing():
    with pytest.raises(pytest.fail.Exception, match=r"belongs to the 'served' tier: mark it @pytest.mark.served"):
        entering("served", "`lodpub serve`")
