"""The releases on disk: output_dir/releases/<version>/, and the two links beside them.

`current` points at the release built last (`lodpub build` moves it); `served` at the release the
operator chose to serve (only `lodpub serve`, `reload` and `rollback` move it), so that building
never changes what a running server serves, not even when gunicorn replaces a worker. Which release
the server really serves, the chosen one or a fallback for a damaged one, is decided in served_release.py.

A release is complete when its manifest.json (manifest.py) and SHA256SUMS are there and every file
has the SHA-256 they record (checksums.py). Versions start with the UTC build time, so they sort
oldest first.
"""

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Re-exported: what reads the files of a release imports them from here.
from .checksums import DamagedFile, check_verified, read_verified, recorded_checksums, sha256_of  # noqa: F401
from .manifest import MANIFEST, ManifestError, load_manifest, manifest_entries

CURRENT = "current"
SERVED = "served"
# Folders below releases/ that are not releases: a build still writing (or killed while writing),
# or a release being deleted. The pid is the process that made the folder.
TEMPORARY_PREFIX = ".tmp-"
DELETING_PREFIX = ".deleting-"
# Below the output folder: the releases' copies under other public bases (public_release.py),
# at/<16 hex digits of the base>/<version>/, deleted with their release.
PUBLIC_COPIES = "at"
# <output_dir>/lodpub.pid: the gunicorn master of `lodpub serve` writes its pid there.
PIDFILE = "lodpub.pid"
# The shapes the data was validated with, as the build publishes them in a release (the server
# serves a document per shape from it, web/shapes.py).
SHAPES_FILE = "shapes.ttl"


@dataclass(frozen=True)
class ReleaseSummary:
    """What `lodpub releases` shows of one release: its manifest, or (None and) what is wrong with it."""

    version: str
    path: Path
    manifest: dict[str, Any] | None
    problem: str | None = None


def releases_dir(output_dir: Path) -> Path:
    """The folder that holds one folder per release."""
    return output_dir / "releases"


def list_releases(output_dir: Path) -> list[ReleaseSummary]:
    """Every release folder of `output_dir`, oldest first (temporary and dot folders left out)."""
    folder = releases_dir(output_dir)
    if not folder.is_dir():
        return []
    return [_summary(path) for path in sorted(folder.iterdir()) if path.is_dir() and not path.name.startswith(".")]


def _summary(release: Path) -> ReleaseSummary:
    try:
        return ReleaseSummary(release.name, release, load_manifest(release))
    except ManifestError as damage:
        return ReleaseSummary(release.name, release, None, str(damage))


def pointed_version(output_dir: Path, link: str) -> str | None:
    """The version that output_dir/<link> (CURRENT or SERVED) points at, None if there is no link."""
    try:
        return Path(os.readlink(output_dir / link)).name
    except OSError:
        return None


def chosen_version(output_dir: Path) -> str | None:
    """The release the operator chose to serve: the one `served` names (moved only by `lodpub serve`,
    `reload` and `rollback`), or the one built last (`current`) before anything was served; None
    when neither names a release folder."""
    for link in (SERVED, CURRENT):
        version = pointed_version(output_dir, link)
        if version is not None and (releases_dir(output_dir) / version).is_dir():
            return version
    return None


def point(output_dir: Path, link: str, release: Path) -> None:
    """Atomically repoint output_dir/<link> at `release` with a relative symlink, durably."""
    temporary = output_dir / f".{link}-{os.getpid()}.tmp"
    temporary.unlink(missing_ok=True)
    # Relative, so that the output directory can be moved or mounted elsewhere.
    os.symlink(release.relative_to(output_dir), temporary)
    try:
        os.replace(temporary, output_dir / link)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_directory(output_dir)


def write_atomically(path: Path, data: bytes) -> None:
    """Replace the file `path` by one holding `data`, in one step and durably: readers find the old
    file or the new one, never a part; a failed write (a full disk) leaves the old one and no other."""
    temporary = path.with_name(f".{path.name}-{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)


def fsync_directory(directory: Path) -> None:
    """Make a directory's entries (new files, renames) durable."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def release_problems(release: Path) -> list[str]:
    """Why `release` cannot be served: missing, incomplete, a manifest that is damaged or not of the
    build's shape, or files that fail their checksums (SHA256SUMS, and the manifest agreeing with
    it). Empty when the release is complete."""
    if not release.is_dir():
        return [f"there is no release {release.name} in {release.parent}"]
    try:
        manifest, problems = load_manifest(release), []
    except ManifestError as damage:
        manifest, problems = None, [str(damage)]
    try:
        checksums = recorded_checksums(release)
    except DamagedFile as damage:
        return problems + [str(damage)]
    for name, digest in sorted(checksums.items()):
        if name == MANIFEST and manifest is None:
            continue  # said above, and more precisely
        try:
            check_verified(release, name, digest)
        except DamagedFile as damage:
            problems.append(str(damage))
    return problems + ([] if manifest is None else _disagreements(manifest, checksums))


def _disagreements(manifest: dict[str, Any], checksums: dict[str, str]) -> list[str]:
    """Where the manifest and SHA256SUMS disagree, or SHA256SUMS leaves the manifest out."""
    problems = [] if MANIFEST in checksums else [f"SHA256SUMS records no SHA-256 for {MANIFEST}"]
    return problems + [f"{entry['name']}: {MANIFEST} and SHA256SUMS disagree" for entry in manifest_entries(manifest)
                       if checksums.get(entry["name"]) != entry["sha256"]]


def remove_leftovers(output_dir: Path) -> None:
    """Remove what killed builds and deletions left below releases/: temporary folders whose
    process is gone, and half-deleted releases."""
    folder = releases_dir(output_dir)
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        if path.name.startswith(DELETING_PREFIX) or (path.name.startswith(TEMPORARY_PREFIX)
                                                      and not _alive(_maker_pid(path.name))):
            shutil.rmtree(path, ignore_errors=True)


def temporary_prefix() -> str:
    """The name prefix of this process's temporary release folders."""
    return f"{TEMPORARY_PREFIX}{os.getpid()}-"


def _maker_pid(name: str) -> int | None:
    match = re.match(re.escape(TEMPORARY_PREFIX) + r"(\d+)-", name)
    return int(match.group(1)) if match else None


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
