"""The master's background processes (store/processes.start_in_background): the dumps' completion's
kin, the documents writer and the provisional release's completion. Each must stop with its master,
also when the master is killed outright, so that nothing works on for a server that is gone (and
signals a pid that may be another process's by then)."""

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

# A module the background process imports: it says it started, then works for a minute.
WORKER = textwrap.dedent("""
    import os
    import time
    from pathlib import Path

    from lodpub.store.processes import payload_from_parent


    def work():
        time.sleep(float(os.environ.get("READ_AFTER", "0")))  # as a process slow to start would
        folder, _ = payload_from_parent()
        Path(folder, "started").write_text("yes")
        time.sleep(60)
        Path(folder, "finished").write_text("yes")
""")

# The master: starts the worker, says its pid, then dies as asked.
MASTER = textwrap.dedent("""
    import os, signal, sys, time
    from lodpub.store.processes import start_in_background

    folder, how = sys.argv[1], sys.argv[2]
    process = start_in_background("background_work", "work", folder)
    print(process.pid, flush=True)
    if how == "at-once":
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(60)
""")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (reaped by nobody yet) has stopped working.
    return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"


def _wait(condition, seconds: float = 20.0) -> bool:
    give_up = time.monotonic() + seconds
    while time.monotonic() < give_up:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.fixture
def started(tmp_path):
    """Start a master in `how` mode; give its process, its background process's pid and the folder."""
    (tmp_path / "background_work.py").write_text(WORKER)
    (tmp_path / "master.py").write_text(MASTER)
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path),
                                                                              os.environ.get("PYTHONPATH", "")]))}
    masters = []

    def start(how: str):
        # The master killed at once dies before its background process reads what it was given.
        read_after = {"READ_AFTER": "2"} if how == "at-once" else {}
        master = subprocess.Popen([sys.executable, str(tmp_path / "master.py"), str(tmp_path), how],
                                  stdout=subprocess.PIPE, text=True, env={**environment, **read_after})
        masters.append(master)
        return master, int(master.stdout.readline())

    yield start
    for master in masters:
        master.kill()
        master.wait()


def test_a_background_process_dies_with_a_master_killed_outright(started, tmp_path):
    master, worker = started("later")
    assert _wait(lambda: (tmp_path / "started").exists()), "the background process never started its work"
    master.kill()
    master.wait()
    assert _wait(lambda: not _alive(worker)), "the background process outlived its master"
    assert not (tmp_path / "finished").exists()


def test_a_background_process_whose_master_died_before_it_read_does_no_work(started, tmp_path):
    master, worker = started("at-once")
    master.wait()
    assert _wait(lambda: not _alive(worker)), "the background process outlived its master"
    assert not (tmp_path / "started").exists(), "it worked for a master that was gone"
