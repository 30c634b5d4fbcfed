"""Shared fixtures: a private copy of the mini dataset, settings pointing at it, and the CLI."""

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from lodpub.config import Settings, load_settings
from lodpub.namespaces import CANONICAL_BASE

CHECKOUT = Path(__file__).resolve().parent.parent
MINI = Path(__file__).resolve().parent / "fixtures" / "mini"


def require(available: bool, what: str) -> None:
    """Skip the test, saying what to install (`what`), when a system tool it needs is missing; in CI
    (CI=true, where .ci/run installs everything) fail instead, so that nothing is skipped there."""
    if available:
        return
    if in_ci():
        pytest.fail(f"missing in CI: {what}")
    pytest.skip(f"needs {what}")


def in_ci() -> bool:
    """True under CI=true, where .ci/run has installed everything and every tier runs."""
    return os.environ.get("CI", "").lower() in ("true", "1")


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    """With pytest-xdist disabled (`-p no:xdist`), accept the `-n auto` of pyproject's addopts, so
    the tests run in this one process instead of pytest refusing the option."""
    if not pluginmanager.has_plugin("xdist"):
        # pytest reserves lowercase short options for itself and plugins; xdist adds its `-n` the
        # same way, through the group's _addoption.
        group = parser.getgroup("xdist")
        group._addoption("-n", "--numprocesses", dest="numprocesses", default=None,
                         help="the number of processes, for pytest-xdist; ignored while it is disabled")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "long: a probe that runs for minutes (bursts, slow clients, reload loops); it runs in CI "
                   "and with LODPUB_LONG_TESTS=1, and is skipped elsewhere")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the long tier outside CI unless LODPUB_LONG_TESTS=1 asks for it."""
    if in_ci() or os.environ.get("LODPUB_LONG_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="a long probe: runs in CI, or with LODPUB_LONG_TESTS=1")
    for item in items:
        if "long" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _no_lodpub_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's LODPUB_* variables out of the tests."""
    for name in list(os.environ):
        if name.startswith("LODPUB_"):
            monkeypatch.delenv(name)


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    """A copy of tests/fixtures/mini that the test may edit."""
    return shutil.copytree(MINI, tmp_path / "mini")


@pytest.fixture
def mini_settings(mini: Path, tmp_path: Path) -> Settings:
    """Settings for the mini copy, with releases going to tmp_path/dist."""
    return load_settings(
        ontology_dir=mini / "ontology",
        data_dir=mini / "data",
        shapes_dir=mini / "shapes",
        output_dir=tmp_path / "dist",
    )


@pytest.fixture
def mini_options(mini_settings: Settings) -> list[str]:
    """The command-line options that select the mini copy."""
    return [
        "--ontology", str(mini_settings.ontology_dir),
        "--data", str(mini_settings.data_dir),
        "--shapes", str(mini_settings.shapes_dir),
    ]


