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

import copy
import functools
import gzip
import hashlib
import json
from pathlib import Path
from typing import NamedTuple

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT

from ..store import StoreUnavailable
from ..store.manifest import ManifestError, load_manifest
from ..store.releases import DamagedFile, check_verified, manifest_entries, read_verified
from ..terms import to_oxigraph
from . import store

SPDX_CHECKSUM = URIRef("http://spdx.org/rdf/terms#checksum")
SPDX_CHECKSUM_VALUE = URIRef("http://spdx.org/rdf/terms#checksumValue")
# A file of the release that is a description written in Turtle, to be corrected as a graph.
RECORD_FILES = ("catalogue.ttl",)

DOWNLOADS = """
SELECT ?distribution ?url WHERE { ?distribution <http://www.w3.org/ns/dcat#downloadURL> ?url }"""

Replacements = dict[tuple[URIRef, URIRef, Literal], Literal]


class ServedFile(NamedTuple):
    """A file of the release as served at one base: its media type, size and SHA-256 (hex)."""

    media_type: str
    size: int
    sha256: str


@functools.lru_cache(maxsize=2)
def checked_files(version: str) -> tuple[dict[str, str], dict[str, str]]:
    """The release's files, each checked once against its SHA-256: ({name: media type} of the good
    ones, {name: why it is withheld} of the others). No bytes are kept: a release's dumps can be
    hundreds of megabytes, and every worker would hold them."""
    release = store().release
    manifest = _manifest()
    files, withheld = {}, {}
    for entry in manifest_entries(manifest):
        try:
            check_verified(release, entry["name"], entry["sha256"])
            files[entry["name"]] = entry["media_type"]
        except DamagedFile as damage:
            withheld[entry["name"]] = f"release {version}: {damage}"
    return files, withheld


@functools.lru_cache(maxsize=2)
def recorded_sha256(version: str) -> dict[str, str]:
    """{file name: the SHA-256 the build recorded in the manifest} of the release."""
    return {entry["name"]: entry["sha256"] for entry in manifest_entries(_manifest())}


def _manifest() -> dict:
    """The served release's manifest.json, as the build wrote it: as the embedded store checked it
    when the server decided to serve the release (the file may have been damaged since), or read
    and checked now (a remote store's release). Raises StoreUnavailable when it is damaged."""
    checked = getattr(store(), "manifest", None)
    if checked is not None:
        return copy.deepcopy(checked)  # the caller may change it
    try:
        return load_manifest(store().release)
    except ManifestError as damage:
        raise StoreUnavailable(f"release {store().version} cannot be served: {damage}") from damage


def withheld_files(version: str) -> dict[str, str]:
    """The files of the release that are not served, each with the reason."""
    return checked_files(version)[1]


@functools.lru_cache(maxsize=8)
def served_files(version: str, base: str) -> dict[str, ServedFile]:
    """The release's files as served at `base` (without those withheld), with the manifest and
    SHA256SUMS rewritten to match them (cached per release and base: facts only, no bytes)."""
    facts = {}
    recorded = {entry["name"]: entry for entry in manifest_entries(_manifest())}
    for name, media_type in checked_files(version)[0].items():
        if base == store().base_iri:  # the files as the build wrote them, checked already
            facts[name] = ServedFile(media_type, recorded[name]["bytes"], recorded[name]["sha256"])
            continue
        try:
            data = served_bytes(version, base, name)
        except DamagedFile:  # changed since it was checked: not served (dump() says why)
            continue
        facts[name] = ServedFile(media_type, len(data), sha256(data))
    manifest = _served_manifest(base, facts)
    facts["manifest.json"] = ServedFile("application/json", len(manifest), sha256(manifest))
    sums = _sums(facts)
    facts["SHA256SUMS"] = ServedFile("text/plain", len(sums), sha256(sums))
    return facts


