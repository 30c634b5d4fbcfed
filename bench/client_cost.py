"""What a first visit costs the client, beside what it costs each server.

    python3 bench/client_cost.py --work /tmp/q-b10k [--rounds 4] [--seconds 3] [--c-clients-only]

bench/run.py measures first visits (a Turtle document never asked before, a new connection each) with four
client threads of one Python process, against Oxigraph server's DESCRIBE of the same IRIs. Its rate can be
bound by that client rather than by either server. On the release bench/run.py prepared in `--work`, this
measures, alternating between the servers, `--rounds` rounds (of `--seconds` for the Python client):

- the rate of four client threads, the client process's CPU per request, each server's CPU per request (its
  processes, from /proc) and the share of the machine left idle (/proc/stat);
- then, with no server of ours or Oxigraph's: the client's CPU per request for answers replayed as they are
  (our document's head and gzip, the same head without gzip, Oxigraph's head), from a minimal server in
  another process, so that only the client's reading of each answer differs;
- last, with fresh servers, the rates clients written in C get: they spend a small part of what either
  server spends on a request, so the servers set the rate. Both open a new connection for every request,
  as bench/run.py's client does, CLIENTS and 2 * CLIENTS at once:
  - siege (Debian's siege): HTTP/1.1 with `Connection: close`, through a list of every resource's document
    (or DESCRIBE), each round starting elsewhere in it; its users walk the list side by side, so a document
    is asked by each of them;
  - ab (ApacheBench, Debian's apache2-utils): HTTP/1.0, one URL a run, another each round. Our requests then
    take gunicorn's parser, not the shortcut a plain HTTP/1.1 request takes (serving/plain.py).
  A document written ahead is read and sent by the same code the first time and every time after (no answer
  is kept), and Oxigraph keeps no answers either, so asking a document again measures a first visit's work.
"""

import argparse
import gzip
import itertools
import json
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

import requests
from fixed_cost import _cpu_seconds, _resources
from run import BASE, UNBOUNDED, Server, documents_written, load_into_oxigraph, start

CLIENTS = 4
# Clients written in C, each used where installed: siege (HTTP/1.1, a list of URLs) and ab (HTTP/1.0, one URL),
# and the requests of each of their rounds (Oxigraph's threads, below, bound them).
C_CLIENTS = ("siege", "ab")
C_REQUESTS = 8000
# Oxigraph server 0.5 keeps the thread of every connection it answered (6 003 threads after 6 000 DESCRIBEs
# over new connections): it slows, and past about 16 000 (four memory maps a thread against the kernel's
# vm.max_map_count, 65 530) it fails to make the next one and exits. Past this many, a new one is started.
OXIGRAPH_THREADS = 1000
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
    parser.add_argument("--c-clients-only", action="store_true", help="only the rates of the clients written in C")
    arguments = parser.parse_args()
    results = {}
    if not arguments.c_clients_only:
        results["servers"] = measure_servers(arguments.work, arguments.rounds, arguments.seconds)
        results["replayed_ms_client_cpu"] = measure_replayed(results["servers"].pop("heads"), arguments.rounds)
    results["c_clients"] = measure_with_c_clients(arguments.work, arguments.rounds)
    arguments.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(json.dumps(results, indent=2))
    return 0


def measure_servers(work: Path, rounds: int, seconds: float) -> dict:
    """Rate, client CPU, server CPU and idle share per round, our first visits against Oxigraph's DESCRIBE."""
    ours, _ = start(["lodpub", str(work / "dist"), str(work / "data")], work, UNBOUNDED)
    peer = _oxigraph(work)
    try:
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
        summary = _summary(measured)
        summary["heads"] = {"lodpub": _head(ours.base + "doc/" + next_of(fresh)[len(BASE):])}
        return summary
    finally:
        ours.stop()
        peer.stop()


def _summary(measured: dict[str, list[dict]]) -> dict:
    """The median of each measure over the rounds, per server, and the ratio of the rates (ours to Oxigraph's)."""
    summary = {label: {key: round(statistics.median(entry[key] for entry in entries), 3) for key in entries[0]}
               for label, entries in measured.items()}
    summary["ratio"] = round(summary["lodpub_first_visit"]["per_second"]
                             / summary["oxigraph_describe"]["per_second"], 3)
    return summary


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


