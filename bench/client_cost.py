"""What a first visit costs the client, beside what it costs each server.

    python3 bench/client_cost.py --work /tmp/q-b10k [--rounds 4] [--seconds 3]

bench/run.py measures first visits (a Turtle document never asked before, a new connection each) with four
client threads of one Python process, against Oxigraph server's DESCRIBE of the same IRIs. Its rate can be
bound by that client rather than by either server. On the release bench/run.py prepared in `--work`, this
measures, alternating between the servers, `--rounds` rounds of `--seconds`:

- the rate of four client threads, the client process's CPU per request, each server's CPU per request (its
  processes, from /proc) and the share of the machine left idle (/proc/stat);
- then, with no server of ours or Oxigraph's: the client's CPU per request for answers replayed as they are
  (our document's head and gzip, the same head without gzip, Oxigraph's head), from a minimal server in
  another process, so that only the client's reading of each answer differs.
"""

import argparse
import gzip
import itertools
import json
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import requests
from fixed_cost import _cpu_seconds, _resources
from run import BASE, UNBOUNDED, Server, documents_written, load_into_oxigraph, start

CLIENTS = 4
# A server that answers every connection with the bytes of the file it is given, then closes it.
REPLAYER = """import socket, sys
answer = open(sys.argv[1], "rb").read()
listener = socket.create_server(("127.0.0.1", 0), backlog=512)
print(listener.getsockname()[1], flush=True)
while True:
    connection, _ = listener.accept()
    connection.recv(65536)
    connection.sendall(answer)
    connection.close()
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="bench/run.py's working folder (its release)")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "client-cost.json")
    arguments = parser.parse_args()
    results = {"servers": measure_servers(arguments.work, arguments.rounds, arguments.seconds)}
    results["replayed_ms_client_cpu"] = measure_replayed(results["servers"].pop("heads"), arguments.rounds)
    arguments.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(json.dumps(results, indent=2))
    return 0


def measure_servers(work: Path, rounds: int, seconds: float) -> dict:
    """Rate, client CPU, server CPU and idle share per round, our first visits against Oxigraph's DESCRIBE."""
    ours, _ = start(["lodpub", str(work / "dist"), str(work / "data")], work, UNBOUNDED)
    peer, _ = start(["oxigraph"], work)
    try:
        load_into_oxigraph((work / "dist" / "current").resolve(), peer)
        documents_written(ours, work)
        resources = _resources(ours)
        # Ours each asked once (by one client or another): a first visit; Oxigraph keeps no documents.
        fresh, again, taken = iter(resources[10:]), itertools.cycle(resources), threading.Lock()

        def next_of(iris: Iterator[str]) -> str:
            with taken:
                return next(iris)

        calls = {"lodpub_first_visit": (ours, lambda: _document(ours, next_of(fresh))),
                 "oxigraph_describe": (peer, lambda: _describe(peer, next_of(again)))}
        measured: dict[str, list[dict]] = {label: [] for label in calls}
        for round_ in range(rounds):
            for label in calls if round_ % 2 == 0 else reversed(calls):
                server, call = calls[label]
                measured[label].append(_round(server, call, seconds))
        summary = {label: {key: round(statistics.median(entry[key] for entry in entries), 3) for key in entries[0]}
                   for label, entries in measured.items()}
        summary["ratio"] = round(summary["lodpub_first_visit"]["per_second"]
                                 / summary["oxigraph_describe"]["per_second"], 3)
        summary["heads"] = {"lodpub": _head(ours.base + "doc/" + next_of(fresh)[len(BASE):])}
        return summary
    finally:
        ours.stop()
        peer.stop()


def _round(server: Server, call: Callable[[], None], seconds: float) -> dict:
    """CLIENTS threads calling `call` for `seconds`: per second, CPU per request (ms) of this process and of
    the server, and the machine's idle share."""
    answered, until = [], time.perf_counter() + seconds

    def client() -> None:
        count = 0
        while time.perf_counter() < until:
            call()
            count += 1
        answered.append(count)

    pids = server.pids()
    server_before, client_before, idle_before = _cpu_seconds(pids), time.process_time(), _idle()
    began = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed, count = time.perf_counter() - began, sum(answered)
    idle, total = (now - before for now, before in zip(_idle(), idle_before, strict=True))
    return {"per_second": count / elapsed,
            "client_cpu_ms": (time.process_time() - client_before) / count * 1000,
            "server_cpu_ms": (_cpu_seconds(set(pids) | set(server.pids())) - server_before) / count * 1000,
            "idle_share": idle / total}


