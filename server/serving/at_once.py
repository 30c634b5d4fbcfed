"""Answers ready at once, given in the worker's event loop without handing the request to a thread.

A request handed to a thread (serving/worker.py) crosses two queues: the thread pool's, and back to the
loop once answered. For a lookup answered in half a millisecond that hand-over is a fifth of the
worker's CPU. The app's middlewares before Flask (web/http.BeforeFlask: queries of one triple pattern,
documents written ahead) say whether they answer a request without asking anything slow: the loop asks
them, and when they do, and the answer fits in the socket's free send buffer (so writing it cannot wait
on the client), it is sent from the loop with gunicorn's own request handling (the same status line,
headers, access log and keep-alive), from the request and environ made once to ask the middlewares (the
app is not called again). Anything else, and any request that has bytes pipelined behind it, goes to a
thread as before.
"""

import fcntl
import socket
import struct
import termios
from collections.abc import Callable
from datetime import datetime

from gunicorn import http
from gunicorn.http import wsgi
from gunicorn.http2.negotiation import upgrade_allowed
from gunicorn.workers.gthread import TConn

from .plain import PlainReader, PlainResponse

# Request lines whose answers may be ready at once (the middlewares' paths); others are not even parsed here.
TARGETS = (b"GET /sparql?", b"POST /sparql ", b"POST /sparql?", b"GET /doc/")
# Room kept in the send buffer for the status line and headers gunicorn writes.
HEAD_ROOM = 2048


class AtOnceApp:
    """The middlewares of the worker's WSGI `app` that answer before Flask, asked in the loop."""

    def __init__(self, app: Callable) -> None:
        # Whether the app answers anything before Flask (not behind ProxyFix, which has to see the request first).
        before_flask = getattr(app, "wsgi_app", None)
        self.answers = callable(getattr(before_flask, "answer", None))
        self.before_flask = before_flask

    def answer(self, environ: dict) -> tuple[list[tuple[str, str]], bytes] | None:
        """What the app's middlewares before Flask answer to `environ`, or None (Flask would be asked)."""
        before_flask = self.before_flask
        while callable(getattr(before_flask, "answer", None)):
            answer = before_flask.answer(environ)
            if answer is not None:
                return answer
            before_flask = before_flask.app
        return None


