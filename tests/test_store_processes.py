"""The master's background processes (store/processes.start_in_background): the dumps' completion's
kin, the documents writer and the provisional release's completion. Each must stop with its master,
also when the master is killed outright, so that nothing works on for a server that is gone (and
signals a pid that may be another process's by then)."""

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

# A module the background process imports: it says it started, then works for a minute.
WORKER = textwrap.dedent("""
    import os
    import time
    from pathlib import Path

    from lodpub.store.processes import payload_from_parent


    def work():
        time.sleep(float(os.environ.get("READ_AFTER", "0")))  # as a process slow to start would
        folder, _ = payload_from_parent()
        Path(folder, "started").write_text("yes")
        time.sleep(60)
        Path(folder, "finished").write_text("yes")
""")

# The master: starts the worker, says its pid, then dies as asked.
MASTER = textwrap.dedent("""
    import os, signal, sys, time
    from lodpub.store.processes import start_in_background

    folder, how = sys.argv[1], sys.argv[2]
    process = start_in_background("background_work", "work", folder)
    print(process.pid, flush=True)
    if how == "at-once":
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(60)
""")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (reaped by nobody yet) has stopped working.
    return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"


def _wait(condition, seconds: float = 20.0) -> bool:
    give_up = time.monotonic() + seconds
    while time.monotonic() < give_up:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.fixture
def started(tmp_path):
    """Start a master in `how` mode; give its process, its background process's pid and the folder."""
    (tmp_path / "background_work.py").write_text(WORKER)
    (tmp_path / "master.py").write_text(MASTER)
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path),
                                                                              os.environ.get("PYTHONPATH", "")]))}
    masters = []

    def start(how: str):
        # The master killed at once dies before its background process reads what it was given.
        read_after = {"READ_AFTER": "2"} if how == "at-once" else {}
        master = subprocess.Popen([sys.executable, str(tmp_path / "master.py"), str(tmp_path), how],
                                  stdout=subprocess.PIPE, text=True, env={**environment, **read_after})
        masters.append(master)
        return master, int(master.stdout.readline())

    yield start
    for master in masters:
        master.kill()
        master.wait()


def test_a_background_process_dies_with_a_master_killed_outright(started, tmp_path):
    master, worker = started("later")
    assert _wait(lambda: (tmp_path / "started").exists()), "the background process never started its work"
    master.kill()
    master.wait()
    assert _wait(lambda: not _alive(worker)), "the background process outlived its master"
    assert not (tmp_path / "finished").exists()


def test_a_background_process_whose_master_died_before_it_read_does_no_work(started, tmp_path):
    master, worker = started("at-once")
    master.wait()
    assert _wait(lambda: not _alive(worker)), "the background process outlived its master"
    assert not (tmp_path / "started").exists(), "it worked for a master that was gone"


@pytest.mark.parametrize("size", [0, 1, 100_000, 3_000_000])
def test_a_message_arrives_whole_whatever_the_pipe_holds_at_once(size):
    """A message is its length and bytes written together (one writev, again for what a full pipe did not
    take): a reader on the other thread gets them whole, however many writes the pipe needed."""
    import threading

    from lodpub.store.processes import receive_message, send_message

    read_end, write_end = os.pipe()
    message = os.urandom(size)
    received = []
    reader = threading.Thread(target=lambda: received.append(receive_message(read_end, time.monotonic() + 30)))
    reader.start()
    send_message(write_end, message)
    send_message(write_end, b"next")
    reader.join()
    assert received == [message]
    assert receive_message(read_end, time.monotonic() + 5) == b"next"
    os.close(write_end)
    assert receive_message(read_end, time.monotonic() + 5) is None  # closed: no message
    os.close(read_end)


def test_the_address_space_is_the_forked_childs_own_and_read_after_its_descriptors_are_closed():
    """address_space keeps /proc/self/statm open: a forked child reads its own, not its parent's, and
    reads it again after closing every descriptor it inherited (a query runner does both)."""
    from lodpub.store.processes import address_space, close_descriptors_but

    parent = address_space()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            grown = bytearray(256 << 20)  # 256 MB more address space than the parent
            address_space()  # its own statm, open under a number...
            close_descriptors_but((0, 1, 2, write_end))
            replacement = os.open(os.devnull, os.O_RDONLY)  # ...which this file may take now
            os.write(write_end, str(address_space() - parent).encode())
            os.close(replacement)
            del grown
        finally:
            os._exit(0)
    os.close(write_end)
    difference = int(os.read(read_end, 100))
    os.waitpid(pid, 0)
    os.close(read_end)
    assert difference >= 256 << 20
    assert abs(address_space() - parent) < 256 << 20
