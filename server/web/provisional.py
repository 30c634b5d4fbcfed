"""What a server answers otherwise while it serves the provisional release (store/provisional.py): the
release's descriptions, written by the build with the release (its VoID, the dataset's and the releases'
descriptions, the changelog), answer 503 with Retry-After until the release is served, rather than an
empty or missing document, as a dump still being written does (web/harvest.py). Documents, pages,
search and SPARQL answer from the provisional store."""

from flask import Flask, Response, request

from ..describe.changes import CHANGELOG_PATH, RELEASE_PATH
from ..namespaces import DATASET_PATH
from ..store.provisional import VERSION_PREFIX
from . import store

# When a client may ask again: the release of a million triples takes a few minutes to build.
RETRY_SECONDS = 120
_DESCRIBED = tuple(prefix + path for path in (".well-known/void", CHANGELOG_PATH, DATASET_PATH, RELEASE_PATH,
                                              "graph/description", "graph/catalogue")
                   for prefix in ("/", "/doc/"))


def register(app: Flask) -> None:
    """Answer the release's descriptions with 503 while the provisional release is served."""
    app.before_request(_not_yet_described)


def is_provisional() -> bool:
    """Whether the server serves the provisional release."""
    return store().version.startswith(VERSION_PREFIX)


def _not_yet_described() -> Response | None:
    if not request.path.startswith(_DESCRIBED) or not is_provisional():
        return None
    return Response(f"Service unavailable: the server answers from its sources as read (release {store().version}) "
                    "while their release is built; this description is the release's, and is served once the "
                    "release is written and checked. Ask again in a few minutes.\n", 503,
                    {"Retry-After": str(RETRY_SECONDS), "Cache-Control": "no-store"}, mimetype="text/plain")
