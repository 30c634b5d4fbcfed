"""Where an HTTP/1.1 request ends, told from the bytes received so far, without blocking.

The worker's event loop (serving/worker.py) collects a request here before any thread sees it: the
head up to its blank line, then the body its head announces (Content-Length, or chunked up to the
last chunk). Only framing is read: gunicorn's own parser reads the request again in the thread, and
refuses whatever is malformed. A head whose framing gunicorn would refuse (both Content-Length and
Transfer-Encoding, a coding other than chunked last, a Content-Length that is not a number) is handed
over as soon as the head is complete, so that gunicorn answers it with 400 without waiting for a body.
"""

from dataclasses import dataclass
from enum import Enum

HEAD_END = b"\r\n\r\n"
CRLF = b"\r\n"
# The longest chunk-size line (size, extensions) and trailer section taken in a chunked body.
MAX_CHUNK_LINE = 4096
MAX_TRAILERS = 16384


class Body(Enum):
    """How the end of a request's body is found."""

    NONE = "none"
    LENGTH = "length"
    CHUNKED = "chunked"
    UNFRAMED = "unframed"  # gunicorn refuses the head: hand it over without a body


class Refused(Exception):
    """The request is answered with `status` and the connection closed, without reading further."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Head:
    """What the head of a request says of its body."""

    end: int  # the offset just past the head's blank line
    body: Body
    length: int = 0  # of a Content-Length body
    expects_continue: bool = False


def find_head(buffer: bytes | bytearray, max_head: int) -> Head | None:
    """The head at the start of `buffer` once it is complete (None while it is not).

    Raises Refused when the head grows past `max_head` bytes without ending.
    """
    end = buffer.find(HEAD_END, 0, max_head + len(HEAD_END))
    if end < 0:
        if len(buffer) > max_head:
            raise Refused(431, "the request head is too large")
        return None
    return read_head(bytes(buffer[:end]), end + len(HEAD_END))


def read_head(head: bytes, end: int) -> Head:
    """The framing of the complete head `head` (without its blank line), which ends at `end`."""
    request_line, _, fields = head.lstrip(CRLF).partition(CRLF)
    lengths, codings, expect = [], [], ""
    for line in fields.split(CRLF):
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            lengths.append(value.strip())
        elif name == b"transfer-encoding":
            codings.extend(coding.strip().lower() for coding in value.split(b","))
        elif name == b"expect":
            expect = value.strip().lower().decode("latin-1")
    expects_continue = expect == "100-continue" and request_line.rstrip().endswith(b"HTTP/1.1")
    if codings:
        chunked = codings[-1] == b"chunked" and not lengths
        return Head(end, Body.CHUNKED if chunked else Body.UNFRAMED, expects_continue=expects_continue)
    if not lengths:
        return Head(end, Body.NONE)
    if len(lengths) > 1 or not lengths[0].isdigit():
        return Head(end, Body.UNFRAMED)
    length = int(lengths[0])
    return Head(end, Body.LENGTH if length else Body.NONE, length, expects_continue and length > 0)


class ChunkedScan:
    """Follows a chunked body as its bytes arrive, to find where it ends; it keeps its place between
    calls, so that each byte is looked at once or twice, however the body is cut up."""

    def __init__(self, start: int, max_bytes: int) -> None:
        self.position = start  # the start of the next chunk-size line
        self.data_bytes = 0
        self.max_bytes = max_bytes

    def end(self, buffer: bytes | bytearray) -> int | None:
        """The offset just past the body in `buffer` (None while it is incomplete).

        Raises Refused for a malformed chunk (400) or a body over `max_bytes` (413).
        """
        while True:
            line_end = buffer.find(CRLF, self.position, self.position + MAX_CHUNK_LINE)
            if line_end < 0:
                if len(buffer) - self.position > MAX_CHUNK_LINE:
                    raise Refused(400, "a chunk-size line is too long")
                return None
            size = _chunk_size(bytes(buffer[self.position:line_end]))
            if size == 0:
                return _trailers_end(buffer, line_end)
            self.data_bytes += size
            if self.data_bytes > self.max_bytes:
                raise Refused(413, "the request body is too large")
            chunk_end = line_end + len(CRLF) + size
            if len(buffer) < chunk_end + len(CRLF):
                self.data_bytes -= size  # counted again when the chunk is whole
                return None
            if buffer[chunk_end:chunk_end + len(CRLF)] != CRLF:
                raise Refused(400, "a chunk does not end with CRLF")
            self.position = chunk_end + len(CRLF)


def _chunk_size(line: bytes) -> int:
    digits = line.split(b";", 1)[0].strip()
    if not digits or digits.strip(b"0123456789abcdefABCDEF"):
        raise Refused(400, "a chunk size is not a hexadecimal number")
    return int(digits, 16)


def _trailers_end(buffer: bytes | bytearray, last_chunk_line_end: int) -> int | None:
    """The end of the trailer section that follows the last chunk's line (None while incomplete)."""
    end = buffer.find(HEAD_END, last_chunk_line_end, last_chunk_line_end + MAX_TRAILERS)
    if end < 0:
        if len(buffer) - last_chunk_line_end > MAX_TRAILERS:
            raise Refused(400, "the trailers are too large")
        return None
    return end + len(HEAD_END)
