"""Running the publisher: production-grade under gunicorn (several worker processes), or Flask's
reloading development server.

For another WSGI server, point it at the factory: `gunicorn 'server:create_app()'` (settings come
from the LODPUB_* environment variables).
"""

from typing import Any

from gunicorn.app.base import BaseApplication

from . import create_app
from .config import Settings


class _Gunicorn(BaseApplication):
    """gunicorn, configured from our settings instead of its command line."""

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return create_app(self.settings)


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    """gunicorn's settings for a production run of the publisher."""
    return {
        "bind": f"{settings.host}:{settings.port}",
        "workers": settings.workers,
        # Threads wait on queries running in child processes (see web/limits.py) while serving others.
        "worker_class": "gthread",
        "threads": settings.threads,
        "timeout": max(60, int(settings.sparql_timeout) * 3),
        "graceful_timeout": 30,
        "accesslog": "-",
        "errorlog": "-",
        "access_log_format": '%(h)s "%(r)s" %(s)s %(b)s %(L)ss "%(a)s"',
        "proc_name": "lodpub",
        "pidfile": str(settings.output_dir / "lodpub.pid") if settings.store == "embedded" else None,
    }


def serve_production(settings: Settings) -> None:
    """Serve under gunicorn until stopped; each worker loads the release itself."""
    create_app(settings)  # fail here, once and clearly, if there is nothing to serve
    _Gunicorn(settings, gunicorn_options(settings)).run()


def serve_development(settings: Settings) -> None:
    """Serve with Flask's development server, reloading on code changes (never in production)."""
    create_app(settings).run(host=settings.host, port=settings.port, debug=True, use_reloader=True)
