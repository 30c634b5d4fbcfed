"""The workers' connection counts in shared memory (server/serving/balance.py): what a worker publishes
in a forked process is what the others read, and a worker that does not accept is not counted."""

import os

from lodpub.serving.balance import EMPTY, Shares


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
