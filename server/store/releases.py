"""The releases on disk: output_dir/releases/<version>/, and the two links beside them.

`current` points at the release built last (`lodpub build` moves it); `served` at the release the
server serves (only `lodpub serve`, `reload` and `rollback` move it), so that building never
changes what a running server serves, not even when gunicorn replaces a worker. A worker loads
`served`, or `current` when nothing has been served yet from this output folder.

A release is complete when its manifest.json and SHA256SUMS are there and every file has the
SHA-256 they record. Versions start with the UTC build time, so they sort oldest first.
"""

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CURRENT = "current"
SERVED = "served"
# Folders below releases/ that are not releases: a build still writing (or killed while writing),
# or a release being deleted. The pid is the process that made the folder.
TEMPORARY_PREFIX = ".tmp-"
DELETING_PREFIX = ".deleting-"
# <output_dir>/lodpub.pid: the gunicorn master of `lodpub serve` writes its pid there.
PIDFILE = "lodpub.pid"
# The shapes the data was validated with, as the build publishes them in a release (the server
# serves a document per shape from it, web/shapes.py).
SHAPES_FILE = "shapes.ttl"


class DamagedFile(Exception):
    """A file of a release is missing, or its bytes are not those the build wrote."""


@dataclass(frozen=True)
class ReleaseSummary:
    """What `lodpub releases` shows of one release, from its manifest (None: no readable manifest)."""

    version: str
    path: Path
    manifest: dict[str, Any] | None


def releases_dir(output_dir: Path) -> Path:
    """The folder that holds one folder per release."""
    return output_dir / "releases"


def list_releases(output_dir: Path) -> list[ReleaseSummary]:
    """Every release folder of `output_dir`, oldest first (temporary and dot folders left out)."""
    folder = releases_dir(output_dir)
    if not folder.is_dir():
        return []
    return [ReleaseSummary(path.name, path, read_manifest(path))
            for path in sorted(folder.iterdir()) if path.is_dir() and not path.name.startswith(".")]


def read_manifest(release: Path) -> dict[str, Any] | None:
    """The release's manifest.json, or None when it is missing or not JSON."""
    try:
        return json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def pointed_version(output_dir: Path, link: str) -> str | None:
    """The version that output_dir/<link> (CURRENT or SERVED) points at, None if there is no link."""
    try:
        return Path(os.readlink(output_dir / link)).name
    except OSError:
        return None


def release_to_serve(output_dir: Path) -> Path:
    """The folder a worker loads: `served`, or `current` before anything was served."""
    served = output_dir / SERVED
    return served if os.path.lexists(served) else output_dir / CURRENT


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


def fsync_directory(directory: Path) -> None:
    """Make a directory's entries (new files, renames) durable."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def sha256_of(data: bytes) -> str:
    """The SHA-256 of `data`, in hex."""
    return hashlib.sha256(data).hexdigest()


def read_verified(release: Path, name: str, expected_sha256: str) -> bytes:
    """The bytes of a file of `release`, checked against the SHA-256 the build recorded.
    Raises DamagedFile, saying what is wrong, when the file is missing or changed."""
    try:
        data = (release / name).read_bytes()
    except OSError as error:
        raise DamagedFile(f"{name} cannot be read ({error.strerror or error})") from error
    _compare_sha256(name, sha256_of(data), expected_sha256)
    return data


def check_verified(release: Path, name: str, expected_sha256: str) -> None:
    """Raise DamagedFile, saying what is wrong, unless file `name` of `release` is there with the
    SHA-256 the build recorded. Reads the file in parts: a large release's dump is gigabytes."""
    try:
        with open(release / name, "rb") as file:
            found = hashlib.file_digest(file, "sha256").hexdigest()
    except OSError as error:
        raise DamagedFile(f"{name} cannot be read ({error.strerror or error})") from error
    _compare_sha256(name, found, expected_sha256)


def _compare_sha256(name: str, found: str, expected: str) -> None:
    if found != expected:
        raise DamagedFile(f"{name} fails its checksum: SHA-256 {found[:12]}…, the build wrote {expected[:12]}…")


def recorded_checksums(release: Path) -> dict[str, str]:
    """{file name: SHA-256} as SHA256SUMS records them. Raises DamagedFile when it cannot be read."""
    try:
        lines = (release / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise DamagedFile(f"SHA256SUMS cannot be read ({error})") from error
    checksums = {}
    for line in lines:
        match = re.fullmatch(r"([0-9a-f]{64})  (\S+)", line)
        if not match:
            raise DamagedFile(f"SHA256SUMS has a line that is not '<sha256>  <name>': {line[:80]!r}")
        checksums[match.group(2)] = match.group(1)
    return checksums


def release_problems(release: Path) -> list[str]:
    """Why `release` cannot be served: missing, incomplete, or files that fail their checksums
    (SHA256SUMS, and the manifest agreeing with it). Empty when the release is complete."""
    if not release.is_dir():
        return [f"there is no release {release.name} in {release.parent}"]
    try:
        checksums = recorded_checksums(release)
    except DamagedFile as damage:
        return [str(damage)]
    problems = []
    for name, digest in sorted(checksums.items()):
        try:
            check_verified(release, name, digest)
        except DamagedFile as damage:
            problems.append(str(damage))
    manifest = read_manifest(release)
    if manifest is None:
        return problems + ["manifest.json is missing or unreadable"]
    for entry in manifest_entries(manifest):
        if checksums.get(entry["name"]) != entry["sha256"]:
            problems.append(f"{entry['name']}: manifest.json and SHA256SUMS disagree")
    return problems


def manifest_entries(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Every file the manifest records (the dumps, then the descriptions), with its SHA-256."""
    return manifest.get("files", []) + manifest.get("description", [])


def prune(output_dir: Path, keep: int) -> list[str]:
    """Delete all but the `keep` newest releases, never the one built last (`current`) nor the
    one served (`served`); return the versions deleted. Each is renamed away in one step first,
    so a release is either whole or gone."""
    protected = {pointed_version(output_dir, CURRENT), pointed_version(output_dir, SERVED)}
    releases = list_releases(output_dir)
    doomed = [release for release in releases[:max(len(releases) - keep, 0)] if release.version not in protected]
    for release in doomed:
        going = release.path.with_name(f"{DELETING_PREFIX}{release.version}")
        release.path.rename(going)
        shutil.rmtree(going)
    return [release.version for release in doomed]


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
