"""The release's files as served: as the release folder of the store holds them, which is the
release mapped to the public base (public_release.py), so no file is rewritten while it is served
and the catalogue record's sizes and SHA-256 are those of the files sent.

Every file is checked against the SHA-256 the build recorded when it is first read: a file whose
bytes changed on disk is withheld (`withheld_files` says why), and the rest are served.
manifest.json and SHA256SUMS list the files served. A dump still being written (dump_completion.py)
is neither listed nor served (`pending_dumps`) until the release's manifest.json lists it: each
worker then takes that manifest, checked, for the one it loaded the release with.
"""

import copy
import functools
import hashlib
import json
from pathlib import Path
from typing import NamedTuple

from ..store import StoreUnavailable
from ..store.manifest import MANIFEST, ManifestError, checked_manifest, load_manifest, pending_files
from ..store.releases import DamagedFile, check_verified, manifest_entries
from . import store

# The listings of the release, made from its checked manifest rather than read.
LISTINGS = ("manifest.json", "SHA256SUMS")


class ServedFile(NamedTuple):
    """A file of the release as served: its media type, size and SHA-256 (hex)."""

    media_type: str
    size: int
    sha256: str


def checked_files(release: Path) -> tuple[dict[str, str], dict[str, str]]:
    """_checked_files, once the dumps written since the release was loaded are taken in."""
    _take_completed(release)
    return _checked_files(release)


@functools.lru_cache(maxsize=2)
def _checked_files(release: Path) -> tuple[dict[str, str], dict[str, str]]:
    """The release's files, each checked once against its SHA-256: ({name: media type} of the good
    ones, {name: why it is withheld} of the others). No bytes are kept: a release's dumps can be
    hundreds of megabytes, and every worker would hold them. Keyed by the folder served (`release`,
    store().release), not by the version: a release and its copy under another base share a version."""
    manifest = _manifest()
    files, withheld = {}, {}
    for entry in manifest_entries(manifest):
        try:
            check_verified(release, entry["name"], entry["sha256"])
            files[entry["name"]] = entry["media_type"]
        except DamagedFile as damage:
            withheld[entry["name"]] = f"release {store().version}: {damage}"
    return files, withheld


@functools.lru_cache(maxsize=2)
def recorded_sha256(release: Path) -> dict[str, str]:
    """{file name: the SHA-256 the build recorded in the manifest} of the release."""
    return {entry["name"]: entry["sha256"] for entry in manifest_entries(_manifest())}


def _manifest() -> dict:
    """The served release's manifest.json, as the build wrote it: as the embedded store checked it
    when the server decided to serve the release (the file may have been damaged since), or read
    and checked now (a remote store's release). Raises StoreUnavailable when it is damaged."""
    checked = getattr(store(), "manifest", None)
    if checked is not None:
        return copy.deepcopy(checked)  # the caller may change it
    try:
        return load_manifest(store().release)
    except ManifestError as damage:
        raise StoreUnavailable(f"release {store().version} cannot be served: {damage}") from damage


def withheld_files(release: Path) -> dict[str, str]:
    """The files of the release that are not served, each with the reason."""
    return checked_files(release)[1]


def pending_dumps(release: Path) -> list[str]:
    """The dump files of the release still being written: not listed, and answered 503, until they are."""
    _take_completed(release)
    return pending_files(_manifest())


# {release folder: (inode, mtime) of the manifest.json last read by _take_completed}
_manifests_seen: dict[Path, tuple[int, int]] = {}


def _take_completed(release: Path) -> None:
    """When the served release had dumps still to write and its manifest.json was replaced since,
    take that manifest (checked against SHA256SUMS, of the same release, listing at least what was
    listed) for the one the store was loaded with, and forget what was learnt from the old one."""
    served = store()
    loaded = getattr(served, "manifest", None)
    if loaded is None or not pending_files(loaded):
        return
    try:
        seen = (release / MANIFEST).stat()
    except OSError:
        return
    if _manifests_seen.get(release) == (seen.st_ino, seen.st_mtime_ns):
        return
    try:
        completed = checked_manifest(release)[0]
    except DamagedFile:  # e.g. between a completion's two renames: read again on the next request
        return
    _manifests_seen[release] = (seen.st_ino, seen.st_mtime_ns)
    if _extends(loaded, completed):
        served.manifest = completed
        for cached in (_checked_files, recorded_sha256, _served_files):
            cached.cache_clear()


def _extends(loaded: dict, completed: dict) -> bool:
    """Whether manifest `completed` is `loaded` with dumps added to its files."""
    same = ("version", "base_iri", "triples", "description")
    return all(completed.get(key) == loaded.get(key) for key in same) and all(
        entry in completed["files"] for entry in loaded["files"])


def served_files(release: Path) -> dict[str, ServedFile]:
    """_served_files, once the dumps written since the release was loaded are taken in."""
    _take_completed(release)
    return _served_files(release)


@functools.lru_cache(maxsize=2)
def _served_files(release: Path) -> dict[str, ServedFile]:
    """The release's files as served (without those withheld), with the manifest and SHA256SUMS
    listing them (cached per release: facts only, no bytes)."""
    recorded = {entry["name"]: entry for entry in manifest_entries(_manifest())}
    facts = {name: ServedFile(media_type, recorded[name]["bytes"], recorded[name]["sha256"])
             for name, media_type in _checked_files(release)[0].items()}
    manifest = _served_manifest()
    facts["manifest.json"] = ServedFile("application/json", len(manifest), sha256(manifest))
    sums = _sums(facts)
    facts["SHA256SUMS"] = ServedFile("text/plain", len(sums), sha256(sums))
    return facts


def file_as_written(release: Path, name: str) -> Path | None:
    """The path of file `name` (one of served_files), checked against the build's SHA-256 now,
    reading it in parts; None for the listings (served_bytes). A dump of millions of triples is
    gigabytes: it is sent from the file, never held in memory.
    Raises DamagedFile when the file changed since the build."""
    if name in LISTINGS:
        return None
    check_verified(release, name, recorded_sha256(release)[name])
    return release / name


def served_bytes(release: Path, name: str) -> bytes:
    """The bytes of a listing (manifest.json, SHA256SUMS) as served."""
    if name == "manifest.json":
        return _served_manifest()
    return _sums(served_files(release))


def _served_manifest() -> bytes:
    """manifest.json as the release holds it (as checked when the store opened it)."""
    return (json.dumps(_manifest(), indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _sums(facts: dict[str, ServedFile]) -> bytes:
    """SHA256SUMS of the files as served (all but itself)."""
    return "".join(f"{fact.sha256}  {name}\n" for name, fact in sorted(facts.items()) if name != "SHA256SUMS").encode()


def sha256(data: bytes) -> str:
    """The SHA-256 of `data`, in hex."""
    return hashlib.sha256(data).hexdigest()
