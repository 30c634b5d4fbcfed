"""Faults: a full disk during a build, kill -9 of the server during a reload, a dump corrupted on
disk. Each test shows that nothing published is lost and that the service keeps answering."""

import argparse
import contextlib
import hashlib
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from conftest import (
    CHECKOUT,
    RunningServer,
    free_port,
    mini_release_settings,
    proxied_to,
    require,
    running_server,
    wait_until_up,
)
from rdflib import Graph
from test_releases import add_a_fact, link, served_version, wait_for, workers_of

from lodpub.build import build
from lodpub.namespaces import CANONICAL_BASE
from lodpub.store.releases import release_problems

# The tmpfs the output folder is on: room for a few releases of the mini dataset.
TMPFS_SIZE = "2m"
# What is left free when the disk is "full": less than a release of the mini dataset takes.
LEFT_FREE = 16 * 1024
# Without a tmpfs: the largest file a build on the "full" disk may write (its Turtle dump is larger).
FILE_SIZE_LIMIT = 2048


class Disk:
    """The output folder on a small disk of its own, and commands run where they see it.

    Either a tmpfs mounted in a user and mount namespace (`unshare`; commands enter it with
    `nsenter`), so that filling it gives the real ENOSPC; or, where the machine allows no user
    namespaces, the plain folder, "full" for a command run under RLIMIT_FSIZE (writing beyond the
    limit fails with EFBIG instead of ENOSPC).
    """

    def __init__(self, output: Path) -> None:
        self.output = output
        output.mkdir(parents=True)
        self.holder = subprocess.Popen(
            ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
             f"mount -t tmpfs -o size={TMPFS_SIZE} tmpfs '{output}' && echo mounted && exec sleep 3600"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) if shutil.which("unshare") else None
        self.tmpfs = self.holder is not None and self.holder.stdout.readline().strip() == "mounted"
        self.full = False

    def command(self, *args: str) -> list[str]:
        """`args` as run where the output folder is this disk."""
        if not self.tmpfs:
            return list(args)
        # --wd: nsenter may start the command in / otherwise, where `python -m lodpub.cli` would run with no project folder.
        return ["nsenter", "--preserve-credentials", "--user", "--mount", f"--wd={CHECKOUT}", "-t", str(self.holder.pid),
                *args]

    def path(self, relative: str) -> Path:
        """A file on this disk as this process can read it."""
        return Path(f"/proc/{self.holder.pid}/root{self.output}" if self.tmpfs else self.output) / relative

    def lodpub(self, *args: str) -> subprocess.CompletedProcess:
        """Run the `lodpub` command on this disk (under the file size limit once it is full, without tmpfs)."""
        limit = (lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))) \
            if self.full and not self.tmpfs else None
        return subprocess.run(self.command(sys.executable, "-m", "lodpub.cli", *args), cwd=CHECKOUT,
                              capture_output=True, text=True, timeout=120, preexec_fn=limit)

    def fill(self, left_free: int = LEFT_FREE) -> None:
        """Leave less room on the disk than a release needs (`left_free` bytes; 0: none at all)."""
        self.full = True
        if self.tmpfs:
            filler = (f"import os\nfd = os.open('{self.output}/filler', os.O_WRONLY | os.O_CREAT)\n"
                      "try:\n    while True: os.write(fd, bytes(4096))\nexcept OSError: pass\n"
                      f"os.ftruncate(fd, os.fstat(fd).st_size - {left_free})\n")
            subprocess.run(self.command(sys.executable, "-c", filler), check=True, timeout=60)

    def read_only(self) -> None:
        """Make the disk read-only (a tmpfs only)."""
        subprocess.run(self.command("mount", "-o", "remount,ro", str(self.output)), check=True, timeout=60)

    def names(self) -> list[str]:
        """The names in the output folder, as this process sees them."""
        return sorted(path.name for path in self.path("").iterdir())

    def free(self) -> None:
        """Make room again."""
        self.full = False
        if self.tmpfs:
            subprocess.run(self.command("rm", f"{self.output}/filler"), check=True, timeout=60)

    def close(self) -> None:
        if self.holder is not None:
            self.holder.kill()
            self.holder.wait(timeout=30)


