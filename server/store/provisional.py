"""The store a starting server answers from while the release of its sources is built (issue 21).

`lodpub serve --data` of a dataset it does not validate loads the sources with Oxigraph into the
store its master forks its workers with (provisional_store.py), and serves it as a release of its own:
version `provisional-…` (in ETags, the pages, /health), its folder `.provisional/` in the output
folder holding only a manifest (no dumps yet: each is listed as pending, so /dumps/ answers 503 with
Retry-After; no VoID nor changelog yet). Every worker the master forks while it lasts, a replacement
too, shares the master's copy of the store. It lasts until the release is built, proven and switched
to (provisional_serving.py), which removes the mark `.provisional/serving`: the master then forgets
the store and its workers open the release as they always do.
"""

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ..dumps import deferred_dump_files
from ..release_manifest import write_descriptions
from .embedded import EmbeddedStore, describe_release

# The provisional release's folder in the output folder, and the mark that it is still served.
FOLDER, MARK = ".provisional", "serving"
VERSION_PREFIX = "provisional-"


class ProvisionalStore(EmbeddedStore):
    """The embedded store of the provisional release: the store loaded from the sources, in memory."""

    def __init__(self, folder: Path, manifest: dict[str, Any], store: ox.Store, written_literals: dict) -> None:
        describe_release(self, folder, manifest)
        self.on_disk = False
        self._oxigraph, self.written_literals = (lambda: store), written_literals


def provisional_folder(output_dir: Path) -> Path:
    """The folder of the provisional release of `output_dir`."""
    return output_dir / FOLDER


def provisional_version(sources_digest: str) -> str:
    """The version of the provisional release of sources whose digest is `sources_digest`."""
    return VERSION_PREFIX + sources_digest[:12]


def write_provisional(output_dir: Path, base_iri: str, sources_digest: str, quads: int,
                      now: datetime | None = None) -> tuple[Path, dict[str, Any]]:
    """Write the provisional release's folder (its manifest, SHA256SUMS and the mark that it is served),
    replacing one a server stopped before left; return it and its manifest."""
    folder = provisional_folder(output_dir)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    manifest = {
        "version": provisional_version(sources_digest),
        "sources_digest": sources_digest,
        "built_at": f"{now or datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}",
        "source": None,
        "base_iri": base_iri,
        "triples": quads,
        "files": [],
        "pending": deferred_dump_files(()),
        "description": [],
    }
    write_descriptions(folder, {}, manifest, {})
    mark_served(folder)
    return folder, manifest


def mark_served(folder: Path) -> None:
    """Say that the provisional release in `folder` is what the server serves (again)."""
    (folder / MARK).touch()


def is_served(folder: Path) -> bool:
    """Whether the provisional release in `folder` is still what the server serves."""
    return (folder / MARK).is_file()


def end_provisional(folder: Path) -> None:
    """Say that the provisional release in `folder` is no longer served (its workers go on until replaced)."""
    (folder / MARK).unlink(missing_ok=True)


def remove_provisional(output_dir: Path) -> None:
    """Remove the provisional release's folder, once no worker serves it (or one a stopped server left)."""
    shutil.rmtree(provisional_folder(output_dir), ignore_errors=True)
