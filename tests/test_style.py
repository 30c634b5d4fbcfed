"""The code keeps the house style that pyproject.toml's [tool.ruff] sets (pycodestyle, pyflakes,
import order, bugbear, pyupgrade for Python 3.11), so CI, which runs the tests, runs the lint too."""

import importlib.util
import subprocess
import sys

from conftest import CHECKOUT, require


def test_ruff_finds_nothing_in_the_code_the_tests_or_the_benchmarks():
    require(importlib.util.find_spec("ruff") is not None, "ruff (pip install -e '.[test]')")
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "server", "tests", "bench"],
                            cwd=CHECKOUT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
