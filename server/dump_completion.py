"""The dumps a release is published without, written while it is served.

`lodpub serve`, building the release it serves, publishes it (and its copy under the server's public
base) with only the dump a store loads (dumps.SERVED_FIRST), so that the server answers before the
other dumps exist: the manifest names those "pending", and "files" and SHA256SUMS list only what is
written. The server's master then completes it in a process of its own (`start_completion`): the
other formats and every gzip are written into the release's folder, unlisted and so never served
while they are written; the dumps they are written from are held to their recorded SHA-256; then
the release is committed by two renames of files written whole beforehand: SHA256SUMS, then
manifest.json (each first written as .SHA256SUMS.next and .manifest.json.next).

Killed before the renames, the release stays as it was (pending), and the next start completes it;
killed between them, `finish_interrupted` puts the prepared files in place before anything reads the
release. A worker lists and serves a dump only once the manifest lists it (web/served.py).
"""

import atexit
import logging
import os
import subprocess
import sys
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path
from typing import Any

from .dumps import FIRST_DUMPS, UNION_DUMP, write_dump_formats, write_union_dump
from .release_manifest import checksum_lines, manifest_bytes
from .store.checksums import DamagedFile, check_verified, compare_sha256, recorded_checksums, sha256_of
from .store.manifest import (
    COMPLETION_FAILED,
    MANIFEST,
    checked_manifest,
    load_manifest,
    manifest_entries,
    pending_files,
)
from .store.ondisk import exclusively
from .store.processes import stop_session
from .store.releases import PUBLIC_COPIES, fsync_directory, releases_dir

_log = logging.getLogger(__name__)
# How much less CPU a completion gets than the server's workers, which are loading the store as it starts.
_NICENESS = 10
SUMS = "SHA256SUMS"
# The two files of a completion, written whole before either is renamed into place.
_NEXT_SUMS, _NEXT_MANIFEST = f".{SUMS}.next", f".{MANIFEST}.next"


def is_pending(folder: Path) -> bool:
    """Whether the release (or copy) in `folder` has dumps still to write, or a completion to finish."""
    if (folder / _NEXT_MANIFEST).exists():
        return True
    try:
        return bool(pending_files(load_manifest(folder)))
    except DamagedFile:
        return False  # a damaged release is reported by the checks of what is served, not completed


def complete_release(folder: Path, jobs: int = 1) -> None:
    """Write the pending dumps of the release (or copy) in `folder` and list them; nothing when it is
    complete. Raises DamagedFile, listing nothing new, when a dump they are written from, or the
    manifest, fails its checksum."""
    if not is_pending(folder):
        return
    # Kept (hidden) in the folder, and deleted with it: a lock file removed while another process waits on
    # it would let a third lock a new one, and two would write the same dumps.
    with exclusively(folder / ".completing.lock"):
        (folder / COMPLETION_FAILED).unlink(missing_ok=True)
        finish_interrupted(folder)
        manifest = checked_manifest(folder)[0]
        pending = pending_files(manifest)
        if pending:
            _commit(folder, _complete_manifest(folder, manifest, pending, jobs))


def _complete_manifest(folder: Path, manifest: dict[str, Any], pending: list[str], jobs: int) -> dict[str, Any]:
    """Write the dumps into `folder` and return the manifest that lists them all, as a build writes it."""
    recorded = {entry["name"]: entry["sha256"] for entry in manifest["files"]}
    _check_sources(folder, recorded)  # before: a damaged one may not even parse
    if UNION_DUMP in pending:  # written from the N-Quads
        write_union_dump(folder)
    written = write_dump_formats(folder, manifest["base_iri"], jobs)
    _check_sources(folder, recorded, {name: written[name].sha256 for name in FIRST_DUMPS if name in recorded})
    for name in pending:
        with open(folder / name, "rb") as file:  # durable before it is listed
            os.fsync(file.fileno())
    files = sorted(manifest["files"] + [written[name].entry for name in pending], key=lambda entry: entry["name"])
    return {key: files if key == "files" else value for key, value in manifest.items() if key != "pending"}


