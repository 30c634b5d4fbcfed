"""What changed from one release to the next: the changelog, as RDF and as a patch.

Every release is compared with the release built before it (the latest, by the manifests'
`built_at`, among the intact releases in output_dir/releases/). The comparison is of the N-Quads
dumps, quad by quad: blank nodes keep the labels of the dumps, which are stable from one build to
the next (see rdf_files.py), so a blank node changes only when its own triples do. A release writes:

    changes-added.nq, changes-removed.nq   the patch: previous - removed + added = this release
                                          (sorted N-Quads; absent in the first release)
    changes.ttl                           the changelog up to this release: the previous release's
                                          changelog with this release's entry added, so that a
                                          release carries its history when older ones are deleted

The changelog `{base}changes` is a prov:Collection of the releases. A release `{base}id/release/<v>`
is a prov:Entity, a prov:specializationOf the dataset, with its prov:generatedAtTime (the build
time), dcterms:modified (when its data last changed: a rebuild of identical data keeps the earlier
time), prov:wasRevisionOf the previous release (the first release has none, and says so in its
adms:versionNotes), and a note in cs and en. What changed is a void:Dataset each for the quads added
and removed (…/added, …/removed: void:triples, void:dataDump the patch file, a void:subset per named
graph with its sd:name), linked from the release by dcterms:relation; the resources whose
description changed are its dcterms:references, with their labels.
"""

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, VOID, XSD

from ..namespaces import LABEL_PREDICATES, dataset_iri, prefixes_for
from ..terms import to_rdflib

CHANGELOG_PATH = "changes"
RELEASE_PATH = "id/release/"
CHANGELOG_FILE = "changes.ttl"
PATCH_FILES = {"added": "changes-added.nq", "removed": "changes-removed.nq"}
NQUADS_DUMP = "partnerships.nq"

CHANGELOG_TITLES = (Literal("Přehled změn datové sady", lang="cs"), Literal("Changelog of the dataset", lang="en"))

