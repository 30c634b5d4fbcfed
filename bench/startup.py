"""Time to first answer and build time, against Oxigraph in the same run (issue 21, target 1).

    python3 bench/startup.py --data /tmp/gen6k [--rounds 3] [--only serve,build] [--out bench/results]

--data is a data folder of bench/generate.py (generate it once: `python3 bench/generate.py
--agreements 6000 --out /tmp/gen6k`, about a million triples). It is measured in two layouts: as
it is (thousands of files) and as one Turtle file of the same triples (written once beside it,
DATA-one.ttl). Each round runs, alternating, ours and the peer's, each in a fresh process:

- serve: `lodpub serve --data LAYOUT` into an empty output folder, as a user starts it (its own
  public base, http://127.0.0.1:PORT/), timed from its start to its first answer (a document, 200);
  the peer is a fresh Python process that bulk-loads the same files into pyoxigraph's in-memory
  store (each file into a graph of its own), timed from its start to its exit.
- build: `lodpub build --data LAYOUT` without shapes (an empty --shapes folder) into an empty
  output folder; the peer loads the same files into pyoxigraph's in-memory store and dumps it in
  each format of the release (N-Quads, N-Triples, Turtle, TriG, JSON-LD, RDF/XML; not gzipped).

Reports the median of the rounds and the ratio (ours / peer), with the load of the machine at the
start (for serve also in CPU time: ours, of the server's processes up to the first answer but for the
dumps' completion; the peer's, of its process), and writes DIR/startup-<label>.json. The targets: serve
within 2x, build within 3x.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import requests

CHECKOUT = Path(__file__).resolve().parent.parent
# A document every generated data folder has, and how long anything may take.
FIRST_DOCUMENT = "id/region/synthetic-region-00001"
TIMEOUT_SECONDS = 1800
# The peer: load the files into the in-memory store (each file into its graph); then, for the build,
# dump the store in each format the release has.
PEER = """
import sys, pyoxigraph as ox
from pathlib import Path
files = [Path(line) for line in sys.argv[2:]]
store = ox.Store()
for path in files:
    store.bulk_load(path=str(path), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(path.as_uri()))
if sys.argv[1] != "-":
    out = Path(sys.argv[1])
    for name, fmt in (("nq", ox.RdfFormat.N_QUADS), ("trig", ox.RdfFormat.TRIG)):
        store.dump(output=str(out / f"dump.{name}"), format=fmt)
    for name, fmt in (("nt", ox.RdfFormat.N_TRIPLES), ("ttl", ox.RdfFormat.TURTLE),
                      ("jsonld", ox.RdfFormat.JSON_LD), ("rdf", ox.RdfFormat.RDF_XML)):
        ox.serialize((quad.triple for quad in store), output=str(out / f"dump.{name}"), format=fmt)
