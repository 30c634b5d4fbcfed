"""Switching which release an output folder serves: what `lodpub reload` and `rollback` do and what
publishing from the editor (editing/publishing.py) does, in one place.

A switch checks that the release is whole, builds its on-disk store if it needs one, records the
decision (store/served_release.py) and points `served` at it. It then names the running server (a
gunicorn master, control.py) if there is one: the caller has it replace its workers, waiting for
them (the command line) or not (a worker of that server, which cannot wait for itself to be replaced).
"""

from dataclasses import dataclass
from pathlib import Path

from .config import Settings
from .control import may_signal, server_pid
from .release_preparation import prepare_store
from .store import StoreUnavailable
from .store.provisional import is_served, provisional_folder
from .store.releases import CURRENT, SERVED, list_releases, point, pointed_version, release_problems, releases_dir
from .store.served_release import Decision, chosen_whole, decision_in_force, record_decision


class SwitchRefused(Exception):
    """The release cannot be served; nothing was changed. The message says why and what is still served."""


class SwitchFailed(Exception):
    """The decision could not be recorded (the folder is read-only, the disk full); nothing was changed."""


@dataclass(frozen=True)
class Switched:
    """The release now chosen, and the pid of the running server of the folder (None: none runs)."""

    version: str
    pid: int | None


def switch_served(settings: Settings, version: str | None, command: str, defer_dumps: bool = False) -> Switched:
    """Check that release `version` is complete, point `served` at it and record that it is served
    (`command`, "reload" or "rollback", decides whether the release left is one rolled back from).
    Its dumps are all written first, unless `defer_dumps` (the caller writes them afterwards, as a
    starting server does: provisional_serving.py). Raises SwitchRefused or SwitchFailed, changing
    nothing, when the release cannot be served."""
    output_dir = settings.output_dir
    before = decision_or_none(output_dir)
    keeps = still_served(before)
    if version is None:
        wanted = "release to switch to" if command == "reload" else "older release"
        raise SwitchRefused(f"{command} refused: there is no {wanted} in {releases_dir(output_dir)}; {keeps}")
    release = releases_dir(output_dir) / Path(version).name
    problems = release_problems(release)
    pid = server_pid(output_dir)
    if pid is not None and not may_signal(pid):
        problems.append(f"the server (pid {pid}) runs as another user: run 'lodpub {command}' as that user")
    if pid is not None and is_served(provisional_folder(output_dir)):
        problems.append(f"the server (pid {pid}) serves the provisional release of its sources and switches to "
                        f"their release once it is built (its log says when): run 'lodpub {command}' after")
    if problems:
        raise SwitchRefused(f"{command} refused: release {version} cannot be served: {'; '.join(problems)}; {keeps}")
    # A release too large for memory gets its on-disk store now, not in a new worker, which
    # gunicorn would kill for starting too slowly.
    prepare_store(settings, release, defer_dumps=defer_dumps)
    try:
        record_decision(output_dir, chosen_whole(output_dir, release.name, _rolled_back_from(before, command)))
        point(output_dir, SERVED, release)
    except OSError as error:
        raise SwitchFailed(f"{command} failed: cannot record in {output_dir} that release {release.name} is "
                           f"served ({error.strerror or error}); {keeps}") from error
    return Switched(release.name, pid)


def previous_release(output_dir: Path) -> str | None:
    """The release built before the one served (None if there is none)."""
    served = pointed_version(output_dir, SERVED) or pointed_version(output_dir, CURRENT)
    older = [release.version for release in list_releases(output_dir) if served is None or release.version < served]
    return older[-1] if older else None


def decision_or_none(output_dir: Path) -> Decision | None:
    """The decision in force, None when there is no release at all."""
    try:
        return decision_in_force(output_dir)
    except StoreUnavailable:
        return None


def still_served(decision: Decision | None) -> str:
    """What a refused switch leaves served, in words."""
    if decision is None or decision.serving is None:
        return "nothing changed"
    fallback = f" (a fallback for release {decision.chosen})" if decision.fallback else ""
    return f"release {decision.serving} is still served{fallback}"


def _rolled_back_from(before: Decision | None, command: str) -> tuple[str, ...]:
    """The releases rolled back from once the server leaves `before` by `command`: a rollback adds
    the release chosen before (never a fallback for what the operator now chooses)."""
    rolled = before.rolled_back_from if before else ()
    return (*rolled, before.chosen) if before and command == "rollback" and before.chosen not in rolled else rolled
