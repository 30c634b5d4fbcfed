"""The master process: gunicorn's arbiter, replacing workers without a gap in serving.

gunicorn replaces workers by stopping the old ones as the new ones start (on SIGHUP: `lodpub reload`,
`rollback`), or, at max_requests, by letting the old one leave before its successor is forked: in both
cases nobody answers while the new workers load the release. And when a new worker fails to boot (exit
code 3 or 4), gunicorn stops the whole server, though the old workers could have gone on serving.

Here an old worker goes only once a new one is ready (it has loaded the app: serving/readiness.py):
on SIGHUP every worker is marked outgoing and replaced one by one; a worker that has served its
max_requests asks to be replaced and serves on until its successor is ready. A worker that fails to
boot is logged and tried again later (1 s, 2 s, 4 s ... up to a minute), while the old workers keep
serving; only when no worker has ever become ready (a first start that cannot load anything) does
the master give up, as gunicorn does.
"""

import signal
import time

from gunicorn.arbiter import Arbiter
from gunicorn.errors import HaltServer

from . import balance, readiness

MAX_BOOT_RETRY_SECONDS = 60.0


class RollingArbiter(Arbiter):
    """gunicorn's master, with the replacement policy of this module's docstring."""

    def __init__(self, app) -> None:
        self.outgoing: set[int] = set()  # to be stopped once enough new workers are ready
        self.stopping: set[int] = set()  # sent SIGTERM, not gone yet
        self.ready: set[int] = set()
        self.ever_ready = False
        self.boot_failures = 0
        self.next_spawn = 0.0
        self.reloading = False
        self.shares = balance.Shares()  # made before any fork, so that every worker shares it
        self.slots: dict[int, int] = {}  # each worker's slot in the shares
        super().__init__(app)

    # --- SIGHUP -------------------------------------------------------------------------------

    def reload(self) -> None:
        """Reload the configuration as gunicorn does, then replace the workers one by one."""
        # gunicorn's reload() would also fork a new set of workers, stop the old at once and hold
        # the master until they are gone: it is run seeing no workers, and spawns none.
        workers, self.WORKERS = self.WORKERS, {}
        self.reloading = True
        try:
            super().reload()
        finally:
            self.reloading = False
            self.WORKERS = workers
        self._call_app("before_workers")  # (the shared engine of the release now decided: wsgi.py)
        replaced = set(workers) - self.stopping
        self.outgoing |= replaced
        self.log.info("Replacing %s workers, each once a new one is ready", len(replaced))
        self.manage_workers()

    def spawn_worker(self):
        """Fork a worker, with a slot of its own in the shares (not while gunicorn's reload() runs: see reload())."""
        if self.reloading:
            return None
        slot = self.shares.free_slot(set(self.slots.values()))
        balance.assign(self.shares, slot)
        pid = super().spawn_worker()
        if slot is not None:
            self.slots[pid] = slot
        return pid

    # --- the workers kept -----------------------------------------------------------------------

    def manage_workers(self) -> None:
        """Start the workers missing, and stop the old ones that ready new ones replace."""
        if self.reloading:
            return
        self._read_marks()
        self._spawn_missing()
        self._stop_replaced()
        if not self.outgoing and not self.stopping:
            self._call_app("after_replacement")

    def _call_app(self, hook: str) -> None:
        """The application's `hook`, if it has one."""
        if hasattr(self.app, hook):
            getattr(self.app, hook)()

    def _read_marks(self) -> None:
        for pid, worker in list(self.WORKERS.items()):
            if pid in self.stopping:
                continue
            fd = worker.tmp.fileno()
            if pid not in self.ready and readiness.marked(fd, readiness.READY):
                self.ready.add(pid)
                self.ever_ready = True
                self.boot_failures = 0
            if pid not in self.outgoing and readiness.marked(fd, readiness.RETIRING):
                self.log.info("Worker %s asks to be replaced: it serves until a new one is ready", pid)
                self.outgoing.add(pid)

    def _staying(self) -> list[int]:
        """The workers meant to stay (neither outgoing nor stopping), oldest first."""
        staying = [pid for pid in self.WORKERS if pid not in self.outgoing and pid not in self.stopping]
        return sorted(staying, key=lambda pid: self.WORKERS[pid].age)

    def _spawn_missing(self) -> None:
        missing = self.num_workers - len(self._staying())
        if missing <= 0 or time.monotonic() < self.next_spawn:
            return
        for _ in range(missing):
            self.spawn_worker()

    def _stop_replaced(self) -> None:
        staying = self._staying()
        serving = len([pid for pid in staying if pid in self.ready])
        outgoing = sorted(self.outgoing - self.stopping, key=lambda pid: self.WORKERS[pid].age)
        serving += len([pid for pid in outgoing if pid in self.ready])
        for pid in outgoing:
            if pid not in self.ready:  # still booting: it serves no one yet
                self._stop(pid)
            elif serving > self.num_workers:
                self._stop(pid)
                serving -= 1
        for pid in staying[:max(0, len(staying) - self.num_workers)]:  # fewer workers wanted (TTOU)
            self._stop(pid)

    def _stop(self, pid: int) -> None:
        self.stopping.add(pid)
        self.kill_worker(pid, signal.SIGTERM)

    # --- workers that leave ---------------------------------------------------------------------

    def reap_workers(self) -> None:
        """gunicorn's, but a worker that could not boot does not stop the server (see the docstring)."""
        before = dict(self.WORKERS)
        self._read_marks()  # a worker that became ready and then died did boot
        while True:
            try:
                super().reap_workers()
                break
            except HaltServer as halt:
                if not self.ever_ready:
                    raise
                self.log.error("A new worker could not start (%s); see the worker's error above", halt.reason)
        for pid in set(before) - set(self.WORKERS):
            before[pid].tmp.close()  # (gunicorn leaves it open when it would have halted)
            if pid in self.slots:
                self.shares.publish(self.slots.pop(pid), balance.EMPTY)
            if pid not in self.ready and pid not in self.stopping:
                self._boot_failed(pid)
            self.ready.discard(pid)
            self.outgoing.discard(pid)
            self.stopping.discard(pid)

    def _boot_failed(self, pid: int) -> None:
        self.boot_failures += 1
        delay = min(MAX_BOOT_RETRY_SECONDS, 2.0 ** (self.boot_failures - 1))
        self.next_spawn = time.monotonic() + delay
        serving = len(self.ready - self.stopping)
        self.log.error("Worker %s exited before it could serve; %s workers serve on (the old ones stay until "
                       "new ones are ready); starting another in %.0f s", pid, serving, delay)
