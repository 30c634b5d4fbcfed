"""The memory allocator the server's processes run with (settings.allocator, LODPUB_ALLOCATOR).

Oxigraph allocates and frees a great deal while it evaluates a query. With the C library's malloc a
heavy competency question at 10 000 agreements takes 15-20 % longer in pyoxigraph than with jemalloc
(bench/README.md, "The fixed cost of a query", session 19), which is most of what separates our heavy
queries from Oxigraph server's. An allocator is chosen before a process starts, so `lodpub serve` with
`jemalloc` starts itself again with the library preloaded: the master, and every worker, query runner,
engine and background process it starts after, then run with it.
"""

import ctypes.util
import os
import sys

# The library's name as the dynamic loader finds it (Debian: the package libjemalloc2).
JEMALLOC = "jemalloc"


class AllocatorMissing(Exception):
    """The allocator the settings ask for is not installed."""


def preloaded(environ: dict[str, str] | None = None) -> bool:
    """Whether this process was started with jemalloc preloaded."""
    return JEMALLOC in (environ if environ is not None else os.environ).get("LD_PRELOAD", "")


def start_with_allocator(allocator: str) -> None:
    """Return when this process runs with `allocator`; otherwise start this command again with it
    (the call does not return). Raises AllocatorMissing when it is not installed."""
    if allocator != JEMALLOC or preloaded():
        return
    library = ctypes.util.find_library(JEMALLOC)
    if library is None:
        raise AllocatorMissing("LODPUB_ALLOCATOR=jemalloc, but jemalloc is not installed "
                               "(Debian: apt-get install libjemalloc2); or set LODPUB_ALLOCATOR=system")
    environ = dict(os.environ, LD_PRELOAD=" ".join(filter(None, [library, os.environ.get("LD_PRELOAD", "")])))
    # (Not sys.argv[0]: `lodpub` may have been started as a script, a module or by python -c.)
    command = [sys.executable, "-c", "import sys; from lodpub.cli import main; sys.exit(main())", *sys.argv[1:]]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, command, environ)
