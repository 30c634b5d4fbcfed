"""The worker process: gunicorn's gthread worker, but no thread waits on a client.

gthread hands each new connection to a thread, which waits for the request head (and the body) with
no overall deadline: twenty clients that trickle a header line every few seconds, or a few hundred
sockets that send nothing, hold every thread, and everyone else waits. Here the worker's event loop
reads each request, head and body, from non-blocking sockets (serving/incoming.py), under a header
deadline and a body deadline (`408` when one passes, `413` for a body over `max_body_bytes`, refused
before it is read), and only a complete request goes to a thread, its bytes given back to gunicorn's
parser. Connections kept alive between requests wait in the same loop.

A kept-alive connection is closed (`Connection: close` on a response) once it is older than
`connection_max_age`, so that clients reconnect and spread over the workers again: otherwise they stay
with the worker that first accepted them, and one stuck worker stalls all of them.

The worker tells the master (serving/arbiter.py) through marks on its heartbeat file
(serving/readiness.py) when it has loaded the app and serves, and when it has served its
`max_requests` and wants a replacement; it serves on until the master stops it.
"""

import errno
import selectors
import socket
import sys
import time
from concurrent.futures import Future
from functools import partial

from gunicorn import http
from gunicorn.http import wsgi
from gunicorn.http2.negotiation import upgrade_allowed
from gunicorn.workers.gthread import STOP_KEEPALIVE_LINGER, TConn, ThreadWorker

from ..config import Settings, load_settings
from . import readiness
from .at_once import TARGETS, WRITE_TIMEOUT, AtOnceApp, fits
from .framing import Refused
from .incoming import Incoming, Limits

READ_SIZE = 65536
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
REASONS = {400: "Bad Request", 408: "Request Timeout", 413: "Content Too Large",
           431: "Request Header Fields Too Large"}
# A thread reads only what the loop has already received; a read of the socket during parsing means a
# head the loop could not frame (gunicorn then refuses it), and must not keep the thread long.
PARSE_READ_TIMEOUT = 2.0


class LoopConn(TConn):
    """A client connection, with the request arriving on it (`incoming`, while the loop reads it) and
    the time it was opened."""

    def __init__(self, cfg, sock, client, server) -> None:
        super().__init__(cfg, sock, client, server)
        self.opened = time.monotonic()
        self.incoming: Incoming | None = None
        self.continue_sent = False
        self.at_once = False  # answered in the loop (serving/at_once.py)

    def init(self) -> None:
        """Called by the thread before it parses: bound any read of the socket (see PARSE_READ_TIMEOUT)."""
        super().init()
        self.sock.settimeout(PARSE_READ_TIMEOUT)


