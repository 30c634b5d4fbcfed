"""Plain requests read and answered without gunicorn's objects (serving/plain.py): the same environ as
gunicorn's parser and wsgi.create make, the same head as its Response writes, the same bytes on a real
server; and every request that is not plain left to gunicorn."""

import json
import socket
import time
from urllib.parse import urlencode

import pytest
from gunicorn import http
from gunicorn.config import Config
from gunicorn.http import wsgi
from test_serving import _exchanges, raw, strict_server  # noqa: F401  (the fixture, for the served test)

from lodpub.serving.at_once import OneWrite
from lodpub.serving.plain import PlainReader, PlainResponse

CLIENT, SERVER = ("127.0.0.1", 50123), ("127.0.0.1", 8000)
QUERY = urlencode({"query": "SELECT ?p ?o WHERE { <https://example.org/id/a%20b> ?p ?o }"})
PLAIN = [
    b"GET /doc/agreement/x HTTP/1.1\r\nHost: example.org\r\nAccept: text/turtle\r\n\r\n",
    f"GET /sparql?{QUERY}&format=csv HTTP/1.1\r\nHost: x:8000\r\nAccept-Encoding: gzip, deflate\r\n"
    "User-Agent: curl/8.0\r\nX-Request-ID: abc-1\r\nX-Forwarded-For: 10.0.0.1\r\nConnection: close\r\n\r\n".encode(),
    b"GET /doc/a;b/c:d@e HTTP/1.1\r\nHost: x\r\nAccept:text/turtle;q=0.9, */*;q=0.1 \r\n\r\n",
    f"POST /sparql?format=json HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    f"Content-Length: {len(QUERY)}\r\nConnection: keep-alive\r\n\r\n{QUERY}".encode(),
]
NOT_PLAIN = {
    "HTTP/1.0": b"GET /doc/x HTTP/1.0\r\nHost: x\r\n\r\n",
    "HEAD": b"HEAD /doc/x HTTP/1.1\r\nHost: x\r\n\r\n",
    "an escape in the path": b"GET /doc/a%20b HTTP/1.1\r\nHost: x\r\n\r\n",
    "a fragment": b"GET /doc/x#y HTTP/1.1\r\nHost: x\r\n\r\n",
    "a path of two slashes": b"GET //doc/x HTTP/1.1\r\nHost: x\r\n\r\n",
    "absolute form": b"GET http://x/doc/x HTTP/1.1\r\nHost: x\r\n\r\n",
    "a scheme header": b"GET /doc/x HTTP/1.1\r\nHost: x\r\nX-Forwarded-Proto: https\r\n\r\n",
    "Forwarded": b"GET /doc/x HTTP/1.1\r\nHost: x\r\nForwarded: for=1.2.3.4\r\n\r\n",
    "a repeated field": b"GET /doc/x HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
    "Expect": b"GET /doc/x HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n",
    "Transfer-Encoding": b"POST /sparql HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "an underscore": b"GET /doc/x HTTP/1.1\r\nHost: x\r\nX_Forwarded_For: 1.2.3.4\r\n\r\n",
    "folding": b"GET /doc/x HTTP/1.1\r\nHost: x\r\nAccept: text/turtle,\r\n text/html\r\n\r\n",
    "a space before the colon": b"GET /doc/x HTTP/1.1\r\nHost : x\r\n\r\n",
    "a tab in a value": b"GET /doc/x HTTP/1.1\r\nHost: x\r\nAccept: a,\tb\r\n\r\n",
    "latin-1 in a value": "GET /doc/x HTTP/1.1\r\nHost: x\r\nUser-Agent: é\r\n\r\n".encode("latin-1"),
    "a bare LF": b"GET /doc/x HTTP/1.1\r\nHost: x\nAccept: */*\r\n\r\n",
    "a body on a GET": b"GET /doc/x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab",
    "a POST without a length": b"POST /sparql HTTP/1.1\r\nHost: x\r\n\r\n",
    "a line at gunicorn's limit": b"GET /doc/" + b"x" * 8190 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "Upgrade": b"GET /doc/x HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n",
}
# Objects gunicorn puts in the environ that no answer given at once reads (the socket, the early hints' callback).
OBJECTS = ("gunicorn.socket", "wsgi.early_hints", "wsgi.input", "wsgi.errors")