ADMS = Namespace("http://www.w3.org/ns/adms#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
_LABEL_PREDICATES = {ox.NamedNode(str(predicate)) for predicate in LABEL_PREDICATES}


# --- comparing two releases -------------------------------------------------------------------


@dataclass(frozen=True)
class QuadDiff:
    """The quads in the new release and not in the previous one (`added`), and the reverse."""

    added: frozenset[ox.Quad]
    removed: frozenset[ox.Quad]

    @property
    def is_empty(self) -> bool:
        """True when the two releases hold the same quads."""
        return not self.added and not self.removed


def parse_nquads(data: bytes) -> frozenset[ox.Quad]:
    """The quads of an N-Quads document, blank nodes keeping their labels."""
    return frozenset(ox.parse(data, format=ox.RdfFormat.N_QUADS))


def diff_quads(previous: frozenset[ox.Quad], new: frozenset[ox.Quad]) -> QuadDiff:
    """What `new` adds to `previous` and what it removes from it."""
    return QuadDiff(added=new - previous, removed=previous - new)


def counts_by_graph(quads: Iterable[ox.Quad]) -> dict[str, int]:
    """How many of `quads` are in each named graph: {graph IRI ("" for the default graph): count}."""
    counts: dict[str, int] = {}
    for quad in quads:
        name = quad.graph_name.value if isinstance(quad.graph_name, ox.NamedNode) else ""
        counts[name] = counts.get(name, 0) + 1
    return counts


def affected_resources(diff: QuadDiff, previous: frozenset[ox.Quad], new: frozenset[ox.Quad]) -> list[str]:
    """The IRIs whose description changed, sorted: the subjects of the quads added or removed; a
    blank node's change is a change of the resources that link to it (in either release)."""
    linking: dict[ox.BlankNode, set[ox.NamedNode | ox.BlankNode]] = {}
    for quad in previous | new:
        if isinstance(quad.object, ox.BlankNode):
            linking.setdefault(quad.object, set()).add(quad.subject)
    found: set[str] = set()
    seen: set[ox.BlankNode] = set()
    waiting = [quad.subject for quad in diff.added | diff.removed]
    while waiting:
        subject = waiting.pop()
        if isinstance(subject, ox.NamedNode):
            found.add(subject.value)
        elif subject not in seen:
            seen.add(subject)
            waiting.extend(linking.get(subject, ()))
    return sorted(found)


def labels_of(iris: Iterable[str], previous: frozenset[ox.Quad], new: frozenset[ox.Quad]) -> Graph:
    """The labels (namespaces.LABEL_PREDICATES) of `iris` in the new release, or, for a resource it
    no longer describes, in the previous one."""
    wanted = {ox.NamedNode(iri) for iri in iris}
    labels = Graph()
    for quads in (new, previous):
        found = [quad for quad in quads if quad.subject in wanted and quad.predicate in _LABEL_PREDICATES
                 and isinstance(quad.object, ox.Literal)]
        for quad in found:
            labels.add((to_rdflib(quad.subject), to_rdflib(quad.predicate), to_rdflib(quad.object)))
        wanted -= {quad.subject for quad in found}
    return labels


def patch_file(quads: Iterable[ox.Quad]) -> bytes:
    """`quads` as sorted N-Quads (the form of the release's own dump)."""
    lines = ox.serialize(list(quads), format=ox.RdfFormat.N_QUADS).splitlines(keepends=True)
    return b"".join(sorted(line for line in lines if line.strip()))


# --- describing a release's changes -----------------------------------------------------------


@dataclass(frozen=True)
class ReleaseFacts:
    """A release as the changelog names it: its version and build time."""

    version: str
    built_at: datetime


@dataclass(frozen=True)
class Change:
    """What a release changed from the previous one: that release, the diff, the resources affected."""

    previous: ReleaseFacts
    diff: QuadDiff
    affected: list[str]


def changelog_iri(base_iri: str) -> URIRef:
    """The changelog of the dataset published under `base_iri`."""
    return URIRef(base_iri + CHANGELOG_PATH)


def release_iri(base_iri: str, version: str) -> URIRef:
    """The IRI of the release `version`."""
    return URIRef(f"{base_iri}{RELEASE_PATH}{version}")


def patch_url(base_iri: str, version: str, kind: str) -> URIRef:
    """Where the server offers the patch file of release `version` (`kind`: "added" or "removed")."""
    return URIRef(f"{base_iri}{CHANGELOG_PATH}/{version}/{kind}.nq")


def release_entry(base_iri: str, release: ReleaseFacts, data_modified: datetime, change: Change | None) -> Graph:
    """The changelog's entry for `release`: what it is, when it was built and its data last changed,
    and what `change` it made (None: the first release, which has nothing to be compared with)."""
    entry = Graph()
    iri = release_iri(base_iri, release.version)
    add = entry.add
    add((changelog_iri(base_iri), PROV.hadMember, iri))
    add((iri, RDF.type, PROV.Entity))
    add((iri, RDFS.label, Literal(f"Vydání {release.version}", lang="cs")))
    add((iri, RDFS.label, Literal(f"Release {release.version}", lang="en")))
    add((iri, OWL.versionInfo, Literal(release.version)))
    add((iri, PROV.specializationOf, URIRef(dataset_iri(base_iri))))
    add((iri, PROV.generatedAtTime, _date_time(release.built_at)))
    add((iri, DCTERMS.modified, _date_time(data_modified)))
    for note in _version_notes(change):
        add((iri, ADMS.versionNotes, note))
    if change is not None:
        add((iri, PROV.wasRevisionOf, release_iri(base_iri, change.previous.version)))
        for kind, quads in (("added", change.diff.added), ("removed", change.diff.removed)):
            _add_quad_set(entry, base_iri, iri, release.version, kind, quads)
        for resource in change.affected:
            add((iri, DCTERMS.references, URIRef(resource)))
    return entry


def _version_notes(change: Change | None) -> list[Literal]:
    """What changed, in a sentence in cs and en."""
    if change is None:
        return [Literal("První vydání: předchozí vydání, s nímž by je bylo možné srovnat, není.", lang="cs"),
                Literal("The first release: there is no previous release to compare it with.", lang="en")]
    previous = change.previous.version
    if change.diff.is_empty:
        return [Literal(f"Data jsou stejná jako ve vydání {previous}.", lang="cs"),
                Literal(f"The data are the same as in release {previous}.", lang="en")]
    added, removed, affected = len(change.diff.added), len(change.diff.removed), len(change.affected)
    return [Literal(f"Oproti vydání {previous}: přidané trojice {added}, odebrané trojice {removed}, "
                    f"změněné zdroje {affected}.", lang="cs"),
            Literal(f"Compared with release {previous}: {added} triples added, {removed} removed, "
                    f"{affected} resources changed.", lang="en")]


def _add_quad_set(entry: Graph, base_iri: str, release: URIRef, version: str, kind: str,
                  quads: frozenset[ox.Quad]) -> None:
    """The quads added (or removed) by the release as a void:Dataset: its size, its patch file, and
    a subset per named graph."""
    quad_set = URIRef(f"{release}/{kind}")
    titles = {"added": ("Trojice přidané ve vydání", "Triples added in release"),
              "removed": ("Trojice odebrané ve vydání", "Triples removed in release")}[kind]
    entry.add((release, DCTERMS.relation, quad_set))
    entry.add((quad_set, RDF.type, VOID.Dataset))
    entry.add((quad_set, RDFS.label, Literal(f"{titles[0]} {version}", lang="cs")))
    entry.add((quad_set, RDFS.label, Literal(f"{titles[1]} {version}", lang="en")))
    entry.add((quad_set, VOID.triples, Literal(len(quads))))
    entry.add((quad_set, VOID.dataDump, patch_url(base_iri, version, kind)))
    for graph, count in sorted(counts_by_graph(quads).items()):
        subset = URIRef(f"{quad_set}/{_graph_key(graph, base_iri)}")
        entry.add((quad_set, VOID.subset, subset))
        entry.add((subset, RDF.type, VOID.Dataset))
        if graph:
            entry.add((subset, SD.name, URIRef(graph)))
        entry.add((subset, VOID.triples, Literal(count)))


def _graph_key(graph: str, base_iri: str) -> str:
    """A readable, stable IRI segment for a named graph: "graph/data" for {base}graph/data."""
    if not graph:
        return "default-graph"
    if graph.startswith(base_iri):
        return graph[len(base_iri):]
    return "graph-" + hashlib.sha256(graph.encode()).hexdigest()[:16]


def changelog(previous_changelog: Graph, entry: Graph, labels: Graph, base_iri: str) -> Graph:
    """The changelog up to a release: the previous one, its release's `entry`, and the `labels` of
    the resources the release changed (replacing the labels an earlier entry gave them)."""
    log = Graph()
    log += previous_changelog
    for resource in labels.subjects(unique=True):
        for predicate in LABEL_PREDICATES:
            log.remove((resource, predicate, None))
    log += entry
    log += labels
    iri = changelog_iri(base_iri)
    log.add((iri, RDF.type, PROV.Collection))
    for title in CHANGELOG_TITLES:
        log.add((iri, DCTERMS.title, title))
    log.add((iri, DCTERMS.subject, URIRef(dataset_iri(base_iri))))
    return log


def _date_time(moment: datetime) -> Literal:
    return Literal(f"{moment:%Y-%m-%dT%H:%M:%SZ}", datatype=XSD.dateTime, normalize=False)


# --- the releases on disk -----------------------------------------------------------------------


@dataclass(frozen=True)
class StoredRelease:
    """A release folder with an intact manifest and N-Quads dump."""

    facts: ReleaseFacts
    path: Path
    manifest: dict[str, Any]

    def intact_file(self, name: str) -> bytes | None:
        """The bytes of the release's file `name` if its manifest lists it with these bytes, else None."""
        entries = self.manifest.get("files", []) + self.manifest.get("description", [])
        expected = next((entry["sha256"] for entry in entries if entry.get("name") == name), None)
        path = self.path / name
        if expected is None or not path.is_file():
            return None
        data = path.read_bytes()
        return data if hashlib.sha256(data).hexdigest() == expected else None


def previous_release(releases_dir: Path, version: str, built_at: datetime) -> StoredRelease | None:
    """The release built last before `built_at` (other than `version`) whose N-Quads dump is intact;
    None when there is none. Releases with an unreadable manifest or a damaged dump are passed over:
    they cannot be compared with."""
    candidates = sorted(_stored_releases(releases_dir), key=lambda release: release.facts.built_at, reverse=True)
    for release in candidates:
        if release.facts.version != version and release.facts.built_at < built_at \
                and release.intact_file(NQUADS_DUMP) is not None:
            return release
    return None


def stored_release(folder: Path) -> StoredRelease | None:
    """The release in `folder`, or None when it is not one (a build in progress, a folder without a
    readable manifest)."""
    if folder.name.startswith(".") or not (folder / "manifest.json").is_file():
        return None
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        return StoredRelease(ReleaseFacts(manifest["version"], _parse_time(manifest["built_at"])), folder, manifest)
    except (ValueError, KeyError, TypeError):
        return None


def _stored_releases(releases_dir: Path) -> list[StoredRelease]:
    folders = sorted(releases_dir.iterdir()) if releases_dir.is_dir() else []
    return [release for release in map(stored_release, folders) if release is not None]


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- what the build calls ------------------------------------------------------------------------


@dataclass(frozen=True)
class ReleaseChanges:
    """The files a release gets ({name: (media type, bytes)}) and when its data last changed."""

    files: dict[str, tuple[str, bytes]]
    data_modified: datetime


def describe_changes(releases_dir: Path, manifest: dict[str, Any], read_nquads: Callable[[], bytes]) -> ReleaseChanges:
    """Compare the release being built (its `manifest`: version, built_at, base_iri; `read_nquads`
    gives its N-Quads dump, read only when there is a release to compare with) with the previous
    release in `releases_dir`: the changelog and the patch files to write into it, and when its
    data last changed."""
    base_iri = manifest["base_iri"]
    release = ReleaseFacts(manifest["version"], _parse_time(manifest["built_at"]))
    previous = previous_release(releases_dir, release.version, release.built_at)
    if previous is None:
        entry = release_entry(base_iri, release, release.built_at, None)
        return ReleaseChanges({CHANGELOG_FILE: _turtle(changelog(Graph(), entry, Graph(), base_iri), base_iri)},
                              release.built_at)
    old, new = parse_nquads(previous.intact_file(NQUADS_DUMP) or b""), parse_nquads(read_nquads())
    diff = diff_quads(old, new)
    affected = affected_resources(diff, old, new)
    previous_log = _previous_changelog(previous)
    data_modified = _data_modified(previous, previous_log, base_iri) if diff.is_empty else release.built_at
    entry = release_entry(base_iri, release, data_modified, Change(previous.facts, diff, affected))
    log = changelog(previous_log, entry, labels_of(affected, old, new), base_iri)
    files = {CHANGELOG_FILE: _turtle(log, base_iri)}
    for kind, quads in (("added", diff.added), ("removed", diff.removed)):
        files[PATCH_FILES[kind]] = ("application/n-quads", patch_file(quads))
    return ReleaseChanges(files, data_modified)


def read_changelog(turtle: bytes) -> Graph:
    """A changelog as written by `describe_changes`, its literals as written."""
    log = Graph()
    for triple in ox.parse(turtle, format=ox.RdfFormat.TURTLE):  # a changelog has no blank nodes
        log.add((to_rdflib(triple.subject), to_rdflib(triple.predicate), to_rdflib(triple.object)))
    return log


def _previous_changelog(previous: StoredRelease) -> Graph:
    """The previous release's changelog, or an empty one if it has none (built before changelogs
    were kept) or it is damaged."""
    return read_changelog(previous.intact_file(CHANGELOG_FILE) or b"")


def _data_modified(previous: StoredRelease, previous_log: Graph, base_iri: str) -> datetime:
    """When the data of `previous` last changed, as its changelog says; else (no changelog) its
    build time, the latest time known to have had these data."""
    recorded = previous_log.value(release_iri(base_iri, previous.facts.version), DCTERMS.modified)
    return _parse_time(str(recorded)) if recorded is not None else previous.facts.built_at


def _turtle(graph: Graph, base_iri: str) -> tuple[str, bytes]:
    for prefix, namespace in {**prefixes_for(base_iri), "adms": str(ADMS)}.items():
        graph.bind(prefix, namespace, override=True, replace=True)
    return "text/turtle", graph.serialize(format="turtle", encoding="utf-8")
