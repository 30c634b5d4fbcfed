"""Build a release: validate the dataset, then write its dumps, a manifest and checksums.

A release lives in output_dir/releases/<version>/ and is published by pointing the symlink
output_dir/current at it (what the server serves is another link: see store/releases.py).
The version is the UTC build time plus the start of the SHA-256 of the sorted N-Quads, e.g.
20261127T190512Z-3f2a9c1b, so equal data gives an equal hash (blank nodes have stable labels,
see rdf_files.py). Every dump is byte-for-byte reproducible: the N-Quads and N-Triples dumps are
sorted lines, and Oxigraph writes the others from them, streaming, so that a dataset of millions
of triples is never held whole in memory as an rdflib graph unless its shapes are checked.

Publishing is atomic: the files are written to a hidden temporary directory beside the
releases, synced to disk, and only then is the directory renamed to its version and `current`
switched by replacing the symlink. A failed build leaves `current` and older releases as they were.
Then all but the newest `keep_releases` releases are deleted (never the one served). Builds into
one output folder run one at a time, each holding output_dir/.build.lock (see `build_lock`).
"""

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, URIRef

from . import expanded_json_ld
from .config import Settings
from .data_errors import display_path
from .dataset import LoadedDataset, bind_prefix_table, graph_iri, load_catalogue_metadata, load_dataset
from .describe.changes import describe_changes
from .describe.dcat import catalogue_record
from .describe.served_record import served_record
from .describe.statistics import DataStatistics
from .describe.void import dataset_summary, void_description
from .namespaces import prefixes_for
from .pool import map_in_forked_pool
from .rdf_files import find_rdf_files
from .store.embedded import EmbeddedStore
from .store.releases import CURRENT, SHAPES_FILE, fsync_directory, point, remove_leftovers, temporary_prefix
from .store.served_release import prune
from .store.sparql_store import StoredForm
from .terms import to_oxigraph
from .validate import load_shapes, validate, validate_graph
from .validation_report import ValidationReport

# The page the dataset's VoID says it was derived from (prov:wasDerivedFrom).
SOURCE_PATH = "id/source/uzavrene-dohody"

# What a catalogue record must pass to be published (folders of shapes_dir): our shapes of what
# the national catalogue checks, and the DCAT-AP 3.0.1 constraint, range and vocabulary shapes
# (the recommended-property shapes only warn, so they are left to the tests, which report their
# warnings). The record must pass them as written (catalogue.ttl) and as the release serves it
# (describe/served_record.py).
CATALOGUE_SHAPES = ("catalogue", "standards/dcat-ap-3.0.1/html-shacl-shapes.ttl",
                    "standards/dcat-ap-3.0.1/html-shacl-range.ttl",
                    "standards/dcat-ap-3.0.1/html-shacl-mdr-vocabularies.shape.ttl")


class ValidationFailed(Exception):
    """The dataset has SHACL violations, so nothing was published; `report` says which, and `where`
    which view of it (e.g. the catalogue record as served through SPARQL), if not the data."""

    def __init__(self, report: ValidationReport, where: str = "") -> None:
        self.report, self.where = report, where
        super().__init__(f"validation failed with {report.counts()['Violation']} violation(s)"
                         + (f" in {where}" if where else ""))


@dataclass(frozen=True)
class Release:
    """A written and published release, and the validation report it passed (with any warnings)."""

    version: str
    path: Path
    manifest: dict[str, Any]
    report: ValidationReport
    deleted: tuple[str, ...] = ()  # older releases deleted to keep settings.keep_releases


def build(settings: Settings, now: datetime | None = None, check_shapes: bool = True,
          on_wait: Callable[[str], None] | None = None) -> Release:
    """Load and validate the dataset, then write and publish a new release of it.

    `now` (timezone-aware) replaces the current time, for reproducible builds and tests.
    `check_shapes=False` publishes data that has no shapes of its own (another dataset served
    with `lodpub serve --data`); the catalogue record, if any, is still checked.
    One build at a time runs into an output folder: another one waits for it to finish, having
    called `on_wait` with a message that says so (see `build_lock`).
    Raises ValidationFailed, before publishing anything, when the data or its catalogue record
    (as written, or as the release would serve it) has a Violation.
    """
    with build_lock(settings.output_dir, on_wait or (lambda message: None)):
        return _build(settings, now, check_shapes)


