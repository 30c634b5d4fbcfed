"""How long the search index takes to make, and how much memory it holds, for a data folder.

    python3 bench/generate.py --agreements 10000 --out /tmp/g10k
    python3 bench/search_index.py --data /tmp/g10k [--rounds 3]
    python3 bench/search_index.py --data data          # the project's data

The data folder's Turtle files and the ontology are loaded into Oxigraph in memory (as the embedded
store holds a release, without writing one: `lodpub build` of 10k agreements takes minutes), and the
index is made from it exactly as the server makes it (web/search.py `build_index`, through the
store's SPARQL). Time: the median of `--rounds` builds. Memory: what the index holds once made
(tracemalloc, in a build of its own, as tracing slows it), and the process's peak resident size.
Also: the size of the file the workers share it by, the time to write and map it, and the time of a
few searches on the mapped index, as the workers search it (total hits and milliseconds).

    python3 bench/search_index.py --release /tmp/eng-b30k/dist/current

With `--release`, what the shared engine pays to make the index of a built release (issue 21, target 4):
the release loaded as the engine loads it, then the index's parts made and sent as the engine makes and
sends them (in pieces, to /dev/null); the process's resident size after the load, and its peak above it meanwhile.
"""

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import pyoxigraph as ox

from lodpub import search_index_file
from lodpub.config import OUR_ONTOLOGY_DIR
from lodpub.kept_search_index import mapped
from lodpub.namespaces import CANONICAL_BASE
from lodpub.store.embedded import EmbeddedStore
from lodpub.store.processes import pickled_outcome, send_message
from lodpub.store.sparql_store import SparqlStore
from lodpub.web.search import build_index, forget_index, index_layout, index_piece


class LoadedStore(SparqlStore):
    """Turtle files in Oxigraph in memory, each in a named graph, queried over their union."""

    def __init__(self, folders: list[Path]) -> None:
        self.base_iri = CANONICAL_BASE
        self.version = "bench"
        self.written_literals: dict = {}
        self.oxigraph = ox.Store()
        for folder in folders:
            for path in sorted(folder.rglob("*.ttl")):
                self.oxigraph.bulk_load(path=str(path), format=ox.RdfFormat.TURTLE,
                                        to_graph=ox.NamedNode(path.resolve().as_uri()))
        self.triple_count = len(self.oxigraph)

    def _query(self, query, default_graphs, named_graphs):
        return self.oxigraph.query(query if isinstance(query, str) else query.text, use_default_graph_as_union=True)


def measure(data: Path, rounds: int) -> dict:
    """The index's size, build times and memory for the data folder `data` with our ontology."""
    started = time.perf_counter()
    store = LoadedStore([data, OUR_ONTOLOGY_DIR])
    loaded = time.perf_counter() - started
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        index = build_index(store)
        times.append(time.perf_counter() - started)
    del index
    tracemalloc.start()
    index = build_index(store)
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    with tempfile.TemporaryDirectory() as folder:
        kept = Path(folder) / "kept.index"
        started = time.perf_counter()
        with open(kept, "wb") as file:
            search_index_file.write(file, *index.parts())
        written = time.perf_counter() - started
        started = time.perf_counter()
        index = mapped(kept)  # searched below as the workers search it
        read = time.perf_counter() - started
        kept_size = kept.stat().st_size
    searches = {}
    for query in ("bursa", "harputem", "synthetic", "liberec region", "a"):
        started = time.perf_counter()
        searches[query] = (index.search(query, "en", 50).total, round((time.perf_counter() - started) * 1000, 1))
    return {"data": str(data), "triples": store.triple_count, "load_seconds": round(loaded, 2),
            "resources": len(index), "texts": index.text_count, "words": index.word_count,
            "build_seconds": [round(seconds, 2) for seconds in times],
            "build_seconds_median": round(statistics.median(times), 2),
            "index_mb": round(held / 2**20, 1),
            "kept_mb": round(kept_size / 2**20, 1), "kept_write_seconds": round(written, 2),
            "kept_read_seconds": round(read, 2), "searches_total_and_ms": searches,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def in_engine(release: Path) -> dict:
    """The peak resident size above the loaded store while the index of `release` is made and sent as
    the shared engine makes and sends it (the kernel's high-water mark, reset once the store is loaded)."""
    started = time.perf_counter()
    store = EmbeddedStore(release, memory_max_triples=10**12)
    loaded = time.perf_counter() - started
    held = _status_mb("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # the high-water mark starts again from here
    started = time.perf_counter()
    descriptor = os.open(os.devnull, os.O_WRONLY)
    try:
        meta, layout = index_layout(store)
        made = time.perf_counter() - started
        send_message(descriptor, pickled_outcome("value", (meta, layout)))
        for name, (size, _) in layout.items():
            start = 0
            while start < size:
                piece = index_piece(store, name, start)
                send_message(descriptor, pickled_outcome("value", piece))
                start += len(piece)
        forget_index(store)
    finally:
        os.close(descriptor)
    return {"release": str(release), "triples": store.triple_count, "load_seconds": round(loaded, 1),
            "rss_after_load_mb": held, "index_seconds": round(made, 1),
            "peak_above_store_mb": round(_status_mb("VmHWM") - held, 1)}


def _status_mb(field: str) -> float:
    """A field of /proc/self/status in kB, as megabytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return round(int(line.split()[1]) / 1024, 1)
    raise KeyError(field)


def main() -> None:
    """Measure, and print the numbers as JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", type=Path, help="a data folder (data/, or bench/generate.py's)")
    source.add_argument("--release", type=Path, help="a built release: the engine's peak memory while making it")
    parser.add_argument("--rounds", type=int, default=3, help="builds timed (default 3)")
    arguments = parser.parse_args()
    result = in_engine(arguments.release) if arguments.release else measure(arguments.data, arguments.rounds)
    json.dump(result, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
