"""Build a release: validate the dataset, then write its dumps, a manifest and checksums.

A release lives in output_dir/releases/<version>/ and is published by pointing the symlink
output_dir/current at it (what the server serves is another link: see store/releases.py).
The version is the UTC build time plus the start of the SHA-256 of the sorted N-Quads, e.g.
20261127T190512Z-3f2a9c1b, so equal data gives an equal hash (blank nodes have stable labels,
see dataset.py). The N-Triples, N-Quads, Turtle and TriG dumps are
byte-for-byte reproducible; rdflib writes JSON-LD and RDF/XML in an order that can change from
one process to the next.

Publishing is atomic: the files are written to a hidden temporary directory beside the
releases, synced to disk, and only then is the directory renamed to its version and `current`
switched by replacing the symlink. A failed build leaves `current` and older releases as they were.
Then all but the newest `keep_releases` releases are deleted (never the one served).
"""

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rdflib import Graph, URIRef

from .config import Settings
from .dataset import LoadedDataset, bind_prefix_table, find_rdf_files, load_catalogue_metadata, load_dataset
from .describe.changes import describe_changes
from .describe.dcat import as_dcat_ap_2_1_1, catalogue_record
from .describe.void import dataset_summary, void_description
from .namespaces import prefixes_for
from .store.releases import CURRENT, fsync_directory, point, prune, remove_leftovers, temporary_prefix
from .pool import map_in_forked_pool
from .validate import ValidationReport, load_shapes, validate, validate_graph

# The resource the dataset's VoID names as its source (dcterms:source).
SOURCE_PATH = "id/source/uzavrene-dohody"

# What a catalogue record must pass to be published (folders of shapes_dir): our shapes of what
# the national catalogue checks, and the DCAT-AP 3.0.1 constraint, range and vocabulary shapes;
# and, normalised to DCAT-AP 2.1.1, the 2.1.1 shapes. (The recommended-property shapes only warn,
# so they are left to the tests, which report their warnings.)
CATALOGUE_SHAPES = ("catalogue", "standards/dcat-ap-3.0.1/html-shacl-shapes.ttl",
                    "standards/dcat-ap-3.0.1/html-shacl-range.ttl",
                    "standards/dcat-ap-3.0.1/html-shacl-mdr-vocabularies.shape.ttl")
DCAT_AP_2_1_1_SHAPES = ("standards/dcat-ap-2.1.1/dcat-ap_2.1.1_shacl_shapes.ttl",
                        "standards/dcat-ap-2.1.1/dcat-ap_2.1.1_shacl_range.ttl",
                        "standards/dcat-ap-2.1.1/dcat-ap_2.1.1_shacl_mdr-vocabularies.shape.ttl")


class ValidationFailed(Exception):
    """The dataset has SHACL violations, so nothing was written; `report` says which."""

    def __init__(self, report: ValidationReport) -> None:
        self.report = report
        super().__init__(f"validation failed with {report.counts()['Violation']} violation(s)")


@dataclass(frozen=True)
class Release:
    """A written and published release, and the validation report it passed (with any warnings)."""

    version: str
    path: Path
    manifest: dict[str, Any]
    report: ValidationReport
    deleted: tuple[str, ...] = ()  # older releases deleted to keep settings.keep_releases