def _build(settings: Settings, now: datetime | None, check_shapes: bool) -> Release:
    """`build`, once this process holds the output folder."""
    loaded = load_dataset(settings)
    shapes = load_shapes(settings) if check_shapes else Graph()
    published_shapes = shapes_file(shapes, settings.base_iri)  # as read, before validation uses them
    report = (validate(loaded, shapes, now=now, jobs=settings.build_jobs)
              if check_shapes else ValidationReport([], {}))
    if not report.conforms:
        raise ValidationFailed(report)
    built_at = (now or datetime.now(UTC)).astimezone(UTC)
    triple_lines = loaded.triple_lines()
    statistics = DataStatistics.of_lines(triple_lines)
    with _release_being_written(settings.output_dir) as folder:
        dumps = write_dumps(folder, loaded, triple_lines, settings.build_jobs)
        del triple_lines  # the largest thing the build holds, and written now
        version = f"{built_at:%Y%m%dT%H%M%SZ}-{dumps['partnerships.nq'].sha256[:8]}"
        manifest = {
            "version": version,
            "sources_digest": sources_digest(settings),
            "built_at": f"{built_at:%Y-%m-%dT%H:%M:%SZ}",
            "source": source_commit(settings),
            "base_iri": settings.base_iri,
            "triples": statistics.triples,
            "files": [dump.entry for _, dump in sorted(dumps.items())],
        }
        # What changed since the previous release; the VoID and catalogue record are dated when the data last changed.
        changes = describe_changes(settings.output_dir / "releases", manifest, (folder / "partnerships.nq").read_bytes)
        descriptions = changes.files | published_shapes | describe_release(
            settings, loaded, statistics, manifest, changes.data_modified)
        manifest["description"] = _entries(descriptions)
        _write_descriptions(folder, descriptions, manifest, dumps)
        if "catalogue.ttl" in descriptions:
            check_served_record(settings, folder, manifest)
        path = _publish(settings.output_dir, version, folder)
    deleted = prune(settings.output_dir, settings.keep_releases)
    return Release(version, path, manifest, report, tuple(deleted))


def describe_release(settings: Settings, loaded: LoadedDataset, statistics: DataStatistics, manifest: dict[str, Any],
                     built_at: datetime) -> dict[str, tuple[str, bytes]]:
    """The release's descriptions: its VoID and, when data/catalogue/ says what to, its catalogue
    record. Raises ValidationFailed when the catalogue record has a violation of the catalogue
    shapes (see CATALOGUE_SHAPES)."""
    graph_sizes = loaded.graph_sizes()
    dump_names = [entry["name"] for entry in manifest["files"]]
    metadata = load_catalogue_metadata(settings)
    descriptions = {}
    if len(metadata):
        record = catalogue_record(metadata, settings.base_iri, statistics, manifest["files"], manifest["version"], built_at)
        report = validate_graph(record, load_shapes(settings, *CATALOGUE_SHAPES))
        if not report.conforms:
            raise ValidationFailed(report, "the catalogue record (catalogue.ttl)")
        descriptions["catalogue.ttl"] = ("text/turtle", _serialise(bind_prefix_table(record, settings.base_iri), "turtle"))
    else:
        record = Graph()
    # The stores load each description without the triples an earlier graph holds
    # (store/embedded.description_quads): the sizes of their graphs say so too.
    stored = StoredForm()
    in_record = {_key(triple, stored) for triple in _ground(record)}
    if len(record):
        graph_sizes[str(graph_iri(settings.base_iri, "catalogue"))] = (
            len(record) - len(held_by_data(loaded.quad_lines, record, stored)))

    def held_elsewhere(void: Graph) -> int:
        in_data = held_by_data(loaded.quad_lines, void, stored)
        return sum(1 for triple in _ground(void) if (key := _key(triple, stored)) in in_data or key in in_record)
    source = URIRef(settings.base_iri + SOURCE_PATH)
    void = void_description(statistics, settings.base_iri, dump_names, manifest["version"], built_at,
                            source if statistics.describes(source) else None, graph_sizes,
                            dataset_summary(metadata, settings.base_iri), str(graph_iri(settings.base_iri, "description")),
                            held_elsewhere)
    descriptions["void.ttl"] = ("text/turtle", _serialise(bind_prefix_table(void, settings.base_iri), "turtle"))
    return descriptions