"""


def main() -> int:
    """Measure and report; write the results as JSON."""
    args = _arguments()
    layouts = {"files": args.data, "one file": one_file(args.data)}
    kinds = args.only.split(",")
    results: dict = {"label": args.label, "rounds": args.rounds, "load_at_start": os.getloadavg()[0],
                     "date": f"{datetime.now(UTC):%Y-%m-%dT%H:%MZ}", "measures": {}}
    for kind in kinds:
        for layout, data in layouts.items():
            results["measures"][f"{kind}, {layout}"] = compare(kind, data, args.rounds)
    print(report(results))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"startup-{args.label}.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a data folder of bench/generate.py")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each measure (median)")
    parser.add_argument("--only", default="serve,build", help="which measures: serve, build")
    parser.add_argument("--label", default="6k", help="names the results file")
    parser.add_argument("--out", type=Path, default=CHECKOUT / "bench" / "results")
    return parser.parse_args()


def one_file(data: Path) -> Path:
    """The triples of the data folder as one Turtle file beside it, written once (by Oxigraph)."""
    path = data.parent / f"{data.name}-one.ttl"
    if not path.is_file():
        subprocess.run([sys.executable, "-c", ONE_FILE, str(data), str(path)], check=True)
    return path


ONE_FILE = """
import sys, pyoxigraph as ox
from pathlib import Path
from lodpub.namespaces import CANONICAL_BASE, prefixes_for
triples = (quad.triple for path in sorted(Path(sys.argv[1]).rglob("*.ttl"))
           for quad in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
ox.serialize(triples, output=sys.argv[2], format=ox.RdfFormat.TURTLE, prefixes=prefixes_for(CANONICAL_BASE))
"""


def compare(kind: str, data: Path, rounds: int) -> dict:
    """Ours and the peer's seconds for `kind` on `data`, alternating, `rounds` times each: wall time, and
    (serve) the CPU time spent on the way to the first answer, which a loaded machine changes less."""
    ours, peer, ours_cpu, peer_cpu = [], [], [], []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory(prefix="startup-") as work:
            if kind == "serve":
                wall, cpu = serve_first_answer(data, Path(work))
                ours.append(wall)
                ours_cpu.append(cpu)
            else:
                ours.append(build_time(data, Path(work)))
        with tempfile.TemporaryDirectory(prefix="startup-peer-") as work:
            wall, cpu = peer_time(data, Path(work) if kind == "build" else None)
            peer.append(wall)
            peer_cpu.append(cpu)
        print(f"{kind} {data.name}: ours {ours[-1]:.1f} s, peer {peer[-1]:.1f} s"
              + (f" (CPU {ours_cpu[-1]:.1f} s and {peer_cpu[-1]:.1f} s)" if ours_cpu else ""), file=sys.stderr, flush=True)
    result = {"ours_s": ours, "peer_s": peer, "ours_median_s": statistics.median(ours),
              "peer_median_s": statistics.median(peer), "ratio": statistics.median(ours) / statistics.median(peer)}
    if ours_cpu:
        result |= {"ours_cpu_s": ours_cpu, "peer_cpu_s": peer_cpu, "ours_cpu_median_s": statistics.median(ours_cpu),
                   "peer_cpu_median_s": statistics.median(peer_cpu),
                   "cpu_ratio": statistics.median(ours_cpu) / statistics.median(peer_cpu)}
    return result


def serve_first_answer(data: Path, work: Path) -> tuple[float, float]:
    """Seconds from `lodpub serve --data` to its first answer to a document, in a fresh output folder, and
    the CPU seconds its processes had used by then (tree_cpu)."""
    port = _free_port()
    environment = {name: value for name, value in os.environ.items() if not name.startswith("LODPUB_")}
    command = [sys.executable, "-m", "lodpub.cli", "serve", "--data", str(data), "--output", str(work / "dist"),
               "--port", str(port)]
    url = f"http://127.0.0.1:{port}/doc/{FIRST_DOCUMENT}"
    began = time.perf_counter()
    with open(work / "serve.log", "w") as log:
        process = subprocess.Popen(command, cwd=work, env=environment, stdout=log, stderr=subprocess.STDOUT)
    try:
        while time.perf_counter() - began < TIMEOUT_SECONDS:
            try:
                if requests.get(url, headers={"Accept": "text/turtle"}, timeout=5).status_code == 200:
                    return time.perf_counter() - began, tree_cpu(process.pid)
            except requests.RequestException:  # not listening yet
                pass
            if process.poll() is not None:
                raise RuntimeError(f"lodpub serve exited: {(work / 'serve.log').read_text()[-2000:]}")
            time.sleep(0.05)
        raise RuntimeError(f"no answer within {TIMEOUT_SECONDS} s")
    finally:
        process.terminate()
        process.wait(60)


def tree_cpu(pid: int) -> float:
    """CPU seconds (user and system) used by process `pid`, the children it has waited for (the build's
    pool), and those of its session still running (gunicorn's workers); not the dumps' completion, which
    runs in a session of its own after the release is served (dump_completion.py)."""
    processes = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        processes[int(stat.parent.name)] = (int(fields[1]), int(fields[3]), fields)  # ppid, session, the rest
    session = processes[pid][1]
    ticks = 0
    for other, (_, other_session, fields) in processes.items():
        if other == pid or (other_session == session and _descends(other, pid, processes)):
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
            if other == pid:
                ticks += int(fields[13]) + int(fields[14])  # cutime, cstime: its children waited for
    return ticks / os.sysconf("SC_CLK_TCK")


def _descends(pid: int, ancestor: int, processes: dict) -> bool:
    while pid in processes and pid != ancestor:
        pid = processes[pid][0]
    return pid == ancestor


def build_time(data: Path, work: Path) -> float:
    """Seconds `lodpub build --data` takes without shapes, into a fresh output folder."""
    (work / "no-shapes").mkdir()
    command = [sys.executable, "-m", "lodpub.cli", "build", "--data", str(data), "--shapes", str(work / "no-shapes"),
               "--output", str(work / "dist")]
    began = time.perf_counter()
    subprocess.run(command, cwd=work, check=True, capture_output=True, timeout=TIMEOUT_SECONDS)
    return time.perf_counter() - began


def peer_time(data: Path, dumps: Path | None) -> tuple[float, float]:
    """Seconds a fresh Python process takes to load `data` into pyoxigraph's memory store (and, given
    `dumps`, to dump it there in every format), and the CPU seconds it used."""
    files = [data] if data.is_file() else sorted(data.rglob("*.ttl"))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    subprocess.run([sys.executable, "-c", PEER, str(dumps) if dumps else "-", *map(str, files)], check=True,
                   timeout=TIMEOUT_SECONDS)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def report(results: dict) -> str:
    """A table of the medians and ratios."""
    lines = [f"load average at start: {results['load_at_start']:.1f}; median of {results['rounds']} rounds",
             f"{'measure':<20} {'lodpub s':>9} {'peer s':>8} {'ratio':>6} {'CPU s':>7} {'peer CPU':>8} {'ratio':>6}"]
    for name, measure in results["measures"].items():
        cpu = (f" {measure['ours_cpu_median_s']:>7.1f} {measure['peer_cpu_median_s']:>8.1f} {measure['cpu_ratio']:>6.2f}"
               if "cpu_ratio" in measure else "")
        lines.append(f"{name:<20} {measure['ours_median_s']:>9.1f} {measure['peer_median_s']:>8.1f} "
                     f"{measure['ratio']:>6.2f}{cpu}")
    return "\n".join(lines)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


if __name__ == "__main__":
    sys.exit(main())
