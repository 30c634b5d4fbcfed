"""A release as published under the server's public base: mapped once, at the level of RDF terms.

A release is built under the base IRI of the build (settings.base_iri, the canonical base). A server
publishes under its public base (settings.public_base_iri): the canonical one in production, behind
a proxy; http://127.0.0.1:5000/ for `lodpub serve` on loopback. When the two differ, the server
serves a copy of the release written for the public base, once, into
output_dir/at/<16 hex digits of the base's SHA-256>/<version>/ (PUBLIC_COPIES): every IRI under the
release's base is moved to the public base (also in a literal typed xsd:anyURI, which is an IRI as
data); a plain or language-tagged string is never changed, even when it holds the base. The copy
has everything a release has, written by the build's own writers (dumps.py, release_manifest.py):
the dumps, the descriptions (VoID, changelog, shapes, the catalogue record, whose dcat:byteSize and
checksums describe the copy's dumps, as served), manifest.json (its base_iri the public base) and
SHA256SUMS. So the store and the web layer see a release whose base is the public base, and no
query, answer, document or file is rewritten while it is served, whatever Host a request names.

The copy is written in a hidden folder renamed into place when whole, under a lock: the first
process writes it, the others wait and reuse it, as does the next start.
"""

import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT

from .blank_nodes import stable_graph
from .dataset import bind_prefix_table
from .dumps import WrittenFile, deferred_dump_files, first_dumps_written, write_dump_formats, write_union_dump
from .formats import NQUADS, NTRIPLES, TURTLE
from .namespaces import rebase, rebased_quads
from .release_manifest import description_entries, write_descriptions
from .store.checksums import read_verified
from .store.manifest import DATA_DUMP, load_manifest, manifest_entries
from .store.ondisk import build_into_place, exclusively
from .store.releases import PUBLIC_COPIES, fsync_directory

# A copy being written: at/<base>/.writing-<version>-<pid>.
_WRITING_PREFIX = ".writing-"
_LOCK = ".lock"
# The catalogue record, which describes the dumps' sizes and checksums.
RECORD_FILE = "catalogue.ttl"
# Descriptions written as sorted lines (the changelog's patches).
LINE_FORMATS = (NQUADS, NTRIPLES)
SPDX_CHECKSUM = URIRef("http://spdx.org/rdf/terms#checksum")
SPDX_CHECKSUM_VALUE = URIRef("http://spdx.org/rdf/terms#checksumValue")


def public_release(release: Path, public_base: str, output_dir: Path, manifest: dict[str, Any] | None = None,
                   jobs: int = 1, defer: bool = False) -> tuple[Path, dict[str, Any]]:
    """The folder and manifest of `release` (whose checked `manifest` is read here if not given) as
    published under `public_base`: the release itself when it was built under that base, else its
    copy mapped there (see the module's docstring), written now if it is not yet, with up to `jobs`
    processes; with `defer`, a copy written now has only the dumps a store loads, the others pending
    (dump_completion.py), unless the release has a catalogue record. Raises DamagedFile (ManifestError
    for a manifest) when a file it is mapped from, or the copy's manifest, is damaged."""
    manifest = manifest if manifest is not None else load_manifest(release)
    if manifest["base_iri"] == public_base:
        return release, manifest
    folder = copy_folder(output_dir, public_base) / manifest["version"]
    if not (folder / "manifest.json").is_file():
        folder.parent.mkdir(parents=True, exist_ok=True)
        with exclusively(folder.parent / _LOCK):
            if not folder.is_dir():  # another process may have written it while this one waited
                _write_into_place(release, manifest, public_base, folder, jobs, defer)
    return folder, load_manifest(folder)


def copy_folder(output_dir: Path, public_base: str) -> Path:
    """The folder of the copies of releases mapped to `public_base`."""
    return output_dir / PUBLIC_COPIES / hashlib.sha256(public_base.encode()).hexdigest()[:16]


def _write_into_place(release: Path, manifest: dict[str, Any], public_base: str, folder: Path, jobs: int,
                      defer: bool) -> None:
    """Write the copy in a hidden folder beside `folder`, then give it its name in one step.
    Called with the lock held: a writing folder found then is one a killed process left."""
    for leftover in folder.parent.glob(f"{_WRITING_PREFIX}*"):
        shutil.rmtree(leftover, ignore_errors=True)

    def write(writing: Path) -> None:
        write_public_copy(release, manifest, public_base, writing, jobs, defer)
        for path in writing.iterdir():  # durable before it has its name
            with open(path, "rb") as file:
                os.fsync(file.fileno())
        fsync_directory(writing)

    build_into_place(folder, write, f"{_WRITING_PREFIX}{folder.name}-{os.getpid()}")


