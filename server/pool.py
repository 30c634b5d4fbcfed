"""One way to spread work over the machine's cores: a pool of forked processes that share, rather
than copy, what the work reads (a loaded graph). The build writes its dumps with it, and validation
runs its parts of the shapes with it.

The processes end with the one that made them (`_end_with_parent`): killed (by the OOM killer, or a
server's operator), it would otherwise leave them waiting for work forever, holding what they inherited,
among it the build's lock (release_folder.build_lock), so that the next build waited on them for good.
"""

import ctypes
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

Shared = TypeVar("Shared")
Item = TypeVar("Item")
Outcome = TypeVar("Outcome")

# Into how many chunks each process's share of many items is cut: enough that one process, given the
# largest items, does not leave the others waiting long at the end.
CHUNKS_PER_JOB = 16
# What the processes of a pool call, and with what (set in each of them by _receive).
_pool_call: tuple[Callable[[Any, Any], Any], Any] | None = None


def map_in_forked_pool(function: Callable[[Shared, Item], Outcome], items: list[Item], jobs: int,
                       shared: Shared) -> list[Outcome]:
    """`[function(shared, item) for item in items]`, computed by a pool of up to `jobs` processes.

    The processes are forked, so they share `shared` (a loaded graph) with this one rather than
    receive a pickled copy of it: only the items go to them, and the outcomes come back, in the
    order of `items`. With one job, or one item, nothing is forked. Many items (the files of a
    dataset) go in chunks, CHUNKS_PER_JOB for each process: one at a time, each a round trip through
    the pool's queues, 4 320 small files cost the parent about 0.5 s of CPU more.
    """
    if jobs < 2 or len(items) < 2:
        return [function(shared, item) for item in items]
    with ProcessPoolExecutor(max_workers=min(jobs, len(items)), mp_context=multiprocessing.get_context("fork"),
                             initializer=_receive, initargs=(function, shared, os.getpid())) as pool:
        return list(pool.map(_call, items, chunksize=max(1, len(items) // (jobs * CHUNKS_PER_JOB))))


def _receive(function: Callable[[Any, Any], Any], shared: Any, parent: int) -> None:
    global _pool_call
    _end_with_parent(parent)
    _pool_call = (function, shared)


def _end_with_parent(parent: int) -> None:
    """Have the kernel kill this process when `parent`, which forked it, ends (Linux's PR_SET_PDEATHSIG);
    end now if it has ended already."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    if os.getppid() != parent:  # (it ended before the line above: this process was handed to another)
        os._exit(1)


def _call(item: Any) -> Any:
    function, shared = _pool_call
    return function(shared, item)
