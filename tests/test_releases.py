"""Releases: what a release records, how many are kept, and switching the server between them
(`lodpub releases`, `reload`, `rollback`, SIGHUP) while it answers."""

import dataclasses
import json
import os
import signal
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from served import workers_of

from lodpub.build import build
from lodpub.cli import main

NOW = datetime(2026, 11, 27, 19, 5, 12, tzinfo=UTC)
BURSA = "https://data.kraj-lbc.cz/partnerships/id/region/bursa"


def add_a_fact(settings) -> None:
    """A change to the data that makes the next release differ from the last."""
    (settings.data_dir / "note.ttl").write_text(
        f'<{BURSA}> <http://www.w3.org/2000/01/rdf-schema#comment> "a note added later"@en .\n', encoding="utf-8")


def served_version(base: str) -> str:
    return requests.get(base + "health", timeout=30).json()["version"]


def link(output: Path, name: str) -> str:
    return Path(os.readlink(output / name)).name


def git(directory: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(directory), "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
                          check=True, capture_output=True, text=True).stdout.strip()


# --- What a release records ------------------------------------------------------------------


def test_a_release_records_the_source_commit_and_whether_the_sources_had_changes(mini, mini_settings):
    git(mini, "init", "-q")
    git(mini, "add", ".")
    git(mini, "commit", "-q", "-m", "data")
    commit = git(mini, "rev-parse", "HEAD")

    clean = build(mini_settings, now=NOW)
    add_a_fact(mini_settings)
    changed = build(mini_settings, now=NOW + timedelta(hours=1))

    assert clean.manifest["source"] == {"commit": commit, "uncommitted_changes": False}
    assert changed.manifest["source"] == {"commit": commit, "uncommitted_changes": True}
    on_disk = json.loads((changed.path / "manifest.json").read_text(encoding="utf-8"))
    assert on_disk["source"] == changed.manifest["source"] and on_disk["built_at"] == "2026-11-27T20:05:12Z"
    assert {entry["name"] for entry in on_disk["files"]} >= {"partnerships.ttl", "partnerships.nq.gz"}
    assert all(len(entry["sha256"]) == 64 for entry in on_disk["files"])


def test_data_outside_a_git_checkout_records_no_commit(mini_settings):
    assert build(mini_settings, now=NOW).manifest["source"] is None


# --- Keeping the last N ------------------------------------------------------------------------


def test_a_build_keeps_the_newest_releases_and_never_deletes_the_served_one(mini_settings):
    settings = dataclasses.replace(mini_settings, keep_releases=2)
    output = settings.output_dir
    oldest = build(settings, now=NOW)
    os.symlink(f"releases/{oldest.version}", output / "served")  # as `lodpub serve` would have
    versions = [build(settings, now=NOW + timedelta(hours=hour)).version for hour in (1, 2, 3)]

    remaining = sorted(path.name for path in (output / "releases").iterdir())
    assert remaining == [oldest.version, *versions[-2:]]
    assert link(output, "served") == oldest.version and link(output, "current") == versions[-1]


def test_a_build_never_deletes_the_release_served_in_place_of_a_damaged_one(mini_settings):
    from lodpub.cli_serving import serve_at_start

    fallback, damaged = (build(mini_settings, now=NOW + timedelta(hours=hour)) for hour in (0, 1))
    (damaged.path / "partnerships.nq").write_bytes(b"")
    assert serve_at_start(mini_settings) == 0  # serves `fallback` in place of `damaged`

    settings = dataclasses.replace(mini_settings, keep_releases=1)
    newer = build(settings, now=NOW + timedelta(hours=2))

    assert sorted(path.name for path in (settings.output_dir / "releases").iterdir()) == \
           [fallback.version, damaged.version, newer.version]


def test_keep_is_a_setting_with_an_option(mini_settings, mini_options, capsys):
    output = mini_settings.output_dir
    for hour in (1, 2):
        build(mini_settings, now=NOW + timedelta(hours=hour))

    assert main(["build", *mini_options, "--output", str(output), "--keep", "1"]) == 0

    assert "Deleted older releases (keeping 1): " in capsys.readouterr().out
    assert [path.name for path in (output / "releases").iterdir()] == [link(output, "current")]
    assert main(["build", *mini_options, "--output", str(output), "--keep", "0"]) == 2
    assert "keep_releases must be at least 1, not 0" in capsys.readouterr().err


# --- The command line, without a server ----------------------------------------------------


