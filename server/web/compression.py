"""Content-Encoding: gzip for the text we send (documents, pages, SPARQL answers), when the client
accepts it.

A compressible answer (RDF, JSON, XML, HTML, CSV, plain text) of at least MIN_BYTES is gzipped
when Accept-Encoding allows gzip (by name with a q-value above 0, or by `*`; `gzip;q=0` refuses it
whatever `*` says), and varies with Accept-Encoding either way. The gzipped bytes are those of
`gzip.compress(..., mtime=0)`: the same answer, the same bytes, so a strong ETag (which names the
encoded bytes, RFC 9110 §8.8.3) is one per encoding (http._representation_tag counts it).

An answer streamed from a file (a large SPARQL answer) is gzipped as it streams, by one zlib
stream of fixed settings: the same chunks give the same bytes.

Two levels: what is made once and kept (documents, pages, written ahead or rendered once per release)
is gzipped at zlib's usual 6; a SPARQL answer, made anew for each query, at 1 (ANSWER_LEVEL, for a response
marked `per_request`), as web servers gzip what they make per request by default:
at 6 the gzip of a 400 KB answer took 1.3 ms against 0.5, and of 1.8 MB 7.7 ms against 3.0, for a
third more bytes on the wire.

Not compressed: files sent as they are (direct passthrough), and an answer that offers byte ranges
(`Accept-Ranges`, the dumps): a range counts bytes of the file, and the dumps have their .gz files.
"""

import gzip
import zlib
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import NamedTuple

from flask import Request, Response
from werkzeug.http import parse_accept_header

# Below a kilobyte the gzip header and a packet's worth of bytes saved are not worth the work.
MIN_BYTES = 1024
# zlib's levels: for what is gzipped once and kept, and for a SPARQL answer (see the docstring).
KEPT_LEVEL, ANSWER_LEVEL = 6, 1
COMPRESSIBLE_TYPES = ("application/ld+json", "application/rdf+xml", "application/n-triples", "application/n-quads",
                      "application/trig", "application/json", "application/xml", "application/javascript",
                      "application/sparql-results+json", "application/sparql-results+xml", "image/svg+xml")


class GzipChoice(NamedTuple):
    """Whether an answer varies with Accept-Encoding, and the zlib level it is gzipped at (None: it is not)."""

    varies: bool
    level: int | None


def gzip_choice(media_type: str, length: int | None, accept_encoding: str, per_request: bool) -> GzipChoice:
    """How an answer of `media_type`, `length` bytes long (None when it streams), is encoded for a client that
    sent `accept_encoding`: the one decision for Flask's responses (`compress`) and for the answers given
    before Flask (web/written_answers.py, web/sparql_answers.py). `per_request`: made for this request alone
    (a SPARQL answer), gzipped at ANSWER_LEVEL, else at KEPT_LEVEL (see the module's docstring)."""
    if not compressible_type(media_type) or (length is not None and length < MIN_BYTES):
        return GzipChoice(False, None)
    if not accepts_gzip(accept_encoding):
        return GzipChoice(True, None)
    return GzipChoice(True, ANSWER_LEVEL if per_request else KEPT_LEVEL)


def compress(response: Response, request: Request) -> Response:
    """Gzip `response` when the client accepts it and it is worth it; say it varies with Accept-Encoding."""
    if not _encodable(response):
        return response
    length = len(response.get_data()) if response.is_sequence else None
    choice = gzip_choice(response.mimetype or "", length, request.headers.get("Accept-Encoding", ""),
                         getattr(response, "per_request", False))
    if not choice.varies:
        return response
    response.vary.add("Accept-Encoding")
    if choice.level is not None:
        if response.is_sequence:
            # A document written ahead, or an answer gzipped in its runner, comes gzipped already, as
            # these same settings gzip it.
            gzipped_ahead = getattr(response, "gzipped", None)
            response.set_data(gzipped_ahead or gzipped_body(response.get_data(), choice.level))
        else:
            response.response = gzipped(response.response, choice.level)
            response.headers.pop("Content-Length", None)
        response.headers["Content-Encoding"] = "gzip"
    return response


def gzipped_body(body: bytes, level: int = KEPT_LEVEL) -> bytes:
    """`body` gzipped at `level` as every answer is: the same bytes for the same body (no time in the header)."""
    return gzip.compress(body, compresslevel=level, mtime=0)


def gzipped(chunks: Iterable[bytes], level: int = KEPT_LEVEL) -> Iterator[bytes]:
    """`chunks` gzipped at `level` as they come (a gzip member with no time stamp), closing `chunks` at the end."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)  # 31: the gzip format
    try:
        for chunk in chunks:
            compressed = compressor.compress(chunk)
            if compressed:
                yield compressed
        yield compressor.flush()
    finally:
        close = getattr(chunks, "close", None)
        if close:
            close()


@lru_cache(maxsize=256)  # clients send the same few headers, each answer asks
def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header value allows gzip: named (or x-gzip) with q > 0, else by
    `*` with q > 0. No header: identity only (RFC 9110 §12.5.3 allows any, but clients that
    decode gzip say so)."""
    codings = [(coding.lower(), quality) for coding, quality in parse_accept_header(accept_encoding)]
    named = [quality for coding, quality in codings if coding in ("gzip", "x-gzip")]
    if named:
        return max(named) > 0
    return any(coding == "*" and quality > 0 for coding, quality in codings)


def _encodable(response: Response) -> bool:
    """Whether `response` may be given a content coding here at all (see the module's docstring)."""
    return (not response.direct_passthrough and response.status_code not in (204, 206, 304)
            and "Content-Encoding" not in response.headers and "Accept-Ranges" not in response.headers)


def compressible_type(media_type: str) -> bool:
    """Whether answers of `media_type` are text worth gzipping."""
    return media_type.startswith("text/") or media_type in COMPRESSIBLE_TYPES