def write_public_copy(release: Path, manifest: dict[str, Any], public_base: str, folder: Path,
                      jobs: int = 1, defer: bool = False) -> dict[str, Any]:
    """Write into `folder` every file of `release` (built under manifest's base) mapped to
    `public_base`, with manifest.json and SHA256SUMS; return the copy's manifest. With `defer` (and
    no catalogue record, which states the dumps' sizes), only the dumps a store loads: the others are
    pending, as of a release built so (dump_completion.py)."""
    base = manifest["base_iri"]
    recorded = {entry["name"]: entry["sha256"] for entry in manifest_entries(manifest)}
    # Only the files a store loads are read (checked, as the store checks them): the N-Triples dump
    # is their union, and the other dumps are written from these two, as the build writes them.
    quads = read_verified(release, DATA_DUMP, recorded[DATA_DUMP])
    (folder / DATA_DUMP).write_bytes(_mapped_lines(quads, NQUADS.oxigraph, base, public_base))
    defer = defer and all(entry["name"] != RECORD_FILE for entry in manifest.get("description", []))
    if defer:  # the union too is written after the first answer: a store loads only the N-Quads
        dumps = first_dumps_written(folder, (DATA_DUMP,))
    else:
        write_union_dump(folder)
        dumps = write_dump_formats(folder, public_base, jobs)
    descriptions = {entry["name"]: (entry["media_type"], read_verified(release, entry["name"], entry["sha256"]))
                    for entry in manifest.get("description", [])}
    descriptions = {name: (media_type, _mapped_description(name, media_type, data, base, public_base, dumps))
                    for name, (media_type, data) in descriptions.items()}
    copy = dict(manifest, base_iri=public_base, files=[dump.entry for _, dump in sorted(dumps.items())])
    copy.pop("pending", None)
    if defer:
        copy["pending"] = deferred_dump_files()
    copy["description"] = description_entries(descriptions)
    write_descriptions(folder, descriptions, copy, dumps)
    return copy


def _mapped_lines(data: bytes, rdf_format: ox.RdfFormat, base: str, public_base: str) -> bytes:
    """N-Quads or N-Triples `data` mapped to `public_base`, as sorted lines, as the build writes them.

    Outside a literal a line holds only IRIs and blank nodes, each written whole, so its IRIs are moved
    as text (the dump's millions of lines are mapped in a second, not a minute of terms); only a line
    whose literal holds the base is read and written again (the literal may be an xsd:anyURI to move,
    or text that merely holds the base, which stays)."""
    old, new, base_text = f"<{base}".encode(), f"<{public_base}".encode(), base.encode()
    mapped, holding_base = [], []
    for line in data.splitlines(keepends=True):
        start, end = line.find(b'"'), line.rfind(b'"')
        if start < 0:
            mapped.append(line.replace(old, new))
        elif base_text in line[start:end]:
            holding_base.append(line)
        else:
            mapped.append(line[:start].replace(old, new) + line[start:end] + line[end:].replace(old, new))
    mapped += mapped_by_terms(b"".join(holding_base), rdf_format, base, public_base)
    return b"".join(sorted(mapped))


def mapped_by_terms(data: bytes, rdf_format: ox.RdfFormat, base: str, public_base: str) -> list[bytes]:
    """The lines of `data` mapped to `public_base` term by term (parsed and written by Oxigraph)."""
    quads = rebased_quads(ox.parse(data, format=rdf_format), base, public_base)
    return ox.serialize(quads, format=rdf_format).splitlines(keepends=True)


def _mapped_description(name: str, media_type: str, data: bytes, base: str, public_base: str,
                        dumps: dict[str, WrittenFile]) -> bytes:
    """A description file (Turtle) mapped to `public_base`, written as the build writes it; the
    catalogue record with the sizes and checksums of the mapped `dumps`."""
    fmt = next((known for known in (*LINE_FORMATS, TURTLE) if known.media_type == media_type), None)
    if fmt in LINE_FORMATS:
        return _mapped_lines(data, fmt.oxigraph, base, public_base)
    if fmt is not TURTLE:
        return data
    graph = rebase(Graph(bind_namespaces="none").parse(data=data, format="turtle"), base, public_base)
    if name == RECORD_FILE:
        graph = with_dump_facts(graph, public_base, dumps)
    graph = bind_prefix_table(stable_graph(graph), public_base)
    return graph.serialize(format="turtle", encoding="utf-8")


def with_dump_facts(record: Graph, public_base: str, dumps: dict[str, WrittenFile]) -> Graph:
    """The catalogue `record`, in place, saying of each distribution whose download URL is one of
    `dumps` (under `public_base`) the size and SHA-256 of that file."""
    for distribution, url in list(record.subject_objects(DCAT.downloadURL)):
        name = str(url)[len(public_base + "dumps/"):]
        if not str(url).startswith(public_base + "dumps/") or name not in dumps:
            continue
        entry = dumps[name].entry
        _replace(record, distribution, DCAT.byteSize, entry["bytes"])
        for checksum in record.objects(distribution, SPDX_CHECKSUM):
            _replace(record, checksum, SPDX_CHECKSUM_VALUE, entry["sha256"])
    return record


def _replace(graph: Graph, subject: Any, predicate: URIRef, value: object) -> None:
    """Give `subject` `value` for `predicate`, in the datatype of the value it had (if it had one)."""
    old = graph.value(subject, predicate)
    if isinstance(old, Literal):
        graph.set((subject, predicate, Literal(str(value), datatype=old.datatype)))