def file_as_written(version: str, base: str, name: str) -> Path | None:
    """The path of file `name` (one of served_files) when it is served at `base` as the build wrote
    it (under the canonical base, every file but the two listings), checked against the build's
    SHA-256 now, reading it in parts; None when its served bytes differ from the file's. A dump of
    millions of triples is gigabytes: it is sent from the file, never held in memory.
    Raises DamagedFile when the file changed since the build."""
    if base != store().base_iri or name in ("manifest.json", "SHA256SUMS"):
        return None
    check_verified(store().release, name, recorded_sha256(version)[name])
    return store().release / name


def served_bytes(version: str, base: str, name: str) -> bytes:
    """The bytes of file `name` (one of served_files) as served at `base`, read from the release
    now. Under another base than the canonical one its IRIs are moved there, and the catalogue
    record gets the sizes and SHA-256 of the files as served there."""
    release, canonical = store().release, store().base_iri
    if name == "manifest.json":
        return _served_manifest(base, served_files(version, base))
    if name == "SHA256SUMS":
        return _sums(served_files(version, base))
    # Checked against the build's SHA-256 at every read: the facts above must never be taken from
    # a file damaged after the release was first checked.
    data = read_verified(release, name, recorded_sha256(version)[name])
    if base == canonical:
        return data
    if name in RECORD_FILES:
        data = _corrected(data, file_facts(version, base))
    return _rebased(name, data, canonical, base)


def _served_manifest(base: str, facts: dict[str, ServedFile]) -> bytes:
    """manifest.json as served at `base`: its base and each file's size and SHA-256 as served."""
    manifest = _manifest()
    if base != manifest["base_iri"]:
        manifest["base_iri"] = base
        for entry in manifest_entries(manifest):
            if entry["name"] in facts:
                entry["bytes"], entry["sha256"] = facts[entry["name"]].size, facts[entry["name"]].sha256
    return (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _sums(facts: dict[str, ServedFile]) -> bytes:
    """SHA256SUMS of the files as served (all but itself)."""
    return "".join(f"{fact.sha256}  {name}\n" for name, fact in sorted(facts.items()) if name != "SHA256SUMS").encode()


@functools.lru_cache(maxsize=8)
def file_facts(version: str, base: str) -> Replacements:
    """What the catalogue record says of each dump (size, SHA-256), corrected to the bytes served at
    `base`: {(subject, predicate, stored literal): literal as served}, canonical IRIs; empty under
    the canonical base."""
    canonical = store().base_iri
    if base == canonical:
        return {}
    replacements: Replacements = {}
    checked = checked_files(version)[0]
    for row in store().select(DOWNLOADS):
        distribution, url = row["distribution"], str(row["url"])
        name = url[len(canonical + "dumps/"):]
        if not url.startswith(canonical + "dumps/") or name not in checked or name in RECORD_FILES:
            continue
        served = _rebased(name, (store().release / name).read_bytes(), canonical, base)
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


@functools.lru_cache(maxsize=8)
def file_facts_in_oxigraph_terms(version: str, base: str) -> dict:
    """`file_facts` keyed and valued in Oxigraph terms, for `with_file_facts_in_triples`."""
    return {tuple(map(to_oxigraph, key)): to_oxigraph(value) for key, value in file_facts(version, base).items()}


def with_file_facts_in_triples(triples: list[ox.Triple], replacements: dict) -> list[ox.Triple]:
    """Oxigraph `triples` (canonical IRIs) with the literals of `replacements` replaced."""
    if not replacements:
        return triples
    return [ox.Triple(triple.subject, triple.predicate, replacements[tuple(triple)]) if tuple(triple) in replacements
            else triple for triple in triples]


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


def _rebased(name: str, data: bytes, canonical: str, base: str) -> bytes:
    """The file with every occurrence of the canonical base replaced by `base` (inside gzip too)."""
    if name.endswith(".gz"):
        return gzip.compress(gzip.decompress(data).replace(canonical.encode(), base.encode()), mtime=0)
    return data.replace(canonical.encode(), base.encode())


def sha256(data: bytes) -> str:
    """The SHA-256 of `data`, in hex."""
    return hashlib.sha256(data).hexdigest()
