"""Shared fixtures: a private copy of the mini dataset, settings pointing at it, and the CLI."""

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from browser import CHROMEDRIVER, CHROMIUM, chromium
from in_process import HTTP, Site, mounted
from served import (  # noqa: F401 - also imported from here by the tests
    CHECKOUT,
    RemoteStoreServer,
    RunningServer,
    free_port,
    holding,
    proxied_to,
    publish_to,
    running_oxigraph,
    running_server,
    server_fed_by,
    wait_until_released,
    wait_until_up,
)
from tiers import (  # noqa: F401 - the hooks that mark, choose and report the tiers
    entering,
    in_ci,
    marks,
    pytest_cmdline_main,
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_runtest_setup,
    pytest_sessionfinish,
    pytest_terminal_summary,
    pytest_testnodedown,
    tiered,
)

from lodpub.config import Settings, load_settings

MINI = Path(__file__).resolve().parent / "fixtures" / "mini"


def require(available: bool, what: str) -> None:
    """Skip the test, saying what to install (`what`), when a system tool it needs is missing; in CI
    (CI=true, where .ci/run installs everything) fail instead, so that nothing is skipped there."""
    if available:
        return
    if in_ci():
        pytest.fail(f"missing in CI: {what}")
    pytest.skip(f"needs {what}")


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


@pytest.fixture(scope="session")
def shared_engine_app(project_release, project_settings: Settings):
    """`app`, with the release held by the shared engine (settings.engine), which this process starts."""
    import dataclasses

    from lodpub import create_app

    return create_app(dataclasses.replace(project_settings, output_dir=project_release.path.parent.parent,
                                          public_base=project_settings.base_iri, engine="shared"))


@pytest.fixture(scope="module")
def in_process_shared_engine(in_process, shared_engine_app, project_settings: Settings) -> Iterator[Site]:
    """`in_process` on the shared engine: mounted in its place for the tests of a module that asks for it."""
    with mounted(shared_engine_app, project_settings.base_iri) as session:
        yield Site(project_settings.base_iri, session)


@pytest.fixture
def client(app):
    """Flask's test client of `app`: a request goes through the whole app, without a socket."""
    return app.test_client()


@pytest.fixture(scope="session")
def in_process(app, project_settings: Settings) -> Iterator[Site]:
    """The publisher in process: `app` at the release's canonical base (so no link is moved to another
    host), with `.http`, the tests' requests session (in_process.HTTP), which answers requests under that
    base from `app` and sends any other (a real server's) over HTTP."""
    with mounted(app, project_settings.base_iri) as session:
        yield Site(project_settings.base_iri, session)


@pytest.fixture(scope="session")
def web(in_process: Site):
    """The requests session of `in_process`: `web.get(base + path, ...)` fits it and a real server alike."""
    return in_process.http


@pytest.fixture(scope="module")
@tiered("browser")
def browser(tmp_path_factory: pytest.TempPathFactory):
    """Debian's headless chromium (tests/browser.py), one for each test module."""
    require(CHROMIUM.exists() and CHROMEDRIVER.exists(), "Debian's chromium and chromium-driver (.ci/run installs them)")
    yield from chromium(tmp_path_factory.mktemp("chromium"))