def _check_sources(folder: Path, recorded: dict[str, str], hashed: dict[str, str] | None = None) -> None:
    """Raise DamagedFile when a dump the others are written from (dumps.FIRST_DUMPS) is not the file the
    build wrote: its SHA-256 (`hashed` as it was read to write the others, else read now) is not the one
    `recorded`."""
    for name in (name for name in FIRST_DUMPS if name in recorded):
        try:
            if hashed is None:
                check_verified(folder, name, recorded[name])
            else:
                compare_sha256(name, hashed[name], recorded[name])
        except DamagedFile as damage:
            raise DamagedFile(f"{folder / name}: {damage}: the dumps written from it are not listed") from damage


def _commit(folder: Path, manifest: dict[str, Any]) -> None:
    """List every file of `manifest` in `folder`: its manifest.json and SHA256SUMS, written whole
    and durable, then renamed into place (finish_interrupted)."""
    data = manifest_bytes(manifest)
    sums = checksum_lines({entry["name"]: entry["sha256"] for entry in manifest_entries(manifest)}
                          | {MANIFEST: sha256_of(data)})
    # The manifest first, and each whole under its name: see finish_interrupted.
    for name, content in ((_NEXT_MANIFEST, data), (_NEXT_SUMS, sums)):
        writing = folder / f"{name}-{os.getpid()}"
        with open(writing, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(writing, folder / name)
        fsync_directory(folder)
    finish_interrupted(folder)


def _record_failure(folder: Path, failure: Exception) -> None:
    """Keep why the completion of `folder` failed, for the server to say (manifest.completion_failure)."""
    with suppress(OSError):  # a folder that cannot take it: the log says it
        (folder / COMPLETION_FAILED).write_text(f"{failure}\n", encoding="utf-8")


def finish_interrupted(folder: Path) -> None:
    """Put in place what a completion of `folder` prepared and did not rename: .SHA256SUMS.next exists
    only once .manifest.json.next is whole, so both go in; a manifest alone goes in only when
    SHA256SUMS records it (the process was killed between the renames), else it is removed."""
    sums, manifest = folder / _NEXT_SUMS, folder / _NEXT_MANIFEST
    for half_written in folder.glob(".*.next-*"):
        half_written.unlink()
    if not manifest.exists():
        sums.unlink(missing_ok=True)
        return
    if sums.exists():
        os.replace(sums, folder / SUMS)
    if recorded_checksums(folder).get(MANIFEST) == sha256_of(manifest.read_bytes()):
        os.replace(manifest, folder / MANIFEST)
    else:
        manifest.unlink()
    fsync_directory(folder)


def finish_interrupted_all(output_dir: Path) -> None:
    """finish_interrupted for every release of `output_dir` and every copy of one, as a server starts."""
    folders = [*releases_dir(output_dir).glob("*/"), *(output_dir / PUBLIC_COPIES).glob("*/*/")]
    for folder in folders:
        if any(folder.glob(".*.next*")):
            finish_interrupted(folder)


def start_completion(folders: Iterable[Path], jobs: int) -> subprocess.Popen | None:
    """Complete the releases (or copies) in `folders` that have pending dumps, in this order, in a
    fresh Python process (which forks its own pool); None when none has. The process and its pool
    are stopped when the caller exits (the server's master, stopped): what they leave, the next
    start completes."""
    pending = [str(folder) for folder in dict.fromkeys(folders) if is_pending(folder)]
    if not pending:
        return None
    process = subprocess.Popen([sys.executable, "-m", __name__, str(jobs), *pending], start_new_session=True)
    atexit.register(stop_session, process.pid)
    return process


def complete_logged(folders: list[Path], jobs: int) -> None:
    """complete_release for each of `folders`, saying on stderr what was done or why not. (It exits
    with 0 even then: gunicorn, whose master reaps it, stops the server when a child exits with 3 or 4.)"""
    logging.basicConfig(format="%(message)s")
    os.nice(_NICENESS)  # and its pool: the workers loading the store come first
    for folder in folders:
        try:
            complete_release(folder, jobs)
            _log.warning("lodpub: the dumps of %s are written and checked, and served", folder)
        except (DamagedFile, OSError) as failure:
            _record_failure(folder, failure)
            _log.error("lodpub: the dumps of %s were not completed, and are not served: %s", folder, failure)


if __name__ == "__main__":
    complete_logged([Path(folder) for folder in sys.argv[2:]], int(sys.argv[1]))
