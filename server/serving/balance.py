"""New connections go to the worker that holds the fewest: the workers' counts, in memory they share.

The workers wait on one listening socket. When a client connects, the kernel wakes every worker waiting
on it and the first to call accept() takes the connection, but which is first is no fair draw: a worker
that is running already, or that the kernel wakes first, wins again and again. Measured with 8 kept-alive
clients reconnecting every second (connection_max_age=1) on a loaded 2-core machine, one worker gave
ten times the answers of the other (510 against 58), and in 2 of 9 runs every client sat on one worker,
so that stopping that worker stopped them all (with either allocator: bench/README.md, "Session 21: the
stopped worker"). connection_max_age makes clients reconnect; it cannot make them spread.

So each worker publishes how many connections it holds while it accepts (EMPTY when it does not), in a
shared memory the master makes before it forks them, one slot a worker. A connection counts as held while a
thread answers its request (a query may take seconds) and once it has been answered and kept alive: it stays
with its worker meanwhile. One still waiting for its first request, one answered at once in the loop
(serving/at_once.py) and one closing after its last answer are not counted: with one request a connection (a
crawler, a client that does not keep connections) the counts of those differed at nearly every new
connection, the workers stepped aside for each other all the time, and eight clients of a C client (ab) got a
third fewer answers than with no balancing at all (bench/README.md, "Session 22: first visits"). A worker that
holds more than twice as many as another accepting worker, and one (LOPSIDED), leaves a new connection to that one: its
listener leaves its loop until the other has taken it, for DEFER seconds at most, and if the connection
is still waiting then (the other worker is stopped, or busy), it takes it itself. A connection is so never
left waiting longer than DEFER for a worker that cannot take it, and once one was, not again until the
other worker's loop has turned since (each worker counts its loop's turns beside its connections): a
stopped worker costs one DEFER, not one for every new connection.
"""

import mmap
import select
import time

SLOTS = 16  # workers that may publish at once, old and new during a reload (more run unbalanced)
EMPTY = -1  # a slot of no worker, or of one that does not accept
# How long a worker leaves a new connection to a worker that holds fewer: the other's wake-up and
# accept() take well under a millisecond on a quiet machine, but up to tens of milliseconds on a loaded
# one (beside busy loops, at load 12, 10 ms was not always enough). A client waits this long only when
# the lighter worker cannot take it (stopped, stuck).
DEFER = 0.03
# How often a worker that leaves a connection to another looks whether it was taken: while it does, the
# others see it as not accepting (were two to leave connections to each other, a burst of new connections
# would be taken at one per DEFER), so it must not stay so after the connection is gone.
GLANCE = 0.002
# A worker leaves new connections to another only when it holds more than LOPSIDED times as many, and one:
# with short connections (one a request) the counts differ at every moment, and stepping aside at every
# difference cost 16 clients up to a third of their answers; the race is left to the kernel until it is lopsided.
LOPSIDED = 2


class Shares:
    """Per slot a count of connections and one of loop turns, in anonymous shared memory: made in the
    master, inherited by every fork."""

    def __init__(self, slots: int = SLOTS) -> None:
        self._memory = mmap.mmap(-1, 8 * slots)
        self._counts = memoryview(self._memory).cast("i")[:slots]
        self._turns = memoryview(self._memory).cast("i")[slots:]
        for slot in range(slots):
            self._counts[slot] = EMPTY

    def publish(self, slot: int, count: int) -> None:
        """Say that the worker of `slot` holds `count` connections (EMPTY: it does not accept)."""
        self._counts[slot] = count

    def turned(self, slot: int) -> None:
        """Say that the loop of the worker of `slot` turned once more."""
        self._turns[slot] = (self._turns[slot] + 1) % 2**31

    def turns_elsewhere(self, slot: int) -> tuple[int, ...]:
        """The loop turns of every slot but `slot`, as they are now."""
        return tuple(turns for other, turns in enumerate(self._turns) if other != slot)

    def fewest_elsewhere(self, slot: int) -> int | None:
        """The fewest connections an accepting worker other than `slot`'s holds; None when there is none."""
        return min((count for other, count in enumerate(self._counts) if other != slot and count != EMPTY),
                   default=None)

    def free_slot(self, taken: set[int]) -> int | None:
        """A slot none of `taken` is, emptied for a new worker; None when all are taken."""
        slot = next((slot for slot in range(len(self._counts)) if slot not in taken), None)
        if slot is not None:
            self.publish(slot, EMPTY)
        return slot


