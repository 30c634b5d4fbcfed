"""Real servers on loopback for the tests: `lodpub serve` (gunicorn) on a release, and Oxigraph server as
a remote SPARQL store filled by `lodpub publish`. Starting one puts the test in the `served` or `stores`
tier (tiers.entering)."""

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from tiers import entering

from lodpub.namespaces import CANONICAL_BASE

CHECKOUT = Path(__file__).resolve().parent.parent


# --- The publisher running for real: gunicorn on loopback, serving the release above -----------


def proxied_to(base_iri: str) -> dict[str, str]:
    """The headers a reverse proxy serving the publisher at `base_iri` adds (LODPUB_PROXY_HOPS=1)."""
    scheme, _, host, prefix = base_iri.rstrip("/").split("/", 3)
    return {"X-Forwarded-Proto": scheme.rstrip(":"), "X-Forwarded-Host": host, "X-Forwarded-Prefix": "/" + prefix}


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, log: Path, seconds: float = 60,
                  unavailable_is_up: bool = False) -> None:
    """Poll `url` until it answers (503 counts when `unavailable_is_up`), failing early (with the
    server's log) if its process dies."""
    import time
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}: {log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError as error:
            if unavailable_is_up and error.code == 503:
                return
            time.sleep(0.2)
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"no answer from {url} within {seconds} s")


def wait_until_released(base: str, process: subprocess.Popen, log: Path, seconds: float = 120) -> None:
    """Wait until a server of a dataset it does not validate, which answers from its sources first (the
    provisional release: server/provisional_serving.py), serves their release from every worker: each
    worker of its master has said so on /health (the workers that served the provisional release go on
    answering until their replacements are ready, as at any reload)."""
    import json
    import time
    import urllib.request

    released: set[int] = set()  # the workers that answered with the release
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}: {log.read_text()}")
        with urllib.request.urlopen(base + "health", timeout=5) as answer:
            health = json.loads(answer.read())
        if not health["version"].startswith("provisional-"):
            released.add(health["worker_pid"])
            if workers_of(process.pid) <= released:
                return
        time.sleep(0.05)
    raise TimeoutError(f"{base} did not serve its release within {seconds} s: {log.read_text()}")


def wait_until_dumps_written(output: Path, seconds: float = 120) -> None:
    """Wait until the release served from the output folder `output`, and its copies, name no dump still being
    written (the server answers before its dumps are written: server/dump_completion.py). Read from the
    disk, not asked of the server: a request for a dump would have a worker check the files already."""
    import json
    import time

    def pending(manifest: Path) -> bool:
        try:
            return bool(json.loads(manifest.read_bytes()).get("pending"))
        except (OSError, ValueError, AttributeError):  # a damaged manifest, as some tests make
            return False

    served = (output / "served").resolve()  # the release the server decided on, and its copies
    deadline = time.monotonic() + seconds
    while any(pending(path) for path in [served / "manifest.json", *output.glob(f"at/*/{served.name}/manifest.json")]):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the dumps in {output} were not written within {seconds} s")
        time.sleep(0.2)


class RunningServer(str):
    """The base URL of a running server (it is a str), with its gunicorn master's pid, its log and
    its output folder."""

    pid: int
    log: Path
    output: Path


def own_output(release_output: Path, folder: Path) -> Path:
    """An output folder of its own in `folder` (so its pid file, lodpub.pid, is one server's) that
    serves the current release of `release_output`: its releases/ is a link to that one's."""
    output = folder / "dist"
    output.mkdir()
    (output / "releases").symlink_to(release_output.resolve() / "releases")
    # As the build links it: relative, to a folder of releases/ (lodpub reads the version from the link).
    (output / "current").symlink_to(Path("releases") / (release_output / "current").resolve().name)
    return output


@contextlib.contextmanager
def running_server(release_output: Path, log_dir: Path, unavailable_is_up: bool = False, shared: bool = True,
                   port: int | None = None, **settings: str) -> Iterator[RunningServer]:
    """Run `lodpub serve` (gunicorn, 2 workers) on loopback, on `port` or a free one, for the release in
    `release_output`, with LODPUB_* `settings` (e.g. SPARQL_TIMEOUT="3"); yield its base URL (its
    public base, unless PUBLIC_BASE says another).

    A `shared` output folder (the project's release, which many servers serve) is linked into a
    folder of the server's own; otherwise the server runs in `release_output` itself, as an
    operator's server does, and `lodpub reload` / `rollback` of that folder reach it."""
    entering("served", "`lodpub serve`")
    port = port or free_port()
    (log_dir / f"server-{port}").mkdir()
    output = own_output(release_output, log_dir / f"server-{port}") if shared else release_output
    environment = {name: value for name, value in os.environ.items() if not name.startswith("LODPUB_")}
    environment["LODPUB_OUTPUT_DIR"] = str(output)
    environment |= {f"LODPUB_{name.upper()}": value for name, value in settings.items()}
    log = log_dir / f"server-{port}.log"
    with open(log, "w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "lodpub.cli", "serve", "--port", str(port), "--workers", "2"],
            cwd=CHECKOUT, env=environment, stdout=log_file, stderr=subprocess.STDOUT,
        )
    base = RunningServer(f"http://127.0.0.1:{port}/")
    base.pid = process.pid
    base.log = log
    base.output = output
    try:
        wait_until_up(base + "health", process, log, unavailable_is_up=unavailable_is_up)
        wait_until_dumps_written(output)  # the tests of a served release expect all its dumps
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


