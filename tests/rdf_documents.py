"""Reading the RDF documents the server sends, as an offline client does.

JSON-LD catalogue records refer to the DCAT-AP-CZ norm's context on ofn.gov.cz; the tests have no
internet, so that context is read from the copy the server vendors (server/describe/standards/).
Our own context is fetched from the server under test, as any client would, through the tests' session
(in_process.HTTP), which reaches the publisher in process as well as a real server.
"""

import json

import requests
from in_process import HTTP
from rdflib import Graph

from lodpub.describe.dcat import NORM_CONTEXT_URL, norm_context


def parse_document(data: bytes | str, rdflib_format: str, public_id: str | None = None,
                   http: requests.Session = HTTP) -> Graph:
    """Parse `data` in `rdflib_format`, with the norm's JSON-LD context read locally and any other
    fetched through `http`."""
    if rdflib_format == "json-ld":
        document = json.loads(data)
        if isinstance(document, dict) and document.get("@context") == NORM_CONTEXT_URL:
            document["@context"] = norm_context()
            data = json.dumps(document)
        elif isinstance(document, dict) and isinstance(document.get("@context"), str):
            context = http.get(document["@context"], headers={"Accept": "application/ld+json"}, timeout=30)
            context.raise_for_status()
            document["@context"] = context.json()["@context"]
            data = json.dumps(document)
    return Graph().parse(data=data, format=rdflib_format, publicID=public_id)
