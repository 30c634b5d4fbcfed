"""What an allocator costs and buys Oxigraph's in-memory store, in one process with nothing of ours around it:

    python3 bench/allocator.py --release /tmp/q-b10k/dist/current [--rounds 3] [--conf EXTRA ...]

For the C library's malloc, jemalloc with the server's settings (server/allocator.py, JEMALLOC_CONF), and
jemalloc with each `--conf` added to them (e.g. `tcache:false`), alternating, a fresh process loads the
release into pyoxigraph as the server does and reports the resident memory the store took (bytes per
triple), the CPU of each heavy competency question (median of `--rounds`) and the memory after them.

Results are printed as JSON lines (bench/README.md, "Session 20: allocator").
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
QUERIES = ("01-partners-and-status", "02-signings", "09-documents", "10-delegation-visits")
SETTLE_SECONDS = 3  # for jemalloc's background thread to give back what the load freed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--release", type=Path, required=True, help="a release folder")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--conf", action="append", default=[], help="jemalloc options added to the server's")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        print(json.dumps(measure(options.release, options.rounds)))
        return 0
    from lodpub.allocator import JEMALLOC_CONF, jemalloc_library

    library = jemalloc_library()
    variants = {"system": {}}
    if library:
        variants |= {f"jemalloc {conf}": {"LD_PRELOAD": library, "MALLOC_CONF": conf}
                     for conf in [JEMALLOC_CONF] + [f"{JEMALLOC_CONF},{extra}" for extra in options.conf]}
    for name, environment in variants.items():
        command = [sys.executable, __file__, "--child", "--release", str(options.release), "--rounds", str(options.rounds)]
        finished = subprocess.run(command, env=os.environ | environment, capture_output=True, text=True, check=True)
        print(json.dumps({"allocator": name, "load_average": os.getloadavg()[0], **json.loads(finished.stdout)}),
              flush=True)
    return 0


def measure(release: Path, rounds: int) -> dict:
    """In this process: the release loaded, its bytes per triple, and the heavy queries' CPU (ms)."""
    import pyoxigraph as ox

    from lodpub.store.embedded import _bulk_load

    manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    before = _resident()
    store = ox.Store()
    _bulk_load(store, release, manifest["base_iri"])
    time.sleep(SETTLE_SECONDS)
    loaded = _resident() - before
    result: dict = {"triples": manifest["triples"], "bytes_per_triple": round(loaded / manifest["triples"]),
                    "store_mb": round(loaded / 2**20), "cpu_ms": {}}
    for name in QUERIES:
        query = (CHECKOUT / "server" / "queries" / f"{name}.rq").read_text(encoding="utf-8")
        times = []
        for _ in range(rounds):
            began = time.process_time()
            list(store.query(query, use_default_graph_as_union=True))
            times.append(time.process_time() - began)
        result["cpu_ms"][name] = round(statistics.median(times) * 1000)
    time.sleep(SETTLE_SECONDS)
    result["after_queries_mb"] = round((_resident() - before) / 2**20)
    return result


def _resident() -> int:
    """This process's resident memory in bytes."""
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))) * 1024


if __name__ == "__main__":
    sys.exit(main())
