"""Which release the server serves: decided once for the whole server, recorded, and shown.

The operator chooses a release: the one `served` names (`lodpub serve`, `reload` and `rollback` move
it), or the one built last before anything was served (releases.chosen_version). The server serves
the chosen release when it can be loaded: its manifest.json has the shape the build writes and the
SHA-256 that SHA256SUMS records, and the files the store loads (the N-Quads dump, the descriptions)
have theirs. When it cannot, the server serves a *fallback*: the newest release that can be loaded
among those built before the chosen one, leaving out every release the operator has rolled back
from (and not chosen again since). Never a release built after the chosen one, and never one the
operator rolled back from: a damaged release must not undo a rollback. When none can be loaded,
nothing is served (`lodpub serve` refuses; a running server answers 503 and says why).

The decision is taken before any worker loads a release: by `lodpub serve` before gunicorn starts,
by `lodpub reload` and `rollback` before they signal the server. It is recorded in
output_dir/served.json (RECORD), with the manifest of the release served as it was checked, so that
every worker loads the same release from the same manifest, also a worker gunicorn starts hours
later, after the manifest on disk was damaged. A worker decides for itself, by the same rule, only
when there is no record for the chosen release (the link was moved by hand, or the output folder is
read-only), or when the recorded release's files were damaged after the decision.
"""

import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from . import StoreUnavailable
from .checksums import DamagedFile, sha256_of
from .manifest import ManifestError, check_loaded_files, checked_manifest, parse_manifest
from .releases import (
    CURRENT,
    DELETING_PREFIX,
    PUBLIC_COPIES,
    SERVED,
    chosen_version,
    list_releases,
    pointed_version,
    releases_dir,
    write_atomically,
)

# output_dir/served.json: the decision in force.
RECORD = "served.json"

_log = logging.getLogger(__name__)
Opened = TypeVar("Opened")


@dataclass(frozen=True)
class Refusal:
    """A release passed over, and why it cannot be served."""

    version: str
    reason: str

    def __str__(self) -> str:
        return f"release {self.version} cannot be served: {self.reason}"