@pytest.fixture()
def cfg() -> Config:
    """gunicorn's settings, as `lodpub serve` gives them (lodpub.wsgi.gunicorn_options) where they matter here."""
    settings = Config()
    settings.set("limit_request_line", 8190)
    return settings


def _gunicorns(cfg: Config, request: bytes) -> tuple:
    """gunicorn's request, response and environ for `request`."""
    ours, theirs = socket.socketpair()
    with ours, theirs:
        parser = http.get_parser(cfg, ours, CLIENT)
        parser.unreader.unread(request)
        req = next(parser)
        resp, environ = wsgi.create(req, ours, CLIENT, SERVER, cfg)
        return req, resp, environ


def _plain(cfg: Config, request: bytes) -> tuple | None:
    end = request.index(b"\r\n\r\n")
    return PlainReader(cfg).read(request[:end], request[end + 4:], CLIENT, SERVER)


@pytest.mark.parametrize("request_bytes", PLAIN)
def test_a_plain_request_has_the_environ_gunicorn_gives_it(cfg, request_bytes):
    req, _, environ = _gunicorns(cfg, request_bytes)
    read = _plain(cfg, request_bytes)
    assert read is not None
    plain, ours = read
    assert {k: v for k, v in ours.items() if k not in OBJECTS} == {k: v for k, v in environ.items() if k not in OBJECTS}
    assert ours["wsgi.input"].read() == environ["wsgi.input"].read()
    assert (plain.method, plain.uri, plain.path, plain.query, plain.headers) == (req.method, req.uri, req.path,
                                                                                  req.query, req.headers)
    assert plain.should_close() == req.should_close()


@pytest.mark.parametrize("request_bytes", NOT_PLAIN.values(), ids=NOT_PLAIN.keys())
def test_a_request_that_is_not_plain_is_left_to_gunicorn(cfg, request_bytes):
    assert _plain(cfg, request_bytes) is None


@pytest.mark.parametrize("request_bytes", PLAIN)
@pytest.mark.parametrize("must_close", [False, True])
def test_the_head_of_a_plain_answer_is_the_one_gunicorns_response_writes(cfg, request_bytes, must_close):
    headers = [("Content-Type", "text/turtle; charset=utf-8"), ("Content-Length", "5"), ("Vary", "Accept"),
               ("Link", '<https://x/doc/a.ttl>; rel="alternate"'), ("Date", "Mon, 07 Dec 2026 08:00:00 GMT")]
    req, resp, _ = _gunicorns(cfg, request_bytes)
    plain = PlainResponse(_plain(cfg, request_bytes)[0], False)
    for response in (resp, plain):
        if must_close:
            response.force_close()
    for _ in range(3):  # (the Date field changes once a second: again, should the second have turned between)
        ours = plain.head(headers)
        resp.sock, resp.headers_sent, resp.status, resp.headers = OneWrite(None), False, None, []
        resp.start_response("200 OK", headers)
        resp.send_headers()
        if b"".join(resp.sock.held) == ours:
            break
    assert b"".join(resp.sock.held) == ours
    assert plain.should_close() == resp.should_close()


# --- on a real server --------------------------------------------------------------------------------


def _documents_written(server) -> None:
    """Wait until the server's documents are written ahead (so that the loop answers their first visits)."""
    deadline = time.monotonic() + 120
    while not list((server.output / "documents").glob("*/manifest.json")):
        assert time.monotonic() < deadline, "no documents written ahead"
        time.sleep(0.5)


