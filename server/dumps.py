"""The dumps of a release: the dataset written in every RDF format, plain and gzipped, each file
read back for its size and SHA-256.

The N-Quads and N-Triples dumps are sorted lines, and Oxigraph writes the others from them,
streaming, so every dump is byte-for-byte reproducible and none is held whole in memory.
"""

import hashlib
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from . import expanded_json_ld
from .dataset import LoadedDataset, without_graph
from .formats import JSONLD, NQUADS, NTRIPLES, RDFXML, TRIG, TURTLE, Format
from .namespaces import prefixes_for
from .pool import map_in_forked_pool

# Each dump: its format, and the dump it is written from
# (None: the sorted lines themselves); the slowest to write first, so that a pool does not wait
# for it at the end. The N-Quads and TriG dumps hold the named graphs, the others their union.
DUMP_FORMATS: dict[str, tuple[Format, str | None]] = {
    "partnerships.trig": (TRIG, "partnerships.nq"),
    "partnerships.ttl": (TURTLE, "partnerships.nt"),
    "partnerships.jsonld": (JSONLD, "partnerships.nt"),
    "partnerships.rdf": (RDFXML, "partnerships.nt"),
    "partnerships.nq": (NQUADS, None),
    "partnerships.nt": (NTRIPLES, None),
}
DATA_DUMP, UNION_DUMP = "partnerships.nq", "partnerships.nt"
# The dumps the other formats are written from.
FIRST_DUMPS = (DATA_DUMP, UNION_DUMP)
# The dumps written before a release is served when its other dumps are deferred (dump_completion.py):
# the N-Quads a store loads; the N-Triples follow, written from them.
SERVED_FIRST = (DATA_DUMP,)
_READ_SIZE = 1 << 20
# zlib's level for the gzipped dumps: 6 (zlib's and gzip(1)'s default) compresses some 700 MB of dumps about five
# times faster than 9 for files about 2.5 % larger (bench/README.md, "Time to first answer").
GZIP_LEVEL = 6


@dataclass(frozen=True)
class WrittenFile:
    """A file written into a release: its manifest entry (name, media type, bytes, SHA-256)."""

    entry: dict[str, Any]

    @property
    def sha256(self) -> str:
        """The file's SHA-256, in hex."""
        return self.entry["sha256"]


def write_dumps(folder: Path, loaded: LoadedDataset, triple_lines: list[bytes], jobs: int = 1,
                defer: bool = False) -> dict[str, WrittenFile]:
    """Write the dataset into `folder` in every dump format, plain and gzipped: {file name: what was written}.

    The N-Quads and N-Triples dumps are the sorted lines of the named graphs (`loaded.quad_lines`)
    and of their union (`triple_lines`); Oxigraph writes the other formats from them, streaming,
    so that no dump is ever held whole in memory. Up to `jobs` processes write at once.
    With `defer`, only the N-Quads are written (SERVED_FIRST): the others are left to dump_completion.py.
    """
    for name, lines in zip(FIRST_DUMPS, (loaded.quad_lines, triple_lines), strict=True):
        if defer and name not in SERVED_FIRST:
            continue
        with open(folder / name, "wb") as file:
            file.writelines(lines)
    if defer:
        return first_dumps_written(folder, SERVED_FIRST)
    return write_dump_formats(folder, loaded.base_iri, jobs)


def first_dumps_written(folder: Path, names: tuple[str, ...] = FIRST_DUMPS) -> dict[str, WrittenFile]:
    """What was written of the dumps `names` into `folder`: {file name: what was written}."""
    return {name: _written(folder / name, DUMP_FORMATS[name][0].media_type) for name in names}


def deferred_dump_files(written: tuple[str, ...] = SERVED_FIRST) -> list[str]:
    """The dump files, sorted, that are written after a release is served when only `written` are before."""
    every = [file for name in DUMP_FORMATS for file in (name, f"{name}.gz")]
    return sorted(set(every) - set(written))


def write_union_dump(folder: Path) -> None:
    """Write the N-Triples dump of `folder` from its sorted N-Quads dump (as Oxigraph writes them, every
    quad in a named graph): each triple once, as sorted lines, each line without its graph; for a release,
    the lines the build would have written (LoadedDataset.triple_lines)."""
    quads = (folder / DATA_DUMP).read_bytes().splitlines(keepends=True)
    (folder / UNION_DUMP).write_bytes(b"".join(sorted({without_graph(line) for line in quads})))


def write_dump_formats(folder: Path, base_iri: str, jobs: int = 1) -> dict[str, WrittenFile]:
    """Write the other dump formats from the sorted N-Quads and N-Triples dumps in `folder`, and a
    gzip of every dump: {file name: what was written}. Up to `jobs` processes write at once."""
    written = map_in_forked_pool(_write_dump, list(DUMP_FORMATS), jobs, (folder, base_iri))
    return {file_name: file for pair in written for file_name, file in pair.items()}


def _write_dump(where: tuple[Path, str], name: str) -> dict[str, WrittenFile]:
    """The dump `name` of DUMP_FORMATS (written from its source dump unless it is one), and its gzip."""
    folder, base_iri = where
    fmt, source = DUMP_FORMATS[name]
    if source is not None:
        triples = ox.parse(path=str(folder / source), format=DUMP_FORMATS[source][0].oxigraph)
        if fmt is JSONLD:  # ours gives types as "@type", Oxigraph's as rdf:type
            with open(folder / name, "wb") as output:
                expanded_json_ld.write(triples, output)
        else:
            ox.serialize(triples, output=str(folder / name), format=fmt.oxigraph, prefixes=prefixes_for(base_iri))
    _gzip(folder / name)
    return {name: _written(folder / name, fmt.media_type),
            f"{name}.gz": _written(folder / f"{name}.gz", "application/gzip")}


def _gzip(path: Path) -> None:
    """Write path.gz beside `path`, in parts, byte for byte what `gzip.compress(data, GZIP_LEVEL, mtime=0)`
    gives: with no name and no time in it, the same content gives the same file."""
    packer = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)  # 31: a gzip header and trailer
    with open(path, "rb") as plain, open(f"{path}.gz", "wb") as packed:
        while part := plain.read(_READ_SIZE):
            packed.write(packer.compress(part))
        packed.write(packer.flush())


def _written(path: Path, media_type: str) -> WrittenFile:
    """What a release records of a file it holds, read back from the disk in parts."""
    sha256, size = hashlib.sha256(), 0
    with open(path, "rb") as file:
        while part := file.read(_READ_SIZE):
            sha256.update(part)
            size += len(part)
    return WrittenFile({"name": path.name, "media_type": media_type, "bytes": size, "sha256": sha256.hexdigest()})
