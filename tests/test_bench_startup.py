"""bench/startup.py counts the CPU a starting server used: its own, its waited-for children's, and its
running descendants' in its session, not a process it started in a session of its own (the dumps' completion)."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
# A parent that burns CPU itself, in a child it waits for, in a running child of its session, and in a
# running child of a session of its own (which is not counted); then says how much each burnt.
TREE = """
import os, subprocess, sys, time
burn = "import time\\nwhile time.process_time() < {0}: pass\\nprint('done', flush=True)\\ntime.sleep(60)"
subprocess.run([sys.executable, "-c", burn.format(0.4).replace("time.sleep(60)", "")], check=True, stdout=subprocess.DEVNULL)
counted = subprocess.Popen([sys.executable, "-c", burn.format(0.4)], stdout=subprocess.PIPE, text=True)
apart = subprocess.Popen([sys.executable, "-c", burn.format(2.0)], stdout=subprocess.PIPE, text=True,
                         start_new_session=True)
counted.stdout.readline(); apart.stdout.readline()
while time.process_time() < 0.4: pass
print(time.process_time(), counted.pid, apart.pid, flush=True)
time.sleep(60)
"""


@pytest.fixture(scope="module")
def startup():
    sys.path.insert(0, str(BENCH))
    try:
        import startup
    finally:
        sys.path.remove(str(BENCH))
    return startup


def test_the_cpu_of_a_server_is_its_processes_but_the_completions(startup):
    tree = subprocess.Popen([sys.executable, "-c", TREE], stdout=subprocess.PIPE, text=True)
    children = []
    try:
        own, *children = tree.stdout.readline().split()
        used = startup.tree_cpu(tree.pid)
    finally:
        for pid in [*map(int, children), tree.pid]:
            os.kill(pid, signal.SIGKILL)
        tree.wait()

    assert float(own) + 0.75 <= used < float(own) + 0.8 + 1.0  # the children of 0.4 s each, not the 2 s apart