# The shares and slot of the worker being made: set by the master just before it makes the worker object.
_assigned: tuple[Shares, int] | None = None


def assign(shares: Shares | None, slot: int | None) -> None:
    """Give the next worker made in this process `slot` of `shares` (None: it runs unbalanced)."""
    global _assigned
    _assigned = (shares, slot) if shares is not None and slot is not None else None


class Balanced:
    """The worker's part (serving/worker.py's LoopWorker, a gthread worker): the connections it holds
    counted with `hold` and `let_go` and published, and `leaves_to_another()` asked before it takes a new
    connection with `take()`."""

    def __init__(self, *args, **kwargs) -> None:
        self._shares, self._slot = _assigned or (None, None)
        self._held: set[object] = set()  # the connections held (see the module's docstring)
        self._accepting = False
        self.deferred_until: float | None = None
        self._unanswered: tuple[int, ...] | None = None  # the others' loop turns when they last let one wait
        super().__init__(*args, **kwargs)

    def hold(self, connection: object) -> None:
        """Count `connection` as held: a thread answers its request, or it was answered and is kept alive."""
        if connection not in self._held:
            self._held.add(connection)
            self._publish()

    def let_go(self, connection: object) -> None:
        """No longer count `connection` (it closes); nothing when it was not held."""
        if connection in self._held:
            self._held.discard(connection)
            self._publish()

    def _publish(self) -> None:
        # A worker leaving a connection to another is not one to leave connections to: were both to wait
        # for the other, a burst of new connections would be taken at one per DEFER.
        if self._shares is not None:
            self._shares.publish(self._slot, len(self._held) if self._accepting and self.alive else EMPTY)

    def set_accept_enabled(self, enabled: bool) -> None:
        """gthread's, but the listener stays out of the loop while a new connection is left to another."""
        if enabled and self.deferred_until is not None:
            return
        super().set_accept_enabled(enabled)
        self._publish()

    def leaves_to_another(self) -> bool:
        """True when another accepting worker holds far fewer connections (LOPSIDED): the new connection is
        left to it for DEFER seconds at most (see the module's docstring)."""
        if self._shares is None:
            return False
        if self._shares.turns_elsewhere(self._slot) == self._unanswered:
            return False  # (no other loop has turned since they let one wait: stopped, or stuck)
        self._unanswered = None
        fewest = self._shares.fewest_elsewhere(self._slot)
        if fewest is None or len(self._held) <= LOPSIDED * fewest + 1:
            return False
        self.deferred_until = time.monotonic() + DEFER
        self.set_accept_enabled(False)
        return True

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        """gthread's, looking every GLANCE seconds during a deferral whether the other worker took the
        connection (then this one accepts again at once) and taking it itself once the deferral ends."""
        if self.deferred_until is not None:
            timeout = min(timeout, GLANCE, max(0.0, self.deferred_until - time.monotonic()))
        super().wait_for_and_dispatch_events(timeout)
        if self._shares is not None:
            self._shares.turned(self._slot)
        if self.deferred_until is not None:
            self._end_deferral()

    def _end_deferral(self) -> None:
        waiting = [listener for listener in self.sockets if _readable(listener)]
        if waiting and time.monotonic() < self.deferred_until:
            return
        self.deferred_until = None
        before = self.nr_conns
        for listener in waiting:
            self.take(listener)  # (nothing when the other worker took it meanwhile)
        if self.nr_conns > before:  # it waited: until another loop turns, take new connections at once
            self._unanswered = self._shares.turns_elsewhere(self._slot)
        self.set_accept_enabled(self.nr_conns < self.worker_connections)

    def take(self, listener) -> None:
        """Take a new connection waiting on `listener`, if there is one (the worker's)."""
        raise NotImplementedError


def _readable(listener) -> bool:
    """True when a new connection waits on `listener`."""
    return bool(select.select([listener], [], [], 0)[0])