@dataclass(frozen=True)
class Decision:
    """What the server serves: the release `chosen` by the operator, or a fallback (`serving`; None
    when no release can be served), the releases `refused` on the way (newest first) and the
    releases the operator rolled back from, which are never a fallback."""

    chosen: str
    serving: str | None
    manifest_bytes: bytes = b""  # the serving release's manifest.json, as checked
    refused: tuple[Refusal, ...] = ()
    rolled_back_from: tuple[str, ...] = ()
    manifest: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def fallback(self) -> bool:
        """Whether the server serves another release than the one chosen."""
        return self.serving != self.chosen

    def describe(self) -> str:
        """One sentence: the release served and, for a fallback, why the chosen one is not."""
        why = "; ".join(map(str, self.refused))
        if self.serving is None:
            return f"no release can be served: {why}"
        if not self.fallback:
            return f"release {self.serving}"
        return f"release {self.serving}, a fallback: {why}"

    def as_json(self) -> bytes:
        """The decision as RECORD holds it."""
        return (json.dumps({
            "chosen": self.chosen, "serving": self.serving, "fallback": self.fallback,
            "refused": [{"version": refusal.version, "reason": refusal.reason} for refusal in self.refused],
            "rolled_back_from": list(self.rolled_back_from),
            "manifest_sha256": sha256_of(self.manifest_bytes), "manifest": self.manifest_bytes.decode("utf-8"),
        }, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def check_loadable(release: Path, manifest: dict[str, Any]) -> None:
    """Raise DamagedFile unless the files the embedded store loads from `release` are sound."""
    check_loaded_files(release, manifest)


def decide(output_dir: Path, chosen: str, rolled_back_from: tuple[str, ...] = (),
           open_release: Callable[[Path, dict[str, Any]], Opened] = check_loadable) -> tuple[Decision, Opened | None]:
    """Decide which release to serve when `chosen` is chosen (see the module's docstring), and what
    `open_release(folder, manifest)` gave for it (it raises DamagedFile or StoreUnavailable for a
    release that cannot be served: by default it checks the files the store loads)."""
    refused = []
    for version in fallback_order(output_dir, chosen, rolled_back_from):
        release = releases_dir(output_dir) / version
        try:
            manifest, data = checked_manifest(release)
            opened = open_release(release, manifest)
        except (DamagedFile, StoreUnavailable) as failure:
            refused.append(Refusal(version, _reason(version, failure)))
            continue
        return Decision(chosen, version, data, tuple(refused), rolled_back_from, manifest), opened
    return Decision(chosen, None, b"", tuple(refused), rolled_back_from), None


def chosen_whole(output_dir: Path, version: str, rolled_back_from: tuple[str, ...] = ()) -> Decision:
    """The decision to serve release `version`, which the operator chose and which was checked
    whole (releases.release_problems): no fallback, and no longer a release rolled back from.
    Raises DamagedFile when its manifest changed since."""
    manifest, data = checked_manifest(releases_dir(output_dir) / version)
    kept = tuple(rolled for rolled in rolled_back_from if rolled != version)
    return Decision(version, version, data, (), kept, manifest)


def fallback_order(output_dir: Path, chosen: str, rolled_back_from: tuple[str, ...] = ()) -> list[str]:
    """The releases a server may serve when `chosen` is chosen, in the order tried: the chosen one,
    then those built before it (versions sort by build time) that the operator has not rolled back
    from, newest first."""
    older = [release.version for release in reversed(list_releases(output_dir))
             if release.version < chosen and release.version not in rolled_back_from]
    return [chosen, *older]


def _reason(version: str, failure: Exception) -> str:
    """What is wrong with release `version`, without the words Refusal adds."""
    text = str(failure)
    prefix = f"release {version} cannot be served: "
    return text[len(prefix):] if text.startswith(prefix) else text


def open_decided(output_dir: Path, open_release: Callable[[Path, dict[str, Any]], Opened]) -> tuple[Decision, Opened | None]:
    """What a worker serves: the release the recorded decision names, opened with the manifest the
    decision checked; decided here, by the same rule, when there is no record for the chosen
    release or the recorded release cannot be opened now. Raises StoreUnavailable when there is no
    release at all; gives (a decision, None) when none can be served."""
    chosen = _chosen(output_dir)
    record = read_record(output_dir)
    rolled_back_from = record.rolled_back_from if record else ()
    if record is not None and _applies(record, output_dir, chosen) and record.serving is not None:
        try:
            return record, open_release(releases_dir(output_dir) / record.serving, record.manifest)
        except (DamagedFile, StoreUnavailable) as failure:
            _log.error("release %s, decided on to be served, cannot be loaded now (%s): deciding again",
                       record.serving, failure)
    decision, opened = decide(output_dir, chosen, rolled_back_from, open_release)
    _log_decision(decision)
    return decision, opened


def decision_in_force(output_dir: Path) -> Decision:
    """The decision a worker started now would follow: the record for the chosen release, else one
    taken now (and not recorded). Raises StoreUnavailable when there is no release at all."""
    chosen = _chosen(output_dir)
    record = read_record(output_dir)
    if record is not None and _applies(record, output_dir, chosen):
        return record
    return decide(output_dir, chosen, record.rolled_back_from if record else ())[0]


def _chosen(output_dir: Path) -> str:
    chosen = chosen_version(output_dir)
    if chosen is None:
        raise StoreUnavailable(f"no release in {releases_dir(output_dir)}: run 'lodpub build' first")
    return chosen


def _applies(record: Decision, output_dir: Path, chosen: str) -> bool:
    """Whether `record` is the decision for `chosen` (not one for a link since moved by hand), and
    the release it serves is still there."""
    return record.chosen == chosen and (record.serving is None or (releases_dir(output_dir) / record.serving).is_dir())


def _log_decision(decision: Decision) -> None:
    for refusal in decision.refused:
        _log.error("%s", refusal)
    if decision.serving is None:
        _log.error("no release can be served (run 'lodpub build', or repair a release and run 'lodpub reload')")
    elif decision.fallback:
        _log.error("serving release %s instead (run 'lodpub reload' once release %s is repaired)",
                   decision.serving, decision.chosen)


# --- the record ---------------------------------------------------------------------------------


def record_decision(output_dir: Path, decision: Decision) -> bool:
    """Record `decision` in output_dir/RECORD, atomically and durably; only when it differs from the
    record there (so that an unchanged decision needs no writable folder). True when written.
    Raises OSError when it cannot be written (the old record, if any, is left as it was)."""
    data = decision.as_json()
    try:
        if (output_dir / RECORD).read_bytes() == data:
            return False
    except OSError:
        pass
    write_atomically(output_dir / RECORD, data)
    return True


def read_record(output_dir: Path) -> Decision | None:
    """The recorded decision; None when there is none, or it is damaged (logged: a worker then
    decides for itself)."""
    path = output_dir / RECORD
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        _log.warning("%s cannot be read (%s): deciding anew", path, error.strerror or error)
        return None
    try:
        return _parse_record(json.loads(data.decode("utf-8")), path)
    except (ValueError, KeyError, TypeError, AttributeError, ManifestError) as error:
        _log.warning("%s is damaged (%s): deciding anew", path, error)
        return None


def recorded_serving(output_dir: Path) -> str | None:
    """The release the recorded decision serves, if there is a sound record."""
    record = read_record(output_dir)
    return record.serving if record else None


def _parse_record(record: dict[str, Any], path: Path) -> Decision:
    """The decision in a parsed RECORD. Raises ValueError (and the like) when it is not one."""
    serving = record["serving"]
    data = record["manifest"].encode("utf-8")
    if sha256_of(data) != record["manifest_sha256"]:
        raise ValueError("its copy of the manifest is not the one it recorded")
    manifest = parse_manifest(data, path, serving) if serving is not None else {}
    refused = tuple(Refusal(str(refusal["version"]), str(refusal["reason"])) for refusal in record["refused"])
    if not isinstance(record["chosen"], str) or not all(isinstance(v, str) for v in record["rolled_back_from"]):
        raise ValueError("a version is not a string")
    return Decision(record["chosen"], serving, data, refused, tuple(record["rolled_back_from"]), manifest)


def prune(output_dir: Path, keep: int) -> list[str]:
    """Delete all but the `keep` newest releases, never the one built last (`current`), the one
    chosen to be served (`served`) nor the one served in its place; return the versions
    deleted, with their copies under other public bases. Each is renamed away in one step first, so
    a release is either whole or gone."""
    protected = {pointed_version(output_dir, CURRENT), pointed_version(output_dir, SERVED), recorded_serving(output_dir)}
    releases = list_releases(output_dir)
    doomed = [release for release in releases[:max(len(releases) - keep, 0)] if release.version not in protected]
    for release in doomed:
        for folder in [release.path, *output_dir.glob(f"{PUBLIC_COPIES}/*/{release.version}")]:
            going = folder.with_name(f"{DELETING_PREFIX}{release.version}")
            folder.rename(going)
            shutil.rmtree(going)
    return [release.version for release in doomed]
