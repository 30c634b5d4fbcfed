"""An answer gzipped in its query runner while the engine writes it, on a thread of the runner's own.

The worker gzips an answer it sends from memory once it has it whole (compression.py): 1.7 ms of a
400 KB N-Triples answer, 7 ms of 850 KB of JSON, time the client waits after the engine is done. In
the runner, the engine hands its answer over in parts as it evaluates (store/answer_bytes.py: the
`copy` of Store.sparql), and zlib lets go of the GIL while it compresses, so a thread gzips each part
as it comes, beside the evaluation, on a core the runner's wait leaves free. When the answer's body is
the parts as written (the usual case: no cut, no repeated triple, no second format), and small enough
to come back through the runner's pipe, the answer carries its gzip (SparqlAnswer.gzipped) and the
worker sends it as it would its own: the bytes of compression.gzipped_body at ANSWER_LEVEL, which one zlib stream of
the same settings gives whatever the parts. Else the worker gzips the body as before.

Only in a query runner (a process of its own, whose only other thread waits for it); not on the
shared engine, whose threads would have to share the process-wide stack size set below.
"""

import threading
import zlib
from collections.abc import Callable
from queue import SimpleQueue

from ..store import SparqlAnswer
from .answer_files import INLINE_BYTES
from .compression import ANSWER_LEVEL, MIN_BYTES, compressible_type

# The gzipping thread needs little stack; a runner's threads are otherwise given 64 MB
# (limits.RUNNER_STACK_BYTES), address space its query's memory bound would count.
STACK_BYTES = 256 * 1024
# A thread is started only for an answer that reaches this size: below it, starting and joining the
# thread (about 0.2 ms) costs about what the worker's gzip of the whole answer does.
THREAD_FROM_BYTES = 32 * 1024


class GzipAhead:
    """The gzip of the parts it is given, compressed on a thread as they come once they reach
    THREAD_FROM_BYTES, up to INLINE_BYTES."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.length = 0
        self._queue: SimpleQueue[bytes | None] = SimpleQueue()
        self._gzipped: list[bytes] = []
        self._thread: threading.Thread | None = None

    def __call__(self, part: bytes) -> None:
        """Take the next part (beyond INLINE_BYTES, the answer goes to a file: no more is gzipped)."""
        self.length += len(part)
        if self.length > INLINE_BYTES:
            return
        self.parts.append(part)
        if self._thread is not None:
            self._queue.put(part)
        elif self.length >= THREAD_FROM_BYTES:
            self._start()

    def _start(self) -> None:
        """Start the gzipping thread on the parts taken so far."""
        for part in self.parts:
            self._queue.put(part)
        previous = threading.stack_size(STACK_BYTES)
        try:
            self._thread = threading.Thread(target=self._compress, name="lodpub-gzip-ahead", daemon=True)
            self._thread.start()
        finally:
            threading.stack_size(previous)

    def _compress(self) -> None:
        compressor = zlib.compressobj(ANSWER_LEVEL, zlib.DEFLATED, 31)  # compression.gzipped_body's settings
        while (part := self._queue.get()) is not None:
            self._gzipped.append(compressor.compress(part))
        self._gzipped.append(compressor.flush())

    def of(self, body: bytes) -> bytes | None:
        """The gzip of `body`, if `body` is all the parts given (and not beyond INLINE_BYTES); else None.
        Ends the thread. None, too, for an answer too small to have started it (the worker gzips that one)."""
        if self._thread is None:
            return None
        self._queue.put(None)
        self._thread.join()
        if self.length != len(body) or self.length > INLINE_BYTES or b"".join(self.parts) != body:
            return None
        return b"".join(self._gzipped)


def answer_gzipped_ahead(sparql: Callable[..., SparqlAnswer], arguments: tuple) -> SparqlAnswer:
    """`sparql(*arguments)` (Store.sparql), with the body gzipped as it was written when it is worth
    gzipping (compression.compress) and comes back through the pipe."""
    ahead = GzipAhead()
    try:
        answered = sparql(*arguments, copy=ahead)
    except BaseException:
        ahead.of(b"")
        raise
    gzipped = ahead.of(answered.body)
    if gzipped is None or len(answered.body) < MIN_BYTES or not compressible_type(answered.media_type):
        return answered
    return SparqlAnswer(answered.kind, answered.body, answered.media_type, answered.truncated, gzipped)