# --- Remote stores: real SPARQL servers on loopback, holding the release `lodpub publish` loaded --


class RemoteStoreServer(NamedTuple):
    """A SPARQL store running on loopback: its endpoints as lodpub's settings name them, and the
    login its updates need, if any."""

    query_url: str
    update_url: str
    graph_store_url: str
    user: str = ""
    password: str = ""
    auth: str = "basic"
    public_base: str = ""  # what `holding` published the release under

    def credentials(self) -> dict[str, str]:
        """The LODPUB_* settings (without the prefix) that log in to this store: none without a user."""
        if not self.user:
            return {}
        return {"store_user": self.user, "store_password": self.password, "store_auth": self.auth}

    def settings(self) -> dict[str, str]:
        """The LODPUB_* settings (without the prefix) that make lodpub use this store."""
        return {"store": "remote", "store_query_url": self.query_url, "store_update_url": self.update_url,
                "store_graph_store_url": self.graph_store_url, **self.credentials()}


@contextlib.contextmanager
def running_oxigraph(log_dir: Path, port: int | None = None) -> Iterator[RemoteStoreServer]:
    """Oxigraph server (`pip install oxigraph`), in memory, on a loopback port."""
    entering("stores", "Oxigraph server")
    port = port or free_port()
    log = log_dir / f"oxigraph-{port}.log"
    with open(log, "w") as log_file:
        process = subprocess.Popen([shutil.which("oxigraph") or "oxigraph", "serve", "--bind", f"127.0.0.1:{port}"],
                                   stdout=log_file, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/"
    try:
        wait_until_up(base + "query?query=ASK%7B%7D", process, log)
        yield RemoteStoreServer(base + "query", base + "update", base + "store")
    finally:
        process.terminate()
        process.wait(timeout=30)


def publish_to(store: RemoteStoreServer, release: Path, public_base: str = CANONICAL_BASE) -> subprocess.CompletedProcess:
    """`lodpub publish` of `release` into `store` under `public_base` (by default the base it was
    built under: nothing is mapped), as an operator runs it: endpoints on the command line, the login
    and the base in the environment (where lodpub reads the password from). A mapped copy goes into
    the release's output folder."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("LODPUB_")}
    environment |= {f"LODPUB_{name.upper()}": value for name, value in store.credentials().items()}
    environment |= {"LODPUB_PUBLIC_BASE": public_base, "LODPUB_OUTPUT_DIR": str(release.resolve().parent.parent)}
    return subprocess.run(
        [sys.executable, "-m", "lodpub.cli", "publish", "--release", str(release), "--query-url", store.query_url,
         "--update-url", store.update_url, "--graph-store-url", store.graph_store_url],
        cwd=CHECKOUT, env=environment, capture_output=True, text=True, timeout=300)


@contextlib.contextmanager
def holding(starting: contextlib.AbstractContextManager[RemoteStoreServer],
            release: Path) -> Iterator[RemoteStoreServer]:
    """The store that `starting` runs, holding `release`, published by `lodpub publish` under the
    public base of a server on a port kept for it (`server_fed_by`)."""
    public_base = f"http://127.0.0.1:{free_port()}/"
    with starting as store:
        published = publish_to(store, release, public_base)
        assert published.returncode == 0, published.stderr
        yield store._replace(public_base=public_base)


def server_fed_by(store: RemoteStoreServer, release_output: Path, log_dir: Path,
                  **settings: str) -> contextlib.AbstractContextManager[RunningServer]:
    """`lodpub serve` on the remote `store`, on the port whose base the store's release was published under."""
    port = int(store.public_base.rstrip("/").rsplit(":", 1)[1])
    return running_server(release_output, log_dir, port=port, **settings, **store.settings())


def workers_of(master: int) -> set[int]:
    """The gunicorn workers of `master` (and the shared engine's keeper), from /proc: its children forked
    from it (the same command line), not a process it started to run another (the writing of a release's
    dumps, server/dump_completion.py, or of its documents, web/documents_ahead.py)."""
    command = _command_line(master)
    return {int(pid) for task in Path(f"/proc/{master}/task").iterdir()
            for pid in (task / "children").read_text().split() if _command_line(int(pid)) == command}


def _command_line(pid: int) -> bytes | None:
    """The command line of process `pid`, None once it is gone."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
