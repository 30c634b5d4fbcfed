"""How a query runner hands its answer to the worker: a small answer back through the runner's pipe,
a larger one in a file the worker made, which the runner's file size limit bounds
(LODPUB_SPARQL_MAX_ANSWER_MB) and which the worker streams to the client without holding it.

Making, unlinking and closing a file for every query was most of what a cheap query cost the disk,
so each worker keeps empty answer files and lends one to each query: an answer that came through
the pipe leaves it empty for the next query; one that was written in it is streamed and then closed.
"""

import os
import resource
import tempfile
import threading
from pathlib import Path
from typing import IO

# An answer up to this size comes back through the pipe and is sent from memory; a larger one is
# written to the file and streamed from it.
INLINE_BYTES = 1 << 20
# Empty answer files a worker keeps for its next queries.
KEPT_FILES = 8


class AnswerFiles:
    """The empty answer files of this process, in `directory`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._free: list[IO[bytes]] = []
        self._owner = os.getpid()
        self._lock = threading.Lock()

    def take(self) -> tuple[IO[bytes], str]:
        """An empty answer file, open for reading, and the path a runner writes it by."""
        with self._lock:
            if self._owner != os.getpid():  # a forked copy: the files are its parent's
                self._free, self._owner = [], os.getpid()
            answer_file = self._free.pop() if self._free else None
        if answer_file is None:
            descriptor, name = tempfile.mkstemp(prefix="answer-", dir=self.directory)
            answer_file = os.fdopen(descriptor, "rb")
            os.unlink(name)  # the runner writes it through its name in /proc of this process
        return answer_file, f"/proc/{os.getpid()}/fd/{answer_file.fileno()}"

    def give_back(self, answer_file: IO[bytes]) -> None:
        """Keep `answer_file` for another query if nothing was written in it, else close it."""
        with self._lock:
            if (self._owner == os.getpid() and len(self._free) < KEPT_FILES
                    and os.fstat(answer_file.fileno()).st_size == 0):
                self._free.append(answer_file)
                return
        answer_file.close()


def write_answer(path: str, body: bytes) -> bool:
    """In a runner: write `body` to the answer file at `path` unless it goes back through the pipe
    (False). The file is empty, or holds part of an answer from a runner stopped before (an express
    slot's query runs again in a slot). It is not opened with O_TRUNC: ext4 writes a file truncated to
    nothing and written again out to the disk when it is closed (its auto_da_alloc, for programs that
    replace files so), 3 ms a query on a busy disk; it is cut to the body's length only when it was
    longer. A body beyond the runner's file size limit fails here (EFBIG), as it must."""
    limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    if len(body) <= INLINE_BYTES and (limit == resource.RLIM_INFINITY or len(body) <= limit):
        return False
    with open(os.open(path, os.O_WRONLY), "wb") as answer_file:
        answer_file.write(body)
        if os.fstat(answer_file.fileno()).st_size > len(body):
            answer_file.truncate(len(body))
    return True