def build(settings: Settings, now: datetime | None = None, check_shapes: bool = True) -> Release:
    """Load and validate the dataset, then write and publish a new release of it.

    `now` (timezone-aware) replaces the current time, for reproducible builds and tests.
    `check_shapes=False` publishes data that has no shapes of its own (another dataset served
    with `lodpub serve --data`); the catalogue record, if any, is still checked.
    Raises ValidationFailed, before writing anything, when the data or its catalogue record
    has a Violation.
    """
    loaded = load_dataset(settings)
    union = loaded.union()
    report = (validate(loaded, load_shapes(settings), now=now, jobs=settings.build_jobs, union=union)
              if check_shapes else ValidationReport([], {}))
    if not report.conforms:
        raise ValidationFailed(report)
    built_at = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    dumps = serialise_dumps(loaded, union, settings.build_jobs)
    version = f"{built_at:%Y%m%dT%H%M%SZ}-{_sha256(dumps['partnerships.nq'][1])[:8]}"
    manifest = {
        "version": version,
        "sources_digest": sources_digest(settings),
        "built_at": f"{built_at:%Y-%m-%dT%H:%M:%SZ}",
        "source": source_commit(settings),
        "base_iri": settings.base_iri,
        "triples": len(union),
        "files": _entries(dumps),
    }
    sha1_of = {name: hashlib.sha1(data).hexdigest() for name, (_, data) in dumps.items()}
    # What changed since the previous release; the VoID and catalogue record are dated when the data last changed.
    changes = describe_changes(settings.output_dir / "releases", manifest, dumps["partnerships.nq"][1])
    descriptions = changes.files | describe_release(settings, loaded, union, manifest, changes.data_modified, sha1_of)
    manifest["description"] = _entries(descriptions)
    path = _publish(settings.output_dir, version, _release_files(dumps | descriptions, manifest))
    deleted = prune(settings.output_dir, settings.keep_releases)
    return Release(version, path, manifest, report, tuple(deleted))


def describe_release(settings: Settings, loaded: LoadedDataset, union: Graph, manifest: dict[str, Any],
                     built_at: datetime, sha1_of: dict[str, str]) -> dict[str, tuple[str, bytes]]:
    """The release's descriptions: its VoID and, when data/catalogue/ says what to, its catalogue
    record. Raises ValidationFailed when the catalogue record has a violation of the catalogue
    shapes (see CATALOGUE_SHAPES), or would have one once normalised to DCAT-AP 2.1.1."""
    graph_sizes = {str(graph.identifier): len(graph) for graph in loaded.dataset.graphs() if len(graph)}
    dump_names = [entry["name"] for entry in manifest["files"]]
    metadata = load_catalogue_metadata(settings)
    source = URIRef(settings.base_iri + SOURCE_PATH)
    void = void_description(union, settings.base_iri, dump_names, manifest["version"], built_at,
                            source if (source, None, None) in union else None, graph_sizes,
                            dataset_summary(metadata, settings.base_iri))
    descriptions = {"void.ttl": ("text/turtle", _serialise(bind_prefix_table(void, settings.base_iri), "turtle"))}
    if len(metadata):
        record = catalogue_record(metadata, settings.base_iri, union, manifest["files"], manifest["version"], built_at)
        for graph, shape_sets in ((record, CATALOGUE_SHAPES), (as_dcat_ap_2_1_1(record, sha1_of), DCAT_AP_2_1_1_SHAPES)):
            report = validate_graph(graph, load_shapes(settings, *shape_sets))
            if not report.conforms:
                raise ValidationFailed(report)
        descriptions["catalogue.ttl"] = ("text/turtle", _serialise(bind_prefix_table(record, settings.base_iri), "turtle"))
    return descriptions


def sources_digest(settings: Settings) -> str:
    """A SHA-256 over what a release is built from: the base IRI and every ontology, data and shapes file."""
    digest = hashlib.sha256(settings.base_iri.encode())
    for root in (settings.ontology_dir, settings.data_dir, settings.shapes_dir):
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


# Each dump: its media type, whether it holds the named graphs (else their union), and its rdflib
# format; the slowest to write first, so that a pool does not wait for it at the end.
DUMP_FORMATS: dict[str, tuple[str, bool, str]] = {
    "partnerships.trig": ("application/trig", True, "trig"),
    "partnerships.ttl": ("text/turtle", False, "turtle"),
    "partnerships.jsonld": ("application/ld+json", False, "json-ld"),
    "partnerships.rdf": ("application/rdf+xml", False, "xml"),
    "partnerships.nq": ("application/n-quads", True, "nquads"),
    "partnerships.nt": ("application/n-triples", False, "nt"),
}
_LINE_FORMATS = {"nt", "nquads"}


