"""lodpub: publishes the Liberec Region's international partnerships as linked data.

The package loads the RDF files of the checkout (ontology/, data/, shapes/) into named graphs
(`dataset`), checks them against the SHACL shapes (`validate`), writes versioned releases of the
dumps (`build`) and serves the current release over HTTP (`create_app`, with the blueprints of
`web/` over a `store/`); `cli` offers all of it on the command line, and `config` and
`namespaces` hold the settings and the prefixes everything else shares.
"""

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from .config import Settings, load_settings
from .store import Store, StoreUnavailable, open_store

if TYPE_CHECKING:
    from flask import Flask


def create_app(settings: Settings | None = None, store: Store | None = None) -> "Flask":
    """The publisher as a WSGI app: the current release of `settings.output_dir`, or `store`.

    Raises store.StoreUnavailable when there is no release to serve.
    """
    # Flask and the web layer are imported here, not by the package: the command line's validate
    # and build, and whoever reads a setting, do without them.
    from flask import Flask, request
    from werkzeug.middleware.proxy_fix import ProxyFix

    from .web import Publisher, changelog, harvest, health, http, pages, provisional, resources, search, shapes, sparql
    from .web.i18n import LANGUAGES, current_language, words
    from .web.kept import KeptResponses
    from .web.negotiation import FORMATS, format_url
    from .web.sparql_answers import SparqlAnswers
    from .web.written_answers import WrittenAnswers

    settings = settings or load_settings()
    app = Flask(__name__, template_folder="web/templates", static_folder="web/static")
    app.extensions["lodpub"] = Publisher(settings, store or open_store(settings))
    # A longer body is refused (413) before it is read, under any WSGI server (our gunicorn worker
    # refuses it before it reaches the app).
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    if settings.trusted_hosts:
        # Links are built from the public base whatever the Host; the list only refuses strangers.
        app.config["TRUSTED_HOSTS"] = settings.trusted_hosts.split()
    # A repeated request for a document is answered before Flask (web/kept.py), after ProxyFix,
    # so that it knows the request as the client made it.
    app.wsgi_app = KeptResponses(app.wsgi_app, lambda: app.extensions["lodpub"].store.version,
                                 settings.document_cache_mb * 2**20)
    # A first visit to a document written ahead is answered before those, from its file (web/written_answers.py).
    app.wsgi_app = WrittenAnswers(app.wsgi_app, lambda: app.extensions["lodpub"])
    # A query of one triple pattern, by GET or a POSTed form, is answered before those (web/sparql_answers.py).
    app.wsgi_app = SparqlAnswers(app.wsgi_app, lambda: app.extensions["lodpub"])
    if settings.proxy_hops:
        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops)
    for blueprint in (health.blueprint, pages.blueprint, resources.blueprint, harvest.blueprint, sparql.blueprint,
                      changelog.blueprint, shapes.blueprint, search.blueprint):
        app.register_blueprint(blueprint)
    provisional.register(app)
    if settings.editing:
        from .web import editing

        editing.register(app)  # before http.register: its headers of /edit/ come last
    http.register(app)

    @app.errorhandler(StoreUnavailable)
    def store_unavailable(error: StoreUnavailable):
        """The store is down or holds no release: say so, and when to try again."""
        app.logger.warning("store unavailable: %s", error)
        return (f"Service unavailable: {error}\n", 503,
                {"Content-Type": "text/plain; charset=utf-8", "Retry-After": "10", "Cache-Control": "no-store"})

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        """Whatever went wrong is logged; the client gets a plain message, never a stack trace."""
        from werkzeug.exceptions import HTTPException

        if isinstance(error, HTTPException):
            return error
        app.logger.exception("unexpected error")
        return ("Internal error: the request could not be answered. It has been logged.\n", 500,
                {"Content-Type": "text/plain; charset=utf-8"})

    @app.context_processor
    def page_context() -> dict:
        language = current_language()
        other_language = next(other for other in LANGUAGES if other != language)
        return {
            "lang": language,
            "other_lang": other_language,
            # The same page in the other language: ?page= and the like are kept.
            "lang_switch_url": "?" + urlencode({**request.args.to_dict(), "lang": other_language}),
            "w": words(language),
            "formats": FORMATS,
            "format_url": format_url,
            "has_sparql": "sparql" in app.blueprints,
        }

    return app
