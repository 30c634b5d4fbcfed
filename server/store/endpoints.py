"""Where a remote store answers and how lodpub logs in to it, and the Graph Store Protocol request
that `publish` loads graphs with (its credentials sent with the request itself, basic or digest)."""

import base64
import hashlib
import secrets
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from ..config import Settings
from . import StoreUnavailable


@dataclass(frozen=True)
class Endpoints:
    """Where a remote store answers, and how to log in (from the environment only)."""

    query_url: str
    update_url: str
    graph_store_url: str
    user: str = ""
    password: str = ""
    auth: str = "basic"  # or "digest" (Virtuoso)
    timeout: float = 30.0

    def __repr__(self) -> str:  # never show the password in logs or tracebacks
        return f"Endpoints(query_url={self.query_url!r}, update_url={self.update_url!r}, user={self.user!r})"


def endpoints_from(settings: Settings) -> Endpoints:
    """The remote store's endpoints and credentials, from `settings`."""
    return Endpoints(settings.store_query_url, settings.store_update_url, settings.store_graph_store_url,
                     settings.store_user, settings.store_password, settings.store_auth, settings.store_timeout)




def send_graph(endpoints: Endpoints, graph: str, method: str, body: bytes) -> None:
    """PUT (replace) or POST (add to) `graph` with `body` (N-Triples) by the Graph Store Protocol."""
    url = endpoints.graph_store_url + "?" + urllib.parse.urlencode({"graph": graph})
    try:
        headers = {"Content-Type": "application/n-triples"} | _credentials(endpoints, method, url)
        request = urllib.request.Request(url, data=body, method=method, headers=headers)
        with urllib.request.urlopen(request, timeout=endpoints.timeout * 10) as response:
            response.read()
    except urllib.error.HTTPError as error:
        raise StoreUnavailable(f"the store refused graph {graph} ({error.code}): {error.read()[:300]!r}") from error
    except (urllib.error.URLError, OSError) as error:
        raise StoreUnavailable(f"the store at {endpoints.graph_store_url} does not answer: {error}") from error


def _credentials(endpoints: Endpoints, method: str, url: str) -> dict[str, str]:
    """The Authorization header for `method` at `url`, sent with the request itself.

    Not after a 401, as urllib's handlers do: they first send the whole body without credentials,
    and a store that refuses it before reading it all (Virtuoso) closes the connection while a
    large graph is still being sent ("Broken pipe"). For digest authentication, the challenge is
    asked for by a HEAD request first."""
    if not endpoints.user:
        return {}
    if endpoints.auth != "digest":
        token = base64.b64encode(f"{endpoints.user}:{endpoints.password}".encode()).decode("ascii")
        return {"Authorization": f"Basic {token}"}
    challenge = _digest_challenge(url, endpoints.timeout)
    return {"Authorization": _digest_answer(challenge, endpoints, method, url)} if challenge else {}


def _digest_challenge(url: str, timeout: float) -> dict[str, str]:
    """The digest challenge (realm, nonce, qop, ...) the store answers an unauthenticated HEAD
    with; empty when it asks for no credentials."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout):
            return {}
    except urllib.error.HTTPError as error:
        header = error.headers.get("WWW-Authenticate", "")
        if error.code != 401 or not header.lower().startswith("digest "):
            raise
        return urllib.request.parse_keqv_list(urllib.request.parse_http_list(header[len("digest "):]))


def _digest_answer(challenge: dict[str, str], endpoints: Endpoints, method: str, url: str) -> str:
    """The digest Authorization header answering `challenge` (RFC 7616, qop "auth" or none)."""
    algorithm = challenge.get("algorithm", "MD5")
    hash_name = {"MD5": "md5", "SHA-256": "sha256"}.get(algorithm.upper())
    if hash_name is None:
        raise StoreUnavailable(f"the store asks for digest algorithm {algorithm}, which lodpub does not offer")

    def digest(*parts: str) -> str:
        return hashlib.new(hash_name, ":".join(parts).encode()).hexdigest()

    parsed = urllib.parse.urlsplit(url)
    uri = parsed.path + ("?" + parsed.query if parsed.query else "")
    secret = digest(endpoints.user, challenge.get("realm", ""), endpoints.password)
    fields = {"username": endpoints.user, "realm": challenge.get("realm", ""), "nonce": challenge["nonce"], "uri": uri,
              "algorithm": algorithm}
    if "auth" in [qop.strip() for qop in challenge.get("qop", "").split(",")]:
        count, client_nonce = "00000001", secrets.token_hex(8)
        answer = digest(secret, challenge["nonce"], count, client_nonce, "auth", digest(method, uri))
        fields |= {"qop": "auth", "nc": count, "cnonce": client_nonce}
    else:
        answer = digest(secret, challenge["nonce"], digest(method, uri))
    fields["response"] = answer
    if "opaque" in challenge:
        fields["opaque"] = challenge["opaque"]
    unquoted = ("algorithm", "qop", "nc")
    return "Digest " + ", ".join(f"{name}={value}" if name in unquoted else f'{name}="{value}"'
                                 for name, value in fields.items())
