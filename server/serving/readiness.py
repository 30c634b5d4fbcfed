"""What a worker tells the master without a word: marks on the worker's heartbeat file.

gunicorn gives each worker a temporary file, made by the master before the fork and shared with it,
whose time the worker touches as its heartbeat. Its permission bits are free: the worker sets one
when it has loaded the app and serves (READY), another when it wants to be replaced (RETIRING), and
the master reads them with fstat on its own copy of the file.
"""

import os
import stat

READY = stat.S_IXUSR
RETIRING = stat.S_IXGRP


def mark(fd: int, flag: int) -> None:
    """Set `flag` on the heartbeat file open as `fd`."""
    os.fchmod(fd, stat.S_IMODE(os.fstat(fd).st_mode) | flag)


def marked(fd: int, flag: int) -> bool:
    """True when the heartbeat file open as `fd` has `flag`; False when it cannot be read (closed)."""
    try:
        return bool(os.fstat(fd).st_mode & flag)
    except (OSError, ValueError):
        return False