def measure_with_c_clients(work: Path, rounds: int) -> dict:
    """Per client written in C that is installed (C_CLIENTS) and per concurrency (CLIENTS, 2 * CLIENTS): the
    median rate and server CPU per request over `rounds` rounds of C_REQUESTS, our Turtle documents against
    Oxigraph's DESCRIBE of the same IRIs, a new connection each, and the ratio of the rates. Each round meets
    an Oxigraph server that has answered no more than OXIGRAPH_THREADS connections, at its best."""
    tools = [tool for tool in C_CLIENTS if shutil.which(tool)]
    if not tools:
        return {"left_out": "neither siege nor ab is installed (apt-get install siege apache2-utils)"}
    ours, _ = start(["lodpub", str(work / "dist"), str(work / "data")], work, UNBOUNDED)
    peer = _oxigraph(work)
    try:
        documents_written(ours, work)
        iris = _resources(ours)[100:]
        results: dict[str, dict] = {}
        for tool, clients in itertools.product(tools, (CLIENTS, 2 * CLIENTS)):
            measured: dict[str, list[dict]] = {"lodpub_first_visit": [], "oxigraph_describe": []}
            for round_ in range(rounds):
                asked = {"lodpub_first_visit": ours, "oxigraph_describe": peer}
                for label in asked if round_ % 2 == 0 else reversed(asked):
                    server = asked[label]
                    target = _targets(work, tool, server, label == "lodpub_first_visit", iris, round_)
                    measured[label].append(_measured_by(tool, server, clients, target))
                if len(list(Path(f"/proc/{peer.process.pid}/task").iterdir())) > OXIGRAPH_THREADS:
                    peer.stop()
                    peer = _oxigraph(work)
            summary = _summary(measured)
            summary["rates_by_round"] = {label: [round(entry["per_second"]) for entry in entries]
                                         for label, entries in measured.items()}
            results[f"{tool}_{clients}_clients"] = summary
        return results
    finally:
        ours.stop()
        peer.stop()


def _oxigraph(work: Path) -> Server:
    """A fresh Oxigraph server holding the release."""
    peer, _ = start(["oxigraph"], work)
    try:
        load_into_oxigraph((work / "dist" / "current").resolve(), peer)
    except BaseException:
        peer.stop()
        raise
    return peer


def _targets(work: Path, tool: str, server: Server, ours: bool, iris: list[str], round_: int) -> list[str]:
    """What `tool` is given to ask of `server` in round `round_`: for siege a file of every IRI's request
    (our document, or Oxigraph's DESCRIBE), each round from another IRI on; for ab, which asks one URL,
    the request of one IRI, another each round."""
    iris = iris[round_ * 997 % len(iris):] + iris[:round_ * 997 % len(iris)]
    if tool == "siege":
        lines = ([server.base + "doc/" + iri[len(BASE):] for iri in iris] if ours else
                 [f"{server.query} POST {urllib.parse.urlencode({'query': f'DESCRIBE <{iri}>'})}" for iri in iris])
        urls = work / f"siege-{'lodpub' if ours else 'oxigraph'}.urls"
        urls.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return ["-f", str(urls)]
    if ours:
        return [server.base + "doc/" + iris[0][len(BASE):]]
    body = work / "ab-describe.form"
    body.write_text(urllib.parse.urlencode({"query": f"DESCRIBE <{iris[0]}>"}), encoding="utf-8")
    return ["-p", str(body), "-T", "application/x-www-form-urlencoded", server.query]


def _measured_by(tool: str, server: Server, clients: int, target: list[str], count: int = C_REQUESTS) -> dict:
    """`tool`'s rate for `count` requests (siege: rounded down to a multiple of `clients`), `clients` at once,
    asking `target`, and the server's CPU per request (ms); raises unless every request was answered 200."""
    pids = server.pids()
    before = _cpu_seconds(pids)
    if tool == "siege":  # HTTP/1.1, Connection: close and Accept-Encoding: gzip, deflate (siege's own), no pause
        count -= count % clients
        command = ["siege", "-b", "-q", "--json-output", "-c", str(clients), "-r", str(count // clients)]
    else:  # HTTP/1.0
        command = ["ab", "-q", "-c", str(clients), "-n", str(count), "-H", "Accept-Encoding: gzip"]
    finished = subprocess.run([*command, "-H", "Accept: text/turtle", *target], capture_output=True, text=True,
                              timeout=600)
    cpu = _cpu_seconds(set(pids) | set(server.pids())) - before
    report = finished.stdout + finished.stderr
    answered, failed, rate = (_siege_numbers(report) if tool == "siege" else _ab_numbers(report))
    if finished.returncode != 0 or answered != count or failed:
        raise RuntimeError(f"{tool} against {server.base}: {report[-500:]}")
    return {"per_second": rate, "server_cpu_ms": cpu / answered * 1000}


def _siege_numbers(report: str) -> tuple[int, int, float]:
    """Requests answered, failed (or not 2xx) and answered per second, from siege's JSON report."""
    numbers = json.loads(report[report.index("{"):report.rindex("}") + 1])
    return numbers["successful_transactions"], numbers["failed_transactions"], numbers["transaction_rate"]


def _ab_numbers(report: str) -> tuple[int, int, float]:
    """Requests answered, failed (or not 2xx) and answered per second, from ab's report."""

    def number(label: str) -> float:
        found = re.search(rf"^{label}:\s+([\d.]+)", report, re.MULTILINE)
        return float(found.group(1)) if found else 0.0

    return (int(number("Complete requests")), int(number("Failed requests") + number("Non-2xx responses")),
            number("Requests per second"))


def _with_length(head: bytes, length: int) -> bytes:
    """`head` with its Content-Length field saying `length`."""
    lines = [line for line in head.split(b"\r\n") if line and not line.lower().startswith(b"content-length:")]
    return b"\r\n".join([*lines, f"Content-Length: {length}".encode()]) + b"\r\n\r\n"


if __name__ == "__main__":
    sys.exit(main())
