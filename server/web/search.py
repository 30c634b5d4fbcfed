"""Search for people and programs: `/search?q=` (a page, or JSON for `Accept: application/json`),
`/search.json?q=` and the OpenSearch description `/opensearch.xml`.

The index (search_index.py) is made from two SELECTs through `store()`, so that it works on every
store, once per release: a worker makes it as it loads the app (`warm_up`), and the first worker to
get to it writes it into the output folder, where the other workers (and those that replace them)
read it in a fraction of the time; each keeps it in memory per store version, and turns to
another when the store serves another release (at its next search). A query never reaches the
store: it is looked up in the index, and is refused (400) beyond MAX_QUERY_CHARS characters.
"""

import contextlib
import fcntl
import hashlib
import json
import os
import pickle
import tempfile
import threading
import time
import unicodedata
import xml.etree.ElementTree as ElementTree
from collections.abc import Collection, Iterator
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, render_template, request, url_for
from rdflib import URIRef
from rdflib.namespace import DCAT, DCTERMS, RDFS, SKOS

from ..namespaces import LABEL_PREDICATES
from ..search_index import ALTERNATIVE, DESCRIPTION, LABEL, Results, SearchIndex
from ..store import Store
from . import public_link, publisher, store
from .html import label_of
from .i18n import LANGUAGES, current_language, words

blueprint = Blueprint("search", __name__)

# The longest query answered, in characters: names and phrases are far shorter.
MAX_QUERY_CHARS = 200
JSON_TYPE = "application/json"
# Where the workers keep the index of the served release, in the output folder; the format's
# version is part of a file's name, so that an index written by other code is not read.
INDEX_FOLDER = "search-index"
INDEX_FORMAT = 1
OPENSEARCH_TYPE = "application/opensearchdescription+xml"
OPENSEARCH_NS = "http://a9.com/-/spec/opensearch/1.1/"

# What is searched, besides the labels (namespaces.LABEL_PREDICATES, ranked in that order).
ALTERNATIVE_PREDICATES = (SKOS.altLabel, SKOS.hiddenLabel, "https://schema.org/alternateName", DCAT.keyword)
# rp:reason (a status's reason) is added per base, as the ontology is under it.
DESCRIPTION_PREDICATES = (DCTERMS.description, SKOS.definition, SKOS.scopeNote, RDFS.comment)

# Every text of a resource under the base, but for the terms of the ontology (its own page lists them).
TEXTS = """
SELECT ?resource ?predicate ?text (LANG(?text) AS ?language) WHERE {{
  VALUES ?predicate {{ {predicates} }}
  ?resource ?predicate ?text .
  FILTER (isIRI(?resource) && isLITERAL(?text) && STRSTARTS(STR(?resource), {base})
          && !STRSTARTS(STR(?resource), {ontology}))
}}"""
# The kinds of those resources: the scheme of a concept, else its classes.
KINDS = """
SELECT ?resource ?scheme ?type WHERE {{
  {{ ?resource <http://www.w3.org/2004/02/skos/core#inScheme> ?scheme }} UNION {{ ?resource a ?type }}
  FILTER (isIRI(?resource) && STRSTARTS(STR(?resource), {base}) && !STRSTARTS(STR(?resource), {ontology}))
}}"""

_building = threading.Lock()


def field_of(base_iri: str) -> dict[str, tuple[int, int]]:
    """The predicates searched, each with (its rank among the labels or -1, the kind of text it holds)."""
    fields = {str(predicate): (rank, LABEL) for rank, predicate in enumerate(LABEL_PREDICATES)}
    fields.update({str(predicate): (-1, ALTERNATIVE) for predicate in ALTERNATIVE_PREDICATES})
    fields.update({str(predicate): (-1, DESCRIPTION)
                   for predicate in (*DESCRIPTION_PREDICATES, f"{base_iri}ontology/reason")})
    return fields


def build_index(source: Store) -> SearchIndex:
    """The search index of the release `source` serves: its resources' texts, kinds and kinds' labels."""
    base = source.base_iri
    fields = field_of(base)
    strings = {"base": json.dumps(base), "ontology": json.dumps(base + "ontology/")}
    texts: dict[str, list[tuple[int, int, str, str]]] = {}
    for resource, predicate, text, language in source.select_values(
            TEXTS.format(predicates=" ".join(f"<{p}>" for p in fields), **strings)):
        texts.setdefault(resource, []).append((*fields[predicate], language, text))
    kinds = _kinds(source.select_values(KINDS.format(**strings)), texts.keys(), base)
    kind_iris = {URIRef(kind) for kind in kinds.values() if kind}
    labels = source.labels(kind_iris)
    index = SearchIndex({str(kind): {language: label_of(labels, kind, language, base) for language in LANGUAGES}
                         for kind in kind_iris})
    for resource in sorted(texts):
        index.add(resource, kinds.get(resource, ""), texts.pop(resource))
    return index.finish(LANGUAGES)


