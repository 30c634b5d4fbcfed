"""Review, then publish (issue 20, item 4): what the data files say now that the served release does
not, building and serving a release of them, and going back to the release before. No Flask here: the
editor's pages (web/edit_review.py) and the tests share it, and the switch of the served release is
`lodpub reload`'s and `rollback`'s own (switching.py).

The difference is of N-Quads, as the changelog compares two releases (describe/changes.py): the data
files loaded as the build loads them, against the served release's dump. One publish or rollback runs
at a time per output folder (a lock beside the releases); another is refused (PublishBusy), not queued,
so that an editor never publishes what someone else has just published.
"""

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

from ..build import Release, build
from ..config import Settings
from ..dataset import bind_prefix_table, load_dataset
from ..describe.changes import (
    NQUADS_DUMP,
    QuadDiff,
    affected_resources,
    diff_quads,
    labels_of,
    parse_nquads,
    stored_release,
)
from ..store.releases import releases_dir
from ..switching import Switched, previous_release, switch_served
from ..terms import to_rdflib
from ..validate import load_shapes, validate
from ..validation_report import ValidationReport
from .changes import RecordedChange, recorded_since
from .save import PARTNERSHIPS_FOLDER

PUBLISH_LOCK = ".publish.lock"
# The review shows at most this many triples of each kind; the patch of the release holds them all.
TRIPLES_SHOWN = 2000


class PublishBusy(Exception):
    """Another publish or rollback of the output folder is running."""


class NothingToPublish(Exception):
    """The data files say what the served release says."""


@dataclass(frozen=True)
class ResourceChange:
    """A resource whose description changed: "added" (not in the served release), "removed" (no longer
    in the data) or "changed"."""

    iri: str
    kind: str


@dataclass(frozen=True)
class Pending:
    """What publishing would change: the served release's version (None: nothing served), the quads
    added and removed, the resources changed with their labels, and the changes recorded since the
    served release was built."""

    served: str | None
    diff: QuadDiff
    resources: list[ResourceChange]
    labels: Graph
    recorded: list[RecordedChange]

    @property
    def is_empty(self) -> bool:
        """True when there is nothing to publish."""
        return self.diff.is_empty

    def turtle(self, kind: str, base_iri: str) -> str:
        """The triples `kind` ("added", "removed") as Turtle with the data's prefixes (the first
        TRIPLES_SHOWN in the order of their N-Triples; the named graph is left out)."""
        quads = sorted(getattr(self.diff, kind), key=str)[:TRIPLES_SHOWN]
        graph = bind_prefix_table(Graph(bind_namespaces="none"), base_iri)
        for quad in quads:
            graph.add((to_rdflib(quad.subject), to_rdflib(quad.predicate), to_rdflib(quad.object)))
        return graph.serialize(format="turtle") if len(graph) else ""


@dataclass(frozen=True)
class Published:
    """A release built from the data files and now chosen to be served (`switched`)."""

    release: Release
    switched: Switched


def pending_changes(settings: Settings, served: str | None) -> Pending:
    """The difference between the data files now and release `served` (of settings.output_dir)."""
    folder = releases_dir(settings.output_dir) / served if served else None
    found = stored_release(folder) if folder is not None else None
    old = parse_nquads(found.intact_file(NQUADS_DUMP) or b"") if found is not None else frozenset()
    new = parse_nquads(b"".join(load_dataset(settings).quad_lines))
    diff = diff_quads(old, new)
    affected = affected_resources(diff, old, new)
    described_before = {quad.subject.value for quad in old if isinstance(quad.subject, ox.NamedNode)}
    described_now = {quad.subject.value for quad in new if isinstance(quad.subject, ox.NamedNode)}
    resources = [ResourceChange(iri, _kind(iri, described_before, described_now)) for iri in affected]
    recorded = recorded_since(settings.data_dir / PARTNERSHIPS_FOLDER, found.facts.built_at) if found else []
    return Pending(served, diff, resources, labels_of(affected, old, new), recorded)


def validation_now(settings: Settings) -> ValidationReport:
    """The data files checked against the shapes, as `lodpub build` checks them."""
    return validate(load_dataset(settings), load_shapes(settings), jobs=settings.build_jobs)


def publish(settings: Settings, served: str | None) -> Published:
    """Build a release of the data files and choose it to be served, as `lodpub build` and `reload` do;
    the caller has the server replace its workers. Raises PublishBusy, NothingToPublish when the data
    say what release `served` says, build.ValidationFailed (nothing built), or what switch_served raises."""
    with publishing_lock(settings.output_dir):
        if pending_changes(settings, served).is_empty:
            raise NothingToPublish(f"the data files say what release {served} says")
        release = build(settings)
        return Published(release, switch_served(settings, release.version, "reload"))


def roll_back(settings: Settings) -> Switched:
    """Choose the release before the served one to be served, as `lodpub rollback` does. Raises
    PublishBusy, or what switch_served raises (SwitchRefused when there is no older release)."""
    with publishing_lock(settings.output_dir):
        return switch_served(settings, previous_release(settings.output_dir), "rollback")


@contextmanager
def publishing_lock(output_dir: Path) -> Iterator[None]:
    """Hold the output folder's publishing lock; PublishBusy at once when someone else holds it."""
    output_dir.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(output_dir / PUBLISH_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PublishBusy(f"a release of {output_dir} is being published or rolled back") from None
        yield
    finally:
        os.close(descriptor)


def _kind(iri: str, before: set[str], now: set[str]) -> str:
    if iri not in before:
        return "added"
    return "removed" if iri not in now else "changed"
