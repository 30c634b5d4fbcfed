"""Search for people and programs: `/search?q=` (a page, or JSON for `Accept: application/json`),
`/search.json?q=` and the OpenSearch description `/opensearch.xml`.

The index (search_index.py) is made from two SELECTs through `store()`, so that it works on every
store, once per release: a worker makes it on a thread of its own once it has loaded the app
(`warm_up_in_background`), not before it serves, and the first worker to get to it writes it into the
output folder (kept_search_index.py), where the other workers (and those that replace them) read it
in a fraction of the time; each keeps it in memory per store version, and turns to another when
the store serves another release (at its next search). A query never reaches the store: it is looked up
in the index, and is refused (400) beyond MAX_QUERY_CHARS characters.
"""

import json
import threading
import unicodedata
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, render_template, request, url_for
from rdflib import URIRef
from rdflib.namespace import DCAT, DCTERMS, RDFS, SKOS

from ..kept_search_index import index_file, keep_written, read_or_make
from ..namespaces import LABEL_PREDICATES
from ..search_index import ALTERNATIVE, DESCRIPTION, LABEL, Results, SearchIndex
from ..search_index_file import layout_of, write_pieces
from ..search_rows import TextRows, chosen_kinds
from ..store import Store
from ..store.processes import give_back_freed_memory
from . import public_link, publisher, store
from .html import label_of
from .i18n import LANGUAGES, current_language, words

blueprint = Blueprint("search", __name__)

# The longest query answered, in characters: names and phrases are far shorter.
MAX_QUERY_CHARS = 200
# How long the engine may take to make the index of a release (minutes at 100 000 agreements).
INDEX_SECONDS = 3600.0
JSON_TYPE = "application/json"
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
# In the engine: the parts of the index made for a worker, by release, until it has fetched them in pieces
# of at most PIECE_BYTES (an answer each).
_made: dict[str, dict] = {}
_made_lock = threading.Lock()
PIECE_BYTES = 32 * 2**20


def field_of(base_iri: str) -> dict[str, tuple[int, int]]:
    """The predicates searched, each with (its rank among the labels or -1, the kind of text it holds)."""
    fields = {str(predicate): (rank, LABEL) for rank, predicate in enumerate(LABEL_PREDICATES)}
    fields.update({str(predicate): (-1, ALTERNATIVE) for predicate in ALTERNATIVE_PREDICATES})
    fields.update({str(predicate): (-1, DESCRIPTION)
                   for predicate in (*DESCRIPTION_PREDICATES, f"{base_iri}ontology/reason")})
    return fields


def build_index(source: Store) -> SearchIndex:
    """The search index of the release `source` serves: its resources' texts, kinds and kinds' labels.
    The rows are read as the store gives them and held compactly (search_rows.py), not all at once."""
    base = source.base_iri
    fields = field_of(base)
    strings = {"base": json.dumps(base), "ontology": json.dumps(base + "ontology/")}
    rows = TextRows()
    for resource, predicate, text, language in source.select_rows(
            TEXTS.format(predicates=" ".join(f"<{p}>" for p in fields), **strings)):
        rows.add(resource, *fields[predicate], language, text)
    kinds = chosen_kinds(source.select_rows(KINDS.format(**strings)), rows.numbers, base)
    kind_iris = {URIRef(kind) for kind in set(kinds) if kind}
    labels = source.labels(kind_iris)
    index = SearchIndex({str(kind): {language: label_of(labels, kind, language, base) for language in LANGUAGES}
                         for kind in kind_iris})
    for resource, number, texts in rows.by_resource():
        index.add(resource, kinds[number], texts)
    return index.finish(LANGUAGES)


def _maker_in_engine(source: Store) -> Callable[[Path], bool] | None:
    """For a store held by the shared engine, what makes the index there and keeps it in a file: its rows
    are not sent to the worker (at 100k agreements, gigabytes held twice), and its parts come in pieces
    (index_piece), written to the file as they come: the engine may write no file larger than an answer,
    and a whole index in one answer was a copy of it in each process, pickled."""
    in_engine = getattr(source, "in_engine", None)
    if in_engine is None:
        return None

    def make_kept(path: Path) -> bool:
        meta, layout = in_engine(index_layout, timeout=INDEX_SECONDS)
        try:
            return keep_written(lambda file: write_pieces(
                file, meta, layout, lambda name, start: in_engine(index_piece, name, start, timeout=INDEX_SECONDS)), path)
        finally:
            in_engine(forget_index, timeout=INDEX_SECONDS)
    return make_kept


def index_parts(source: Store) -> tuple[dict, dict]:
    """The parts of the index of the release `source` serves (see SearchIndex.parts)."""
    return build_index(source).parts()  # the index's own maps go; its arrays stay, in the parts


def index_layout(source: Store) -> tuple[dict, dict[str, tuple[int, str]]]:
    """In the engine: make the index of the release `source` serves and keep its parts (for index_piece,
    until forget_index); what is not an array, and the size and type of each part (layout_of)."""
    meta, parts = index_parts(source)
    with _made_lock:
        _made.clear()  # (an index made for a worker that never fetched it)
        _made[source.version] = parts
    return meta, layout_of(parts)


def index_piece(source: Store, name: str, start: int) -> bytes:
    """In the engine: the bytes of part `name` of the index index_layout made, from `start`, PIECE_BYTES at most."""
    with _made_lock:
        part = _made[source.version][name]
    return bytes(memoryview(part).cast("B")[start:start + PIECE_BYTES])


def forget_index(source: Store) -> None:
    """In the engine: let go of the parts index_layout kept, and give their memory back."""
    with _made_lock:
        _made.pop(source.version, None)
    give_back_freed_memory()


def current_index() -> SearchIndex:
    """The index of the release the store serves now: kept in memory per store version; read from
    the output folder if a worker has made it already, else made (and written there for the others)."""
    kept = current_app.extensions.setdefault("lodpub.search", {})
    source = store()
    key = (source.base_iri, source.version)
    if key not in kept:
        with _building:
            if key not in kept:
                index = read_or_make(index_file(publisher().settings.output_dir, *key), lambda: build_index(source),
                                     _maker_in_engine(source))
                kept.clear()
                kept[key] = index
    return kept[key]


def warm_up(app: Flask) -> None:
    """Make or read the index of the served release now, so that a worker's first search does not
    wait for it (seconds at 10 000 agreements)."""
    try:
        with app.app_context():
            current_index()
    except Exception as error:  # the first search will try again, and say what fails
        app.logger.warning("search index not made in advance: %s", error)


def warm_up_in_background(app: Flask) -> threading.Thread:
    """warm_up on a thread of its own, started now: a worker serves documents meanwhile, and a search
    asked meanwhile waits for the index (current_index).

    Made before the worker serves, the index stood between a server's start and its first answer
    (10 s of the first worker's CPU at 6 000 agreements, the other worker waiting to read it), and no
    document needs it. Its memory adds to what the worker does meanwhile, as it would to the first search."""
    thread = threading.Thread(target=warm_up, args=(app,), name="lodpub-search-index", daemon=True)
    thread.start()
    return thread


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
