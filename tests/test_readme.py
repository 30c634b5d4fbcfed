"""README.md's Quick start: exactly two commands, and the first one works as written."""

import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from conftest import CHECKOUT, wait_until_up

README = CHECKOUT / "README.md"


def quick_start_commands() -> list[str]:
    section = README.read_text(encoding="utf-8").split("## Quick start", 1)[1]
    block = re.search(r"```(?:sh|bash|console)?\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_quick_start_has_exactly_two_commands_the_second_running_the_tests():
    commands = quick_start_commands()
    assert len(commands) == 2
    assert "pytest" in commands[1] and "[test]" in commands[1]


def test_ci_runs_the_readmes_test_command():
    ci = (CHECKOUT / ".ci" / "run").read_text(encoding="utf-8")
    assert "README.md" in ci and "commands[1]" in ci and 'eval "$test_command"' in ci


def test_the_first_command_installs_and_starts_the_publisher_on_port_5000(tmp_path: Path):
    """Run it word for word, with this interpreter first on PATH and the release built into a temporary
    folder; it must answer on http://127.0.0.1:5000/ (on the embedded store) until stopped."""
    interpreter_bin = str(Path(sys.executable).parent)
    environment = {**os.environ, "PATH": interpreter_bin + os.pathsep + os.environ["PATH"],
                   "LODPUB_OUTPUT_DIR": str(tmp_path / "dist")}
    log = tmp_path / "quick-start.log"
    with open(log, "w") as output:
        process = subprocess.Popen(quick_start_commands()[0], shell=True, cwd=CHECKOUT, env=environment,
                                   stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until_up("http://127.0.0.1:5000/health", process, log, seconds=600)
        with urllib.request.urlopen("http://127.0.0.1:5000/", timeout=30) as home:
            assert home.status == 200 and "Liberec" in home.read().decode("utf-8")
        health = json.loads(urllib.request.urlopen("http://127.0.0.1:5000/health", timeout=30).read())
        assert health["version"] == os.readlink(tmp_path / "dist" / "current").split("/")[-1]
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
