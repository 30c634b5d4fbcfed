"""What replacing workers (max_requests) costs a busy server, with and without recycle_work_ratio.

    python3 bench/recycling.py --work /tmp/q-b10k [--requests 30000]

On the release bench/run.py prepared in `--work`, serves it three ways in turn: workers replaced every
max_requests (5 000) requests whatever their start cost (recycle_work_ratio=0, the rule before session 22),
the default (5 000 and recycle_work_ratio=20), and never (max_requests=0). Each time ab (Debian's
apache2-utils), 4 at once, a new connection each, asks one written document `--requests` times in five runs;
then the server is left 15 s, so that a replacement under way finishes and is counted. Reported per way: the
five runs' rates, the server's CPU per request over the whole (its processes, replacements included) and the
workers started.
"""

import argparse
import json
import sys
import time
from pathlib import Path

from client_cost import CLIENTS, _measured_by
from fixed_cost import _cpu_seconds, _resources
from run import BASE, UNBOUNDED, documents_written, start

WAYS = {"every_5000_requests": {"LODPUB_MAX_REQUESTS": "5000", "LODPUB_RECYCLE_WORK_RATIO": "0"},
        "default": {},
        "never": {"LODPUB_MAX_REQUESTS": "0"}}
RUNS = 5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="bench/run.py's working folder (its release)")
    parser.add_argument("--requests", type=int, default=30000)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "recycling.json")
    arguments = parser.parse_args()
    results = {way: measure(arguments.work, settings, arguments.requests) for way, settings in WAYS.items()}
    arguments.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(json.dumps(results, indent=2))
    return 0


def measure(work: Path, settings: dict[str, str], requests: int) -> dict:
    """Rates of RUNS runs of ab asking `requests` in all, the server's CPU per request and workers started."""
    ours, _ = start(["lodpub", str(work / "dist"), str(work / "data")], work, UNBOUNDED | settings)
    try:
        documents_written(ours, work)
        url = ours.base + "doc/" + _resources(ours)[500][len(BASE):]
        pids = ours.pids()
        before = _cpu_seconds(pids)
        rates = [round(_measured_by("ab", ours, CLIENTS, [url], requests // RUNS)["per_second"]) for _ in range(RUNS)]
        time.sleep(15)  # a replacement under way finishes, and its CPU is counted
        cpu = _cpu_seconds(set(pids) | set(ours.pids())) - before
        return {"rates": rates, "server_cpu_ms_per_request": round(cpu / requests * 1000, 3),
                "workers_started": ours.log.read_text(encoding="utf-8").count("Booting worker")}
    finally:
        ours.stop()


if __name__ == "__main__":
    sys.exit(main())