@contextlib.contextmanager
def serving_on(disk: Disk, options: list[str], log: Path) -> Iterator[str]:
    """`lodpub serve` of the release on `disk`, on a free loopback port."""
    port = free_port()
    with open(log, "w") as log_file:
        process = subprocess.Popen(disk.command(sys.executable, "-m", "lodpub.cli", "serve", *options, "--output",
                                                str(disk.output), "--port", str(port), "--workers", "2"),
                                   cwd=CHECKOUT, stdout=log_file, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/"
    try:
        wait_until_up(base + "health", process, log)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def assert_serves_intact(base: str) -> None:
    """Every dump the server lists has the SHA-256 it states, and a resource document answers."""
    sums = requests.get(base + "dumps/SHA256SUMS", timeout=30)
    assert sums.status_code == 200
    for line in sums.text.splitlines():
        digest, name = line.split("  ")
        assert hashlib.sha256(requests.get(base + "dumps/" + name, timeout=30).content).hexdigest() == digest, name
    document = requests.get(base + "doc/id/region/bursa", headers={"Accept": "text/turtle"}, timeout=30)
    assert document.status_code == 200 and len(Graph().parse(data=document.text, format="turtle")) > 0


def flip_a_byte(path: Path) -> None:
    """Change one byte in the middle of a file, as a failing disk or a careless hand might."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


# --- A full disk during a build ----------------------------------------------------------------


@pytest.mark.served
def test_a_build_on_a_full_disk_leaves_the_old_release_intact_and_served(mini_settings, mini_options, tmp_path):
    """The output folder is a 2 MB tmpfs in a user+mount namespace (unshare), filled to 16 KB free;
    where user namespaces are not allowed, the build runs under an RLIMIT_FSIZE of 2 KB (see Disk)."""
    disk = Disk(tmp_path / "disk")
    try:
        first = disk.lodpub("build", *mini_options, "--output", str(disk.output))
        assert first.returncode == 0, first.stderr
        version = link(disk.path(""), "current")
        with serving_on(disk, mini_options, tmp_path / "server.log") as base:
            add_a_fact(mini_settings)
            disk.fill()
            failed = disk.lodpub("build", *mini_options, "--output", str(disk.output))

            assert failed.returncode == 2
            assert failed.stderr.startswith(
                f"lodpub: build failed, nothing was published (release {version} is still current): ")
            assert ("No space left on device" if disk.tmpfs else "File too large") in failed.stderr
            assert [path.name for path in disk.path("releases").iterdir()] == [version]  # no half release
            assert link(disk.path(""), "current") == link(disk.path(""), "served") == version
            assert release_problems(disk.path(f"releases/{version}")) == []
            assert served_version(base) == version
            assert_serves_intact(base)

            disk.free()
            again = disk.lodpub("build", *mini_options, "--output", str(disk.output))
            assert again.returncode == 0, again.stderr
            assert served_version(base) == version  # built, not yet reloaded
    finally:
        disk.close()


# --- A full or read-only output folder when the server starts ----------------------------------


@pytest.mark.served
def test_serve_on_a_full_disk_says_the_pidfile_cannot_be_written_and_leaves_nothing_behind(mini_options, tmp_path):
    """gunicorn writes the pidfile, and on a full disk left an empty file of its own behind: lodpub
    tries first, and says why it cannot start."""
    disk = Disk(tmp_path / "disk")
    try:
        require(disk.tmpfs, "user namespaces (unshare), for a disk of the test's own")
        assert disk.lodpub("build", *mini_options, "--output", str(disk.output)).returncode == 0
        with serving_on(disk, mini_options, tmp_path / "server.log"):
            pass  # `served` and its record are written once
        disk.fill(left_free=0)
        names = disk.names()

        refused = disk.lodpub("serve", *mini_options, "--output", str(disk.output), "--port", str(free_port()))

        assert refused.returncode == 2 and "Traceback" not in refused.stderr
        assert refused.stderr.startswith(f"lodpub: error: cannot write the pidfile {disk.output / 'lodpub.pid'} "
                                         "(No space left on device): ")
        assert disk.names() == names
    finally:
        disk.close()


@pytest.mark.served
def test_on_a_read_only_output_folder_serve_writes_nothing_and_says_the_pidfile_cannot_be_written(
        mini_options, tmp_path):
    disk = Disk(tmp_path / "disk")
    try:
        require(disk.tmpfs, "user namespaces (unshare), for a disk of the test's own")
        assert disk.lodpub("build", *mini_options, "--output", str(disk.output)).returncode == 0
        with serving_on(disk, mini_options, tmp_path / "server.log") as base:
            version = served_version(base)
        disk.read_only()
        decide = ("import sys; from lodpub.cli_serving import serve_at_start; from lodpub.config import load_settings; "
                  f"sys.exit(serve_at_start(load_settings(output_dir='{disk.output}')))")

        decided = subprocess.run(disk.command(sys.executable, "-c", decide), cwd=CHECKOUT, capture_output=True,
                                 text=True, timeout=120)
        refused = disk.lodpub("serve", *mini_options, "--output", str(disk.output), "--port", str(free_port()))
        listed = disk.lodpub("releases", "--output", str(disk.output))

        assert decided.returncode == 0 and decided.stderr == f"Serving release {version}\n"
        assert refused.returncode == 2 and refused.stderr.startswith(
            f"lodpub: error: cannot write the pidfile {disk.output / 'lodpub.pid'} (Read-only file system): ")
        assert listed.returncode == 0 and listed.stdout.splitlines()[1].endswith("served, latest")
    finally:
        disk.close()


# --- kill -9 during a reload -------------------------------------------------------------------


@pytest.mark.served
def test_a_server_killed_during_a_reload_restarts_serving_a_complete_release(mini_server, mini_settings, tmp_path):
    add_a_fact(mini_settings)
    newer = build(mini_settings)
    old_workers = workers_of(mini_server.pid)
    reload = subprocess.Popen([sys.executable, "-m", "lodpub.cli", "reload", "--output", str(mini_settings.output_dir)],
                              cwd=CHECKOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    # Kill the master and every worker, old and new, as soon as the first new worker is booting.
    deadline = time.monotonic() + 60
    while not workers_of(mini_server.pid) - old_workers:
        assert time.monotonic() < deadline, "the server started no new worker"
        time.sleep(0.01)
    for pid in [mini_server.pid, *workers_of(mini_server.pid)]:
        os.kill(pid, signal.SIGKILL)
    _, errors = reload.communicate(timeout=120)

    assert reload.returncode == 2 and "or stopped: see its log" in errors
    with running_server(mini_settings.output_dir, tmp_path, shared=False,
                        **mini_release_settings(mini_settings)) as restarted:
        assert served_version(restarted) == newer.version
        assert_serves_intact(restarted)


# --- A dump corrupted on disk -----------------------------------------------------------------


def test_a_corrupted_dump_is_withheld_and_a_release_with_one_is_refused(mini_server: RunningServer, mini_settings,
                                                                         lodpub):
    served = served_version(mini_server)
    # The files served: the release as published under the server's base (public_release.py).
    published = next(mini_settings.output_dir.glob(f"at/*/{served}"))
    flip_a_byte(published / "partnerships.ttl")

    withheld = requests.get(mini_server + "dumps/partnerships.ttl", timeout=30)

    assert withheld.status_code == 503 and withheld.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert f"release {served}: partnerships.ttl fails its checksum" in withheld.text
    assert "not serving release " in mini_server.log.read_text()
    listing = requests.get(mini_server + "dumps/", timeout=30)
    assert listing.status_code == 200 and "partnerships.ttl.gz" in listing.text
    assert ">partnerships.ttl<" not in listing.text
    nt = requests.get(mini_server + "dumps/partnerships.nt", timeout=30)
    assert nt.status_code == 200 and "Bursa" in nt.text
    assert requests.get(mini_server + "doc/id/region/bursa", timeout=30).status_code == 200
    # A file damaged after it was checked and served is caught too: it is read anew for each request.
    flip_a_byte(published / "partnerships.nt")
    for _ in range(4):  # whichever worker answers
        changed = requests.get(mini_server + "dumps/partnerships.nt", timeout=30)
        assert changed.status_code == 503 and "partnerships.nt" in changed.text

    add_a_fact(mini_settings)
    newer = build(mini_settings)
    flip_a_byte(newer.path / "partnerships.jsonld.gz")
    refused = lodpub("reload", "--output", str(mini_settings.output_dir))

    assert refused.returncode == 3
    assert f"release {newer.version} cannot be served: partnerships.jsonld.gz fails its checksum" in refused.stderr
    assert served_version(mini_server) == served
    assert requests.get(mini_server + "doc/id/region/bursa", timeout=30).status_code == 200

    # Moving the link by hand and sending SIGHUP bypasses the check: the new workers find the
    # release's N-Quads damaged, serve the newest sound release instead, and log why.
    flip_a_byte(newer.path / "partnerships.nq")
    (mini_settings.output_dir / "served").unlink()
    (mini_settings.output_dir / "served").symlink_to(f"releases/{newer.version}")
    workers = workers_of(mini_server.pid)
    os.kill(mini_server.pid, signal.SIGHUP)
    wait_for(lambda: workers_of(mini_server.pid).isdisjoint(workers))

    assert served_version(mini_server) == served
    log = mini_server.log.read_text()
    assert f"release {newer.version} cannot be served: partnerships.nq fails its checksum" in log
    assert f"serving release {served} instead" in log


# --- the remote store stops while the public is reading -------------------------------------------


@pytest.mark.served
@pytest.mark.stores
def test_a_remote_store_stopping_mid_traffic_gives_503_with_reason_then_recovers(project_release, tmp_path):
    """Clients keep reading documents and querying while the store stops and comes back (with the
    release published again): every answer is 200 or a 503 that says why and when to retry, never a
    500 or a hang, and the service answers again without a restart."""
    from concurrent.futures import ThreadPoolExecutor

    from conftest import publish_to, running_oxigraph

    port = free_port()
    answers: list[tuple[str, int, str, str | None]] = []
    stop = False

    def read(server: str) -> None:
        while not stop:
            for path, params, accept in (("doc/id/region/bursa", None, "text/turtle"),
                                         ("sparql", {"query": "ASK { ?s ?p ?o }"}, "application/sparql-results+json")):
                response = requests.get(server + path, params=params, headers={"Accept": accept}, timeout=30)
                answers.append((time.strftime("%T"), response.status_code, response.text[:200],
                                response.headers.get("Retry-After")))

    store = running_oxigraph(tmp_path, port)
    started = store.__enter__()
    assert publish_to(started, project_release.path).returncode == 0
    with running_server(project_release.path.parent.parent, tmp_path, public_base=CANONICAL_BASE,
                        **started.settings()) as server, \
            ThreadPoolExecutor(max_workers=3) as clients:
        readers = [clients.submit(read, server) for _ in range(3)]
        deadline = time.monotonic() + 60
        while not any(status == 200 for _, status, _, _ in answers) and time.monotonic() < deadline:
            time.sleep(0.1)
        store.__exit__(None, None, None)  # the store goes away mid-traffic
        time.sleep(4)
        with running_oxigraph(tmp_path, port) as restarted:
            assert publish_to(restarted, project_release.path).returncode == 0
            time.sleep(7)  # a worker trusts what it read of the store for 5 s
            stop = True
            for reader in readers:
                reader.result()  # a timeout or connection error fails here
            recovered = requests.get(server + "doc/id/region/bursa", headers={"Accept": "text/turtle"}, timeout=30)
            assert recovered.status_code == 200 and "Bursa" in recovered.text
    statuses = [status for _, status, _, _ in answers]
    assert set(statuses) <= {200, 503}, answers
    assert 503 in statuses and statuses[-1] == 200
    assert statuses.index(200) < statuses.index(503)  # served, then the outage, then served again
    for _, status, text, retry in answers:
        if status == 503:
            assert retry and ("does not answer" in text or "lodpub publish" in text or "busy" in text), text


@pytest.mark.served
def test_a_dump_sent_from_its_file_is_withheld_once_damaged(mini_settings, tmp_path):
    """At the canonical base (behind the proxy) a dump is sent from its file, not held in memory:
    it is checked against the build's SHA-256 before every sending all the same."""
    build(mini_settings)
    canonical = proxied_to(mini_settings.base_iri)
    with running_server(mini_settings.output_dir, tmp_path, shared=False, proxy_hops="1",
                        public_base=mini_settings.base_iri, **mini_release_settings(mini_settings)) as server:
        dump = server + "dumps/partnerships.nt"
        good = requests.get(dump, headers=canonical, timeout=30)
        written = (mini_settings.output_dir / "current" / "partnerships.nt").read_bytes()
        assert good.status_code == 200 and good.content == written
        flip_a_byte(mini_settings.output_dir / "current" / "partnerships.nt")
        for _ in range(4):  # whichever worker answers
            damaged = requests.get(dump, headers=canonical, timeout=30)
            assert damaged.status_code == 503 and "partnerships.nt" in damaged.text


def test_a_damaged_dump_of_the_public_copy_is_withheld_at_every_host(mini_server: RunningServer, mini_settings):
    """The copy of the release mapped to the server's public base is checked like a release: a file
    of it damaged after it was written is withheld, whatever host asks."""
    assert requests.get(mini_server + "dumps/partnerships.nt", timeout=30).status_code == 200
    flip_a_byte(next((mini_settings.output_dir / "at").glob("*/*/partnerships.nt")))
    port = mini_server.rstrip("/").rsplit(":", 1)[1]
    for _ in range(4):  # whichever worker answers, at a host it has not served yet
        damaged = requests.get(mini_server + "dumps/partnerships.nt", headers={"Host": f"localhost:{port}"}, timeout=30)
        assert damaged.status_code == 503 and "partnerships.nt" in damaged.text
    listing = requests.get(mini_server + "dumps/manifest.json", headers={"Host": f"localhost:{port}"}, timeout=30)
    assert listing.status_code == 200 and "partnerships.nq" in listing.text


# --- A damaged manifest.json ---------------------------------------------------------------------


def _kill_workers(master: int, workers: set[int]) -> None:
    """SIGKILL `workers` of `master` and wait until gunicorn has replaced them (as a recycle does)."""
    for worker in workers:
        os.kill(worker, signal.SIGKILL)
    wait_for(lambda: len(workers_of(master) - workers) >= len(workers))


def _health_of_every_worker(base: str, requests_made: int = 50, workers: int = 2) -> list[dict]:
    """/health asked at least `requests_made` times, until `workers` workers have answered (or 20
    times as many requests). The requests go four at a time: one after another, the kernel may hand
    every connection to the same idle worker."""
    answers: list[dict] = []
    with ThreadPoolExecutor(4) as pool:
        while len(answers) < 20 * requests_made:
            answers += pool.map(lambda _: requests.get(base + "health", timeout=30).json(), range(requests_made))
            if len({health["worker_pid"] for health in answers}) >= workers:
                break
    return answers


@pytest.mark.served
def test_a_damaged_served_manifest_changes_nothing_served_and_a_reload_to_it_is_refused(
        mini_server: RunningServer, mini_settings, lodpub):
    """The running server decided on its release at start, with the manifest as it was then: workers
    that gunicorn starts after the manifest was damaged serve the same release."""
    served = served_version(mini_server)
    manifest = mini_settings.output_dir / "releases" / served / "manifest.json"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace('"version"', '"versiom"'), encoding="utf-8")

    _kill_workers(mini_server.pid, workers_of(mini_server.pid))
    refused = lodpub("reload", "--output", str(mini_settings.output_dir))

    assert refused.returncode == 3 and "Traceback" not in refused.stderr
    assert f"release {served} cannot be served: {manifest}: 'version' is missing" in refused.stderr
    assert refused.stderr.rstrip().endswith(f"release {served} is still served")
    answers = _health_of_every_worker(mini_server)
    assert {(health["status"], health["version"], health["fallback"]) for health in answers} == {("ok", served, False)}
    assert len({health["worker_pid"] for health in answers}) == 2
    assert requests.get(mini_server + "dumps/manifest.json", timeout=30).json()["version"] == served


