"""Where a request ends, told from the bytes received so far (server/serving/framing.py, incoming.py)."""

import pytest

from lodpub.serving.framing import Body, ChunkedScan, Refused, find_head
from lodpub.serving.incoming import Incoming, Limits

LIMITS = Limits(header_timeout=10, body_timeout=30, max_body_bytes=100, max_head_bytes=1000)


def test_a_head_is_complete_at_its_blank_line_and_says_how_its_body_ends():
    assert find_head(b"GET / HTTP/1.1\r\nHost: x\r\n", 1000) is None
    head = find_head(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /next", 1000)
    assert (head.end, head.body) == (len(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"), Body.NONE)
    post = find_head(b"POST / HTTP/1.1\r\ncontent-LENGTH: 12\r\nExpect: 100-Continue\r\n\r\n", 1000)
    assert (post.body, post.length, post.expects_continue) == (Body.LENGTH, 12, True)
    assert find_head(b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 1000).body is Body.CHUNKED


@pytest.mark.parametrize("fields", [b"Content-Length: 1\r\nContent-Length: 2", b"Content-Length: -1",
                                    b"Content-Length: 5\r\nTransfer-Encoding: chunked",
                                    b"Transfer-Encoding: chunked, gzip"])
def test_a_head_gunicorn_refuses_is_handed_over_without_waiting_for_a_body(fields):
    assert find_head(b"POST / HTTP/1.1\r\n" + fields + b"\r\n\r\n", 1000).body is Body.UNFRAMED


def test_a_head_that_never_ends_is_refused_with_431():
    with pytest.raises(Refused) as refused:
        find_head(b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 200, 1000)
    assert refused.value.status == 431


def test_a_chunked_body_ends_after_its_last_chunk_and_trailers_however_it_is_cut_up():
    body = b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n"
    scan = ChunkedScan(0, 100)
    for cut in range(len(body)):
        assert scan.end(body[:cut]) is None, cut
    assert scan.end(body + b"GET /next") == len(body)
    assert ChunkedScan(0, 100).end(b"0\r\n\r\n") == 5


@pytest.mark.parametrize("body, status", [(b"zz\r\n", 400), (b"5\r\nhelloXX", 400), (b"65\r\n", 413)])
def test_a_malformed_or_too_large_chunked_body_is_refused(body, status):
    with pytest.raises(Refused) as refused:
        ChunkedScan(0, 100).end(body)
    assert refused.value.status == status


def test_a_request_is_complete_with_its_whole_body_and_a_body_over_the_limit_is_refused_unread():
    incoming = Incoming(LIMITS, now=0)
    assert not incoming.feed(b"POST / HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\nab", now=1)
    assert incoming.wants_continue() and incoming.deadline == 1 + LIMITS.body_timeout
    assert incoming.feed(b"cd", now=2)
    with pytest.raises(Refused) as refused:
        Incoming(LIMITS, now=0).feed(b"POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", now=0)
    assert refused.value.status == 413


def test_a_kept_alive_connection_idles_until_its_keepalive_then_has_the_header_timeout_from_its_first_byte():
    incoming = Incoming(LIMITS, now=0, idle_until=5)
    assert incoming.idle and incoming.deadline == 5 and not incoming.started
    assert not incoming.feed(b"GET", now=4)
    assert not incoming.idle and incoming.deadline == 4 + LIMITS.header_timeout
    pipelined = Incoming(LIMITS, now=0, buffered=b"GET / HTTP/1.1\r\n\r\n", idle_until=5)
    assert pipelined.complete(now=0)
