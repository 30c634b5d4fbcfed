"""manifest.json of a release: read it, and check that it has the shape the build writes.

Every reader of a manifest goes through `load_manifest` (or `parse_manifest`), so that a damaged one
(a flipped byte, a hand edit, a key renamed) is a ManifestError that names the file and says what is
wrong, never a KeyError, a UnicodeDecodeError or a traceback further on.
`checked_manifest` also holds the manifest to the SHA-256 that SHA256SUMS records for it: only that
catches a change that leaves valid JSON of the right shape (a digit of a size, a letter of a name).
"""

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from .checksums import DamagedFile, check_verified, compare_sha256, recorded_checksums, sha256_of

MANIFEST = "manifest.json"
# The release's data, in N-Quads: what a store loads.
DATA_DUMP = "partnerships.nq"
# The keys every manifest has, with their types; then those that older releases may lack.
_REQUIRED: dict[str, type | tuple[type, ...]] = {
    "version": str, "built_at": str, "base_iri": str, "triples": int, "files": list}
_OPTIONAL: dict[str, type | tuple[type, ...]] = {
    "sources_digest": str, "source": (dict, type(None)), "description": list, "pending": list}
# The keys of each entry of "files" and "description".
_ENTRY: dict[str, type | tuple[type, ...]] = {"name": str, "media_type": str, "bytes": int, "sha256": str}
_SOURCE: dict[str, type | tuple[type, ...]] = {"commit": str, "uncommitted_changes": bool}
_SHA256 = re.compile(r"[0-9a-f]{64}")
_BUILT_AT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


class ManifestError(DamagedFile):
    """A release's manifest.json is missing, unreadable, not JSON, or not of the shape the build
    writes; the message names the file and says what is wrong."""


def load_manifest(release: Path) -> dict[str, Any]:
    """The manifest of `release` (a folder, or a link to one), checked for shape (see
    `manifest_problem`). Raises ManifestError."""
    return parse_manifest(read_manifest_bytes(release), release / MANIFEST, release.resolve().name)


def checked_manifest(release: Path) -> tuple[dict[str, Any], bytes]:
    """The manifest of `release` and its bytes, checked for shape and against the SHA-256 that
    SHA256SUMS records for it. Raises DamagedFile (ManifestError for the manifest itself)."""
    data = read_manifest_bytes(release)
    manifest = parse_manifest(data, release / MANIFEST, release.resolve().name)
    expected = recorded_checksums(release).get(MANIFEST)
    if expected is None:
        raise ManifestError(f"{release / MANIFEST} cannot be checked: SHA256SUMS records no SHA-256 for it")
    try:
        compare_sha256(MANIFEST, sha256_of(data), expected)
    except DamagedFile as damage:
        raise ManifestError(f"{release / MANIFEST}: {damage}") from damage
    return manifest, data


def read_manifest_bytes(release: Path) -> bytes:
    """The bytes of the manifest of `release`. Raises ManifestError when it cannot be read."""
    path = release / MANIFEST
    try:
        return path.read_bytes()
    except OSError as error:
        raise ManifestError(f"{path} cannot be read ({error.strerror or error})") from error


def parse_manifest(data: bytes, path: Path, version: str) -> dict[str, Any]:
    """The manifest in `data` (read from `path`, of release `version`), checked for shape.
    Raises ManifestError naming `path` and saying what is wrong."""
    try:
        manifest = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise ManifestError(f"{path} is not UTF-8 text (byte {error.start} is {data[error.start]:#04x})") from error
    except json.JSONDecodeError as error:
        raise ManifestError(f"{path} is not JSON (line {error.lineno}, column {error.colno}: {error.msg})") from error
    problem = manifest_problem(manifest, version)
    if problem is not None:
        raise ManifestError(f"{path}: {problem}")
    return manifest


def manifest_problem(manifest: Any, version: str) -> str | None:
    """What keeps `manifest` (parsed JSON) from being the manifest the build writes for release
    `version`: a key missing, a value of the wrong type or form; None when there is nothing."""
    if not isinstance(manifest, dict):
        return f"it is a JSON {_json_type(manifest)}, not an object"
    return _fields_problem(manifest, _REQUIRED, _OPTIONAL) or _values_problem(manifest, version)