def test_releases_lists_version_time_commit_triples_and_which_is_served_and_latest(lodpub, mini_settings):
    old = build(mini_settings, now=NOW)
    os.symlink(f"releases/{old.version}", mini_settings.output_dir / "served")
    add_a_fact(mini_settings)
    new = build(mini_settings, now=NOW + timedelta(hours=1))

    (mini_settings.output_dir / "releases" / ".tmp-1-abc").mkdir()  # a build still writing: not a release
    (mini_settings.output_dir / "releases" / "20200101T000000Z-00000000").mkdir()  # emptied by hand

    result = lodpub("releases", "--output", str(mini_settings.output_dir))

    assert result.returncode == 0, result.stderr
    header, first, second, emptied = result.stdout.splitlines()
    assert emptied.split() == ["20200101T000000Z-00000000", "?", "-", "?", "incomplete:", "no", "manifest.json"]
    assert header.split() == ["VERSION", "BUILT", "AT", "SOURCE", "COMMIT", "TRIPLES", "STATE"]
    assert first.split() == [new.version, "2026-11-27T20:05:12Z", "-", str(new.manifest["triples"]), "latest"]
    assert second.split() == [old.version, "2026-11-27T19:05:12Z", "-", str(old.manifest["triples"]), "served"]
    assert new.manifest["triples"] == old.manifest["triples"] + 1


def test_rollback_and_reload_without_a_server_move_only_the_served_link(lodpub, mini_settings):
    output = mini_settings.output_dir
    old = build(mini_settings, now=NOW)
    new = build(mini_settings, now=NOW + timedelta(hours=1))

    rolled_back = lodpub("rollback", "--output", str(output))
    assert rolled_back.returncode == 0, rolled_back.stderr
    assert f"Release {old.version} will be served: no server is running" in rolled_back.stdout
    assert (link(output, "served"), link(output, "current")) == (old.version, new.version)

    nothing_older = lodpub("rollback", "--output", str(output))
    assert nothing_older.returncode == 3
    assert (f"there is no older release in {output / 'releases'}; release {old.version} is still served"
            in nothing_older.stderr)

    assert lodpub("reload", "--output", str(output)).returncode == 0
    assert link(output, "served") == new.version


@pytest.mark.parametrize("damage, reason", [
    (lambda release: (release / "partnerships.nt").write_bytes(b"<a> <b> <c> .\n"),
     "partnerships.nt fails its checksum"),
    (lambda release: (release / "void.ttl").unlink(), "void.ttl cannot be read"),
    (lambda release: (release / "SHA256SUMS").unlink(), "SHA256SUMS cannot be read"),
    (lambda release: (release / "manifest.json").unlink(), "manifest.json cannot be read"),
])
def test_a_reload_to_an_incomplete_or_damaged_release_is_refused_and_says_why(lodpub, mini_settings, damage,
                                                                              reason):
    output = mini_settings.output_dir
    old = build(mini_settings, now=NOW)
    os.symlink(f"releases/{old.version}", output / "served")
    new = build(mini_settings, now=NOW + timedelta(hours=1))
    damage(new.path)

    result = lodpub("reload", "--output", str(output))

    assert result.returncode == 3
    assert result.stderr.startswith(f"lodpub: reload refused: release {new.version} cannot be served: ")
    assert reason in result.stderr and f"release {old.version} is still served" in result.stderr
    assert link(output, "served") == old.version
    missing = lodpub("reload", "20990101T000000Z-00000000", "--output", str(output))
    assert missing.returncode == 3 and "there is no release 20990101T000000Z-00000000" in missing.stderr


# --- A running server: one release, switched only on request --------------------------------


@pytest.mark.served
def test_building_changes_nothing_served_not_even_in_restarted_workers_or_after_sighup(mini_server, mini_settings):
    first = served_version(mini_server)
    add_a_fact(mini_settings)
    newer = build(mini_settings)
    workers = workers_of(mini_server.pid)

    os.kill(min(workers), signal.SIGKILL)  # gunicorn starts a new worker, which loads the release again
    after_restart = _versions_by_worker(mini_server, lambda pids: bool(pids - workers))
    workers = workers_of(mini_server.pid)
    os.kill(mini_server.pid, signal.SIGHUP)  # gunicorn replaces every worker, gracefully
    wait_for(lambda: workers_of(mini_server.pid).isdisjoint(workers))
    after_sighup = _versions_by_worker(mini_server)

    assert newer.version != first
    assert set(after_restart.values()) == set(after_sighup.values()) == {first}, (after_restart, after_sighup)


