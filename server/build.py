"""Build a release: validate the dataset, then write its dumps, a manifest and checksums.

A release lives in output_dir/releases/<version>/ and is published by pointing the symlink
output_dir/current at it (what the server serves is another link: see store/releases.py).
The version is the UTC build time plus the start of the SHA-256 of the sorted N-Quads, e.g.
20261127T190512Z-3f2a9c1b, so equal data gives an equal hash (blank nodes have stable labels,
see rdf_files.py). Every dump is byte-for-byte reproducible: the N-Quads and N-Triples dumps are
sorted lines, and Oxigraph writes the others from them, streaming, so that a dataset of millions
of triples is never held whole in memory as an rdflib graph unless its shapes are checked.

Publishing is atomic (release_folder.py): the release is written into a hidden folder, which is
renamed to its version only when whole. Then all but the newest `keep_releases` releases are deleted
(never the one served). Builds into one output folder run one at a time (release_folder.build_lock).

This module holds the build itself and the descriptions of a release (VoID, the catalogue record, the
shapes); dumps.py writes the dumps and release_manifest.py the manifest and checksums.
"""

from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, URIRef

from .config import Settings
from .dataset import LoadedDataset, bind_prefix_table, graph_iri, load_catalogue_metadata, load_dataset
from .describe.changes import describe_changes
from .describe.dcat import catalogue_record
from .describe.served_record import served_record
from .describe.statistics import DataStatistics
from .describe.void import dataset_summary, void_description
from .dumps import deferred_dump_files, write_dumps
from .release_folder import build_lock, publish_release, release_being_written
from .release_manifest import description_entries, source_commit, sources_digest, write_descriptions
from .store.embedded import EmbeddedStore
from .store.manifest import pending_files
from .store.releases import SHAPES_FILE
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
          on_wait: Callable[[str], None] | None = None, defer_dumps: bool = False) -> Release:
    """Load and validate the dataset, then write and publish a new release of it.

    `now` (timezone-aware) replaces the current time, for reproducible builds and tests.
    `check_shapes=False` publishes data that has no shapes of its own (another dataset served
    with `lodpub serve --data`); the catalogue record, if any, is still checked.
    One build at a time runs into an output folder: another one waits for it to finish, having
    called `on_wait` with a message that says so (see `build_lock`).
    `defer_dumps` (for a server that answers before its dumps exist) publishes the release with only the
    dumps a store loads, its manifest naming the others "pending", for dump_completion.py to write; not
    when the release has a catalogue record, which states every dump's size and checksum.
    Raises ValidationFailed, before publishing anything, when the data or its catalogue record
    (as written, or as the release would serve it) has a Violation.
    """
    with build_lock(settings.output_dir, on_wait or (lambda message: None)):
        return _build(settings, now, check_shapes, defer_dumps and not len(load_catalogue_metadata(settings)))


def _build(settings: Settings, now: datetime | None, check_shapes: bool, defer_dumps: bool) -> Release:
    """`build`, once this process holds the output folder."""
    shapes = load_shapes(settings) if check_shapes else Graph()
    loaded = load_dataset(settings, locate=check_shapes and bool(len(shapes)))  # where subjects are: for reports
    published_shapes = shapes_file(shapes, settings.base_iri)  # as read, before validation uses them
    # No shapes, nothing to check: the rdflib graph validation needs (gigabytes at millions of triples) is not made.
    report = (validate(loaded, shapes, now=now, jobs=settings.build_jobs)
              if check_shapes and len(shapes) else ValidationReport([], {}))
    if not report.conforms:
        raise ValidationFailed(report)
    built_at = (now or datetime.now(UTC)).astimezone(UTC)
    triple_lines = loaded.triple_lines()
    statistics = DataStatistics.of_lines(triple_lines)
    with release_being_written(settings.output_dir) as folder:
        dumps = write_dumps(folder, loaded, triple_lines, settings.build_jobs, defer_dumps)
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
            **({"pending": deferred_dump_files()} if defer_dumps else {}),
        }
        # What changed since the previous release; the VoID and catalogue record are dated when the data last changed.
        changes = describe_changes(settings.output_dir / "releases", manifest, (folder / "partnerships.nq").read_bytes)
        descriptions = changes.files | published_shapes | describe_release(
            settings, loaded, statistics, manifest, changes.data_modified)
        manifest["description"] = description_entries(descriptions)
        write_descriptions(folder, descriptions, manifest, dumps)
        if "catalogue.ttl" in descriptions:
            check_served_record(settings, folder, manifest)
        path = publish_release(settings.output_dir, version, folder)
    deleted = prune(settings.output_dir, settings.keep_releases)
    return Release(version, path, manifest, report, tuple(deleted))


def describe_release(settings: Settings, loaded: LoadedDataset, statistics: DataStatistics, manifest: dict[str, Any],
                     built_at: datetime) -> dict[str, tuple[str, bytes]]:
    """The release's descriptions: its VoID and, when data/catalogue/ says what to, its catalogue
    record. Raises ValidationFailed when the catalogue record has a violation of the catalogue
    shapes (see CATALOGUE_SHAPES)."""
    graph_sizes = loaded.graph_sizes()
    dump_names = sorted([entry["name"] for entry in manifest["files"]] + pending_files(manifest))
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
    the subjects of `triples` are read (the data may be millions of lines): sorted, each subject's lines
    are neighbours, found by bisection."""
    subjects = {f"<{subject}>".encode() for subject in triples.subjects() if isinstance(subject, URIRef)}
    # A subject's lines begin with it and a space, and sort before it followed by "!", the next character.
    lines = b"".join(line for subject in sorted(subjects)
                     for line in quad_lines[bisect_left(quad_lines, subject + b" "):bisect_left(quad_lines, subject + b"!")])
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


def _serialise(graph: Graph, format: str, **options: Any) -> bytes:
    return graph.serialize(format=format, encoding="utf-8", **options)