def _kinds(rows: list[tuple[str, ...]], resources: Collection[str], base: str) -> dict[str, str]:
    """The kind of each of `resources`: its concept scheme, else its class in our namespace, else
    its first class."""
    chosen: dict[str, tuple[tuple[int, str], str]] = {}
    for resource, scheme, kind_type in rows:
        if resource not in resources:
            continue
        kind = scheme or kind_type
        preference = (0 if scheme else 1 if kind.startswith(base) else 2, kind)
        if resource not in chosen or preference < chosen[resource][0]:
            chosen[resource] = (preference, kind)
    return {resource: kind for resource, (_, kind) in chosen.items()}


def current_index() -> SearchIndex:
    """The index of the release the store serves now: kept in memory per store version; read from
    the output folder if a worker has made it already, else made (and written there for the others)."""
    kept = current_app.extensions.setdefault("lodpub.search", {})
    source = store()
    key = (source.base_iri, source.version)
    if key not in kept:
        with _building:
            if key not in kept:
                index = _read_or_build(source, _index_file(publisher().settings.output_dir, *key))
                kept.clear()
                kept[key] = index
    return kept[key]


def _index_file(output_dir: Path | None, base: str, version: str) -> Path | None:
    """Where the index of release `version` under `base` is kept, for every worker (None: nowhere)."""
    if output_dir is None:
        return None
    name = hashlib.sha256(f"{INDEX_FORMAT}\n{base}\n{version}".encode()).hexdigest()[:32]
    return output_dir / INDEX_FOLDER / f"{name}.pickle"


def _read_or_build(source: Store, path: Path | None) -> SearchIndex:
    """The index kept in `path`, else one made from `source` and kept there (the others are removed:
    their releases are no longer served, and a release served again makes its index again). Workers
    take turns (a lock on the folder), so that one makes the index while the others wait to read it."""
    with _exclusively(path.parent if path is not None else None):
        return _read_or_build_now(source, path)


