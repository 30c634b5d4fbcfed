"""The pool of forked processes that reads the files and writes the dumps (pool.py)."""

import os

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

