"""The release's files as served under the request's base, and what the catalogue record says of
them there.

Under the canonical base the files are served as the build wrote them. Under another base (a
server at http://127.0.0.1:5000/) their IRIs are moved to that base, which changes their bytes; so
their sizes and SHA-256 are those of the bytes served, in manifest.json and SHA256SUMS and in the
catalogue record too (its dcat:byteSize and spdx:checksumValue of each dump): `file_facts` gives
those replacements, which documents, SPARQL CONSTRUCT/DESCRIBE answers and the record's own file
apply.

Every file is checked against the SHA-256 the build recorded when it is first read: a file whose
bytes changed on disk is withheld (`withheld_files` says why), and the rest are served.
"""

import functools
import gzip
import hashlib
import json

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT

from ..store.releases import DamagedFile, manifest_entries, read_verified
from . import store

SPDX_CHECKSUM = URIRef("http://spdx.org/rdf/terms#checksum")
SPDX_CHECKSUM_VALUE = URIRef("http://spdx.org/rdf/terms#checksumValue")
# A file of the release that is a description written in Turtle, to be corrected as a graph.
RECORD_FILES = ("catalogue.ttl",)

DOWNLOADS = """
SELECT ?distribution ?url WHERE { ?distribution <http://www.w3.org/ns/dcat#downloadURL> ?url }"""

Replacements = dict[tuple[URIRef, URIRef, Literal], Literal]


@functools.lru_cache(maxsize=2)
def written_files(version: str) -> tuple[dict[str, tuple[str, bytes]], dict[str, str]]:
    """The release's files as the build wrote them, each checked against its SHA-256:
    ({name: (media type, bytes)} of the good ones, {name: why it is withheld} of the others)."""
    release = store().release
    manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    files, withheld = {}, {}
    for entry in manifest_entries(manifest):
        try:
            files[entry["name"]] = (entry["media_type"], read_verified(release, entry["name"], entry["sha256"]))
        except DamagedFile as damage:
            withheld[entry["name"]] = f"release {version}: {damage}"
    return files, withheld


def withheld_files(version: str) -> dict[str, str]:
    """The files of the release that are not served, each with the reason."""
    return written_files(version)[1]


@functools.lru_cache(maxsize=8)
def served_files(version: str, base: str) -> dict[str, tuple[str, bytes]]:
    """The release's files as served at `base`: {name: (media type, bytes)} (cached per release and base),
    without those that fail their checksum."""
    release = store().release
    manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    canonical = manifest["base_iri"]
    files = dict(written_files(version)[0])
    if base != canonical:
        dumps = {entry["name"] for entry in manifest["files"]}
        files = {name: (media_type, _rebased(name, data, canonical, base) if name in dumps else data)
                 for name, (media_type, data) in files.items()}
        replacements = file_facts(version, base)
        for name, (media_type, data) in files.items():
            if name not in dumps:
                data = _corrected(data, replacements) if name in RECORD_FILES else data
                files[name] = (media_type, _rebased(name, data, canonical, base))
        manifest["base_iri"] = base
        for entry in manifest_entries(manifest):
            if entry["name"] in files:
                entry["bytes"], entry["sha256"] = len(files[entry["name"]][1]), sha256(files[entry["name"]][1])
    files["manifest.json"] = ("application/json",
                              (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    sums = "".join(f"{sha256(data)}  {name}\n" for name, (_, data) in sorted(files.items()))
    files["SHA256SUMS"] = ("text/plain", sums.encode("utf-8"))
    return files


@functools.lru_cache(maxsize=8)
def file_facts(version: str, base: str) -> Replacements:
    """What the catalogue record says of each dump (size, SHA-256), corrected to the bytes served at
    `base`: {(subject, predicate, stored literal): literal as served}, canonical IRIs; empty under
    the canonical base."""
    canonical = store().base_iri
    if base == canonical:
        return {}
    replacements: Replacements = {}
    written = written_files(version)[0]
    for row in store().select(DOWNLOADS):
        distribution, url = row["distribution"], str(row["url"])
        name = url[len(canonical + "dumps/"):]
        if not url.startswith(canonical + "dumps/") or name not in written:
            continue
        served = _rebased(name, written[name][1], canonical, base)
        # The record's literals as the store gives them in documents (see EmbeddedStore.document).
        record = store().document(distribution)
        size = record.value(distribution, DCAT.byteSize)
        if size is not None:
            replacements[(distribution, DCAT.byteSize, size)] = Literal(len(served), datatype=size.datatype)
        checksum = record.value(distribution, SPDX_CHECKSUM)
        value = record.value(checksum, SPDX_CHECKSUM_VALUE) if checksum is not None else None
        if value is not None:
            replacements[(checksum, SPDX_CHECKSUM_VALUE, value)] = Literal(sha256(served), datatype=value.datatype)
    return replacements


def with_file_facts(graph: Graph, replacements: Replacements) -> Graph:
    """`graph` (canonical IRIs) with the literals of `replacements` replaced, in place."""
    for (subject, predicate, old), new in replacements.items():
        if (subject, predicate, old) in graph:
            graph.remove((subject, predicate, old))
            graph.add((subject, predicate, new))
    return graph


def _corrected(turtle: bytes, replacements: Replacements) -> bytes:
    graph = Graph(bind_namespaces="none")
    graph.parse(data=turtle, format="turtle")
    return with_file_facts(graph, replacements).serialize(format="turtle", encoding="utf-8")


@functools.lru_cache(maxsize=64)
def _rebased(name: str, data: bytes, canonical: str, base: str) -> bytes:
    """The file with every occurrence of the canonical base replaced by `base` (inside gzip too)."""
    if name.endswith(".gz"):
        return gzip.compress(gzip.decompress(data).replace(canonical.encode(), base.encode()), mtime=0)
    return data.replace(canonical.encode(), base.encode())


def sha256(data: bytes) -> str:
    """The SHA-256 of `data`, in hex."""
    return hashlib.sha256(data).hexdigest()