@pytest.fixture
def run_lodpub() -> Callable[..., subprocess.CompletedProcess]:
    """Run `python -m lodpub.cli ARGS...` as a real process; extra keyword arguments are env vars."""

    def run(*args: str, **env: str) -> subprocess.CompletedProcess:
        environment = {name: value for name, value in os.environ.items() if not name.startswith("LODPUB_")}
        return subprocess.run(
            [sys.executable, "-m", "lodpub.cli", *args],
            cwd=CHECKOUT,
            env=environment | env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    return run


# --- The project's own dataset, loaded and built once per test session -----------------------


@pytest.fixture(scope="session")
def project_settings() -> Settings:
    """Settings for the checkout's ontology/, data/ and shapes/, ignoring any LODPUB_* variables."""
    return Settings()


@pytest.fixture(scope="session")
def project_dataset(project_settings: Settings):
    """The project's dataset as loaded from its files (do not modify: copy its union instead)."""
    from lodpub.dataset import load_dataset

    return load_dataset(project_settings)


@pytest.fixture(scope="session")
def project_shapes(project_settings: Settings):
    """The project's SHACL shapes."""
    from lodpub.validate import load_shapes

    return load_shapes(project_settings)


@pytest.fixture(scope="session")
def project_release(project_settings: Settings, tmp_path_factory: pytest.TempPathFactory):
    """A release of the project's dataset built into a temporary output folder."""
    import dataclasses

    from lodpub.build import build

    output = tmp_path_factory.mktemp("dist")
    return build(dataclasses.replace(project_settings, output_dir=output))


def generated_release(folder: Path, agreements: int, seed: int = 7):
    """The release of bench/generate.py's data of `agreements` agreements (in `folder`/data), built
    into `folder`/dist: a dataset larger than the project's, of the same shape."""
    subprocess.run([sys.executable, str(CHECKOUT / "bench" / "generate.py"), "--agreements", str(agreements),
                    "--seed", str(seed), "--out", str(folder / "data")], check=True, capture_output=True, timeout=120)
    from lodpub.build import build  # (as the fixtures above: only when a test needs it)

    return build(load_settings(data_dir=folder / "data", output_dir=folder / "dist"))


@pytest.fixture(scope="session")
def built_graph(project_release):
    """The union graph as published: parsed back from the release's N-Quads dump."""
    from rdflib import Dataset, Graph

    dataset = Dataset()
    dataset.parse(project_release.path / "partnerships.nq", format="nquads")
    union = Graph()
    for graph in dataset.graphs():
        union += graph
    return union


# --- The publisher in process: the app factory and Flask's test client ---------------------------


@pytest.fixture(scope="session")
def app(project_release, project_settings: Settings):
    """The publisher's WSGI app serving the project's release, in this process, under the canonical
    base (the release's own: nothing is mapped)."""
    import dataclasses

    from lodpub import create_app

    return create_app(dataclasses.replace(project_settings, output_dir=project_release.path.parent.parent,
                                          public_base=project_settings.base_iri))


@pytest.fixture
def client(app):
    """Flask's test client of `app`: a request goes through the whole app, without a socket."""
    return app.test_client()


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
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="session")
def embedded_server(project_release, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """`lodpub serve` on loopback, serving the project's release with the default settings."""
    with running_server(project_release.path.parent.parent, tmp_path_factory.mktemp("server")) as base:
        yield base


@pytest.fixture(scope="session")
def server(embedded_server: RunningServer) -> RunningServer:
    """The publisher on its default, embedded store (see `server_on_every_store` for the others)."""
    return embedded_server


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


@pytest.fixture(scope="session")
def oxigraph_store(project_release, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RemoteStoreServer]:
    """Oxigraph server holding the project's release."""
    with holding(running_oxigraph(tmp_path_factory.mktemp("oxigraph")), project_release.path) as store:
        yield store


@pytest.fixture(scope="session")
def oxigraph_server(project_release, oxigraph_store, tmp_path_factory) -> Iterator[RunningServer]:
    """`lodpub serve` on the remote store `oxigraph_store`."""
    with server_fed_by(oxigraph_store, project_release.path.parent.parent,
                       tmp_path_factory.mktemp("server-oxigraph")) as base:
        yield base


@pytest.fixture(scope="session")
def virtuoso_store(project_release, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RemoteStoreServer]:
    """Virtuoso open source holding the project's release."""
    from virtuoso import running_virtuoso  # imports this module: not at the top

    with holding(running_virtuoso(tmp_path_factory.mktemp("virtuoso")), project_release.path) as store:
        yield store


@pytest.fixture(scope="session")
def virtuoso_server(project_release, virtuoso_store, tmp_path_factory) -> Iterator[RunningServer]:
    """`lodpub serve` on the remote store `virtuoso_store`. Virtuoso builds the LKOD validator's record
    (a CONSTRUCT whose OPTIONALs multiply its rows) in about 14 s, so queries get a minute."""
    with server_fed_by(virtuoso_store, project_release.path.parent.parent, tmp_path_factory.mktemp("server-virtuoso"),
                       sparql_timeout="60", store_timeout="60") as base:
        yield base


# The stores every server-level test runs on (a module opts in by using `server_on_every_store`).
STORES = ["embedded_server", "oxigraph_server", "virtuoso_server"]


@pytest.fixture(scope="module", params=STORES)
def server_on_every_store(request: pytest.FixtureRequest) -> RunningServer:
    """The publisher on each store in turn: the tests of a module that asks for it run once per store."""
    return request.getfixturevalue(request.param)


# --- Releases: a server on the mini dataset, whose releases a test builds and switches ----------


def mini_release_settings(settings: Settings) -> dict[str, str]:
    """The LODPUB_* settings (without the prefix) of `running_server` that serve `settings`' data."""
    return {"ontology_dir": str(settings.ontology_dir), "data_dir": str(settings.data_dir),
            "shapes_dir": str(settings.shapes_dir)}


@pytest.fixture
def mini_server(mini_settings: Settings, tmp_path: Path) -> Iterator[RunningServer]:
    """`lodpub serve` (gunicorn, 2 workers) on loopback, serving a first release of the mini copy
    built into mini_settings.output_dir; the test may build, reload, roll back and break releases."""
    from lodpub.build import build

    build(mini_settings)
    with running_server(mini_settings.output_dir, tmp_path, shared=False, **mini_release_settings(mini_settings)) as base:
        yield base


@pytest.fixture
def lodpub(capsys: pytest.CaptureFixture) -> Callable[..., subprocess.CompletedProcess]:
    """Run the `lodpub` command line in this process: its exit code and output, as from a process."""
    from lodpub.cli import main

    def run(*args: str) -> subprocess.CompletedProcess:
        code = main(list(args))
        output = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, output.out, output.err)

    return run
