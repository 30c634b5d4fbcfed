"""The release folder: the lock one build at a time holds on an output folder, the hidden folder a
release is written into, and publishing it.

Publishing is atomic: the files are written to a hidden temporary directory beside the
releases, synced to disk, and only then is the directory renamed to its version and `current`
switched by replacing the symlink. A failed build leaves `current` and older releases as they were.
Builds into one output folder run one at a time, each holding output_dir/.build.lock (see `build_lock`).
"""

import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from .data_errors import display_path
from .store.releases import CURRENT, fsync_directory, point, remove_leftovers, temporary_prefix

# Held (flock) by the build running into an output folder, which writes its pid into it; it is
# there only while a build runs.
BUILD_LOCK = ".build.lock"
# How long a build waits for the one holding the lock to write its pid there, to name it.
_PID_WAIT_SECONDS = 1.0


class BuildWaitStopped(OSError):
    """The user stopped a build (Ctrl-C) while it waited for another one; nothing was built."""


@contextmanager
def build_lock(output_dir: Path, on_wait: Callable[[str], None]) -> Iterator[None]:
    """Hold output_dir/.build.lock for a build, making output_dir if need be (and removing it again
    if the build leaves nothing in it). When another build holds it, call `on_wait` with "waiting
    for the build running in <output_dir> (pid N)" and wait until it is done.

    Raises BuildWaitStopped when the user stops the build (Ctrl-C) while it waits.
    Two builds into one folder would remove each other's folders half written and prune the same
    releases. The lock file is removed before it is unlocked, so that a build that was waiting on
    it sees that it is gone and locks the next one: only one file is ever the lock.
    """
    lock, made = output_dir / BUILD_LOCK, False
    while True:
        made |= not output_dir.is_dir()
        output_dir.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:  # the build before removed the folder it had made
            continue
        if _lock_when_free(descriptor, lock, on_wait):
            break
    try:
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{os.getpid()}\n".encode())
        yield
    finally:
        lock.unlink(missing_ok=True)
        if made:
            with suppress(OSError):  # not empty: a release is in it, or the next build's lock
                output_dir.rmdir()
        os.close(descriptor)


def _lock_when_free(descriptor: int, lock: Path, on_wait: Callable[[str], None]) -> bool:
    """Lock the open file `descriptor` of `lock`, waiting (and saying so) while another build holds
    it. True when it is locked and is still the file named `lock`; else it is closed."""
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        message = f"waiting for the build running in {display_path(lock.parent)}{_holder(descriptor)}"
        try:  # the user may stop it as soon as it says it waits
            on_wait(message)
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        except KeyboardInterrupt:
            os.close(descriptor)
            raise BuildWaitStopped(f"stopped {message}") from None
    try:
        if os.stat(lock).st_ino == os.fstat(descriptor).st_ino:
            return True
    except FileNotFoundError:
        pass
    os.close(descriptor)  # the build that held it removed it when it finished
    return False


def _holder(descriptor: int) -> str:
    """" (pid N)" of the build that holds the lock open as `descriptor`; "" when it does not say."""
    deadline = time.monotonic() + _PID_WAIT_SECONDS
    while True:
        written = os.pread(descriptor, 32, 0).decode("ascii", "replace").strip()
        if written.isdigit() or time.monotonic() > deadline:
            return f" (pid {written})" if written.isdigit() else ""
        time.sleep(0.05)  # it has locked the file, and is about to write its pid


@contextmanager
def release_being_written(output_dir: Path) -> Iterator[Path]:
    """A new hidden folder below releases/ to write a release into; removed if anything fails
    before it is published (renamed to its version), and so are the folders made for it."""
    releases = output_dir / "releases"
    made = [folder for folder in (output_dir, releases) if not folder.is_dir()]
    releases.mkdir(parents=True, exist_ok=True)
    remove_leftovers(output_dir)
    folder = Path(tempfile.mkdtemp(prefix=temporary_prefix(), dir=releases))
    try:
        folder.chmod(0o755)  # mkdtemp makes the directory private; a release is for all to read
        yield folder
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        for empty in reversed(made):
            empty.rmdir()
        raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # gone already when it was published


def publish_release(output_dir: Path, version: str, written: Path) -> Path:
    """Make the release written into `written` releases/<version>/ and point `current` at it, all or nothing."""
    releases = output_dir / "releases"
    final = releases / version
    if final.is_dir():
        # Same second, same content hash: that release is this one, complete (it was renamed
        # into place only when whole), so publishing it again is all there is to do.
        point(output_dir, CURRENT, final)
        return final
    for path in written.iterdir():
        _sync(path)
    fsync_directory(written)
    written.rename(final)
    try:
        fsync_directory(releases)
        point(output_dir, CURRENT, final)
    except BaseException:
        shutil.rmtree(final, ignore_errors=True)
        raise
    return final


def _sync(path: Path) -> None:
    """Make a written file durable."""
    with open(path, "rb") as file:
        os.fsync(file.fileno())
