"""One decision of the content coding (web/compression.gzip_choice) for Flask's responses and the answers given
before Flask: what `compress` does to a real Flask response is what gzip_choice says, level included."""

import gzip
import itertools

import pytest
from flask import Flask, Response, request

from lodpub.web.compression import ANSWER_LEVEL, KEPT_LEVEL, MIN_BYTES, compress, gzip_choice

# The XFL byte of a gzip header (RFC 1952 §2.3.1) as zlib writes it: 4 for its fastest level, 0 for 6.
XFL = {ANSWER_LEVEL: 4, KEPT_LEVEL: 0}
CASES = list(itertools.product(
    ["text/turtle", "application/sparql-results+json", "image/png"], [10, MIN_BYTES - 1, MIN_BYTES, 5000],
    ["", "gzip", "gzip;q=0, *", "*", "br, x-gzip;q=0.5", "identity"], [False, True]))


@pytest.mark.parametrize(("media_type", "length", "accept_encoding", "per_request"), CASES)
def test_flask_gzips_as_gzip_choice_decides(media_type, length, accept_encoding, per_request):
    body = (b"<https://example.org/a> <https://example.org/b> 'c' .\n" * 200)[:length]
    with Flask(__name__).test_request_context(headers={"Accept-Encoding": accept_encoding}):
        response = Response(body, mimetype=media_type)
        response.per_request = per_request
        sent = compress(response, request)
    varies, level = gzip_choice(media_type, length, accept_encoding, per_request)
    assert ("accept-encoding" in sent.vary) == varies
    assert (sent.headers.get("Content-Encoding") == "gzip") == (level is not None)
    if level is not None:
        data = sent.get_data()
        assert gzip.decompress(data) == body and data[8] == XFL[level]
    else:
        assert sent.get_data() == body
