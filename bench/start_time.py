"""The start of a server of a release built already, as bench/engine.py starts it (no queries, no peer): the
seconds to its first answer and the CPU time its processes took by then, with the release's files in the page
cache or, with --cold, evicted from it first (issue 21, item 4 of session 21's leftovers).

    python3 bench/start_time.py --work /tmp/mem-b100k [--cold] [--engine auto]

--cold evicts only the files of that release and of its search index (posix_fadvise DONTNEED), not the
machine's whole cache, which the other runs on it read. Prints one JSON line.
"""

import argparse
import json
import os
from pathlib import Path

import fixed_cost
from run import UNBOUNDED, _descendants, start


def main() -> None:
    """Start, measure, stop."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, required=True, help="bench/run.py's working folder, with a release")
    parser.add_argument("--cold", action="store_true", help="evict the release's files from the page cache first")
    parser.add_argument("--engine", default="auto")
    options = parser.parse_args()
    served = options.work / "dist"
    if options.cold:
        evict([*(served / "current").resolve().iterdir(), *(served / "search-index").glob("*")])
    settings = UNBOUNDED | {"LODPUB_DOCUMENTS_AHEAD": "off", "LODPUB_ENGINE": options.engine,
                            "LODPUB_PUBLIC_BASE": fixed_cost.BASE}
    load = os.getloadavg()
    server, seconds = start(["release", str(served)], options.work, settings)
    try:
        print(json.dumps({"cold": options.cold, "load_average_before": load, "start_to_first_answer_s": seconds,
                          "cpu_s": cpu_seconds([server.process.pid, *_descendants(server.process.pid)]),
                          "load_average_after": os.getloadavg(), "rss_mb": server.rss_mb()}))
    finally:
        server.process.terminate()
        server.process.wait(timeout=120)


def evict(paths: list[Path]) -> None:
    """Drop the pages of the files among `paths` from the page cache."""
    for path in paths:
        if path.is_file():
            descriptor = os.open(path, os.O_RDONLY)
            try:
                os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(descriptor)


def cpu_seconds(pids: list[int]) -> float:
    """The CPU time of `pids` and of the children they reaped (utime, stime, cutime, cstime)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += sum(int(field) for field in fields[11:15])
    return round(ticks / os.sysconf("SC_CLK_TCK"), 1)


if __name__ == "__main__":
    main()
