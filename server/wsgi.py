"""Running the publisher: production-grade under gunicorn (several worker processes), or Flask's
reloading development server.

For another WSGI server, point it at the factory: `gunicorn 'lodpub:create_app()'` (settings come
from the LODPUB_* environment variables); add `--logger-class lodpub.wsgi.JsonAccessLog --access-logfile -`
for the JSON access log.
"""

import json
import logging
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from . import create_app
from .config import Settings
from .dump_completion import start_completion
from .provisional_serving import start_completion as start_provisional_completion
from .release_preparation import check_servable
from .serving.arbiter import RollingArbiter
from .serving.worker import LoopWorker
from .store import drop_preloaded, open_store, preload, provisional_in_force
from .store.engine_choice import decided_settings, with_engine_chosen
from .store.engine_store import stop_engines_but
from .store.provisional import remove_provisional
from .web.documents_ahead import start_writing, stop_writing

# A query string longer than this is cut in the access log (a GET SPARQL query can be 8 KB).
LOGGED_QUERY_CHARS = 2000
# The handlers gunicorn gives the access log (a file, or stdout), which _written_plainly writes to itself.
PLAIN_HANDLERS = (logging.StreamHandler, logging.FileHandler)


class _Gunicorn(BaseApplication):
    """gunicorn, configured from our settings instead of its command line."""

    def __init__(self, settings: Settings, options: dict[str, Any], pending_dumps: list[Path] | None = None) -> None:
        self.settings = settings
        self.options = options
        self.engine_release: Path | None = None
        self.served_settings = settings  # with the engine chosen for the release served (before_workers)
        self.pending_dumps = pending_dumps or []  # the folders whose dumps are written once the workers are forked
        self.documents_writer: subprocess.Popen | None = None
        # Serving the provisional release (provisional_serving.py), and the process building its release.
        self.provisional = provisional_in_force() is not None
        self.completion: subprocess.Popen | None = None
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:  # a setting newer than the gunicorn installed is left out
                self.cfg.set(key, value)

    def load(self):
        from .web.search import warm_up_in_background

        app = create_app(self.settings)
        warm_up_in_background(app)  # in each worker, which is where gunicorn loads the app
        return app

    def run(self) -> None:
        """Serve under our master (serving/arbiter.py), which replaces workers without a gap."""
        self.before_workers()
        preload(self.served_settings)  # for the first workers: replacements load their own while others serve
        RollingArbiter(self).run()

    def before_workers(self) -> None:
        """With the shared engine (settings.engine), start the engine of the release decided now, owned
        by the master, before workers are forked to use it (at start, and on reload before they are replaced).
        With settings.engine "auto", the engine is chosen here for that release, and the workers forked
        afterwards take the same choice (engine_choice.py)."""
        provisional = provisional_in_force()
        # (The provisional release was served because its engine, chosen as it was loaded, is per-worker.)
        self.served_settings = (with_engine_chosen(self.settings, provisional.manifest) if provisional is not None
                                else decided_settings(self.settings))
        if self.served_settings.engine != "per-worker" and self.settings.store == "embedded":
            self.engine_release = getattr(open_store(self.settings), "release", None)
        stop_writing(self.documents_writer)  # a reload's release is written in its place
        # (Not the provisional release's documents: they would be written for minutes, for minutes of use.)
        self.documents_writer = start_writing(self.served_settings) if provisional is None else None

    def after_replacement(self) -> None:
        """Once no old worker is left, stop the engines of the releases served before (and, once the
        first workers are forked, forget the store loaded for them and start writing the dumps still to write)."""
        drop_preloaded()
        self._follow_provisional()
        if self.pending_dumps:
            start_completion(self.pending_dumps, self.settings.build_jobs)
            self.pending_dumps = []
        if self.engine_release is not None:
            stop_engines_but([self.engine_release])


    def _follow_provisional(self) -> None:
        """Serving the provisional release: start building its release once the first workers are forked;
        once its workers are replaced by the release's, remove its folder."""
        if not self.provisional:
            return
        if provisional_in_force() is None:
            remove_provisional(self.settings.output_dir)
            self.provisional = False
        elif self.completion is None:
            self.completion = start_provisional_completion(self.settings)


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    """gunicorn's settings for a production run of the publisher (docs/operators.md, "Running in production")."""
    # The longest request that may be under way when a worker is told to stop: a SPARQL query at
    # its time limit, or a remote store's answer at its timeout.
    longest_request = max(settings.sparql_timeout, settings.store_timeout if settings.store == "remote" else 0)
    return {
        "bind": f"{settings.host}:{settings.port}",
        "workers": settings.workers,
        # gthread, reading each request in the event loop before a thread takes it (serving/worker.py).
        # Threads wait on queries running in child processes (see web/limits.py) while serving others.
        "worker_class": LoopWorker,
        "threads": settings.threads,
        # The heartbeat comes from the worker's event loop, not from the requests, so this kills only a
        # worker stuck as a whole (stopped, or a thread holding the GIL), never a slow query. A worker
        # still loading the release is never killed: its heartbeat file keeps the wall-clock time it was
        # made at, which gunicorn compares with a monotonic clock, until the loop first touches it.
        "timeout": settings.worker_timeout,
        # On SIGHUP (a new release) and SIGTERM, requests under way may finish before the old worker goes.
        "graceful_timeout": int(longest_request) + 10,
        "keepalive": settings.keepalive,
        # Worker recycling bounds what a long-lived process may leak; the jitter keeps workers from
        # restarting (and reloading the release) at the same moment.
        "max_requests": settings.max_requests,
        "max_requests_jitter": settings.max_requests // 10,
        # The longest request line gunicorn takes (its default is 4094): GET queries up to 8 KB.
        "limit_request_line": 8190,
        # The heartbeat files in memory: a slow or full disk must not make workers look dead.
        **({"worker_tmp_dir": "/dev/shm"} if os.path.isdir("/dev/shm") else {}),
        "accesslog": settings.access_log,
        "errorlog": settings.error_log,
        "logger_class": JsonAccessLog,
        # `lodpub reload` signals the master named in the pid file.
        "pidfile": str(settings.output_dir / "lodpub.pid"),
        # gunicorn >= 25.1 also opens a control socket, at one path for every gunicorn of the user:
        # lodpub is run by signals, and two servers must not take each other's socket.
        "control_socket_disable": True,
        "proc_name": "lodpub",
    }


