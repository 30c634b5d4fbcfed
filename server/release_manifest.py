"""The manifest of a release: what it was built from (a digest of its sources, the git commit they
are at) and what it holds (manifest.json's entries, and SHA256SUMS over every file).
"""

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

from .config import Settings
from .dumps import WrittenFile
from .rdf_files import find_rdf_files


def sources_digest(settings: Settings) -> str:
    """A SHA-256 over what a release is built from: the base IRI and every ontology, data and shapes file."""
    digest = hashlib.sha256(settings.base_iri.encode())
    # A project without shapes/ has no shapes (as load_shapes reads it); a missing data folder is an error.
    has_shapes = settings.shapes_dir.exists() or settings.shapes_dir.is_symlink()
    for root in (settings.ontology_dir, settings.data_dir, *([settings.shapes_dir] if has_shapes else [])):
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


def description_entries(files: dict[str, tuple[str, bytes]]) -> list[dict[str, Any]]:
    """Manifest entries of `files`: name, media type, size and SHA-256."""
    return [{"name": name, "media_type": media_type, "bytes": len(data), "sha256": _sha256(data)}
            for name, (media_type, data) in sorted(files.items())]


def write_descriptions(folder: Path, descriptions: dict[str, tuple[str, bytes]], manifest: dict[str, Any],
                       dumps: dict[str, WrittenFile]) -> None:
    """Write the descriptions, manifest.json and SHA256SUMS (covering every file) into `folder`."""
    files = {name: data for name, (_, data) in descriptions.items()}
    files["manifest.json"] = manifest_bytes(manifest)
    checksums = {name: dump.sha256 for name, dump in dumps.items()} | {name: _sha256(data) for name, data in files.items()}
    files["SHA256SUMS"] = checksum_lines(checksums)
    for name, data in files.items():
        (folder / name).write_bytes(data)


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """manifest.json as the build writes it."""
    return (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def checksum_lines(checksums: dict[str, str]) -> bytes:
    """SHA256SUMS of {file name: SHA-256}: one line per file, sorted by name."""
    return "".join(f"{digest}  {name}\n" for name, digest in sorted(checksums.items())).encode("utf-8")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