@pytest.mark.served
def test_serve_with_the_newest_release_damaged_serves_the_newest_sound_one_and_says_why(
        mini_settings, tmp_path, lodpub):
    sound = build(mini_settings)
    add_a_fact(mini_settings)
    newest = build(mini_settings)
    flip_a_byte(newest.path / "manifest.json")

    with running_server(mini_settings.output_dir, tmp_path, shared=False,
                        **mini_release_settings(mini_settings)) as server:
        answers = _health_of_every_worker(server)
        text = requests.get(server + "health", headers={"Accept": "text/plain"}, timeout=30).text
        listing = lodpub("releases", "--output", str(mini_settings.output_dir)).stdout

    assert {(health["version"], health["chosen"], health["fallback"]) for health in answers} == \
           {(sound.version, newest.version, True)}
    assert len({health["worker_pid"] for health in answers}) == 2
    assert [refusal["version"] for refusal in answers[0]["refused"]] == [newest.version]
    assert str(newest.path / "manifest.json") in answers[0]["refused"][0]["reason"]
    assert text.startswith(f"ok {sound.version} ") and f", a fallback: release {newest.version} cannot be served: " in text
    assert f"Serving release {sound.version}, a fallback: release {newest.version} cannot be served" in \
        server.log.read_text()
    assert f"{sound.version}" in listing and "served (fallback)" in listing and "chosen, refused: " in listing