def serialise_dumps(loaded: LoadedDataset, union: Graph, jobs: int = 1) -> dict[str, tuple[str, bytes]]:
    """Serialise the dataset in every dump format, plain and gzipped: {file name: (media type, bytes)}.

    The union of the named graphs (`union`) goes to Turtle, N-Triples, JSON-LD and RDF/XML; the
    named graphs themselves to N-Quads and TriG. N-Triples and N-Quads have their lines sorted.
    Up to `jobs` processes write the dumps at once.
    """
    names = list(DUMP_FORMATS)
    written = map_in_forked_pool(_write_dump, names, jobs, (loaded, union))
    dumps: dict[str, tuple[str, bytes]] = {}
    for name, (plain, gzipped) in zip(names, written):
        dumps[name] = (DUMP_FORMATS[name][0], plain)
        dumps[f"{name}.gz"] = ("application/gzip", gzipped)
    return dict(sorted(dumps.items()))


def _write_dump(graphs: tuple[LoadedDataset, Graph], name: str) -> tuple[bytes, bytes]:
    """The dump `name` of DUMP_FORMATS, plain and gzipped."""
    loaded, union = graphs
    _, named_graphs, format = DUMP_FORMATS[name]
    options = {"context": prefixes_for(loaded.base_iri)} if format == "json-ld" else {}
    data = _serialise(loaded.dataset if named_graphs else union, format, **options)
    if format in _LINE_FORMATS:
        data = _sorted_lines(data)
    # mtime=0 keeps the gzip header, and so the file, the same for the same content.
    return data, gzip.compress(data, mtime=0)


def _entries(files: dict[str, tuple[str, bytes]]) -> list[dict[str, Any]]:
    """Manifest entries of `files`: name, media type, size and SHA-256."""
    return [{"name": name, "media_type": media_type, "bytes": len(data), "sha256": _sha256(data)}
            for name, (media_type, data) in sorted(files.items())]


def _release_files(dumps: dict[str, tuple[str, bytes]], manifest: dict[str, Any]) -> dict[str, bytes]:
    """The files of a release: the dumps and descriptions, manifest.json and SHA256SUMS (covering all)."""
    files = {name: data for name, (_, data) in dumps.items()}
    files["manifest.json"] = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    checksums = [f"{_sha256(data)}  {name}\n" for name, data in sorted(files.items())]
    files["SHA256SUMS"] = "".join(checksums).encode("utf-8")
    return files


def _serialise(graph: Graph, format: str, **options: Any) -> bytes:
    return graph.serialize(format=format, encoding="utf-8", **options)


def _sorted_lines(data: bytes) -> bytes:
    return b"".join(sorted(line + b"\n" for line in data.splitlines() if line.strip()))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _publish(output_dir: Path, version: str, files: dict[str, bytes]) -> Path:
    """Write `files` to releases/<version>/ and point `current` at it, all or nothing."""
    releases = output_dir / "releases"
    releases.mkdir(parents=True, exist_ok=True)
    remove_leftovers(output_dir)
    final = releases / version
    if final.is_dir():
        # Same second, same content hash: that release is this one, complete (it was renamed
        # into place only when whole), so publishing it again is all there is to do.
        point(output_dir, CURRENT, final)
        return final
    written = Path(tempfile.mkdtemp(prefix=temporary_prefix(), dir=releases))
    try:
        written.chmod(0o755)  # mkdtemp makes the directory private; a release is for all to read
        for name, data in files.items():
            _write_synced(written / name, data)
        fsync_directory(written)
        written.rename(final)
        written = final  # if anything fails now, the new release is what must go
        fsync_directory(releases)
        point(output_dir, CURRENT, final)
    except BaseException:
        shutil.rmtree(written, ignore_errors=True)
        raise
    return final


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
