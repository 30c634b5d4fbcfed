"""The workers' connection counts in shared memory (server/serving/balance.py): what a worker publishes
in a forked process is what the others read, and a worker that does not accept is not counted."""

import os

from lodpub.serving.balance import EMPTY, Balanced, Shares, assign


def test_a_count_published_in_a_forked_worker_is_read_by_the_others():
    shares = Shares(slots=4)
    child = os.fork()
    if child == 0:  # the worker of slot 2
        shares.publish(2, 5)
        os._exit(0)
    assert os.waitpid(child, 0)[1] == 0
    assert shares.fewest_elsewhere(0) == 5
    assert shares.fewest_elsewhere(2) is None  # no other worker accepts


def test_the_fewest_are_those_of_the_other_accepting_workers():
    shares = Shares(slots=4)
    shares.publish(0, 1)
    shares.publish(1, 3)
    shares.publish(2, 0)
    assert shares.fewest_elsewhere(2) == 1  # its own 0 is not another's
    assert shares.fewest_elsewhere(0) == 0
    shares.publish(2, EMPTY)  # it stopped accepting (leaving, or full)
    assert shares.fewest_elsewhere(0) == 3


def test_a_loop_turn_is_seen_by_the_other_workers():
    shares = Shares(slots=3)
    before = shares.turns_elsewhere(0)
    shares.turned(0)
    assert shares.turns_elsewhere(0) == before
    shares.turned(1)
    assert shares.turns_elsewhere(0) != before


def test_a_new_worker_gets_a_free_slot_emptied_of_its_last_worker():
    shares = Shares(slots=3)
    shares.publish(1, 7)  # a worker gone, not yet emptied
    assert shares.free_slot({0}) == 1
    assert shares.fewest_elsewhere(0) is None
    assert shares.free_slot({0, 1, 2}) is None


class _Loop:
    """The part of gthread's worker that Balanced builds on: whether it accepts, and whether it runs."""

    alive = True

    def set_accept_enabled(self, enabled: bool) -> None:
        self._accepting = enabled


class _Worker(Balanced, _Loop):
    def take(self, listener) -> None:
        raise AssertionError("no listener in these tests")


def _worker(shares: Shares, slot: int) -> _Worker:
    assign(shares, slot)
    worker = _Worker()
    worker.set_accept_enabled(True)
    return worker


def test_only_connections_kept_alive_after_an_answer_are_counted():
    shares = Shares(slots=2)
    worker, other = _worker(shares, 0), _worker(shares, 1)
    held, answered_and_closing = object(), object()
    worker.hold(held)
    worker.hold(held)  # (kept alive again after its next answer: still one)
    assert shares.fewest_elsewhere(1) == 1
    worker.let_go(answered_and_closing)  # never held: nothing to take back
    assert shares.fewest_elsewhere(1) == 1
    worker.let_go(held)
    assert shares.fewest_elsewhere(1) == 0
    assert other.leaves_to_another() is False


def test_a_worker_holding_more_than_twice_the_other_and_one_leaves_the_next_connection_to_it():
    shares = Shares(slots=2)
    worker, other = _worker(shares, 0), _worker(shares, 1)
    other.hold(object())
    connections = [object() for _ in range(3)]
    for connection in connections:
        worker.hold(connection)
    assert worker.leaves_to_another() is False  # 3 is not more than 2 * 1 + 1
    worker.hold(object())
    assert worker.leaves_to_another() is True
    assert shares.fewest_elsewhere(1) is None  # while it leaves one to the other, none is left to it
