"""Answers ready at once, given in the worker's event loop without handing the request to a thread.

A request handed to a thread (serving/worker.py) crosses two queues: the thread pool's, and back to the
loop once answered. For a lookup answered in half a millisecond that hand-over is a fifth of the
worker's CPU. The app's middlewares before Flask (web/http.BeforeFlask: queries of one triple pattern,
documents written ahead) say whether they answer a request without asking anything slow: the loop asks
them, and when they do, and the answer fits in the socket's free send buffer (so writing it cannot wait
on the client), it is sent from the loop with gunicorn's own request handling (the same status line,
headers, access log and keep-alive), the app being given that answer instead of asked again. Anything
else, and any request that has bytes pipelined behind it, goes to a thread as before.
"""

import fcntl
import socket
import struct
import termios
import threading
from collections.abc import Callable, Iterable

# Request lines whose answers may be ready at once (the middlewares' paths); others are not even parsed here.
TARGETS = (b"GET /sparql?", b"POST /sparql ", b"POST /sparql?", b"GET /doc/")
# Room kept in the send buffer for the status line and headers gunicorn writes.
HEAD_ROOM = 2048
# How long a write from the loop may wait all the same (it should never): then the connection is closed.
WRITE_TIMEOUT = 1.0


class AtOnceApp:
    """The worker's WSGI app: `app`, except that a request answered ahead in the loop (`ready`) gets that answer."""

    def __init__(self, app: Callable) -> None:
        self.app = app
        self.ready = threading.local()
        # Whether the app answers anything before Flask (not behind ProxyFix, which has to see the request first).
        self.answers = callable(getattr(getattr(app, "wsgi_app", None), "answer", None))

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        answer = getattr(self.ready, "answer", None)
        if answer is None:
            return self.app(environ, start_response)
        self.ready.answer = None
        headers, body = answer
        start_response("200 OK", headers)
        return [body]

    def answer(self, environ: dict) -> tuple[list[tuple[str, str]], bytes] | None:
        """What the app's middlewares before Flask answer to `environ`, or None (Flask would be asked)."""
        before_flask = getattr(self.app, "wsgi_app", None)
        while callable(getattr(before_flask, "answer", None)):
            answer = before_flask.answer(environ)
            if answer is not None:
                return answer
            before_flask = before_flask.app
        return None


def fits(sock: socket.socket, body: bytes) -> bool:
    """Whether `body` and its head fit in what `sock`'s send buffer has free, so that a write cannot block."""
    # (The kernel counts its own bookkeeping in the buffer's size: half of it is for data.)
    size = sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) // 2
    unsent = struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0"))[0]
    return len(body) + HEAD_ROOM <= size - unsent
