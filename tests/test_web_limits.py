"""Query runners: real forked processes, killed on time, replaced after a crash, kept between queries."""

import fcntl
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from lodpub.web.limits import ANSWER_PIPE_BYTES, QueryCrashed, QueryRunners, QueryTimeout

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


def test_an_answer_that_comes_back_through_the_pipe_fits_in_it_whole(runners):
    """The runner writes such an answer at once, without waiting for the worker to read each part."""
    answer = os.urandom(900_000)
    assert runners.run((bytes, answer), timeout=10) == answer
    (runner,) = runners._idle
    assert fcntl.fcntl(runner.answers, fcntl.F_GETPIPE_SZ) >= ANSWER_PIPE_BYTES > len(answer)


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
        from lodpub.web.limits import QueryRunners
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


def _deep_query(operators: int) -> bool:
    """Oxigraph's answer to an ASK with a chain of `operators` negations."""
    import pyoxigraph

    return bool(pyoxigraph.Store().query("ASK { FILTER(" + "!" * operators + "true) }"))


def test_the_deepest_query_under_the_size_limit_runs_and_a_deeper_one_crashes_only_its_runner(runners, caplog):
    """50 000 operators (a 50 KB query) overflow a thread's default 8 MB stack; a runner's is large
    enough. Beyond it the engine crashes: the runner dies alone, the crash is logged and named."""
    assert runners.run((_deep_query, 50_000), timeout=30) is True
    with pytest.raises(QueryCrashed) as crash:
        runners.run((_deep_query, 400_000), timeout=60)
    assert crash.value.cause == "stack"
    assert "query runner" in caplog.text and "SIGSEGV" in caplog.text and "stack" in caplog.text
    assert runners.run((len, "still answering"), timeout=10) == 15


def test_a_crash_for_want_of_memory_says_memory(runners):
    with pytest.raises(QueryCrashed) as crash:
        runners.run((bytearray, 400 * MB), timeout=30)
    assert crash.value.cause == "memory"


def test_an_answer_file_beyond_its_limit_fails_to_be_written():
    limited = QueryRunners(_call, 200 * MB, keep=1, file_bytes=1000)
    try:
        path = f"/tmp/lodpub-limit-test-{os.getpid()}"
        with pytest.raises(OSError) as error:
            limited.run((_write, path, 5000), timeout=10)
        assert error.value.errno == 27  # EFBIG: the write failed, the runner was not killed
        assert limited.run((_write, path, 500), timeout=10) == 500
    finally:
        limited.stop()
        os.unlink(path)


def _write(path: str, size: int) -> int:
    with open(path, "wb") as file:
        return file.write(b"x" * size)


def test_idle_runners_are_stopped_after_idle_seconds_without_waiting_for_a_query(runners, monkeypatch):
    monkeypatch.setattr("lodpub.web.limits.IDLE_SECONDS", 0.4)
    pid = runners.run((os.getpid,), timeout=10)
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid) and runners.idle_count() == 0


def test_a_runner_forked_for_a_thread_that_ended_still_answers(runners):
    """Flask's development server runs a thread per request: the runner outlives that thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pid = pool.submit(runners.run, (os.getpid,), 10).result()
    time.sleep(0.3)
    assert runners.run((os.getpid,), timeout=10) == pid


_SERVER_RUNNING_A_QUERY = textwrap.dedent("""
    import os, threading, time
    from lodpub.web.limits import QueryRunners
    runners = QueryRunners(lambda seconds: time.sleep(seconds), 100 * 1024 * 1024, keep=1)
    threading.Thread(target=runners.run, args=((600,), {timeout}), daemon=True).start()
    time.sleep(600)
""")


def _busy_runner(timeout: float) -> tuple[subprocess.Popen, int]:
    """A process whose runner is busy with a ten-minute query limited to `timeout` seconds, and the runner's pid."""
    server = subprocess.Popen([sys.executable, "-c", _SERVER_RUNNING_A_QUERY.format(timeout=timeout)],
                              cwd=os.path.dirname(os.path.dirname(__file__)))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        children = open(f"/proc/{server.pid}/task/{server.pid}/children").read().split()
        children += [child for task in os.listdir(f"/proc/{server.pid}/task")
                     for child in open(f"/proc/{server.pid}/task/{task}/children").read().split()]
        if children:
            return server, int(children[0])
        time.sleep(0.05)
    raise TimeoutError("no runner started")


def _gone_within(pid: int, seconds: float) -> float:
    started = time.monotonic()
    while _alive(pid) and time.monotonic() - started < seconds:
        time.sleep(0.05)
    assert not _alive(pid), f"runner {pid} still runs after {seconds} s"
    return time.monotonic() - started


def test_a_busy_runner_dies_with_its_server():
    server, runner = _busy_runner(timeout=300)
    server.send_signal(signal.SIGKILL)
    server.wait()
    assert _gone_within(runner, 3) < 3


def test_a_busy_runner_stops_at_its_time_limit_even_when_its_server_cannot_stop_it():
    """A stopped (or wedged) worker cannot kill its runner at the deadline: the runner's own alarm does."""
    from lodpub.web.limits import ALARM_GRACE_SECONDS

    server, runner = _busy_runner(timeout=1)
    server.send_signal(signal.SIGSTOP)
    try:
        took = _gone_within(runner, 1 + ALARM_GRACE_SECONDS + 5)
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait()
    assert took <= 1 + ALARM_GRACE_SECONDS + 2