class JsonAccessLog(Logger):
    """gunicorn's logger, writing the access log as one JSON object a line.

    The access log is written by gunicorn rather than by a Flask hook because only gunicorn sees the
    whole exchange: the time until the last byte is sent (a large dump takes a while), the bytes that
    actually went out, and requests cut short by the client. The app's part is the request id, which
    web/http.py puts in the X-Request-ID response header, where this logger reads it.
    """

    def access(self, resp, req, environ: dict, request_time: timedelta) -> None:
        if not self.access_log_enabled:
            return
        try:
            line = json.dumps(access_entry(resp, environ, request_time))
            if not _written_plainly(self.access_log, line):
                self.access_log.info(line)
        except Exception:  # a log line must never break a request
            self.exception("could not write an access log entry")


def _written_plainly(log: logging.Logger, line: str) -> bool:
    """Write `line` to `log`'s handlers as logging would, without making a record, when each of them is
    a stream (or file) written as the message alone, as gunicorn sets the access log up; else False.
    (logging's record, filters and formatter were a third of a cheap request's access log.)"""
    if log.filters or log.disabled or log.propagate or not log.isEnabledFor(logging.INFO) or not log.handlers:
        return False
    handlers = log.handlers
    if not all(type(handler) in PLAIN_HANDLERS and not handler.filters and handler.level <= logging.INFO
               and handler.stream is not None and getattr(handler.formatter, "_fmt", None) == Logger.access_fmt
               for handler in handlers):
        return False
    for handler in handlers:
        with handler.lock:
            handler.stream.write(line + handler.terminator)
            handler.stream.flush()
    return True


def access_entry(resp, environ: dict, request_time: timedelta) -> dict[str, Any]:
    """The access log entry of one exchange: when it began (UTC), what was asked and answered."""
    path, _, query = environ.get("RAW_URI", "").partition("?")
    request_id = next((value for name, value in resp.headers if name.lower() == "x-request-id"), None)
    status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
    return {
        "time": (datetime.now(UTC) - request_time).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "method": environ.get("REQUEST_METHOD"),
        "path": path,
        "query": query[:LOGGED_QUERY_CHARS],
        "status": int(status) if status else None,
        "bytes": resp.sent,
        "duration_ms": round(request_time.total_seconds() * 1000, 3),
        # After ProxyFix, which rewrites the environ in place: the client's address behind a proxy.
        "remote_addr": environ.get("REMOTE_ADDR"),
        "user_agent": environ.get("HTTP_USER_AGENT"),
        "request_id": request_id,
    }


def serve_production(settings: Settings) -> None:
    """Serve under gunicorn until stopped; each worker loads the release itself."""
    # Fail here, once and clearly, if there is nothing to serve; without loading the release, which
    # the master would hold in memory for nothing (each worker loads its own).
    pending_dumps = [] if provisional_in_force() is not None else check_servable(settings)
    settings.output_dir.mkdir(parents=True, exist_ok=True)  # the pid file's home, even on a remote store
    _Gunicorn(settings, gunicorn_options(settings), pending_dumps).run()


def serve_development(settings: Settings) -> None:
    """Serve with Flask's development server, reloading on code changes (never in production)."""
    create_app(settings).run(host=settings.host, port=settings.port, debug=True, use_reloader=True)