@pytest.mark.served
@pytest.mark.parametrize("fields", [
    "Accept: text/turtle\r\nAccept-Encoding: gzip\r\n", "Accept: text/turtle;q=0.9, text/html;q=0.1\r\n",
    "Accept: */*\r\nAccept-Encoding: gzip;q=0, identity\r\n", "X-Request-ID: given-1\r\nUser-Agent: plain/1\r\n"],
    ids=["gzip", "turtle-over-html", "identity", "request-id"])
@pytest.mark.parametrize("suffix", ["", ".ttl"])
def test_a_first_visit_answered_plainly_is_the_answer_a_thread_gives(strict_server, fields, suffix):
    """A request with another pipelined behind it goes to a thread (gunicorn and Flask); the last, alone in its
    buffer, plain, is read and answered by the loop (plain.py): the same bytes, header for header."""
    _documents_written(strict_server)
    request = f"GET /doc/vocabulary/statuses{suffix} HTTP/1.1\r\nHost: x\r\n{fields}".encode()
    answers = _exchanges(raw(strict_server, request + b"\r\n" + request + b"Connection: close\r\n\r\n"))
    assert len(answers) == 2 and answers[0][0] == b"HTTP/1.1 200 OK" and len(answers[0][2]) > 100
    (status, fields_sent, sent), (last_status, last_fields, last_sent) = answers
    assert (status, sent) == (last_status, last_sent)
    assert [field for field in fields_sent if not field.startswith(b"Connection:")] == \
        [field for field in last_fields if not field.startswith(b"Connection:")]
    assert b"Connection: keep-alive" in fields_sent and b"Connection: close" in last_fields


@pytest.mark.served
def test_a_plain_answer_is_logged_with_every_field(strict_server):
    """The loop's access log line for a plain request has what gunicorn's Request and Response gave it."""
    _documents_written(strict_server)
    answer = raw(strict_server, b"GET /doc/vocabulary/statuses.ttl HTTP/1.1\r\nHost: x\r\nX-Request-ID: plain-logged\r\n"
                                b"User-Agent: plain/2\r\nConnection: close\r\n\r\n")
    [(status, _, body)] = _exchanges(answer)
    assert status == b"HTTP/1.1 200 OK"
    deadline = time.monotonic() + 10
    while not (entries := [json.loads(line) for line in strict_server.log.read_text().splitlines()
                           if line.startswith("{") and '"plain-logged"' in line]) and time.monotonic() < deadline:
        time.sleep(0.1)
    [entry] = entries
    assert (entry["method"], entry["path"], entry["query"], entry["status"]) == ("GET", "/doc/vocabulary/statuses.ttl", "", 200)
    assert (entry["bytes"], entry["user_agent"], entry["remote_addr"]) == (len(body), "plain/2", "127.0.0.1")
    assert entry["time"].endswith("Z") and 0 < entry["duration_ms"] < 30_000


@pytest.mark.served
def test_a_connection_stays_open_after_plain_answers_for_whatever_comes_next(strict_server):
    """Plain answers given at once, then a request a thread answers, then a plain one again, on one connection."""
    _documents_written(strict_server)
    document = b"GET /doc/vocabulary/statuses.ttl HTTP/1.1\r\nHost: x\r\n\r\n"
    health = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    sock = socket.create_connection(("127.0.0.1", int(strict_server.rstrip("/").rsplit(":", 1)[1])), timeout=10)
    answers = []
    with sock:
        for request in (document, document, health, document):
            sock.sendall(request)
            received = b""
            while not (received and len(_exchanges(received)) == 1 and _complete(received)):
                chunk = sock.recv(65536)
                assert chunk, f"the connection was closed after {len(answers)} answers"
                received += chunk
            answers.append(_exchanges(received)[0])
    assert [status for status, _, _ in answers] == [b"HTTP/1.1 200 OK"] * 4
    assert all(b"Connection: keep-alive" in fields for _, fields, _ in answers)
    assert answers[0][2] == answers[1][2] == answers[3][2]


def _complete(received: bytes) -> bool:
    """Whether `received` holds one whole answer (its head and Content-Length's bytes)."""
    head, separator, body = received.partition(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), None)
    return bool(separator) and length is not None and len(body) >= length
