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
`max_requests` and wants a replacement; it serves on until the master stops it. It asks only once the
CPU time it has spent serving is `recycle_work_ratio` times what its start took: a start loads the
release (at 10 000 agreements about five seconds of CPU), a written document costs a fifth of a
millisecond, and replacing each worker every 5 000 requests spent more of a busy server's CPU on starting
workers than on answering (bench/README.md, "Session 22: first visits").
"""

import errno
import selectors
import socket
import sys
import time
from functools import partial

from gunicorn import http
from gunicorn.workers.gthread import STOP_KEEPALIVE_LINGER, TConn, ThreadWorker

from ..config import Settings, load_settings
from ..store import load_inherited_cpu
from . import readiness
from .at_once import AtOnceAnswers, AtOnceApp
from .balance import Balanced
from .framing import Refused
from .incoming import Incoming, Limits
from .settled import SettledConfig, settle_http_date

READ_SIZE = 65536
# How long a closing connection waits for its client to close (gunicorn's close_graceful's time).
LINGER = 2.0
MAX_DRAIN = 65536
# New connections taken per turn of the loop: one, as gunicorn takes them, so that the clients that reconnect
# together (connection_max_age) spread over the workers. A worker that took a burst at once would hold
# every one of them, and a stuck worker would then stall all of its clients (tests/test_serving.py).
ACCEPTS_PER_TURN = 1
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
REASONS = {400: "Bad Request", 408: "Request Timeout", 413: "Content Too Large",
           431: "Request Header Fields Too Large"}
# A thread reads only what the loop has already received; a read of the socket during parsing means a
# head the loop could not frame (gunicorn then refuses it), and must not keep the thread long.
PARSE_READ_TIMEOUT = 2.0
# Requests served between two looks at the CPU a worker due for replacement has spent (a system call).
RECYCLE_LOOK_EVERY = 500
# Seconds between two heartbeats (a system call each): gthread beats at every turn of the loop, which is
# once or twice a request under load; the master waits worker_timeout (15 s) for one.
HEARTBEAT_EVERY = 0.25


class LoopConn(TConn):
    """A client connection, with the request arriving on it (`incoming`, while the loop reads it) and
    the time it was opened."""

    def __init__(self, cfg, sock, client, server) -> None:
        super().__init__(cfg, sock, client, server)
        self.opened = time.monotonic()
        self.incoming: Incoming | None = None
        self.continue_sent = False
        self.registered = False  # with the loop's poller, while its request is awaited or it closes
        self.drained = 0  # bytes read and dropped while it closes
        self.answered = False  # whether anything was sent on it (an answer, or 100 Continue)

    def init(self) -> None:
        """Called by the thread before it parses: bound any read of the socket (see PARSE_READ_TIMEOUT)."""
        super().init()
        self.sock.settimeout(PARSE_READ_TIMEOUT)


class LoopWorker(AtOnceAnswers, Balanced, ThreadWorker):
    """gthread, reading requests in the event loop; see the module's docstring."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # gthread stops taking requests at max_requests and leaves until a new worker has loaded the
        # app; instead this worker asks the master for a replacement and serves until it is ready.
        self.retire_after = self.max_requests
        self.max_requests = sys.maxsize
        self.retiring = False
        self.recycle_work_ratio = 0.0
        self.serving_since_cpu = 0.0  # its CPU seconds when it began to serve
        self.start_cost = 0.0  # the CPU seconds a start costs: its own, and the master's load it took
        self.waiting: dict[LoopConn, None] = {}  # connections whose request is being read, oldest first
        self.lingering: dict[LoopConn, float] = {}  # connections closing (see _linger), and until when
        self.linger_until: float | None = None
        self.limits: Limits | None = None
        self.next_heartbeat = 0.0
        self.listener_addresses: dict[int, object] = {}  # listening socket's fd: its address
        self.connection_max_age = 0.0
        self.at_once: AtOnceApp | None = None
        self.cfg = SettledConfig(self.cfg)

    def load_wsgi(self) -> None:
        """gunicorn's, and the app's middlewares that the loop asks for answers ready at once (at_once.py)."""
        super().load_wsgi()
        self.at_once = AtOnceApp(self.wsgi)

    def init_process(self) -> None:
        settings = _settings_of(self.app)
        self.limits = Limits(settings.header_timeout, settings.body_timeout, settings.max_body_bytes,
                             _max_head_bytes(self.cfg))
        self.connection_max_age = settings.connection_max_age
        self.recycle_work_ratio = settings.recycle_work_ratio
        settle_http_date()
        super().init_process()

    def run(self) -> None:
        """The main loop; reached once the app is loaded, so this is when the worker is ready."""
        readiness.mark(self.tmp.fileno(), readiness.READY)
        # (A forked process counts its own time from 0; a worker forked with the master's store did not load
        # it, but its replacement will.)
        self.serving_since_cpu = time.process_time()
        self.start_cost = self.serving_since_cpu + load_inherited_cpu()
        super().run()

    # --- accepting and reading requests in the loop ---------------------------------------------

    def accept(self, listener) -> None:
        """Take a new connection waiting, unless it is left to a worker holding fewer (serving/balance.py)."""
        if not self.leaves_to_another():
            self.take(listener)

    def take(self, listener) -> None:
        """Take a new connection waiting (ACCEPTS_PER_TURN), and read its first request."""
        if self.cfg.is_ssl:  # TLS is out of scope: gthread's way (we serve behind a proxy that ends it)
            super().accept(listener)
            return
        for _ in range(ACCEPTS_PER_TURN):
            if self.nr_conns >= self.worker_connections:
                return
            try:
                sock, client = listener.accept()
            except OSError as error:
                if error.errno in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                    return
                raise
            self.nr_conns += 1
            conn = LoopConn(self.cfg, sock, client, self._address_of(listener))
            # A client sends its request right after connecting: it is often in by now, and is then read
            # without waiting for the loop's next turn (and registering the socket for it).
            self._await_request(conn, Incoming(self.limits, time.monotonic()), read_first=True)

    def _address_of(self, listener) -> object:
        """The address `listener` listens on (asked of the kernel once)."""
        address = self.listener_addresses.get(listener.fileno())
        if address is None:
            address = self.listener_addresses[listener.fileno()] = listener.getsockname()
        return address

    def _await_request(self, conn: LoopConn, incoming: Incoming, read_first: bool = False) -> None:
        conn.incoming = incoming
        conn.sock.setblocking(False)  # (also for the loop's answer, at_once.py, to a request pipelined in)
        try:
            complete = incoming.complete(time.monotonic()) if incoming.started else False
        except Refused as refused:
            self._refuse(conn, refused.status, refused.reason)
            return
        if complete:
            self._hand_over(conn)
            return
        self.waiting[conn] = None
        if read_first and self._read(conn):
            return
        conn.registered = True
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))

    def _on_readable(self, conn: LoopConn, _sock) -> None:
        self._read(conn)

    def _read(self, conn: LoopConn) -> bool:
        """Read what has come of the request on `conn`: True when it no longer waits in the loop (its
        request handed over or answered, refused, or the client gone)."""
        try:
            data = conn.sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            data = b""
        if not data:  # the client left
            self._stop_waiting(conn)
            self._close(conn)
            return True
        try:
            complete = conn.incoming.feed(data, time.monotonic())
        except Refused as refused:
            self._stop_waiting(conn)
            self._refuse(conn, refused.status, refused.reason)
            return True
        if complete:
            self._stop_waiting(conn)
            self._hand_over(conn)
            return True
        if conn.incoming.wants_continue():
            self._send_continue(conn)
        return False

    def _send_continue(self, conn: LoopConn) -> None:
        conn.incoming.continue_sent = conn.answered = True
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
        conn.data_ready = conn.answered = True
        self.hold(conn)  # (a request a thread answers may take seconds: the connection stays meanwhile)
        self.enqueue_req(conn)

    def _too_old(self, conn: LoopConn) -> bool:
        """Whether a kept-alive connection is older than connection_max_age (see the module's docstring)."""
        return bool(self.connection_max_age) and time.monotonic() - conn.opened > self.connection_max_age

    def _stop_waiting(self, conn: LoopConn) -> None:
        """No longer wait in the loop for what comes on `conn`."""
        self.waiting.pop(conn, None)
        if conn.registered:
            conn.registered = False
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
        self._stop_waiting(conn)
        self.let_go(conn)
        self.lingering.pop(conn, None)
        self.nr_conns -= 1
        conn.close()

    def _linger(self, conn: LoopConn) -> None:
        """Close a connection after its last answer as gunicorn's close_graceful does (RFC 9112, 9.6: our
        side first, then what the client still sends read and dropped until it closes, so that the kernel
        does not reset the connection under the answer), but waiting in the loop, not on the client: a
        client that never closed held the whole loop for two seconds."""
        self.let_go(conn)
        try:
            conn.sock.shutdown(socket.SHUT_WR)
            conn.sock.setblocking(False)
        except OSError:
            self._close(conn)
            return
        self.lingering[conn] = time.monotonic() + LINGER
        if self._drain(conn):
            return
        try:
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_lingering, conn))
        except (ValueError, OSError):  # a socket a thread closed already
            self._close(conn)
            return
        conn.registered = True

    def _on_lingering(self, conn: LoopConn, _sock) -> None:
        self._drain(conn)

    def _drain(self, conn: LoopConn) -> bool:
        """Read and drop what a closing connection's client sends: True once it is closed (the client
        closed too, or sent more than gunicorn drains)."""
        try:
            while data := conn.sock.recv(READ_SIZE):
                conn.drained += len(data)
                if conn.drained > MAX_DRAIN:
                    break
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            pass
        self._close(conn)
        return True

    # --- deadlines and the heartbeat, run once per turn of the loop ----------------------------------

    def notify(self) -> None:
        """gunicorn's heartbeat, at most every HEARTBEAT_EVERY seconds."""
        now = time.monotonic()
        if now >= self.next_heartbeat:
            self.next_heartbeat = now + HEARTBEAT_EVERY
            super().notify()

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        super().wait_for_and_dispatch_events(timeout)
        now = time.monotonic()
        self._expire_waiting(now)
        self._expire_lingering(now)
        self._ask_for_replacement()

    def murder_keepalived(self, force: bool = False) -> None:
        """gthread's clean-up of idle connections; on the way out (`force`), of every waiting one too."""
        super().murder_keepalived(force)
        if force:
            for conn in list(self.waiting):
                self._stop_waiting(conn)
                self._close(conn)
            self._expire_lingering(None)

    def _expire_lingering(self, now: float | None) -> None:
        """Close the closing connections whose client has not closed by their time (all when `now` is None)."""
        for conn, until in list(self.lingering.items()):
            if now is None or now >= until:
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
        if self.nr < self.retire_after or self.retiring:
            return
        if time.process_time() - self.serving_since_cpu < self.recycle_work_ratio * self.start_cost:
            self.retire_after = self.nr + RECYCLE_LOOK_EVERY  # not yet worth a new start: look again later
            return
        self.retiring = True
        self.log.info("Worker %s served %s requests: it serves on until the master has replaced it",
                      self.pid, self.nr)
        readiness.mark(self.tmp.fileno(), readiness.RETIRING)

    # --- around each request ------------------------------------------------------------------

    def handle_request(self, req, conn: LoopConn) -> bool:
        """gthread's, with the socket blocking again for the response, and a kept-alive connection
        closed once it is old enough (see the module's docstring)."""
        conn.sock.settimeout(None)
        if conn.continue_sent:
            req._expected_100_continue = False  # the loop sent it already
            conn.continue_sent = False
        if self._too_old(conn):
            req.force_close()
        return super().handle_request(req, conn)

    def finish_request(self, conn: LoopConn, fs) -> None:
        """After a request: a connection kept alive waits in the loop for its next request."""
        try:
            kept_alive = not fs.cancelled() and fs.result() is True
        except Exception:  # gthread's handle() answers every error itself; this is only in case
            kept_alive = False
        if not isinstance(conn, LoopConn):
            super().finish_request(conn, fs)
        elif kept_alive:
            self._keep_alive(conn)
        else:
            self._linger(conn)

    def _keep_alive(self, conn: LoopConn) -> None:
        """Wait in the loop for the next request on `conn` (or the rest of one pipelined behind the last)."""
        self.hold(conn)
        now = time.monotonic()
        idle_until = now + self.cfg.keepalive
        if not self.alive:
            idle_until = min(idle_until, now + STOP_KEEPALIVE_LINGER)
        pipelined = conn.parser.unreader.take_buffered() if conn.parser is not None else b""
        self._await_request(conn, Incoming(self.limits, now, pipelined, idle_until))


def _settings_of(app) -> Settings:
    """lodpub's settings: those `lodpub serve` runs with, else (gunicorn run by hand) the environment's."""
    return getattr(app, "settings", None) or load_settings()


def _max_head_bytes(cfg) -> int:
    """The largest head gunicorn's parser takes with these limits (request line, header fields)."""
    return cfg.limit_request_line + 2 + cfg.limit_request_fields * (cfg.limit_request_field_size + 2) + 4