def _idle() -> tuple[int, int]:
    """The machine's idle and total jiffies so far (/proc/stat's first line; idle includes waiting for I/O)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return fields[3] + fields[4], sum(fields)


def _document(ours: Server, iri: str) -> None:
    """Ask lodpub for the Turtle document about `iri`, over a new connection (as bench/run.py does)."""
    requests.get(ours.base + "doc/" + iri[len(BASE):], headers={"Accept": "text/turtle"}, timeout=60).raise_for_status()


def _describe(peer: Server, iri: str) -> None:
    """Ask Oxigraph server to DESCRIBE `iri` in Turtle, over a new connection (as bench/run.py does)."""
    requests.post(peer.query, data={"query": f"DESCRIBE <{iri}>"}, headers={"Accept": "text/turtle"},
                  timeout=60).raise_for_status()


def _head(url: str) -> bytes:
    """The status line and fields of our answer to `url`, as sent (gzip asked for, as requests asks)."""
    response = requests.get(url, headers={"Accept": "text/turtle"}, timeout=60, stream=True)
    fields = "".join(f"{name}: {value}\r\n" for name, value in response.raw.headers.items())
    return f"HTTP/1.1 200 OK\r\n{fields}\r\n".encode("latin-1")


def measure_replayed(heads: dict, rounds: int, requests_per_round: int = 400) -> dict:
    """The client's CPU per request (ms) for answers replayed byte for byte: our head with a gzipped body,
    the same without gzip, and Oxigraph's three fields with a chunked body, the same Turtle each time."""
    turtle = b"@prefix ex: <http://example.org/> .\nex:a ex:b \"" + b"x" * 1100 + b"\" .\n"
    gzipped = gzip.compress(turtle, mtime=0)
    ours = _with_length(heads["lodpub"], len(gzipped))
    identity = _with_length(ours.replace(b"Content-Encoding: gzip\r\n", b""), len(turtle))
    answers = {"lodpub_head_gzip": ours + gzipped, "lodpub_head_identity": identity + turtle,
               "oxigraph_head_chunked": b"HTTP/1.1 200 OK\r\ncontent-type: text/turtle\r\nserver: Oxigraph\r\n"
                                        b"transfer-encoding: chunked\r\n\r\n"
                                        + f"{len(turtle):x}\r\n".encode() + turtle + b"\r\n0\r\n\r\n"}
    replayers, cpu = {}, {label: [] for label in answers}
    try:
        for label, answer in answers.items():
            path = Path(f"/tmp/lodpub-replayed-{label}")
            path.write_bytes(answer)
            replayer = subprocess.Popen([sys.executable, "-c", REPLAYER, str(path)], stdout=subprocess.PIPE, text=True)
            replayers[label] = (replayer, int(replayer.stdout.readline()))
        for _ in range(rounds):
            for label, (_, port) in replayers.items():
                before = time.process_time()
                for _ in range(requests_per_round):
                    requests.get(f"http://127.0.0.1:{port}/doc/x", headers={"Accept": "text/turtle"}, timeout=10).raise_for_status()
                cpu[label].append((time.process_time() - before) / requests_per_round * 1000)
    finally:
        for replayer, _ in replayers.values():
            replayer.kill()
    return {label: round(statistics.median(values), 3) for label, values in cpu.items()}


def _with_length(head: bytes, length: int) -> bytes:
    """`head` with its Content-Length field saying `length`."""
    lines = [line for line in head.split(b"\r\n") if line and not line.lower().startswith(b"content-length:")]
    return b"\r\n".join([*lines, f"Content-Length: {length}".encode()]) + b"\r\n\r\n"


if __name__ == "__main__":
    sys.exit(main())
