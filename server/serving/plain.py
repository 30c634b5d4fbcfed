"""A plain request read, and its ready answer written, without gunicorn's Request and Response objects.

An answer the loop gives at once (at_once.py) costs a fraction of a millisecond of the app's time; the rest
was gunicorn's: its parser (a Message and Request object, regexes for every field, the check of the peer
against the proxies allowed to set scheme headers), the WSGI environ, and its Response (every header checked
again, then written out). For the few requests those answers are given to, a GET or a POSTed form of HTTP/1.1
whose head passes the strict checks of `read_plain`, this module reads the head into the same environ
gunicorn makes, and writes the head gunicorn writes (its status line, Server, Date and Connection fields,
then the app's), in one string. Anything unusual (another method or version, a field name or value outside
the plainest characters, a repeated field, Expect, Transfer-Encoding, Upgrade, any field a proxy sets for the
scheme or the client's address, a percent-escape or fragment in the target, a head near gunicorn's limits)
is left to gunicorn's parser, which answers or refuses it as before. `tests/test_serving_plain.py` holds the
environ to gunicorn's, and the bytes sent to those of the full path on a real gunicorn.
"""

import io
import os
import re
from dataclasses import dataclass, field
from datetime import datetime

from gunicorn import SERVER, util
from gunicorn.http import wsgi

METHODS = ("GET", "POST")
# A request target of the origin form, its path with no escape (PATH_INFO is the path as it is), no fragment.
_PATH = re.compile(r"/(?!/)[!-\"$&->@-~]*")
_QUERY = re.compile(r"[!-\"$-~]*")
_FIELD_NAME = re.compile(r"[A-Za-z0-9-]+")
_FIELD_VALUE = re.compile(r"[ -~]*")
# Fields gunicorn (or a proxy in front) gives a meaning of its own; a request with any of them takes its full path.
_LEFT_TO_GUNICORN = frozenset(("EXPECT", "TRANSFER-ENCODING", "UPGRADE", "HTTP2-SETTINGS", "FORWARDED", "TE",
                               "TRAILER", "PROXY-CONNECTION"))


@dataclass
class PlainRequest:
    """What gunicorn's Request says of a plain request, as far as the hooks and the access log read it."""

    method: str
    uri: str
    path: str
    query: str
    headers: list[tuple[str, str]]  # (NAME in capitals, value), as gunicorn's
    version: tuple[int, int] = (1, 1)
    scheme: str = "http"

    def should_close(self) -> bool:
        """gunicorn's Message.should_close for HTTP/1.1: whether the client asked to close."""
        connection = next((value for name, value in self.headers if name == "CONNECTION"), "")
        return connection.lower() == "close"


@dataclass
class PlainResponse:
    """What gunicorn's Response says of an answer sent, as far as the access log and hooks read it."""

    req: PlainRequest
    must_close: bool
    status: str = "200 OK"
    status_code: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    sent: int = 0
    response_length: int | None = None

    def force_close(self) -> None:
        """Close the connection after this answer (gunicorn's Response.force_close)."""
        self.must_close = True

    def should_close(self) -> bool:
        """gunicorn's Response.should_close for an answer with a Content-Length."""
        return self.must_close or self.req.should_close()

    def head(self, headers: list[tuple[str, str]]) -> bytes:
        """The status line and fields gunicorn's send_headers writes, then `headers` as its process_headers
        keeps them (hop-by-hop fields, its own Date and Server among them, left out)."""
        self.headers = headers = [(name, value.strip(" \t")) for name, value in headers
                                  if name.lower() not in util.hop_headers]
        connection = "close" if self.should_close() else "keep-alive"
        lines = [f"HTTP/1.1 {self.status}\r\nServer: {SERVER}\r\nDate: {util.http_date()}\r\nConnection: {connection}\r\n"]
        lines += [f"{name}: {value}\r\n" for name, value in headers]
        lines.append("\r\n")
        return "".join(lines).encode("latin-1")


