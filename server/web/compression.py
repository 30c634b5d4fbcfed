"""Content-Encoding: gzip for the text we send (documents, pages, SPARQL answers), when the client
accepts it.

A compressible answer (RDF, JSON, XML, HTML, CSV, plain text) of at least MIN_BYTES is gzipped
when Accept-Encoding allows gzip (by name with a q-value above 0, or by `*`; `gzip;q=0` refuses it
whatever `*` says), and varies with Accept-Encoding either way. The gzipped bytes are those of
`gzip.compress(..., mtime=0)`: the same answer, the same bytes, so a strong ETag (which names the
encoded bytes, RFC 9110 §8.8.3) is one per encoding (http._representation_tag counts it).

An answer streamed from a file (a large SPARQL answer) is gzipped as it streams, by one zlib
stream of fixed settings: the same chunks give the same bytes.

Not compressed: files sent as they are (direct passthrough), and an answer that offers byte ranges
(`Accept-Ranges`, the dumps): a range counts bytes of the file, and the dumps have their .gz files.
"""

import gzip
import zlib
from collections.abc import Iterable, Iterator
from functools import lru_cache

from flask import Request, Response
from werkzeug.http import parse_accept_header

# Below a kilobyte the gzip header and a packet's worth of bytes saved are not worth the work.
MIN_BYTES = 1024
COMPRESSIBLE_TYPES = ("application/ld+json", "application/rdf+xml", "application/n-triples", "application/n-quads",
                      "application/trig", "application/json", "application/xml", "application/javascript",
                      "application/sparql-results+json", "application/sparql-results+xml", "image/svg+xml")


def compress(response: Response, request: Request) -> Response:
    """Gzip `response` when the client accepts it and it is worth it; say it varies with Accept-Encoding."""
    if not _compressible(response):
        return response
    response.vary.add("Accept-Encoding")
    if accepts_gzip(request.headers.get("Accept-Encoding", "")):
        if response.is_sequence:
            # A document written ahead comes gzipped already, as these same settings gzip it.
            gzipped_ahead = getattr(response, "gzipped", None)
            response.set_data(gzipped_ahead or gzipped_body(response.get_data()))
        else:
            response.response = gzipped(response.response)
            response.headers.pop("Content-Length", None)
        response.headers["Content-Encoding"] = "gzip"
    return response


def gzipped_body(body: bytes) -> bytes:
    """`body` gzipped as every answer is: the same bytes for the same body (no time in the header)."""
    return gzip.compress(body, compresslevel=6, mtime=0)


def gzipped(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """`chunks` gzipped as they come (a gzip member with no time stamp), closing `chunks` at the end."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # 31: the gzip format
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


def _compressible(response: Response) -> bool:
    return (not response.direct_passthrough and response.status_code not in (204, 206, 304)
            and "Content-Encoding" not in response.headers and "Accept-Ranges" not in response.headers
            and compressible_type(response.mimetype or "")
            and (not response.is_sequence or len(response.get_data()) >= MIN_BYTES))


def compressible_type(media_type: str) -> bool:
    """Whether answers of `media_type` are text worth gzipping."""
    return media_type.startswith("text/") or media_type in COMPRESSIBLE_TYPES