def test_reload_switches_every_worker_without_dropping_requests_and_rollback_switches_back(
        mini_server, mini_settings, lodpub):
    first = served_version(mini_server)
    add_a_fact(mini_settings)
    newer = build(mini_settings)
    output = str(mini_settings.output_dir)
    with _traffic(mini_server) as statuses:
        reloaded = lodpub("reload", "--output", output)

    assert reloaded.returncode == 0, reloaded.stderr
    assert reloaded.stdout.startswith(f"Release {newer.version} is served: the server (pid {mini_server.pid})")
    assert set(_versions_by_worker(mini_server).values()) == {newer.version}
    assert len(statuses) >= 10 and set(statuses) == {200}, sorted(set(statuses))
    note = requests.get(mini_server + "doc/id/region/bursa", headers={"Accept": "application/n-triples"}, timeout=30)
    assert '"a note added later"@en' in note.text

    rolled_back = lodpub("rollback", "--output", output)
    assert rolled_back.returncode == 0, rolled_back.stderr
    assert set(_versions_by_worker(mini_server).values()) == {first}


# --- Helpers -------------------------------------------------------------------------------


def wait_for(condition, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _versions_by_worker(base: str, until=lambda pids: True, seconds: float = 60) -> dict[int, str]:
    """{worker pid: version it serves}, asking /health until two workers answered and `until`
    holds of the pids seen (each request may reach any worker)."""
    seen: dict[int, str] = {}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            health = requests.get(base + "health", timeout=30).json()
        except requests.ConnectionError:
            continue
        seen[health["worker_pid"]] = health["version"]
        if len(seen) >= 2 and until(set(seen)):
            return seen
    raise TimeoutError(f"workers seen: {seen}")


class _traffic:
    """Requests for a document, one after another from a thread, while the block runs: the list of
    their statuses (a refused or dropped connection counts as 0)."""

    def __init__(self, base: str) -> None:
        self.base, self.statuses, self.running = base, [], True
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        while self.running:
            try:
                self.statuses.append(requests.get(self.base + "doc/id/region/bursa", timeout=30).status_code)
            except requests.RequestException:
                self.statuses.append(0)

    def __enter__(self) -> list[int]:
        self.thread.start()
        return self.statuses

    def __exit__(self, *_) -> None:
        time.sleep(0.5)  # requests to the new workers too
        self.running = False
        self.thread.join()


# --- A damaged manifest: a clear error, and a fallback the whole server decides on -------------


def _rewrite_manifest(release: Path, change) -> None:
    """Apply `change` to the parsed manifest of `release` and write it back as valid JSON."""
    manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    change(manifest)
    (release / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")


@pytest.mark.parametrize("damage, reason", [
    (lambda path: path.write_bytes(path.read_bytes()[:-20]), "is not JSON (line "),
    (lambda path: path.write_bytes(b"\xff" + path.read_bytes()[1:]), "is not UTF-8 text (byte 0 is 0xff)"),
    (lambda path: path.write_text("[1, 2]"), "it is a JSON array, not an object"),
    (lambda path: _rewrite_manifest(path.parent, lambda m: m.update(versiom=m.pop("version"))),
     "'version' is missing (unexpected: 'versiom')"),
    (lambda path: _rewrite_manifest(path.parent, lambda m: m.update(triples="50")),
     "'triples' is a JSON string, not an integer"),
    (lambda path: _rewrite_manifest(path.parent, lambda m: m.update(version="20990101T000000Z-00000000")),
     "'version' is '20990101T000000Z-00000000', but the release's folder is "),
    (lambda path: _rewrite_manifest(path.parent, lambda m: m["files"][1].pop("sha256")), "files[1]: 'sha256' is missing"),
    (lambda path: _rewrite_manifest(path.parent, lambda m: m["files"][0].update(name="../../etc/passwd")),
     "files[0]: 'name' is '../../etc/passwd', not the name of a file in the release's folder"),
])
def test_a_damaged_manifest_is_an_error_naming_the_file_and_what_is_wrong(mini_settings, damage, reason):
    from lodpub.store.manifest import ManifestError, load_manifest

    release = build(mini_settings, now=NOW).path
    damage(release / "manifest.json")

    with pytest.raises(ManifestError) as error:
        load_manifest(release)
    assert str(error.value).startswith(f"{release / 'manifest.json'}") and reason in str(error.value), error.value


def test_a_reload_to_a_release_whose_manifest_has_a_changed_key_is_refused_with_a_message(lodpub, mini_settings):
    output = mini_settings.output_dir
    old = build(mini_settings, now=NOW)
    assert lodpub("reload", "--output", str(output)).returncode == 0
    new = build(mini_settings, now=NOW + timedelta(hours=1))
    _rewrite_manifest(new.path, lambda manifest: manifest.update(versiom=manifest.pop("version")))

    result = lodpub("reload", "--output", str(output))

    assert result.returncode == 3 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"lodpub: reload refused: release {new.version} cannot be served: "
                                    f"{new.path / 'manifest.json'}: 'version' is missing")
    assert result.stderr.rstrip().endswith(f"release {old.version} is still served")
    assert link(output, "served") == old.version


def test_serve_with_the_newest_release_damaged_serves_the_newest_sound_one_and_releases_says_why(
        lodpub, mini_settings, capsys):
    from lodpub.cli_serving import serve_at_start

    output = mini_settings.output_dir
    oldest, sound, newest = (build(mini_settings, now=NOW + timedelta(hours=hour)) for hour in (0, 1, 2))
    (newest.path / "SHA256SUMS").unlink()

    assert serve_at_start(mini_settings) == 0

    said = capsys.readouterr().err
    assert (f"Serving release {sound.version}, a fallback: release {newest.version} cannot be served: "
            f"SHA256SUMS cannot be read") in said
    assert f"'lodpub reload {newest.version}'" in said
    assert link(output, "served") == newest.version  # the operator's choice stays as it was
    listing = lodpub("releases", "--output", str(output)).stdout.splitlines()
    assert listing[1].split()[0] == newest.version and "chosen, refused: SHA256SUMS cannot be read" in listing[1]
    assert listing[2].split()[0] == sound.version and listing[2].endswith("served (fallback)")
    assert listing[3].split() == [oldest.version, "2026-11-27T19:05:12Z", "-", str(oldest.manifest["triples"])]
    assert listing[-1].startswith(f"Served: release {sound.version}, a fallback: release {newest.version} cannot "
                                  "be served: SHA256SUMS cannot be read (")


def test_a_damaged_release_rolled_back_to_is_never_replaced_by_the_one_rolled_back_from(lodpub, mini_settings,
                                                                                     capsys):
    from lodpub.cli_serving import serve_at_start
    from lodpub.store.served_release import decision_in_force

    output = mini_settings.output_dir
    a, b = (build(mini_settings, now=NOW + timedelta(hours=hour)) for hour in (0, 1))
    assert lodpub("reload", "--output", str(output)).returncode == 0
    assert lodpub("rollback", "--output", str(output)).returncode == 0  # from B to A
    (a.path / "manifest.json").write_text("{", encoding="utf-8")

    # The running server keeps A, as decided (and checked) at the rollback; a restart finds A
    # damaged and nothing built before it: it refuses rather than serve B.
    assert decision_in_force(output).serving == a.version
    assert serve_at_start(mini_settings) == 2
    said = capsys.readouterr().err
    assert f"lodpub: error: no release can be served: release {a.version} cannot be served: " in said
    assert b.version not in said and link(output, "served") == a.version


def test_a_fallback_passes_over_the_releases_rolled_back_from(lodpub, mini_settings, capsys):
    """Rolled back "forward" from A to C, a damaged C falls back to B, built between them, never to A."""
    from lodpub.cli_serving import serve_at_start

    output = mini_settings.output_dir
    a, b, c = (build(mini_settings, now=NOW + timedelta(hours=hour)) for hour in (0, 1, 2))
    assert lodpub("reload", a.version, "--output", str(output)).returncode == 0
    assert lodpub("rollback", c.version, "--output", str(output)).returncode == 0
    (c.path / "partnerships.nq").write_bytes(b"")

    assert serve_at_start(mini_settings) == 0
    assert (f"Serving release {b.version}, a fallback: release {c.version} cannot be served: partnerships.nq "
            "fails its checksum") in capsys.readouterr().err
    (b.path / "void.ttl").write_bytes(b"")
    assert serve_at_start(mini_settings) == 2
    assert f"no release can be served: release {c.version} cannot be served" in capsys.readouterr().err

    assert lodpub("reload", a.version, "--output", str(output)).returncode == 0  # A is chosen again
    assert lodpub("reload", c.version, "--output", str(output)).returncode == 3  # C is still damaged
    assert link(output, "served") == a.version


def test_serve_writes_served_and_its_record_only_when_they_change(mini_settings, capsys):
    from lodpub.cli_serving import serve_at_start

    output = mini_settings.output_dir
    build(mini_settings, now=NOW)
    assert serve_at_start(mini_settings) == 0
    written = {name: os.lstat(output / name) for name in ("served", "served.json")}

    assert serve_at_start(mini_settings) == 0

    again = {name: os.lstat(output / name) for name in ("served", "served.json")}
    assert {name: (stat.st_ino, stat.st_mtime_ns) for name, stat in written.items()} == \
           {name: (stat.st_ino, stat.st_mtime_ns) for name, stat in again.items()}
    assert not [path.name for path in output.iterdir() if path.name.startswith(".")]  # no temporary file left