def check_served_record(settings: Settings, release: Path, manifest: dict[str, Any]) -> None:
    """Validate the catalogue record as the release written into `release` will be served (see
    describe/served_record.py), loaded as the server loads it. Raises ValidationFailed, naming the
    view, when one has a violation of the catalogue shapes."""
    store = EmbeddedStore(release, manifest=manifest)
    shapes = load_shapes(settings, *CATALOGUE_SHAPES)
    for view, graph in served_record(store).items():
        report = validate_graph(graph, shapes)
        if not report.conforms:
            raise ValidationFailed(report, f"the catalogue record as served ({view})")


def held_by_data(quad_lines: list[bytes], triples: Graph, stored: StoredForm) -> set[ox.Triple]:
    """The triples of `triples` (as StoredForm keys) that the data's graphs hold: a store keeps a
    literal by its value, so "…Z" and "…+00:00" are one xsd:dateTime there. Only the lines about
    the subjects of `triples` are read (the data may be millions of lines)."""
    subjects = {f"<{subject}>".encode() for subject in triples.subjects() if isinstance(subject, URIRef)}
    lines = b"".join(line for line in quad_lines if line.split(b" ", 1)[0] in subjects)
    data = {stored.of_triple(quad.triple) for quad in ox.parse(lines, format=ox.RdfFormat.N_QUADS)}
    return {key for triple in _ground(triples) if (key := _key(triple, stored)) in data}


def _key(triple: tuple, stored: StoredForm) -> ox.Triple:
    return stored.of_triple(ox.Triple(*(to_oxigraph(term) for term in triple)))


def _ground(triples: Graph) -> list[tuple]:
    """The triples without a blank node: one with a blank node is its own file's, in no other graph."""
    return [triple for triple in triples if not any(isinstance(term, BNode) for term in triple)]


def shapes_file(shapes: Graph, base_iri: str) -> dict[str, tuple[str, bytes]]:
    """{SHAPES_FILE: (media type, Turtle)} of the data's shapes; nothing when there are none."""
    if not len(shapes):
        return {}
    return {SHAPES_FILE: ("text/turtle", _serialise(bind_prefix_table(shapes, base_iri), "turtle"))}


