"""The house rules of the code and of its test setup: the style that pyproject.toml's [tool.ruff]
sets (pycodestyle, pyflakes, import order, bugbear, pyupgrade for Python 3.11), so that CI, which
runs the tests, runs the lint too; and a test run that works without pytest-xdist."""

import importlib.util
import subprocess
import sys

from conftest import CHECKOUT, require


def test_ruff_finds_nothing_in_the_code_the_tests_or_the_benchmarks():
    require(importlib.util.find_spec("ruff") is not None, "ruff (pip install -e '.[test]')")
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "server", "tests", "bench"],
                            cwd=CHECKOUT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_tests_run_without_pytest_xdist():
    """tests/tiers.py asks xdist for `-n auto` when no -n is given; with xdist disabled the tests run in one process."""
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider", "-q",
                             "tests/test_config.py"], cwd=CHECKOUT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
