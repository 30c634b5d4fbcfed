"""The store a starting server's master loads once for its first workers (store.preload)."""

import dataclasses
import os

import pytest

import lodpub.store as stores
from lodpub.store import drop_preloaded, load_inherited_cpu, open_store, preload
from lodpub.store.embedded import EmbeddedStore


@pytest.fixture
def settings(project_release, project_settings):
    yield dataclasses.replace(project_settings, output_dir=project_release.path.parent.parent,
                              public_base=project_settings.base_iri)
    drop_preloaded()


def test_the_first_open_takes_the_preloaded_store_and_the_next_loads_its_own(settings):
    preload(settings)
    preloaded = stores._preloaded
    first, second = open_store(settings), open_store(settings)

    assert isinstance(preloaded, EmbeddedStore) and first is preloaded
    assert second is not preloaded and second.version == first.version and len(second.oxigraph) == len(first.oxigraph)


def test_a_worker_forked_after_the_preload_serves_the_preloaded_store(settings):
    preload(settings)
    preloaded_id = id(stores._preloaded)
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # as gunicorn forks a worker, which opens its store as it loads the app
        os.write(writing, b"taken" if id(open_store(settings)) == preloaded_id else b"loaded")
        os._exit(0)
    os.close(writing)
    answer = os.read(reading, 16)
    os.waitpid(child, 0)
    drop_preloaded()

    assert answer == b"taken" and stores._preloaded is None


def test_a_process_that_took_the_preloaded_store_knows_what_its_load_cost_the_master(settings, monkeypatch):
    monkeypatch.setattr(stores, "_load_inherited_cpu", 0.0)
    open_store(settings)
    assert load_inherited_cpu() == 0.0  # it loaded its own: its start's CPU says what a start costs

    preload(settings)
    open_store(settings)
    assert load_inherited_cpu() == stores._preloaded_cpu > 0  # its replacement will load what the master did


def test_a_store_preloaded_for_another_release_is_not_served(settings):
    preload(settings)
    folder = stores._preloaded.release

    assert stores._take_preloaded(folder, {"version": "20990101T000000Z-00000000"}) is None
    assert stores._preloaded is None  # and not kept for a later open either


@pytest.mark.parametrize("engine", ["shared", "shared-one-copy"])
def test_nothing_is_preloaded_for_workers_that_hold_no_store_of_their_own(settings, engine):
    preload(dataclasses.replace(settings, engine=engine))

    assert stores._preloaded is None
