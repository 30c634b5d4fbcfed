"""README.md's Quick start: exactly two commands, and the first one works as written."""

import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import CHECKOUT

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


def test_the_first_command_installs_and_builds_the_dataset(tmp_path: Path):
    """Run it word for word, with this interpreter first on PATH, the output sent to a temporary folder."""
    interpreter_bin = str(Path(sys.executable).parent)
    environment = {**os.environ, "PATH": interpreter_bin + os.pathsep + os.environ["PATH"],
                   "LODPUB_OUTPUT_DIR": str(tmp_path / "dist")}
    result = subprocess.run(quick_start_commands()[0], shell=True, cwd=CHECKOUT, env=environment,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    current = tmp_path / "dist" / "current"
    assert current.is_symlink() and (current / "partnerships.ttl").stat().st_size > 0
    assert f"Release {os.readlink(current).split('/')[-1]} written to" in result.stdout
