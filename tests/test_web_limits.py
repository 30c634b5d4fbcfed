"""Query runners: real forked processes, killed on time, replaced after a crash, kept between queries."""

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from server.web.limits import QueryCrashed, QueryRunners, QueryTimeout

MB = 1024 * 1024


def _call(function, *arguments):
    return function(*arguments)


def _pid_after(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


@pytest.fixture
def runners():
    made = QueryRunners(_call, 200 * MB, keep=2)
    yield made
    made.stop()


def _alive(pid: int) -> bool:
    """Whether process `pid` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        status = open(f"/proc/{pid}/status").read()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def test_a_query_runs_in_a_child_that_is_kept_for_the_next_query(runners):
    first = runners.run((os.getpid,), timeout=10)
    second = runners.run((os.getpid,), timeout=10)
    assert first != os.getpid()
    assert first == second


def test_what_the_work_raises_is_raised_again_and_the_runner_stays(runners):
    pid = runners.run((os.getpid,), timeout=10)
    with pytest.raises(ValueError, match="not a number"):
        runners.run((int, "not a number"), timeout=10)
    assert runners.run((os.getpid,), timeout=10) == pid


def test_a_query_past_its_time_is_stopped_and_its_runner_killed(runners):
    pid = runners.run((os.getpid,), timeout=10)
    started = time.monotonic()
    with pytest.raises(QueryTimeout):
        runners.run((time.sleep, 30), timeout=1)
    assert time.monotonic() - started < 3
    assert not _alive(pid)
    replacement = runners.run((os.getpid,), timeout=10)
    assert replacement not in (pid, os.getpid())


def test_a_query_that_takes_too_much_memory_crashes_alone(runners):
    with pytest.raises(QueryCrashed):
        runners.run((bytearray, 400 * MB), timeout=30)
    assert runners.run((len, "still answering"), timeout=10) == 15


def test_a_runner_does_not_hold_the_servers_connections(runners):
    """A client connection the server closes must close: a runner forked while it was open must
    not keep it open (the client would wait for the end of the answer forever)."""
    server_side, client_side = socket.socketpair()
    runners.run((os.getpid,), timeout=10)
    server_side.close()
    client_side.settimeout(5)
    assert client_side.recv(1) == b""
    client_side.close()


def test_idle_runners_beyond_keep_are_stopped(runners):
    with ThreadPoolExecutor(max_workers=3) as pool:
        pids = set(pool.map(lambda _: runners.run((_pid_after, 1), timeout=10), range(3)))
    assert len(pids) == 3
    assert sum(_alive(pid) for pid in pids) == 2


def test_runners_end_when_their_server_dies(tmp_path):
    script = textwrap.dedent("""
        import os, sys, time
        from server.web.limits import QueryRunners
        runners = QueryRunners(lambda: os.getpid(), 100 * 1024 * 1024, keep=1)
        print(runners.run((), timeout=10), flush=True)
        time.sleep(60)
    """)
    server = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                              cwd=os.path.dirname(os.path.dirname(__file__)))
    runner = int(server.stdout.readline())
    assert _alive(runner)
    server.send_signal(signal.SIGKILL)
    server.wait()
    deadline = time.monotonic() + 10
    while _alive(runner) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(runner)