class PlainReader:
    """Reads plain requests for a worker of gunicorn settings `cfg` (see the module's docstring)."""

    def __init__(self, cfg) -> None:
        self.cfg = cfg
        self.base = wsgi.base_environ(cfg)
        proxied = cfg.proxy_protocol not in (False, None, "off")
        limits_known = 0 < cfg.limit_request_fields <= 32768 and cfg.limit_request_field_size > 0
        self.enabled = limits_known and not proxied and not cfg.is_ssl and not os.environ.get("SCRIPT_NAME")
        self.left_to_gunicorn = _LEFT_TO_GUNICORN | set(cfg.secure_scheme_headers) | {
            name.upper().replace("_", "-") for name in cfg.forwarder_headers}

    def read(self, head: bytes, body: bytes, client, server) -> tuple[PlainRequest, dict] | None:
        """The request of `head` (its bytes up to the blank line) and `body`, and its environ as gunicorn's
        wsgi.create makes it, when the request is plain; else None."""
        if not self.enabled or not isinstance(server, tuple) or not isinstance(client, tuple):
            return None
        request_line, *lines = head.decode("latin-1").split("\r\n")
        request = self._request_line(request_line)
        if request is None or len(lines) > self.cfg.limit_request_fields:
            return None
        headers = self._fields(lines)
        if headers is None or not self._framed(request.method, headers, body):
            return None
        request.headers = headers
        return request, self._environ(request, body, client, server)

    def _request_line(self, line: str) -> PlainRequest | None:
        method, _, rest = line.partition(" ")
        target, _, version = rest.partition(" ")
        path, _, query = target.partition("?")
        if (method not in METHODS or version != "HTTP/1.1" or len(line) >= self.cfg.limit_request_line
                or not _PATH.fullmatch(path) or not _QUERY.fullmatch(query)):
            return None
        return PlainRequest(method, target, path, query, [])

    def _fields(self, lines: list[str]) -> list[tuple[str, str]] | None:
        headers, seen = [], set()
        for line in lines:
            name, colon, value = line.partition(":")
            if not colon or len(line) + 2 >= self.cfg.limit_request_field_size or not _FIELD_NAME.fullmatch(name):
                return None
            name, value = name.upper(), value.strip(" \t")
            if name in seen or name in self.left_to_gunicorn or not _FIELD_VALUE.fullmatch(value):
                return None
            seen.add(name)
            headers.append((name, value))
        return headers

    @staticmethod
    def _framed(method: str, headers: list[tuple[str, str]], body: bytes) -> bool:
        """Whether the body is the one the head announces (none for a GET, Content-Length's for a POST)."""
        length = next((value for name, value in headers if name == "CONTENT-LENGTH"), None)
        if method == "GET":
            return length is None and not body
        return length is not None and length.isdigit() and int(length) == len(body)

    def _environ(self, request: PlainRequest, body: bytes, client: tuple, server: tuple) -> dict:
        """gunicorn's wsgi.create's environ, for a plain request (no script name, no proxy)."""
        environ = dict(self.base)
        environ.update({"wsgi.input": io.BytesIO(body), "REQUEST_METHOD": request.method,
                        "QUERY_STRING": request.query, "RAW_URI": request.uri, "SERVER_PROTOCOL": "HTTP/1.1"})
        for name, value in request.headers:
            if name in ("CONTENT-TYPE", "CONTENT-LENGTH"):
                environ[name.replace("-", "_")] = value
            else:
                environ["HTTP_" + name.replace("-", "_")] = value
        environ.update({"wsgi.url_scheme": "http", "REMOTE_ADDR": client[0], "REMOTE_PORT": str(client[1]),
                        "SERVER_NAME": server[0], "SERVER_PORT": str(server[1]),
                        "PATH_INFO": request.path, "SCRIPT_NAME": ""})
        return environ


@dataclass
class PlainExchange:
    """A plain request on its way to an answer: the request, the response to it, its environ, when it began."""

    req: PlainRequest
    resp: PlainResponse
    environ: dict
    started: datetime