def sources_digest(settings: Settings) -> str:
    """A SHA-256 over what a release is built from: the base IRI and every ontology, data and shapes file."""
    digest = hashlib.sha256(settings.base_iri.encode())
    # A project without shapes/ has no shapes (as load_shapes reads it); a missing data folder is an error.
    has_shapes = settings.shapes_dir.exists() or settings.shapes_dir.is_symlink()
    for root in (settings.ontology_dir, settings.data_dir, *([settings.shapes_dir] if has_shapes else [])):
        for path in sorted(find_rdf_files(root)):
            digest.update(str(path.relative_to(root) if root.is_dir() else path.name).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def source_commit(settings: Settings) -> dict[str, Any] | None:
    """The git commit the data was checked out at, and whether the sources (ontology, data,
    shapes) in that checkout had uncommitted changes: {"commit", "uncommitted_changes"} (None when
    git cannot tell); None when the data is not in a git repository (or git is not installed)."""
    data = settings.data_dir if settings.data_dir.is_dir() else settings.data_dir.parent
    commit, top = _git(data, "rev-parse", "--verify", "HEAD"), _git(data, "rev-parse", "--show-toplevel")
    if commit is None or top is None:
        return None
    sources = [str(path) for path in (settings.ontology_dir, settings.data_dir, settings.shapes_dir)
               if path.resolve().is_relative_to(Path(top).resolve())]
    # Untracked files count: a new data file is a change.
    changes = _git(data, "status", "--porcelain", "--untracked-files=all", "--", *sources)
    return {"commit": commit, "uncommitted_changes": None if changes is None else bool(changes)}


def _git(directory: Path, *args: str) -> str | None:
    """The output of a git command run in `directory`, None if it fails."""
    try:
        result = subprocess.run(["git", "-C", str(directory), *args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def current_release_is_up_to_date(settings: Settings) -> bool:
    """True when output_dir/current was built from the sources as they are now."""
    manifest = settings.output_dir / "current" / "manifest.json"
    if not manifest.is_file():
        return False
    return json.loads(manifest.read_text(encoding="utf-8")).get("sources_digest") == sources_digest(settings)


# Each dump: its media type, the format Oxigraph writes it in, and the dump it is written from
# (None: the sorted lines themselves); the slowest to write first, so that a pool does not wait
# for it at the end. The N-Quads and TriG dumps hold the named graphs, the others their union.
DUMP_FORMATS: dict[str, tuple[str, ox.RdfFormat, str | None]] = {
    "partnerships.trig": ("application/trig", ox.RdfFormat.TRIG, "partnerships.nq"),
    "partnerships.ttl": ("text/turtle", ox.RdfFormat.TURTLE, "partnerships.nt"),
    "partnerships.jsonld": ("application/ld+json", ox.RdfFormat.JSON_LD, "partnerships.nt"),
    "partnerships.rdf": ("application/rdf+xml", ox.RdfFormat.RDF_XML, "partnerships.nt"),
    "partnerships.nq": ("application/n-quads", ox.RdfFormat.N_QUADS, None),
    "partnerships.nt": ("application/n-triples", ox.RdfFormat.N_TRIPLES, None),
}
_READ_SIZE = 1 << 20


@dataclass(frozen=True)
class WrittenFile:
    """A file written into a release: its manifest entry (name, media type, bytes, SHA-256)."""

    entry: dict[str, Any]

    @property
    def sha256(self) -> str:
        """The file's SHA-256, in hex."""
        return self.entry["sha256"]


def write_dumps(folder: Path, loaded: LoadedDataset, triple_lines: list[bytes], jobs: int = 1) -> dict[str, WrittenFile]:
    """Write the dataset into `folder` in every dump format, plain and gzipped: {file name: what was written}.

    The N-Quads and N-Triples dumps are the sorted lines of the named graphs (`loaded.quad_lines`)
    and of their union (`triple_lines`); Oxigraph writes the other formats from them, streaming,
    so that no dump is ever held whole in memory. Up to `jobs` processes write at once.
    """
    for name, lines in (("partnerships.nq", loaded.quad_lines), ("partnerships.nt", triple_lines)):
        with open(folder / name, "wb") as file:
            file.writelines(lines)
    written = map_in_forked_pool(_write_dump, list(DUMP_FORMATS), jobs, (folder, loaded.base_iri))
    return {file_name: file for pair in written for file_name, file in pair.items()}


def _write_dump(where: tuple[Path, str], name: str) -> dict[str, WrittenFile]:
    """The dump `name` of DUMP_FORMATS (written from its source dump unless it is one), and its gzip."""
    folder, base_iri = where
    media_type, rdf_format, source = DUMP_FORMATS[name]
    if source is not None:
        triples = ox.parse(path=str(folder / source), format=DUMP_FORMATS[source][1])
        if rdf_format == ox.RdfFormat.JSON_LD:  # ours gives types as "@type", Oxigraph's as rdf:type
            with open(folder / name, "wb") as output:
                expanded_json_ld.write(triples, output)
        else:
            ox.serialize(triples, output=str(folder / name), format=rdf_format, prefixes=prefixes_for(base_iri))
    _gzip(folder / name)
    return {name: _written(folder / name, media_type),
            f"{name}.gz": _written(folder / f"{name}.gz", "application/gzip")}


def _gzip(path: Path) -> None:
    """Write path.gz beside `path`, in parts, byte for byte what `gzip.compress(data, mtime=0)` gives:
    with no name and no time in it, the same content gives the same file."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip header and trailer
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


def _entries(files: dict[str, tuple[str, bytes]]) -> list[dict[str, Any]]:
    """Manifest entries of `files`: name, media type, size and SHA-256."""
    return [{"name": name, "media_type": media_type, "bytes": len(data), "sha256": _sha256(data)}
            for name, (media_type, data) in sorted(files.items())]


def _write_descriptions(folder: Path, descriptions: dict[str, tuple[str, bytes]], manifest: dict[str, Any],
                        dumps: dict[str, WrittenFile]) -> None:
    """Write the descriptions, manifest.json and SHA256SUMS (covering every file) into `folder`."""
    files = {name: data for name, (_, data) in descriptions.items()}
    files["manifest.json"] = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    checksums = {name: dump.sha256 for name, dump in dumps.items()} | {name: _sha256(data) for name, data in files.items()}
    files["SHA256SUMS"] = "".join(f"{digest}  {name}\n" for name, digest in sorted(checksums.items())).encode("utf-8")
    for name, data in files.items():
        (folder / name).write_bytes(data)


def _serialise(graph: Graph, format: str, **options: Any) -> bytes:
    return graph.serialize(format=format, encoding="utf-8", **options)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# Held (flock) by the build running into an output folder, which writes its pid into it; it is
# there only while a build runs.
BUILD_LOCK = ".build.lock"
# How long a build waits for the one holding the lock to write its pid there, to name it.
_PID_WAIT_SECONDS = 1.0


class BuildWaitStopped(OSError):
    """The user stopped a build (Ctrl-C) while it waited for another one; nothing was built."""


@contextmanager
def build_lock(output_dir: Path, on_wait: Callable[[str], None]) -> Iterator[None]:
    """Hold output_dir/.build.lock for a build, making output_dir if need be (and removing it again
    if the build leaves nothing in it). When another build holds it, call `on_wait` with "waiting
    for the build running in <output_dir> (pid N)" and wait until it is done.

    Raises BuildWaitStopped when the user stops the build (Ctrl-C) while it waits.
    Two builds into one folder would remove each other's folders half written and prune the same
    releases. The lock file is removed before it is unlocked, so that a build that was waiting on
    it sees that it is gone and locks the next one: only one file is ever the lock.
    """
    lock, made = output_dir / BUILD_LOCK, False
    while True:
        made |= not output_dir.is_dir()
        output_dir.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:  # the build before removed the folder it had made
            continue
        if _lock_when_free(descriptor, lock, on_wait):
            break
    try:
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{os.getpid()}\n".encode())
        yield
    finally:
        lock.unlink(missing_ok=True)
        if made:
            with suppress(OSError):  # not empty: a release is in it, or the next build's lock
                output_dir.rmdir()
        os.close(descriptor)


def _lock_when_free(descriptor: int, lock: Path, on_wait: Callable[[str], None]) -> bool:
    """Lock the open file `descriptor` of `lock`, waiting (and saying so) while another build holds
    it. True when it is locked and is still the file named `lock`; else it is closed."""
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        message = f"waiting for the build running in {display_path(lock.parent)}{_holder(descriptor)}"
        try:  # the user may stop it as soon as it says it waits
            on_wait(message)
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        except KeyboardInterrupt:
            os.close(descriptor)
            raise BuildWaitStopped(f"stopped {message}") from None
    try:
        if os.stat(lock).st_ino == os.fstat(descriptor).st_ino:
            return True
    except FileNotFoundError:
        pass
    os.close(descriptor)  # the build that held it removed it when it finished
    return False


def _holder(descriptor: int) -> str:
    """" (pid N)" of the build that holds the lock open as `descriptor`; "" when it does not say."""
    deadline = time.monotonic() + _PID_WAIT_SECONDS
    while True:
        written = os.pread(descriptor, 32, 0).decode("ascii", "replace").strip()
        if written.isdigit() or time.monotonic() > deadline:
            return f" (pid {written})" if written.isdigit() else ""
        time.sleep(0.05)  # it has locked the file, and is about to write its pid


@contextmanager
def _release_being_written(output_dir: Path) -> Iterator[Path]:
    """A new hidden folder below releases/ to write a release into; removed if anything fails
    before it is published (renamed to its version), and so are the folders made for it."""
    releases = output_dir / "releases"
    made = [folder for folder in (output_dir, releases) if not folder.is_dir()]
    releases.mkdir(parents=True, exist_ok=True)
    remove_leftovers(output_dir)
    folder = Path(tempfile.mkdtemp(prefix=temporary_prefix(), dir=releases))
    try:
        folder.chmod(0o755)  # mkdtemp makes the directory private; a release is for all to read
        yield folder
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        for empty in reversed(made):
            empty.rmdir()
        raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # gone already when it was published


def _publish(output_dir: Path, version: str, written: Path) -> Path:
    """Make the release written into `written` releases/<version>/ and point `current` at it, all or nothing."""
    releases = output_dir / "releases"
    final = releases / version
    if final.is_dir():
        # Same second, same content hash: that release is this one, complete (it was renamed
        # into place only when whole), so publishing it again is all there is to do.
        point(output_dir, CURRENT, final)
        return final
    for path in written.iterdir():
        _sync(path)
    fsync_directory(written)
    written.rename(final)
    try:
        fsync_directory(releases)
        point(output_dir, CURRENT, final)
    except BaseException:
        shutil.rmtree(final, ignore_errors=True)
        raise
    return final


def _sync(path: Path) -> None:
    """Make a written file durable."""
    with open(path, "rb") as file:
        os.fsync(file.fileno())
