"""Admission to SPARQL query slots: the queue, its order, the limits per client, the express lane,
and the state shared by worker processes (real threads and forked processes, a real lock file)."""

import json
import multiprocessing
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from lodpub.web.admission import Admission, Busy, Limits, client_of


def limits(**changes) -> Limits:
    values = {"slots": 1, "per_client": 1, "queue_length": 10, "wait_seconds": 5.0, "express_slots": 0,
              "express_seconds": 1.0}
    return Limits(**(values | changes))


@pytest.fixture
def admission_of(tmp_path):
    return lambda **changes: Admission(tmp_path / "slots", limits(**changes))


def hold(admission: Admission, client: str, release: threading.Event, admitted: list, express: bool = True):
    """Take a slot for `client`, note it in `admitted`, and keep it until `release` is set."""
    with admission.slot(client, express) as lane:
        admitted.append((client, lane.express))
        release.wait(10)


def wait_for(condition, seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_free_slot_is_taken_at_once_and_given_back(admission_of):
    admission = admission_of(slots=2, per_client=2)
    with admission.slot("a") as lane:
        assert not lane.express and admission.snapshot()["running"] == 1
    assert admission.snapshot() == {"slots": 2, "running": 0, "express": 0, "waiting": 0}


def test_a_query_waits_for_a_slot_and_gets_the_next_one(admission_of):
    admission = admission_of()
    release, admitted = threading.Event(), []
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(hold, admission, "a", release, admitted)
        wait_for(lambda: admitted)
        second = pool.submit(hold, admission, "b", release, admitted)
        wait_for(lambda: admission.snapshot()["waiting"] == 1)
        release.set()
        first.result()
        second.result()
    assert [client for client, _ in admitted] == ["a", "b"]


def test_the_wait_is_bounded_and_refused_with_retry_after(admission_of):
    admission = admission_of(wait_seconds=0.3)
    release = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        holder = pool.submit(hold, admission, "a", release, [])
        wait_for(lambda: admission.snapshot()["running"] == 1)
        started = time.monotonic()
        with pytest.raises(Busy, match="within 0.3 s") as busy:
            with admission.slot("b"):
                pass
        assert 0.25 < time.monotonic() - started < 2 and busy.value.retry_after > 0
        release.set()
        holder.result()
    assert admission.snapshot()["waiting"] == 0  # the refused query left the queue


def test_no_client_holds_more_than_its_share_while_others_wait(admission_of):
    """Two slots, one per client: a's second query waits although a slot is free, b's runs at once."""
    admission = admission_of(slots=2, per_client=1)
    release, admitted = threading.Event(), []
    with ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(hold, admission, "a", release, admitted)]
        wait_for(lambda: len(admitted) == 1)
        futures.append(pool.submit(hold, admission, "a", release, admitted))
        wait_for(lambda: admission.snapshot()["waiting"] == 1)
        futures.append(pool.submit(hold, admission, "b", release, admitted))
        wait_for(lambda: len(admitted) == 2)
        assert admitted[1] == ("b", False) and admission.snapshot()["waiting"] == 1
        release.set()
        for future in futures:
            future.result()
    assert admitted[2] == ("a", False)


def test_the_client_that_used_least_goes_first(admission_of):
    """a has just used the slot for a while; b has not: when it frees, b goes first although a asked first."""
    admission = admission_of()
    with admission.slot("a"):
        time.sleep(0.3)
    release, admitted = threading.Event(), []
    with ThreadPoolExecutor(3) as pool:
        holder = pool.submit(hold, admission, "c", release, admitted)
        wait_for(lambda: len(admitted) == 1)
        later = threading.Event()
        a = pool.submit(hold, admission, "a", later, admitted)
        wait_for(lambda: admission.snapshot()["waiting"] == 1)
        b = pool.submit(hold, admission, "b", later, admitted)
        wait_for(lambda: admission.snapshot()["waiting"] == 2)
        release.set()
        wait_for(lambda: len(admitted) == 2)
        later.set()
        for future in (holder, a, b):
            future.result()
    assert [client for client, _ in admitted] == ["c", "b", "a"]


def test_a_full_queue_refuses_the_client_with_most_in_it_not_a_newcomer(admission_of):
    admission = admission_of(queue_length=3, wait_seconds=10)
    release, admitted, refused = threading.Event(), [], []

    def try_hold(client: str) -> None:
        try:
            hold(admission, client, release, admitted)
        except Busy as busy:
            refused.append((client, str(busy)))

    with ThreadPoolExecutor(6) as pool:
        futures = [pool.submit(try_hold, "flood")]
        wait_for(lambda: len(admitted) == 1)
        futures += [pool.submit(try_hold, "flood") for _ in range(3)]
        wait_for(lambda: admission.snapshot()["waiting"] == 3)
        futures.append(pool.submit(try_hold, "flood"))  # the queue is full, and this client fills it
        wait_for(lambda: len(refused) == 1)
        assert refused[0][0] == "flood" and "waiting" in refused[0][1]
        futures.append(pool.submit(try_hold, "other"))  # takes the place of flood's newest
        wait_for(lambda: len(refused) == 2)
        assert refused[1][0] == "flood" and "most queries" in refused[1][1]
        release.set()
        for future in futures:
            future.result()
    assert ("other", False) in admitted


