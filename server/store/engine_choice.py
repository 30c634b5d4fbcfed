"""Which engine evaluates the queries when the settings leave it to the server (settings.engine = "auto"):
a copy of the release per worker and per query slot (`per-worker`), or one copy for the whole server
(`shared-one-copy`; docs/operators.md, "One engine for the server").

The choice is made once per release, in the process that decides which release is served (the gunicorn
master, before its workers; the app itself when it runs alone), from the release's triple count and
the memory the machine has available now (MemAvailable, and the cgroup's limit less what it uses). Every
process forked after it takes the same choice (`remembered`); the log says it and why, and so does /health.

`per-worker` is kept wherever its copies fit: it answers a query without a hop to another process, and a
query past its time ends only its runner. `shared-one-copy` is chosen where per-worker would serve from
disk (a release beyond memory_store_max_triples) or its copies would not fit the memory, provided one copy
does; then the engine holds the release in memory whatever memory_store_max_triples says (that limit is
of a copy per worker). Where not even one copy fits, per-worker as before (on disk beyond the limit).
"""

import dataclasses
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from ..allocator import JEMALLOC, SYSTEM, running_allocator

if TYPE_CHECKING:
    from ..config import Settings

AUTO, PER_WORKER, SHARED_ONE_COPY = "auto", "per-worker", "shared-one-copy"

# What a copy of a release held in memory by pyoxigraph takes, per triple (bench/README.md, "One store for
# the whole server"): 427 bytes at 10k agreements (623 MB for 1.46 M), 382 at 30k (1 648 MB for 4.31 M),
# 371 at 100k (the engine's 5 294 MB for 14.27 M); the largest is taken. A busy query runner ends up
# with a copy of what it reads, up to the whole store (440-950 MB each at 10k): a copy per query slot.
BYTES_PER_TRIPLE = 430
# The same with jemalloc (allocator.py), which lays the store out less densely: 511 bytes at 10k (a
# process that loaded the release alone; 417 there with malloc), 401 at 100k (the engine's 5 461 MB after
# its start, 5 600 after the mix; 5 294 with malloc): bench/README.md, "Session 20: allocator".
JEMALLOC_BYTES_PER_TRIPLE = 520
# What a server process holds besides the store: Python, Flask, rdflib, kept documents (workers of the
# shared engine: 25-40 MB PSS; a little more resident).
PROCESS_BYTES = 100 * 2**20
# What the engine takes for a while beside its store when it makes the search index at the first start of
# a release, per triple: 115 at 30k and at 100k agreements (498 MB, 1 642 MB; bench/search_index.py --release).
INDEX_BYTES_PER_TRIPLE = 120

_log = logging.getLogger(__name__)
_remembered: dict[tuple, "Choice"] = {}
_remembered_lock = threading.Lock()


@dataclasses.dataclass(frozen=True)
class Choice:
    """The engine chosen for a release, the triples it may hold in memory, and why (a sentence)."""

    engine: str
    memory_store_max_triples: int
    reason: str


def choose(triples: int, settings: "Settings", available: int | None, allocator: str = SYSTEM) -> Choice:
    """The engine for a release of `triples` on a machine with `available` bytes of memory (None: unknown),
    its processes running with `allocator` (allocator.py: jemalloc or system)."""
    copies = settings.workers + settings.sparql_slots + settings.sparql_express_slots
    per_copy = triples * (JEMALLOC_BYTES_PER_TRIPLE if allocator == JEMALLOC else BYTES_PER_TRIPLE)
    per_worker = copies * per_copy + settings.workers * PROCESS_BYTES
    one_copy = per_copy + triples * INDEX_BYTES_PER_TRIPLE + (settings.workers + 2) * PROCESS_BYTES
    limit = settings.memory_store_max_triples
    copies_text = (f"{copies} copies ({settings.workers} workers and {copies - settings.workers} query slots) "
                   f"need about {_gb(per_worker)}")
    if available is None:
        return Choice(PER_WORKER, limit, f"the memory available is unknown: per-worker, as always ({copies_text})")
    room = f"{_gb(available)} available"
    if triples <= limit and per_worker <= available:
        return Choice(PER_WORKER, limit, f"{triples} triples: {copies_text}, {room}")
    beyond = (f"per-worker would serve from disk ({triples} triples, more than memory_store_max_triples {limit})"
              if triples > limit else f"{triples} triples: {copies_text}, more than the {room}")
    if limit > 0 and one_copy <= available:
        return Choice(SHARED_ONE_COPY, max(limit, triples),
                      f"{beyond}; one copy in one engine needs about {_gb(one_copy)}, {room}")
    return Choice(PER_WORKER, limit, f"{beyond}, and one copy (about {_gb(one_copy)}) would not fit either "
                                     f"(or memory_store_max_triples is 0): per-worker, on disk beyond the limit")


def _gb(size: int) -> str:
    return f"{size / 2**30:.1f} GB"


def available_memory() -> int | None:
    """Bytes this server may still take: the kernel's MemAvailable, or less where a cgroup limits the
    memory (its limit less what it uses); None when neither can be read."""
    found = [size for size in (_mem_available(), _cgroup_room()) if size is not None]
    return min(found) if found else None


def _mem_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_room() -> int | None:
    """The cgroup's limit less its use (v2, else v1); None without a limit."""
    for limit_file, usage_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                    "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            limit, usage = Path(limit_file).read_text().strip(), Path(usage_file).read_text().strip()
        except OSError:
            continue
        if limit.isdigit() and usage.isdigit() and int(limit) < 2**60:  # v1's "no limit" is a huge number
            return max(0, int(limit) - int(usage))
        return None
    return None


def remembered(version: str, settings: "Settings") -> Choice | None:
    """The choice made in this process (or the process it was forked from) for release `version` under `settings`."""
    with _remembered_lock:
        return _remembered.get(_key(version, settings))


def _key(version: str, settings: "Settings") -> tuple:
    """What a choice was made for: a release, and the settings the choice reads."""
    return (version, settings.workers, settings.sparql_slots, settings.sparql_express_slots,
            settings.memory_store_max_triples)


def with_engine_chosen(settings: "Settings", manifest: dict) -> "Settings":
    """`settings` with the engine and the in-memory limit chosen for the release of `manifest`, when
    settings.engine is "auto" (chosen now and logged, unless chosen already for that release); else as they are."""
    if settings.engine != AUTO:
        return settings
    key = _key(manifest["version"], settings)
    with _remembered_lock:
        choice = _remembered.get(key)
        if choice is None:
            choice = _remembered[key] = choose(int(manifest["triples"]), settings, available_memory(),
                                               running_allocator(settings.jemalloc_library))
            _log.warning("lodpub: engine auto: %s for release %s: %s", choice.engine, key[0], choice.reason)
    return dataclasses.replace(settings, engine=choice.engine, memory_store_max_triples=choice.memory_store_max_triples)


def decided_settings(settings: "Settings") -> "Settings":
    """`settings` with the engine chosen for the release the server serves now (with_engine_chosen), for the
    master before its workers: the release decided as a worker decides it, without loading it. Without a
    release to serve, per-worker (each worker says why it cannot serve)."""
    if settings.engine != AUTO:
        return settings
    if settings.store != "embedded":
        return dataclasses.replace(settings, engine=PER_WORKER)
    from . import StoreUnavailable
    from .served_release import open_decided

    try:
        _, manifest = open_decided(settings.output_dir, lambda _release, manifest: manifest)
    except StoreUnavailable:
        manifest = None
    return with_engine_chosen(settings, manifest) if manifest else dataclasses.replace(settings, engine=PER_WORKER)