@contextlib.contextmanager
def _exclusively(folder: Path | None) -> Iterator[None]:
    """Hold the lock of `folder` (its file .lock), if it can be had: else go on without it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        lock = open(folder / ".lock", "a")  # noqa: SIM115 - closed below, after the lock is released
    except (OSError, AttributeError):  # no folder, or one that cannot be written
        yield
        return
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
        except OSError:  # a file system without locks: at worst two workers make the index at once
            pass
        yield


def warm_up(app: Flask) -> None:
    """Make or read the index of the served release now, so that a worker's first search does not
    wait for it (seconds at 10 000 agreements): gunicorn's workers do it as they load the app, before
    they are ready, which they are only once their store is loaded (a background thread would make
    it while the worker serves, and add its memory to whatever the worker is doing then)."""
    try:
        with app.app_context():
            current_index()
    except Exception as error:  # the first search will try again, and say what fails
        app.logger.warning("search index not made in advance: %s", error)


def _read_or_build_now(source: Store, path: Path | None) -> SearchIndex:
    if path is not None and path.is_file():
        try:
            return pickle.loads(path.read_bytes())
        except Exception as error:  # a damaged file fails in any of pickle's ways: the index is only a cache
            current_app.logger.warning("search index %s unreadable, made again: %s", path, error)
    started = time.monotonic()
    index = build_index(source)
    current_app.logger.info("search index of %s made in %.1f s: %d resources", source.version,
                            time.monotonic() - started, len(index))
    if path is not None:
        _keep(index, path)
    return index


def _keep(index: SearchIndex, path: Path) -> None:
    """Write `index` to `path` whole or not at all (a temporary file renamed), removing the others."""
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".", delete=False) as temporary:
            pickle.dump(index, temporary, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary.name, path)
        for other in path.parent.glob("*.pickle"):
            if other != path:
                other.unlink(missing_ok=True)
    except OSError as error:
        current_app.logger.warning("search index not kept in %s: %s", path.parent, error)
        if temporary is not None:
            Path(temporary.name).unlink(missing_ok=True)


def cleaned(query: str) -> str:
    """The query as shown again: control and other invisible characters as spaces, trimmed."""
    return "".join(" " if unicodedata.category(char)[0] == "C" else char for char in query).strip()


@blueprint.route("/search")
def search() -> Response:
    """The search page, or its JSON for a client that prefers JSON to HTML."""
    if request.accept_mimetypes.best_match(["text/html", JSON_TYPE]) == JSON_TYPE:
        return search_json()
    language = current_language()
    texts = words(language)
    query, error = _read_query(texts)
    results = current_index().search(query, language, publisher().settings.search_max_hits) \
        if query and not error else None
    body = render_template("search.html", query=query, error=error, results=results,
                           summary=_summary(results, texts) if results else "")
    response = Response(body, status=400 if error else 200, mimetype="text/html")
    response.vary.add("Accept")
    return response


@blueprint.route("/search.json")
def search_json() -> Response:
    """The hits as JSON, Datasette-style: the query, the total, the hits; or `ok: false` and the error."""
    language = current_language()
    query, error = _read_query(words(language))
    if error:
        return _json({"ok": False, "status": 400, "error": error}, 400, language)
    limit = publisher().settings.search_max_hits
    results = current_index().search(query, language, limit) if query else Results(query, 0, [])
    return _json({"ok": True, "query": query, "language": language, "total": results.total, "limit": limit,
                  "truncated": results.total > len(results.hits),
                  "hits": [{"iri": hit.iri, "label": hit.label, "kind": hit.kind, "kind_label": hit.kind_label,
                            "matched": hit.matched, "matched_in": hit.field, "score": hit.score}
                           for hit in results.hits]}, 200, language)


@blueprint.route("/opensearch.xml")
def opensearch() -> Response:
    """The OpenSearch 1.1 description, so that a browser can offer the search among its own."""
    language = current_language()
    texts = words(language)
    root = ElementTree.Element("OpenSearchDescription", xmlns=OPENSEARCH_NS)
    for tag, text in (("ShortName", texts["search_short_name"]), ("Description", texts["search_description"]),
                      ("LongName", texts["site_title"][:48]), ("InputEncoding", "UTF-8"),
                      ("OutputEncoding", "UTF-8"), ("Language", language)):
        ElementTree.SubElement(root, tag).text = text
    for media_type, endpoint in (("text/html", "search.search"), (JSON_TYPE, "search.search_json")):
        ElementTree.SubElement(root, "Url", type=media_type, template=public_link(url_for(endpoint)) + "?q={searchTerms}")
    ElementTree.SubElement(root, "Url", type=OPENSEARCH_TYPE, rel="self",
                           template=public_link(url_for("search.opensearch")))
    image = ElementTree.SubElement(root, "Image", type="image/svg+xml", width="16", height="16")
    image.text = public_link(url_for("static", filename="favicon.svg"))
    ElementTree.SubElement(root, "Query", role="example", searchTerms="Bursa")
    body = ElementTree.tostring(root, encoding="UTF-8", xml_declaration=True)
    response = Response(body, mimetype=OPENSEARCH_TYPE)
    response.headers["Content-Language"] = language
    response.vary.update(("Accept-Language", "Cookie"))
    return response


def _read_query(texts: dict[str, str]) -> tuple[str, str | None]:
    """`?q=` as shown again, and the error that refuses it (None when it may be searched)."""
    query = request.args.get("q", "")
    if len(query) > MAX_QUERY_CHARS:
        return cleaned(query[:MAX_QUERY_CHARS]), texts["search_too_long"].format(limit=MAX_QUERY_CHARS,
                                                                                length=len(query))
    return cleaned(query), None


def _summary(results: Results, texts: dict[str, str]) -> str:
    """How many matched, and how many are shown when not all are."""
    if not results.total:
        return texts["search_nothing"].format(query=results.query)
    if results.total > len(results.hits):
        return texts["search_first_of"].format(shown=len(results.hits), total=results.total, query=results.query)
    return texts["search_found"].format(total=results.total, query=results.query)


def _json(document: dict, status: int, language: str) -> Response:
    response = Response(json.dumps(document, ensure_ascii=False, indent=1), status=status,
                        mimetype=JSON_TYPE)
    response.headers["Content-Language"] = language
    response.vary.update(("Accept", "Accept-Language", "Cookie"))
    return response