def test_the_express_slot_runs_a_query_while_every_slot_is_taken(admission_of):
    admission = admission_of(express_slots=1, express_seconds=0.5)
    release, admitted = threading.Event(), []
    with ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(hold, admission, "a", release, admitted)]
        wait_for(lambda: len(admitted) == 1)
        futures.append(pool.submit(hold, admission, "b", release, admitted))
        wait_for(lambda: len(admitted) == 2)
        assert admitted[1] == ("b", True)
        futures.append(pool.submit(hold, admission, "c", release, admitted, False))  # no express for it
        time.sleep(0.2)
        assert admission.snapshot() == {"slots": 1, "running": 1, "express": 1, "waiting": 1}
        release.set()
        for future in futures:
            future.result()
    assert admitted[2] == ("c", False)


def test_no_slots_means_no_queries(admission_of):
    with pytest.raises(Busy, match="no query slot"):
        with admission_of(slots=0).slot("a"):
            pass


def _hold_in_a_process(directory, seconds: float, log) -> None:
    admission = Admission(directory, limits(slots=2, per_client=4, wait_seconds=30))
    with admission.slot(f"client-{os.getpid()}"):
        log.put(("in", time.monotonic()))
        time.sleep(seconds)
        log.put(("out", time.monotonic()))


def test_processes_share_the_slots_and_a_killed_one_frees_its_own(tmp_path):
    """Six processes, two slots: never more than two inside. A process killed while holding a slot
    frees it (its entry names a process that is gone)."""
    context = multiprocessing.get_context("fork")
    log = context.Queue()
    directory = tmp_path / "slots"
    processes = [context.Process(target=_hold_in_a_process, args=(directory, 0.3, log)) for _ in range(6)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(30)
    events = sorted(log.get() for _ in range(12))
    inside = most = 0
    for _, (kind, _) in sorted((moment, (kind, moment)) for kind, moment in events):
        inside += 1 if kind == "in" else -1
        most = max(most, inside)
    assert most == 2

    killed = context.Process(target=_hold_in_a_process, args=(directory, 60, log))
    killed.start()
    assert log.get(timeout=10)[0] == "in"
    os.kill(killed.pid, 9)
    killed.join()
    state = json.loads((directory / "admission.json").read_text())
    assert len(state["holders"]) == 1  # still written down ...
    admission = Admission(directory, limits(slots=1, wait_seconds=1))
    with admission.slot("next"):  # ... but a process that is gone holds nothing
        pass


def test_a_client_is_an_address_and_an_ipv6_host_its_64():
    assert client_of("192.0.2.7") == "192.0.2.7"
    assert client_of("::ffff:192.0.2.7") == "192.0.2.7"
    assert client_of("2001:db8:1:2:aaaa::1") == client_of("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert client_of("2001:db8:1:3::1") != client_of("2001:db8:1:2::1")
    assert client_of(None) == "unknown"


def test_one_client_s_queries_go_in_the_order_they_came(admission_of):
    """The client's use decays while it is compared: its own queries must still go first come, first served."""
    admission = admission_of(wait_seconds=10)
    with admission.slot("a"):
        time.sleep(0.2)  # some use, decaying from now on
    release, admitted, order = threading.Event(), [], []

    def queued(number: int) -> None:
        with admission.slot("a", express=False):
            order.append(number)

    with ThreadPoolExecutor(6) as pool:
        holder = pool.submit(hold, admission, "a", release, admitted)
        wait_for(lambda: admitted)
        futures = []
        for number in range(5):
            futures.append(pool.submit(queued, number))
            wait_for(lambda waiting=number + 1: admission.snapshot()["waiting"] == waiting)
        release.set()
        for future in (holder, *futures):
            future.result()
    assert order == [0, 1, 2, 3, 4]


def test_a_state_larger_than_a_page_and_smaller_again_stays_whole(admission_of, tmp_path):
    """The state is written over itself in place while it fits a page, and as a new file beyond:
    every step between must leave a state that reads back as what was decided."""
    admission = admission_of(slots=1, per_client=1, queue_length=200, wait_seconds=10.0)
    release, admitted = threading.Event(), []
    clients = [f"client-with-a-long-name-{number:03}-" + "x" * 40 for number in range(60)]
    with ThreadPoolExecutor(len(clients)) as pool:
        holders = [pool.submit(hold, admission, client, release, admitted) for client in clients]
        wait_for(lambda: admission.snapshot()["waiting"] == len(clients) - 1)
        written = (tmp_path / "slots" / "admission.json").read_bytes()
        assert len(written) > 4096
        assert len(json.loads(written)["waiting"]) == len(clients) - 1
        release.set()
        for holder in holders:
            holder.result(timeout=30)
    assert sorted(client for client, _ in admitted) == clients
    assert admission.snapshot() == {"slots": 1, "running": 0, "express": 0, "waiting": 0}
    state = json.loads((tmp_path / "slots" / "admission.json").read_bytes())  # spaces after it, if any, are JSON's
    assert state["holders"] == state["waiting"] == []