class AtOnceAnswers:
    """The worker's part (serving/worker.py's LoopWorker): the request complete in `conn.incoming` answered
    in the loop when its answer is ready at once."""

    plain: PlainReader | None = None  # made once the worker's settings are known

    def _answered_at_once(self, conn: TConn) -> bool:
        """Answer the request in the loop if its answer is ready at once and fits in the socket's buffer
        (serving/at_once.py); False, with nothing read or written, when it is not."""
        ready = self._ready_answer(conn)
        if ready is None:
            return False
        parser, req, exchange, answer = ready
        conn.answered = True
        # (A plain request has no gunicorn parser: the connection's next request, if a thread takes it, makes one.)
        conn.parser, conn.initialized, conn.incoming = parser, parser is not None, None
        try:
            kept_alive = self._send_at_once(conn, req, exchange, answer)
            # (A plain request's body was read whole: only gunicorn's parser may have some of it left to drain.)
            kept_alive = kept_alive if parser is None else self._keepalive_after(conn, kept_alive)
        except Exception as error:  # the client went away, or could not take the answer: as gthread, close
            self.log.debug("answering %s at once: %s", conn.client, error)
            kept_alive = False
        if kept_alive:
            self._keep_alive(conn)
        else:
            self._linger(conn)
        return True

    def _ready_answer(self, conn: TConn) -> tuple | None:
        """The request parsed (its parser, the request, and the response and environ with the time it was
        made) and the answer the app gives it at once, when it is one the loop may send (see
        serving/at_once.py), else None. A plain request is read without gunicorn's objects (plain.py)."""
        incoming = conn.incoming
        if (self.at_once is None or not self.at_once.answers or not incoming.buffer.startswith(TARGETS)
                or not incoming.exact or incoming.head.expects_continue or upgrade_allowed(self.cfg, conn.client)):
            return None
        parser = None
        try:
            exchange = self._plain_exchange(conn)
            if exchange is None:
                parser = http.get_parser(self.cfg, conn.sock, conn.client)
                exchange = self._gunicorn_exchange(conn, parser)
            exchange[1]["wsgi.multithread"] = True
            answer = self.at_once.answer(exchange[1])
            fitting = answer is not None and fits(conn.sock, answer[1], sent_before=conn.answered)
        except Exception:  # whatever gunicorn's parser or the app make of it, a thread finds again
            return None
        return (parser, exchange[0].req, exchange, answer) if fitting else None

    def _plain_exchange(self, conn: TConn) -> tuple | None:
        """The response and environ of a plain request (plain.py) and the time they were made, else None."""
        if self.plain is None:
            self.plain = PlainReader(self.cfg)
        buffer, end = conn.incoming.buffer, conn.incoming.head.end
        started = datetime.now()  # as gthread's, the time logged covers the app's answer
        read = self.plain.read(bytes(buffer[:end - 4]), bytes(buffer[end:]), conn.client, conn.server)
        if read is None:
            return None
        req, environ = read
        return PlainResponse(req, False), environ, started

    def _gunicorn_exchange(self, conn: TConn, parser) -> tuple:
        """gunicorn's response and environ of the request in `conn.incoming`, and the time they were made."""
        parser.unreader.unread(bytes(conn.incoming.buffer))
        req = next(parser)
        started = datetime.now()
        resp, environ = wsgi.create(req, conn.sock, conn.client, conn.server, self.cfg)
        return resp, environ, started

    def _send_at_once(self, conn: TConn, req, exchange: tuple, answer: tuple) -> bool:
        """gthread's handle_request for an answer ready at once, with the response and environ the loop made
        to find it (not made again): True when the connection stays open."""
        resp, environ, started = exchange
        self.cfg.pre_request(self, req)
        self.nr += 1
        if (not self.alive or not self.cfg.keepalive or len(self.keepalived_conns) >= self.max_keepalived
                or self._too_old(conn)):
            resp.force_close()
        try:
            if isinstance(resp, PlainResponse):
                _send_plain(conn.sock, resp, answer)
            else:
                _send_gunicorns(conn.sock, resp, answer)
        finally:
            self.log.access(resp, req, environ, datetime.now() - started)
            try:
                self.cfg.post_request(self, req, environ, resp)
            except Exception:
                self.log.exception("Exception in post_request hook")
        return not resp.should_close()


def _send_plain(sock: socket.socket, resp: PlainResponse, answer: tuple) -> None:
    """Send a ready answer to a plain request: gunicorn's head (plain.py), then the body, in one write."""
    headers, body = answer
    head = resp.head(headers)
    resp.response_length = len(body)
    sock.sendall(head + body)
    resp.sent = len(body)


def _send_gunicorns(sock: socket.socket, resp, answer: tuple) -> None:
    """Send a ready answer with gunicorn's Response `resp`, in one write (OneWrite)."""
    headers, body = answer
    resp.sock = OneWrite(sock)
    resp.start_response("200 OK", headers)
    resp.write(body)
    resp.close()
    resp.sock.send_held()


class OneWrite:
    """The socket gunicorn's response writes to, holding what it is given until `send_held`: the head and
    the body go in one write, and in one segment when they fit in one (gunicorn wrote them apart, and
    the client woke once for each)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.held: list[bytes] = []

    def sendall(self, data: bytes) -> None:
        """Hold `data` (gunicorn's util.write)."""
        self.held.append(data)

    def send_held(self) -> None:
        """Send what was held, in one write, on the loop's non-blocking socket: it fits in the free send
        buffer (`fits`); were it not taken whole all the same, the write fails and the connection is closed."""
        self.sock.sendall(b"".join(self.held))
        self.held = []


def fits(sock: socket.socket, body: bytes, sent_before: bool = True) -> bool:
    """Whether `body` and its head fit in what `sock`'s send buffer has free, so that a write cannot block;
    `sent_before` says whether anything was sent on it before (if not, nothing can be left unsent)."""
    # (The kernel counts its own bookkeeping in the buffer's size: half of it is for data.)
    size = sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) // 2
    unsent = struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0"))[0] if sent_before else 0
    return len(body) + HEAD_ROOM <= size - unsent