class LoopWorker(ThreadWorker):
    """gthread, reading requests in the event loop; see the module's docstring."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # gthread stops taking requests at max_requests and leaves until a new worker has loaded the
        # app; instead this worker asks the master for a replacement and serves until it is ready.
        self.retire_after = self.max_requests
        self.max_requests = sys.maxsize
        self.retiring = False
        self.waiting: dict[LoopConn, None] = {}  # connections whose request is being read, oldest first
        self.linger_until: float | None = None
        self.limits: Limits | None = None
        self.connection_max_age = 0.0

    def load_wsgi(self) -> None:
        """gunicorn's, the app wrapped so that the loop may answer some requests itself (at_once.py)."""
        super().load_wsgi()
        self.wsgi = AtOnceApp(self.wsgi)

    def init_process(self) -> None:
        settings = _settings_of(self.app)
        self.limits = Limits(settings.header_timeout, settings.body_timeout, settings.max_body_bytes,
                             _max_head_bytes(self.cfg))
        self.connection_max_age = settings.connection_max_age
        super().init_process()

    def run(self) -> None:
        """The main loop; reached once the app is loaded, so this is when the worker is ready."""
        readiness.mark(self.tmp.fileno(), readiness.READY)
        super().run()

    # --- accepting and reading requests in the loop ---------------------------------------------

    def accept(self, listener) -> None:
        """Take a new connection and wait, in the loop, for its first request."""
        if self.cfg.is_ssl:  # TLS is out of scope: gthread's way (we serve behind a proxy that ends it)
            super().accept(listener)
            return
        try:
            sock, client = listener.accept()
        except OSError as error:
            if error.errno in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                return
            raise
        self.nr_conns += 1
        conn = LoopConn(self.cfg, sock, client, listener.getsockname())
        self._await_request(conn, Incoming(self.limits, time.monotonic()))

    def _await_request(self, conn: LoopConn, incoming: Incoming) -> None:
        conn.incoming = incoming
        try:
            complete = incoming.complete(time.monotonic()) if incoming.started else False
        except Refused as refused:
            self._refuse(conn, refused.status, refused.reason)
            return
        if complete:
            self._hand_over(conn)
            return
        conn.sock.setblocking(False)
        self.waiting[conn] = None
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))

    def _on_readable(self, conn: LoopConn, _sock) -> None:
        try:
            data = conn.sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client left
            self._stop_waiting(conn)
            self._close(conn)
            return
        try:
            complete = conn.incoming.feed(data, time.monotonic())
        except Refused as refused:
            self._stop_waiting(conn)
            self._refuse(conn, refused.status, refused.reason)
            return
        if complete:
            self._stop_waiting(conn)
            self._hand_over(conn)
        elif conn.incoming.wants_continue():
            self._send_continue(conn)

    def _send_continue(self, conn: LoopConn) -> None:
        conn.incoming.continue_sent = True
        try:
            conn.sock.send(CONTINUE)
        except OSError:
            pass  # the client is gone: its next read tells

    def _hand_over(self, conn: LoopConn) -> None:
        """Give the complete request to a thread: its bytes go back to gunicorn's parser (unless the loop
        answers it at once, serving/at_once.py)."""
        if self._answered_at_once(conn):
            return
        if conn.parser is None:
            conn.parser = http.get_parser(self.cfg, conn.sock, conn.client)
            conn.initialized = True
        conn.parser.unreader.unread(bytes(conn.incoming.buffer))
        conn.continue_sent = conn.incoming.continue_sent
        conn.incoming = None
        conn.data_ready = True
        self.enqueue_req(conn)

    def _answered_at_once(self, conn: LoopConn) -> bool:
        """Answer the request in the loop if its answer is ready at once and fits in the socket's buffer
        (serving/at_once.py); False, with nothing read or written, when it is not."""
        ready = self._ready_answer(conn)
        if ready is None:
            return False
        parser, req, answer = ready
        conn.parser, conn.initialized, conn.incoming, conn.at_once = parser, True, None, True
        self.wsgi.ready.answer = answer
        try:
            kept_alive = self._keepalive_after(conn, self.handle_request(req, conn))
        except Exception as error:  # the client went away, or could not take the answer: as gthread, close
            self.log.debug("answering %s at once: %s", conn.client, error)
            kept_alive = False
        finally:
            self.wsgi.ready.answer, conn.at_once = None, False
        done = Future()
        done.set_result(kept_alive)
        self.finish_request(conn, done)
        return True

    def _ready_answer(self, conn: LoopConn) -> tuple | None:
        """The request parsed (its parser, the request) and the answer the app gives it at once, when it is
        one the loop may send (see serving/at_once.py), else None."""
        incoming = conn.incoming
        if (not isinstance(self.wsgi, AtOnceApp) or not self.wsgi.answers or not incoming.buffer.startswith(TARGETS)
                or not incoming.exact or incoming.head.expects_continue or upgrade_allowed(self.cfg, conn.client)):
            return None
        parser = http.get_parser(self.cfg, conn.sock, conn.client)
        parser.unreader.unread(bytes(incoming.buffer))
        try:
            req = next(parser)
            answer = self.wsgi.answer(wsgi.create(req, conn.sock, conn.client, conn.server, self.cfg)[1])
            fitting = answer is not None and fits(conn.sock, answer[1])
        except Exception:  # whatever gunicorn's parser or the app make of it, a thread finds again
            return None
        return (parser, req, answer) if fitting else None

    def _stop_waiting(self, conn: LoopConn) -> None:
        self.waiting.pop(conn, None)
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass

    def _refuse(self, conn: LoopConn, status: int, reason: str) -> None:
        """Answer `status` and close, reading nothing more of the request."""
        body = f"{reason}\n".encode()
        head = (f"HTTP/1.1 {status} {REASONS[status]}\r\nConnection: close\r\n"
                f"Content-Type: text/plain; charset=utf-8\r\nContent-Length: {len(body)}\r\n\r\n")
        self.log.debug("refused a request from %s: %s %s", conn.client, status, reason)
        try:
            conn.sock.send(head.encode() + body)
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        self._close(conn)

    def _close(self, conn: LoopConn) -> None:
        self.nr_conns -= 1
        conn.close()

    # --- deadlines, run once per turn of the loop -----------------------------------------------

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        super().wait_for_and_dispatch_events(timeout)
        self._expire_waiting(time.monotonic())
        self._ask_for_replacement()

    def murder_keepalived(self, force: bool = False) -> None:
        """gthread's clean-up of idle connections; on the way out (`force`), of every waiting one too."""
        super().murder_keepalived(force)
        if force:
            for conn in list(self.waiting):
                self._stop_waiting(conn)
                self._close(conn)

    def _expire_waiting(self, now: float) -> None:
        if not self.alive and self.linger_until is None:
            self.linger_until = now + STOP_KEEPALIVE_LINGER
        for conn in list(self.waiting):
            if now < self._time_limit(conn.incoming):
                continue
            # Bytes may have come that the poller has not reported yet: after the worker was stopped
            # (SIGSTOP), select() returns nothing once its own timeout has passed. Closing a socket
            # with a request unread would reset it; read first.
            self._on_readable(conn, None)
            if conn in self.waiting and now >= self._time_limit(conn.incoming):
                self._expire(conn)

    def _time_limit(self, incoming: Incoming) -> float:
        if incoming.idle and self.linger_until is not None:
            return min(incoming.deadline, self.linger_until)
        return incoming.deadline

    def _expire(self, conn: LoopConn) -> None:
        incoming = conn.incoming
        self._stop_waiting(conn)
        if incoming.started:
            what = "head" if incoming.head is None else "body"
            self._refuse(conn, 408, f"the request {what} did not arrive in time")
        else:  # nothing asked: nothing to answer
            self._close(conn)

    def _ask_for_replacement(self) -> None:
        if self.nr >= self.retire_after and not self.retiring:
            self.retiring = True
            self.log.info("Worker %s served %s requests: it serves on until the master has replaced it",
                          self.pid, self.nr)
            readiness.mark(self.tmp.fileno(), readiness.RETIRING)

    # --- around each request ------------------------------------------------------------------

    def handle_request(self, req, conn: LoopConn) -> bool:
        """gthread's, with the socket blocking again for the response, and a kept-alive connection
        closed once it is old enough (see the module's docstring)."""
        conn.sock.settimeout(WRITE_TIMEOUT if conn.at_once else None)
        if conn.continue_sent:
            req._expected_100_continue = False  # the loop sent it already
            conn.continue_sent = False
        if self.connection_max_age and time.monotonic() - conn.opened > self.connection_max_age:
            req.force_close()
        return super().handle_request(req, conn)

    def finish_request(self, conn: LoopConn, fs) -> None:
        """After a request: a connection kept alive waits in the loop for its next request."""
        try:
            kept_alive = not fs.cancelled() and fs.result() is True
        except Exception:  # gthread's handle() answers every error itself; this is only in case
            kept_alive = False
        if not kept_alive or not isinstance(conn, LoopConn):
            super().finish_request(conn, fs)
            return
        now = time.monotonic()
        idle_until = now + self.cfg.keepalive
        if not self.alive:
            idle_until = min(idle_until, now + STOP_KEEPALIVE_LINGER)
        pipelined = conn.parser.unreader.take_buffered()
        self._await_request(conn, Incoming(self.limits, now, pipelined, idle_until))


def _settings_of(app) -> Settings:
    """lodpub's settings: those `lodpub serve` runs with, else (gunicorn run by hand) the environment's."""
    return getattr(app, "settings", None) or load_settings()


def _max_head_bytes(cfg) -> int:
    """The largest head gunicorn's parser takes with these limits (request line, header fields)."""
    return cfg.limit_request_line + 2 + cfg.limit_request_fields * (cfg.limit_request_field_size + 2) + 4
