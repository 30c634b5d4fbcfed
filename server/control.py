"""The running server of an output folder: find it by its pidfile, and have it replace its workers.

`lodpub serve` runs gunicorn's master in its own process, which writes its pid to
output_dir/lodpub.pid. On SIGHUP the master starts new workers (each loads the served release)
and stops the old ones once they have answered the requests they hold. Linux only: the
processes are read from /proc.
"""

import contextlib
import os
import signal
import time
from pathlib import Path

from .store.releases import PIDFILE


def server_pid(output_dir: Path) -> int | None:
    """The pid of the running `lodpub serve` (gunicorn master) of `output_dir`, from its pidfile;
    None when none runs (no pidfile, or a stale one naming a process that is gone or not ours)."""
    try:
        pid = int((output_dir / PIDFILE).read_text().strip())
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    ours = b"lodpub" in command or b"gunicorn" in command
    return pid if ours and running(pid) else None


def claim_pidfile(output_dir: Path) -> bool:
    """False when a server of `output_dir` runs; else remove a stale pidfile (left by a server
    that was killed), which would stop gunicorn from starting, and return True."""
    if server_pid(output_dir) is not None:
        return False
    if os.path.lexists(output_dir / PIDFILE):  # removing a file that is not there fails on a read-only folder
        (output_dir / PIDFILE).unlink()
    return True


def pidfile_problem(output_dir: Path) -> str | None:
    """Why the server could not write its pidfile in `output_dir` (the folder is read-only, or the
    disk full), or None when it can: found by writing a file of the same size there, then removing it,
    so that gunicorn, which writes the pidfile and would leave an empty file behind on a full disk,
    is started only where it succeeds."""
    probe = output_dir / f".{PIDFILE}-{os.getpid()}.probe"
    try:
        with open(probe, "x") as file:
            file.write(f"{os.getpid()}\n")
            file.flush()
            os.fsync(file.fileno())
    except OSError as error:
        return error.strerror or str(error)
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()
    return None


def may_signal(pid: int) -> bool:
    """True when this process may send signals to `pid` (it runs as the same user, or as root)."""
    try:
        os.kill(pid, 0)
    except PermissionError:
        return False
    except ProcessLookupError:
        return True  # gone: nothing to signal, nothing refused
    return True


def replace_workers(pid: int, seconds: float) -> bool:
    """Send SIGHUP to the master `pid` and wait until its old workers are gone; False when that
    takes longer than `seconds`, or the master stopped."""
    old_workers = children(pid)
    ask_to_replace_workers(pid)
    deadline = time.monotonic() + seconds
    while any(running(worker) for worker in old_workers):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return running(pid)


def ask_to_replace_workers(pid: int) -> None:
    """Send SIGHUP to the master `pid` without waiting: for one of its workers, which is replaced too."""
    os.kill(pid, signal.SIGHUP)


def running(pid: int) -> bool:
    """True while process `pid` runs (a zombie, dead but not yet reaped by its parent, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def children(pid: int) -> set[int]:
    """The processes `pid` started (a gunicorn master's workers, a worker's query runners)."""
    children: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children.update(int(child) for child in (task / "children").read_text().split())
        except OSError:
            continue
    return children
