"""The pool of forked processes that reads the files and writes the dumps (pool.py)."""

import os
import subprocess
import sys
import time
from pathlib import Path

from lodpub.pool import CHUNKS_PER_JOB, map_in_forked_pool


def _which_process(offset: int, item: int) -> tuple[int, int]:
    return item + offset, os.getpid()


def test_many_items_go_to_the_processes_in_chunks_and_come_back_in_order():
    items = list(range(2 * CHUNKS_PER_JOB * 5))
    outcomes = map_in_forked_pool(_which_process, items, 2, 1000)

    assert [value for value, _ in outcomes] == [item + 1000 for item in items]
    assert os.getpid() not in {pid for _, pid in outcomes}
    chunks = [{pid for _, pid in outcomes[start:start + 5]} for start in range(0, len(items), 5)]
    assert all(len(pids) == 1 for pids in chunks)  # each chunk of five read by one process



# A process that maps slow items over a pool of two, each of its processes saying its pid in `folder`.
_MAPPING = """
import os, sys, time
from pathlib import Path
from lodpub.pool import map_in_forked_pool

def wait(folder, item):
    (Path(folder) / str(os.getpid())).touch()
    time.sleep(600)

map_in_forked_pool(wait, [1, 2], 2, sys.argv[1])
"""


def test_the_processes_of_a_pool_end_when_the_process_that_made_it_is_killed(tmp_path):
    """Killed (the OOM killer, an operator), a build must not leave its pool waiting for work forever,
    holding what it inherited: the build's lock among it, the next build would wait on them for good."""
    mapping = subprocess.Popen([sys.executable, "-c", _MAPPING, str(tmp_path)])
    deadline = time.monotonic() + 60
    while len(list(tmp_path.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    pool = [int(path.name) for path in tmp_path.iterdir()]
    assert len(pool) == 2 and all(_alive(pid) for pid in pool)

    mapping.kill()
    mapping.wait(timeout=30)
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in pool) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in pool)


def _alive(pid: int) -> bool:
    """Whether process `pid` runs (a zombie, ended but not yet reaped by its new parent, does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