@pytest.fixture(scope="session")
@tiered("served")
def embedded_server(project_release, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """`lodpub serve` on loopback, serving the project's release with the default settings."""
    with running_server(project_release.path.parent.parent, tmp_path_factory.mktemp("server")) as base:
        yield base


@pytest.fixture(scope="session")
@tiered("served")
def shared_engine_server(project_release, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """`embedded_server`, with the release held by one engine for the server (LODPUB_ENGINE=shared)."""
    with running_server(project_release.path.parent.parent, tmp_path_factory.mktemp("server"), engine="shared") as base:
        yield base


@pytest.fixture(scope="session")
def server(embedded_server: RunningServer) -> RunningServer:
    """The publisher on its default, embedded store (see `server_on_every_store` for the others)."""
    return embedded_server


@pytest.fixture(scope="session")
@tiered("stores")
def oxigraph_store(project_release, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RemoteStoreServer]:
    """Oxigraph server holding the project's release."""
    with holding(running_oxigraph(tmp_path_factory.mktemp("oxigraph")), project_release.path) as store:
        yield store


@pytest.fixture(scope="session")
@tiered("served", "stores")
def oxigraph_server(project_release, oxigraph_store, tmp_path_factory) -> Iterator[RunningServer]:
    """`lodpub serve` on the remote store `oxigraph_store`."""
    with server_fed_by(oxigraph_store, project_release.path.parent.parent,
                       tmp_path_factory.mktemp("server-oxigraph")) as base:
        yield base


@pytest.fixture(scope="session")
@tiered("stores")
def virtuoso_store(project_release, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RemoteStoreServer]:
    """Virtuoso open source holding the project's release."""
    from virtuoso import running_virtuoso  # imports this module: not at the top

    with holding(running_virtuoso(tmp_path_factory.mktemp("virtuoso")), project_release.path) as store:
        yield store


@pytest.fixture(scope="session")
@tiered("served", "stores")
def virtuoso_server(project_release, virtuoso_store, tmp_path_factory) -> Iterator[RunningServer]:
    """`lodpub serve` on the remote store `virtuoso_store`. Virtuoso builds the LKOD validator's record
    (a CONSTRUCT whose OPTIONALs multiply its rows) in about 14 s, so queries get a minute."""
    with server_fed_by(virtuoso_store, project_release.path.parent.parent, tmp_path_factory.mktemp("server-virtuoso"),
                       sparql_timeout="60", store_timeout="60") as base:
        yield base


# The stores every server-level test runs on (a module opts in by using `server_on_every_store`), and
# the same with the app in process on the embedded store, for tests that send their requests through `web`.
REMOTE = [pytest.param(name, marks=marks("served", "stores")) for name in ("oxigraph_server", "virtuoso_server")]
STORES = [pytest.param("embedded_server", marks=marks("served")),
          pytest.param("shared_engine_server", marks=marks("served")), *REMOTE]
SITES = ["in_process", "in_process_shared_engine", *REMOTE]


@pytest.fixture(scope="module", params=STORES)
def server_on_every_store(request: pytest.FixtureRequest) -> RunningServer:
    """The publisher on each store in turn: the tests of a module that asks for it run once per store."""
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="module", params=SITES)
def site_on_every_store(request: pytest.FixtureRequest) -> Iterator[Site]:
    """The publisher on each store in turn, as a Site (`site.http.get(site + path)`): in process on the
    embedded store; the remote stores' real servers are in the `stores` tier."""
    site = request.getfixturevalue(request.param)
    if isinstance(site, Site):
        yield site
        return
    yield Site(site, HTTP)


# The home page in pages (tests/test_web_pages.py, tests/test_web_accessibility.py): PAGE_SIZE a page.
PAGE_SIZE = 10


@pytest.fixture(scope="session")
@tiered("served")
def paged_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """`lodpub serve` (LODPUB_PAGE_SIZE=PAGE_SIZE) on 30 agreements made by bench/generate.py."""
    folder = tmp_path_factory.mktemp("paged")
    release = generated_release(folder, 30)
    with running_server(release.path.parent.parent, folder, shared=False, data_dir=str(folder / "data"),
                        page_size=str(PAGE_SIZE)) as base:
        yield base


# --- Releases: a server on the mini dataset, whose releases a test builds and switches ----------


def mini_release_settings(settings: Settings) -> dict[str, str]:
    """The LODPUB_* settings (without the prefix) of `running_server` that serve `settings`' data."""
    return {"ontology_dir": str(settings.ontology_dir), "data_dir": str(settings.data_dir),
            "shapes_dir": str(settings.shapes_dir)}


@pytest.fixture
@tiered("served")
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
