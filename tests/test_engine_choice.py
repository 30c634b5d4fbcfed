"""The engine the server chooses by itself (settings.engine = "auto"; store/engine_choice.py): per-worker
where a copy per worker and per query slot fits, one engine with one copy where it would not or where
per-worker would serve from disk."""

import dataclasses
import shutil

import pytest
import requests
from served import workers_of
from tiers import tiered

from lodpub import create_app
from lodpub.config import Settings
from lodpub.store import open_store
from lodpub.store.embedded import EmbeddedStore
from lodpub.store.engine_choice import (
    BYTES_PER_TRIPLE,
    JEMALLOC_BYTES_PER_TRIPLE,
    available_memory,
    choose,
    decided_settings,
    remembered,
    with_engine_chosen,
)
from lodpub.store.engine_store import EngineStore, stop_engine_of
from tests.conftest import running_server
from tests.test_serving_engine import engines

GB = 2**30
DEFAULTS = Settings()  # 2 workers, 4 slots and an express slot: 7 copies per-worker; 2 M triples in memory


def test_a_release_whose_copies_fit_is_served_per_worker():
    choice = choose(150_000, DEFAULTS, 8 * GB)

    assert choice.engine == "per-worker" and choice.memory_store_max_triples == 2_000_000
    assert "7 copies (2 workers and 5 query slots)" in choice.reason and "8.0 GB available" in choice.reason


def test_a_release_beyond_the_memory_limit_is_held_once_in_memory_by_one_engine():
    choice = choose(14_271_867, DEFAULTS, 22 * GB)

    assert choice.engine == "shared-one-copy"
    assert choice.memory_store_max_triples == 14_271_867  # in memory, not on disk
    assert "per-worker would serve from disk" in choice.reason


def test_copies_that_would_not_fit_the_memory_make_one_engine_even_within_the_limit():
    triples = 1_500_000  # 7 copies: about 4.2 GB; one: about 0.9 GB
    fits_one = 2 * GB

    assert choose(triples, DEFAULTS, 7 * triples * BYTES_PER_TRIPLE + GB).engine == "per-worker"
    choice = choose(triples, DEFAULTS, fits_one)
    assert choice.engine == "shared-one-copy" and choice.memory_store_max_triples == DEFAULTS.memory_store_max_triples
    assert "more than the 2.0 GB available" in choice.reason


def test_a_copy_counts_more_where_the_server_runs_with_jemalloc():
    triples = 1_500_000
    memory = 7 * triples * BYTES_PER_TRIPLE + GB // 2  # 7 copies fit as malloc lays them out, not as jemalloc does

    assert choose(triples, DEFAULTS, memory, "system").engine == "per-worker"
    assert 7 * triples * JEMALLOC_BYTES_PER_TRIPLE > memory
    assert choose(triples, DEFAULTS, memory, "jemalloc").engine == "shared-one-copy"


def test_more_workers_and_slots_are_more_copies():
    triples, memory = 1_000_000, 4 * GB  # 7 copies fit (3 GB), 12 do not

    assert choose(triples, DEFAULTS, memory).engine == "per-worker"
    assert choose(triples, dataclasses.replace(DEFAULTS, workers=4, sparql_slots=7), memory).engine == "shared-one-copy"


def test_where_not_even_one_copy_fits_or_memory_is_unknown_per_worker_stays():
    too_large = choose(14_271_867, DEFAULTS, 4 * GB)
    assert too_large.engine == "per-worker" and too_large.memory_store_max_triples == 2_000_000  # on disk
    assert "would not fit either" in too_large.reason
    always_on_disk = choose(14_271_867, dataclasses.replace(DEFAULTS, memory_store_max_triples=0), 64 * GB)
    assert always_on_disk.engine == "per-worker" and always_on_disk.memory_store_max_triples == 0
    unknown = choose(14_271_867, DEFAULTS, None)
    assert unknown.engine == "per-worker" and "unknown" in unknown.reason


def test_the_machine_says_how_much_memory_is_available():
    available = available_memory()

    assert available is not None and 0 < available < 2**50


def test_explicit_engines_are_kept():
    for engine in ("per-worker", "shared", "shared-one-copy"):
        settings = dataclasses.replace(DEFAULTS, engine=engine)
        assert with_engine_chosen(settings, {"version": "v", "triples": 10**9}) is settings


def test_a_choice_is_made_once_per_release_and_settings():
    settings = dataclasses.replace(DEFAULTS, memory_store_max_triples=1234)  # settings no other test uses
    first = with_engine_chosen(settings, {"version": "20990101T000000Z-choice", "triples": 5000})
    again = with_engine_chosen(settings, {"version": "20990101T000000Z-choice", "triples": 5000})

    assert first.engine == again.engine == "shared-one-copy" and first.memory_store_max_triples == 5000
    assert remembered("20990101T000000Z-choice", settings).engine == "shared-one-copy"
    assert remembered("20990101T000000Z-choice", DEFAULTS) is None


@pytest.fixture
def served_settings(project_release, project_settings):
    return dataclasses.replace(project_settings, output_dir=project_release.path.parent.parent,
                               public_base=project_settings.base_iri)


def test_a_small_release_is_opened_per_worker_and_health_says_why(served_settings):
    assert served_settings.engine == "auto"
    assert decided_settings(served_settings).engine == "per-worker"
    assert isinstance(open_store(served_settings), EmbeddedStore)
    health = create_app(served_settings).test_client().get("/health").json

    assert health["engine"] == "per-worker" and health["engine_chosen"].startswith("auto: ")
    assert "7 copies" in health["engine_chosen"]


def test_a_release_beyond_the_limit_is_served_by_one_engine_that_holds_it_in_memory(served_settings, tmp_path):
    output = tmp_path / "dist"  # an engine of its own (the project's release has one for other tests), stopped below
    shutil.copytree(served_settings.output_dir, output, symlinks=True, ignore=shutil.ignore_patterns("search-index"))
    settings = dataclasses.replace(served_settings, memory_store_max_triples=1000, output_dir=output)
    store = open_store(settings)
    try:
        assert isinstance(store, EngineStore)
        assert store.engine.run((_on_disk,), 30) is False  # the engine holds it in memory, beyond the limit
        client = create_app(settings).test_client()
        health = client.get("/health").json
        answer = client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"},
                            headers={"Accept": "application/sparql-results+json"})
    finally:
        stop_engine_of(store.release)

    assert health["engine"] == "shared-one-copy" and "per-worker would serve from disk" in health["engine_chosen"]
    assert answer.status_code == 200 and answer.json["boolean"] is True


def _on_disk(store) -> bool:
    """In the engine: whether its store is on disk."""
    return store.on_disk


@pytest.mark.served
@tiered("served")
def test_a_server_started_says_which_engine_it_chose_and_serves_on_it(project_release, tmp_path):
    with running_server(project_release.path.parent.parent, tmp_path, memory_store_max_triples="1000") as base:
        health = requests.get(base + "health", timeout=30).json()
        keepers = engines(base.pid)
        workers = workers_of(base.pid)
        log = base.log.read_text()

    assert "engine auto: shared-one-copy" in log and "per-worker would serve from disk" in log
    assert health["engine"] == "shared-one-copy"
    assert len(keepers) == 1 and len(workers - set(keepers)) == 2
