"""The SHA-256 of a release's files, as the build recorded them: in SHA256SUMS, and in the manifest.

A file is checked whenever it is read (`read_verified`, `check_verified`): a release is immutable, so
bytes that differ from the build's are damage (a failing disk, a careless edit), never an update.
"""

import hashlib
import re
from pathlib import Path


class DamagedFile(Exception):
    """A file of a release is missing, or its bytes are not those the build wrote."""


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
    compare_sha256(name, sha256_of(data), expected_sha256)
    return data


def check_verified(release: Path, name: str, expected_sha256: str) -> None:
    """Raise DamagedFile, saying what is wrong, unless file `name` of `release` is there with the
    SHA-256 the build recorded. Reads the file in parts: a large release's dump is gigabytes."""
    try:
        with open(release / name, "rb") as file:
            found = hashlib.file_digest(file, "sha256").hexdigest()
    except OSError as error:
        raise DamagedFile(f"{name} cannot be read ({error.strerror or error})") from error
    compare_sha256(name, found, expected_sha256)


def compare_sha256(name: str, found: str, expected: str) -> None:
    """Raise DamagedFile, saying what is wrong, unless `found` (of file `name`) is `expected`."""
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