def manifest_entries(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Every file a (checked) manifest records: the dumps, then the descriptions, with their SHA-256."""
    return manifest["files"] + manifest.get("description", [])


def pending_files(manifest: dict[str, Any]) -> list[str]:
    """The dump files a (checked) manifest says are still being written (dump_completion.py): not
    listed in "files" yet, nor in SHA256SUMS; the release is complete when there are none."""
    return manifest.get("pending", [])


# Why the last completion of a release's dumps failed (a hidden file of its folder, never listed or served): the
# server says it for the dumps it could not write, rather than "still being written". The next completion (at
# the next start) removes it.
COMPLETION_FAILED = ".completion-failed"


def completion_failure(folder: Path) -> str | None:
    """Why the last completion of the release (or copy) in `folder` failed; None if it did not (or none ran)."""
    try:
        return (folder / COMPLETION_FAILED).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def _values_problem(manifest: dict[str, Any], version: str) -> str | None:
    """What is wrong with the values of a manifest whose keys and types are right."""
    if manifest["version"] != version:
        return f"'version' is {manifest['version']!r}, but the release's folder is {version!r}"
    if not _BUILT_AT.fullmatch(manifest["built_at"]) or not _is_time(manifest["built_at"]):
        return f"'built_at' is {manifest['built_at']!r}, not a UTC time like '2026-11-27T19:05:12Z'"
    if not manifest["base_iri"].startswith(("http://", "https://")) or not manifest["base_iri"].endswith("/"):
        return f"'base_iri' is {manifest['base_iri']!r}, not an http(s) IRI ending with '/'"
    if manifest["triples"] < 0:
        return f"'triples' is {manifest['triples']}, less than 0"
    if isinstance(manifest.get("source"), dict):
        problem = _fields_problem(manifest["source"], _SOURCE)
        if problem:
            return f"'source': {problem}"
    for index, name in enumerate(manifest.get("pending", [])):
        if not isinstance(name, str) or not _is_file_name(name):
            return f"pending[{index}] is {name!r}, not the name of a file in the release's folder"
    for key in ("files", "description"):
        for index, entry in enumerate(manifest.get(key, [])):
            problem = _entry_problem(entry)
            if problem:
                return f"{key}[{index}]: {problem}"
    return None


def _entry_problem(entry: Any) -> str | None:
    """What is wrong with one entry of "files" or "description" (None: nothing)."""
    if not isinstance(entry, dict):
        return f"it is a JSON {_json_type(entry)}, not an object"
    problem = _fields_problem(entry, _ENTRY)
    if problem:
        return problem
    name = entry["name"]
    if not _is_file_name(name):
        return f"'name' is {name!r}, not the name of a file in the release's folder"
    if entry["bytes"] < 0:
        return f"'bytes' is {entry['bytes']}, less than 0"
    if not _SHA256.fullmatch(entry["sha256"]):
        return f"'sha256' is {entry['sha256'][:80]!r}, not 64 hexadecimal digits"
    return None


def _is_file_name(name: str) -> bool:
    """Whether `name` can name a file in a release's folder (not hidden, no folder)."""
    return bool(name) and not name.startswith(".") and "/" not in name and "\\" not in name


def _fields_problem(obj: dict[str, Any], required: dict[str, type | tuple[type, ...]],
                    optional: dict[str, type | tuple[type, ...]] | None = None) -> str | None:
    """The first key of `required` that `obj` lacks, or of either that it holds with another type."""
    optional = optional or {}
    for key, types in {**required, **optional}.items():
        if key not in obj:
            if key in required:
                unknown = [name for name in obj if name not in required and name not in optional]
                return f"{key!r} is missing" + (f" (unexpected: {', '.join(map(repr, unknown))})" if unknown else "")
            continue
        value = obj[key]
        # bool is an int to Python, never to JSON: a count of true is no count.
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in _as_tuple(types)):
            return f"{key!r} is a JSON {_json_type(value)}, not {_type_names(types)}"
    return None


def _as_tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def _type_names(types: type | tuple[type, ...]) -> str:
    return " or ".join(_JSON_NAMES[kind] for kind in _as_tuple(types))


_JSON_NAMES = {str: "a string", int: "an integer", list: "an array", dict: "an object", bool: "true or false",
               float: "a number", type(None): "null"}
_JSON_TYPES = {str: "string", int: "integer", list: "array", dict: "object", bool: "true/false", float: "number",
               type(None): "null"}


def _json_type(value: Any) -> str:
    """The JSON name of the type of a parsed JSON value."""
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _is_time(text: str) -> bool:
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def check_loaded_files(release: Path, manifest: dict) -> None:
    """Raise DamagedFile unless the files the store loads (the N-Quads dump and every description)
    are there with the SHA-256 the manifest records."""
    recorded = {entry["name"]: entry["sha256"] for entry in manifest_entries(manifest)}
    for name in [DATA_DUMP, *(entry["name"] for entry in manifest.get("description", []))]:
        check_verified(release, name, recorded.get(name, ""))
