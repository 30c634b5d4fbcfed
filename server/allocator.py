"""The memory allocator the server's processes run with (settings.allocator, LODPUB_ALLOCATOR).

Oxigraph allocates and frees a great deal while it evaluates a query. With the C library's malloc a
heavy competency question at 10 000 agreements takes 15-20 % longer in pyoxigraph than with jemalloc
(bench/README.md, "The fixed cost of a query", session 19), which is most of what separates our heavy
queries from Oxigraph server's. An allocator is chosen before a process starts, so `lodpub serve` with
`jemalloc` (or `auto`, where the library is installed) starts itself again with the library preloaded:
the master, and every worker, query runner, engine and background process it starts after, then run with it.

jemalloc as it comes keeps the pages a process freed until that process allocates again, so an idle
master or worker went on holding what loading the release had freed (at 10k 70 % more memory than
malloc); JEMALLOC_CONF has a background thread give them back a second after they were freed
(bench/README.md, "Session 20: allocator").
"""

import ctypes.util
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import Settings

# The library's name as the dynamic loader finds it (Debian: the package libjemalloc2).
JEMALLOC = "jemalloc"
SYSTEM, AUTO = "system", "auto"
# Given to jemalloc before any MALLOC_CONF of the operator's (whose options, later, win).
JEMALLOC_CONF = "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0"


class AllocatorMissing(Exception):
    """The allocator the settings ask for is not installed."""


def preloaded(environ: dict[str, str] | None = None, library: str = "") -> bool:
    """Whether this process was started with jemalloc (or `library`) preloaded."""
    preload = (environ if environ is not None else os.environ).get("LD_PRELOAD", "").split()
    return any(JEMALLOC in Path(part).name or (library and part == library) for part in preload)


def running_allocator(library: str = "") -> str:
    """The allocator this process runs with, as /health and the log say it: jemalloc or system."""
    return JEMALLOC if preloaded(library=library) else SYSTEM


def jemalloc_library(configured: str = "") -> str | None:
    """The jemalloc library to preload: `configured` (settings.jemalloc_library) where that file exists,
    else the one the dynamic loader finds by name; None when there is none."""
    if configured:
        return configured if Path(configured).is_file() else None
    return ctypes.util.find_library(JEMALLOC)


def start_with_allocator(allocator: str, configured_library: str = "") -> str:
    """Return the allocator this process runs with when it is the one `allocator` asks for (`auto`:
    jemalloc where installed, else the system's); otherwise start this command again with jemalloc
    (the call does not return). Raises AllocatorMissing when `jemalloc` is asked for and not installed."""
    if allocator == SYSTEM or preloaded(library=configured_library):
        return running_allocator(configured_library)
    library = jemalloc_library(configured_library)
    if library is None:
        if allocator == AUTO:
            return SYSTEM
        where = f" at {configured_library}" if configured_library else " (Debian: apt-get install libjemalloc2)"
        raise AllocatorMissing(f"LODPUB_ALLOCATOR=jemalloc, but jemalloc is not installed{where}; "
                               "or set LODPUB_ALLOCATOR=system")
    os.execve(sys.executable, _command(), _environment(library))


def _environment(library: str) -> dict[str, str]:
    """This process's environment with `library` preloaded and JEMALLOC_CONF before the operator's MALLOC_CONF."""
    preload = " ".join(filter(None, [library, os.environ.get("LD_PRELOAD", "")]))
    conf = ",".join(filter(None, [JEMALLOC_CONF, os.environ.get("MALLOC_CONF", "")]))
    return dict(os.environ, LD_PRELOAD=preload, MALLOC_CONF=conf)


def _command() -> list[str]:
    """This process's command line, to run again as it was started (a script, a module or python -c
    alike); what it has written so far is flushed first."""
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        return [part.decode() for part in Path("/proc/self/cmdline").read_bytes().split(b"\0")[:-1]]
    except OSError:  # no /proc: as `lodpub` would run it
        return [sys.executable, "-c", "import sys; from lodpub.cli import main; sys.exit(main())", *sys.argv[1:]]


def allocator_said(allocator: str, settings: "Settings") -> str:
    """What the log and /health say of the allocator the server runs with (`allocator`, as
    start_with_allocator returned it) under `settings`: which, and why where it was chosen."""
    if allocator == JEMALLOC:
        return f"jemalloc ({_preloaded_library(settings.jemalloc_library)})"
    if settings.allocator == AUTO:
        where = settings.jemalloc_library or "libjemalloc2"
        return f"system (the C library's malloc; jemalloc, {where}, is not installed)"
    return "system (the C library's malloc)"


def _preloaded_library(library: str) -> str:
    preload = os.environ.get("LD_PRELOAD", "").split()
    return next((part for part in preload if JEMALLOC in Path(part).name or part == library), "preloaded")
