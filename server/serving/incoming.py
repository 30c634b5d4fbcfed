"""A request arriving on one connection: the bytes received so far, and how long it may still take.

An `Incoming` collects the head, then the body (see framing.py), in the worker's event loop; it is
complete when a thread can read the whole request without waiting for the client. Its deadline is
the header deadline until the head is in, then the body deadline; a connection kept alive between
requests waits for its next request's first byte until the keep-alive timeout instead.
"""

from dataclasses import dataclass

from .framing import Body, ChunkedScan, Head, Refused, find_head


@dataclass(frozen=True)
class Limits:
    """How much a client may send, and how long it may take."""

    header_timeout: float  # seconds for the whole head, from the connection (or its first byte when kept alive)
    body_timeout: float  # seconds for the whole body, once the head is in
    max_body_bytes: int
    max_head_bytes: int


class Incoming:
    """One request being received, from `buffered` bytes already read (pipelined behind the last one)."""

    def __init__(self, limits: Limits, now: float, buffered: bytes = b"", idle_until: float | None = None) -> None:
        self.limits = limits
        self.buffer = bytearray(buffered)
        self.head: Head | None = None
        self._chunks: ChunkedScan | None = None
        self._body_end: int | None = None
        # A kept-alive connection may idle until `idle_until`; the head's own time starts at its first byte.
        self.idle = idle_until is not None and not buffered
        self.deadline = idle_until if self.idle else now + limits.header_timeout
        self.continue_sent = False

    @property
    def started(self) -> bool:
        """True once the client has sent any byte of this request."""
        return bool(self.buffer)

    @property
    def exact(self) -> bool:
        """True when the buffer holds this whole request and nothing pipelined behind it."""
        return self._body_end is not None and len(self.buffer) == self._body_end

    def feed(self, data: bytes, now: float) -> bool:
        """Add `data` received at `now`; True when the request is complete. Raises framing.Refused."""
        self.buffer += data
        if self.idle:
            self.idle = False
            self.deadline = now + self.limits.header_timeout
        return self.complete(now)

    def complete(self, now: float) -> bool:
        """True when the whole request is in the buffer. Raises framing.Refused."""
        if self.head is None:
            self.head = find_head(self.buffer, self.limits.max_head_bytes)
            if self.head is None:
                return False
            self._start_body(self.head, now)
        return self._body_complete()

    def wants_continue(self) -> bool:
        """True when the client waits for `100 Continue` before it sends the body, and has not had it."""
        return bool(self.head and self.head.expects_continue and not self.continue_sent
                    and not self._body_complete())

    def _start_body(self, head: Head, now: float) -> None:
        self.deadline = now + self.limits.body_timeout
        if head.body is Body.LENGTH:
            if head.length > self.limits.max_body_bytes:
                raise Refused(413, "the request body is too large")
            self._body_end = head.end + head.length
        elif head.body is Body.CHUNKED:
            self._chunks = ChunkedScan(head.end, self.limits.max_body_bytes)
        else:  # no body; or a head gunicorn refuses, handed over as it is
            self._body_end = head.end

    def _body_complete(self) -> bool:
        if self._chunks is not None:
            self._body_end = self._chunks.end(self.buffer)
            if self._body_end is not None:
                self._chunks = None
        return self._body_end is not None and len(self.buffer) >= self._body_end