@pytest.mark.served
def test_a_server_with_no_release_left_to_serve_answers_503_saying_why_and_serves_again_after_a_reload(
        mini_server: RunningServer, mini_settings, lodpub):
    """Every worker must start, or gunicorn's master stops: with nothing to serve, it answers 503."""
    served = served_version(mini_server)
    # The data the workers load: the release as published under the server's base.
    dump = next(mini_settings.output_dir.glob(f"at/*/{served}")) / "partnerships.nq"
    written = dump.read_bytes()
    dump.write_bytes(b"")

    _kill_workers(mini_server.pid, workers_of(mini_server.pid))
    unavailable = requests.get(mini_server + "health", timeout=30)
    document = requests.get(mini_server + "doc/id/region/bursa", timeout=30)

    assert unavailable.status_code == 503 and unavailable.json()["status"] == "unavailable"
    assert f"release {served} cannot be served: partnerships.nq fails its checksum" in unavailable.json()["reason"]
    assert document.status_code == 503 and "partnerships.nq fails its checksum" in document.text
    dump.write_bytes(written)
    assert lodpub("reload", "--output", str(mini_settings.output_dir)).returncode == 0
    assert {health["status"] for health in _health_of_every_worker(mini_server, 10)} == {"ok"}


# --- 80 random byte changes of the served manifest ------------------------------------------------


