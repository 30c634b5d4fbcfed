"""The tiers of the test suite, and the pytest hooks that choose which of them run.

The default run holds the unit tests and the in-process web tests (create_app and Flask's test client):
it needs Python and the test extra alone. Every other test belongs to one or more tiers, which it gets
from the fixtures it uses (a fixture that puts its tests in tiers says so with `@tiered(...)` under its
`@pytest.fixture`), from the marks of a parameter (`pytest.param(..., marks=marks(...))`) or from an
explicit mark (`@pytest.mark.served` ...). A tier that is not asked for is deselected as a whole, and one line at
the end of the run says which were left out and how to run them. CI=true runs every tier.

A helper that starts a real server, browser or client calls `entering(tier, what)`: a test that is not
in that tier fails there and then, saying which mark it lacks, so no test runs in the wrong tier unseen.
"""

import os
from collections import Counter
from collections.abc import Callable
from typing import TypeVar

import pytest

TIERS = {  # tier -> what it holds and what it needs
    "served": "real servers: `lodpub serve` (gunicorn) and other subprocesses on loopback",
    "browser": "Debian's headless chromium with chromedriver, through selenium",
    "stores": "remote SPARQL stores: Oxigraph server (test extra) and Virtuoso (virtuoso-opensource)",
    "clients": "real external clients: Comunica (node), Jena (java), rapper",
    "long": "minutes-long probes (bursts, slow clients, reload loops)",
}
ENVIRONMENT = "LODPUB_TEST_TIERS"
_current: list[pytest.Item] = []

Fixture = TypeVar("Fixture", bound=Callable)


def tiered(*tiers: str) -> Callable[[Fixture], Fixture]:
    """Make the decorated fixture (put this under its @pytest.fixture) put every test that uses it, even
    through other fixtures, in `tiers`."""
    unknown = set(tiers) - set(TIERS)
    assert not unknown, f"no such tier: {unknown}"

    def register(function: Fixture) -> Fixture:
        function.tiers = frozenset(tiers)
        return function

    return register


def marks(*tiers: str) -> list[pytest.MarkDecorator]:
    """The marks of `tiers`, for a parameter: `pytest.param("oxigraph_server", marks=marks("stores"))`."""
    return [getattr(pytest.mark, tier) for tier in tiers]


def in_ci() -> bool:
    """True under CI=true, where .ci/run has installed everything and every tier runs."""
    return os.environ.get("CI", "").lower() in ("true", "1")


def chosen_tiers() -> set[str]:
    """The tiers this run asked for: all under CI=true or LODPUB_TEST_TIERS=all, else those listed in
    LODPUB_TEST_TIERS (e.g. `served,browser`), with `long` also under LODPUB_LONG_TESTS=1."""
    asked = {name.strip() for name in os.environ.get(ENVIRONMENT, "").split(",") if name.strip()}
    if in_ci() or "all" in asked:
        return set(TIERS)
    unknown = asked - set(TIERS)
    if unknown:
        raise pytest.UsageError(f"{ENVIRONMENT}: no such tier {sorted(unknown)}; the tiers are {', '.join(TIERS)}, or all")
    if os.environ.get("LODPUB_LONG_TESTS") == "1":
        asked.add("long")
    return asked


def tiers_of(item: pytest.Item) -> set[str]:
    """The tiers of a test: those of the fixtures it uses (the definitions in effect for it: a module's
    own `server` may replace conftest's) and of its marks."""
    definitions = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
    tiers = {tier for defs in definitions.values() if defs for tier in getattr(defs[-1].func, "tiers", ())}
    return tiers | {mark.name for mark in item.iter_markers() if mark.name in TIERS}


def pytest_configure(config: pytest.Config) -> None:
    """Register a marker for each tier."""
    for tier, holds in TIERS.items():
        config.addinivalue_line("markers", f"{tier}: a test in the {tier} tier ({holds}); runs with "
                                           f"{ENVIRONMENT}={tier} or all, and in CI")


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """Run in parallel (`-n auto`) when pytest-xdist is there and no `-n` was given: `-p no:xdist`
    works, since nothing asks for an option xdist alone defines."""
    if hasattr(config, "workerinput") or os.environ.get("PYTEST_XDIST_WORKER"):
        return  # an xdist worker: asking for workers here would start workers of workers, without end
    if config.pluginmanager.has_plugin("xdist") and config.getoption("numprocesses", None) is None \
            and config.getoption("dist", "no") == "no" and not config.getoption("usepdb", False):
        config.option.numprocesses = "auto"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test with its tiers and deselect those of the tiers not chosen."""
    chosen = chosen_tiers()
    kept, left_out, counts = [], [], Counter()
    for item in items:
        tiers = tiers_of(item)
        for tier in tiers:
            item.add_marker(tier)
        if tiers <= chosen:
            kept.append(item)
        else:
            left_out.append(item)
            counts.update(tiers - chosen)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept
    config.stash[_LEFT_OUT] = dict(counts)


_LEFT_OUT = pytest.StashKey[dict]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Note the test being set up, for `entering`."""
    _current[:] = [item]


def entering(tier: str, what: str) -> None:
    """Fail the current test unless it is in `tier`: it is about to start `what`."""
    if _current and tier not in tiers_of(_current[0]):
        pytest.fail(f"{_current[0].nodeid} starts {what}, so it belongs to the {tier!r} tier: mark it "
                    f"@pytest.mark.{tier} (or its fixture @tiered({tier!r}))", pytrace=False)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """On an xdist worker, hand the counts of what was left out to the controller."""
    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput["tiers_left_out"] = session.config.stash.get(_LEFT_OUT, {})


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """On the xdist controller, keep a worker's counts of what was left out (every worker collects all)."""
    node.config.stash[_LEFT_OUT] = getattr(node, "workeroutput", {}).get("tiers_left_out", {})


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """One line: the tiers left out (with their tests' counts when known) and how to run them."""
    chosen = chosen_tiers()
    if chosen == set(TIERS):
        return
    counts = config.stash.get(_LEFT_OUT, {})
    left = [f"{tier} ({counts[tier]})" if tier in counts else tier for tier in TIERS if tier not in chosen]
    terminalreporter.write_line(f"tiers left out: {', '.join(left)}; run them with {ENVIRONMENT}=all, or a list "
                                f"such as {ENVIRONMENT}=served,browser (docs/developers.md#testing)")
