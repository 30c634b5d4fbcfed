"""The release's side of the proof of a provisional release (server/provisional_store.py), read as a store (as
before session 21) and as a stream of its N-Quads dump (since): CPU, wall time and memory, and the digests,
which must be the same (issue 21, target 1, defect 2).

    python3 bench/proof_memory.py RELEASE_FOLDER [--rounds 2]

RELEASE_FOLDER is a release's copy under a server's public base (OUTPUT/at/<hash>/<version>, as a server of
`lodpub serve --data` writes it), or any release folder. Each way runs in a fresh process, alternating.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

_MEASURE = """
import json, resource, sys, time
from pathlib import Path
from lodpub.dumps import DATA_DUMP
from lodpub.provisional_store import _digest, _quads_in, digest_of_dump
from lodpub.store.embedded import EmbeddedStore

def resident():
    return int(next(line for line in open("/proc/self/status") if line.startswith("VmRSS")).split()[1]) // 1024

folder, way = Path(sys.argv[1]), sys.argv[2]
before, cpu, wall = resident(), time.process_time(), time.time()
if way == "stream":
    count, digest = digest_of_dump(folder / DATA_DUMP)
else:
    release = EmbeddedStore(folder)
    graphs = [graph for graph in release.oxigraph.named_graphs()
              if not graph.value.endswith(("graph/description", "graph/catalogue"))]
    count, digest = _digest(_quads_in(release.oxigraph, graphs), release.written_literals)
print(json.dumps({"way": way, "quads": count, "digest": digest[:16], "cpu_s": round(time.process_time() - cpu, 2),
                  "wall_s": round(time.time() - wall, 2), "rss_before_mb": before,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))
"""


def main() -> None:
    """Measure both ways, alternating, and print one JSON line per run."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("release", type=Path)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    for _ in range(args.rounds):
        for way in ("stream", "store"):
            run = subprocess.run([sys.executable, "-c", _MEASURE, str(args.release), way], capture_output=True,
                                 text=True, check=True)
            print(json.dumps(json.loads(run.stdout)))


if __name__ == "__main__":
    main()