def _changed_byte(data: bytes, randoms: random.Random) -> bytes:
    """`data` with one byte, at random, replaced by another value, at random."""
    changed = bytearray(data)
    at = randoms.randrange(len(changed))
    changed[at] = randoms.choice([value for value in range(256) if value != changed[at]])
    return bytes(changed)


def _probe_manifest_changes(settings, lodpub, count: int, seed: int = 16) -> dict[str, list[int]]:
    """Change one random byte of manifest.json of the served (newest) release `count` times, each
    time from the manifest as built, with a sound older release beside it. Return, for each way the
    server could fail, the changes that made it: a worker that fails to start (which stops
    gunicorn's master) with the decision recorded at start or without it, a reload that crashes or
    is not refused, a restart that refuses or serves another release than the newest sound one."""
    from lodpub.cli_serving import release_at_start
    from lodpub.store import open_store
    from lodpub.store.served_release import RECORD

    sound = build(settings)
    add_a_fact(settings)
    newest = build(settings)
    output = settings.output_dir
    assert lodpub("reload", "--output", str(output)).returncode == 0
    record = (output / RECORD).read_bytes()
    manifest = newest.path / "manifest.json"
    written, randoms = manifest.read_bytes(), random.Random(seed)
    failures: dict[str, list[int]] = {"worker": [], "worker deciding": [], "reload": [], "restart": []}
    for change in range(count):
        manifest.write_bytes(_changed_byte(written, randoms))
        if _store_version(open_store, settings) != newest.version:
            failures["worker"].append(change)
        (output / RECORD).unlink()
        if _store_version(open_store, settings) != sound.version:
            failures["worker deciding"].append(change)
        reload = lodpub("reload", "--output", str(output))
        if reload.returncode != 3 or "manifest.json" not in reload.stderr:
            failures["reload"].append(change)
        if release_at_start(argparse.Namespace(lang="en"), settings) != 0 or \
                _store_version(open_store, settings) != sound.version:
            failures["restart"].append(change)
        (output / RECORD).write_bytes(record)
    manifest.write_bytes(written)
    return failures


def _store_version(open_store, settings) -> str | None:
    """The version a worker starting now serves; None when it could not start."""
    try:
        return open_store(settings).version
    except Exception:  # noqa: BLE001 - whatever it is, the worker would not have started
        return None


@pytest.mark.served
def test_random_byte_changes_of_the_served_manifest_never_stop_the_server(mini_settings, lodpub):
    """A sample of 8 (the long tier runs 80): see _probe_manifest_changes."""
    assert _probe_manifest_changes(mini_settings, lodpub, 8) == {"worker": [], "worker deciding": [], "reload": [],
                                                                  "restart": []}


@pytest.mark.long
@pytest.mark.served
def test_80_random_byte_changes_of_the_served_manifest_never_stop_the_server(mini_settings, lodpub):
    assert _probe_manifest_changes(mini_settings, lodpub, 80, seed=80) == {
        "worker": [], "worker deciding": [], "reload": [], "restart": []}
