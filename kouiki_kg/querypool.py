"""A pool of killable worker processes for work that must stop at a time limit: SPARQL queries
over a read-only store, and validation of submitted cases.

Oxigraph's `Store.query` cannot be interrupted from Python, so a query that overruns its
time limit is stopped the only sure way: its worker process is killed (the CPU is released at
once) and a fresh worker takes its place. Other requests are served by the other workers
meanwhile. A request still running after half a second is demoted to the lowest CPU priority,
so short requests do not wait for the CPU; a pool allowed more workers than its size (`most`)
also starts one for them, so they wait for no worker, and shrinks back as long requests end
(the app's query pools, up to twice their size: architecture §13). Each worker
opens the current build read-only and reopens when a new build is swapped in, so a rebuild
needs no restart.

Light queries (`querytext.is_light`: bounded by a few resources' triples) may run in threads of
the web process instead (`here`): pyoxigraph releases the GIL while it evaluates, and the hop to
a worker process and back was most of their cost. Their time limit still holds for the client
(it is answered at the limit) though the thread cannot be stopped; a light query that takes
longer than LIGHT_BUDGET is remembered as heavy, and its shape runs in a worker from then on.
"""

from __future__ import annotations

import atexit
import os
import multiprocessing
import queue
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from .failures import RequestFailed
from .store import QueryFailed


LONG_RUNNING = 0.5  # seconds after which a request runs at the lowest CPU priority
RESERVED = 1  # idle workers a known-heavy request may not take: kept for everything else
HEAVY_SHAPES = 10_000  # request shapes remembered as heavy
STARTUP_LIMIT = 60.0  # seconds a new worker may take to import before it is given up
LIGHT_BUDGET = 0.1  # seconds a light query may take in the web process before its shape is sent to workers


def _set_niceness(pid: int, value: int) -> bool:
    try:
        os.setpriority(os.PRIO_PROCESS, pid, value)
        return True
    except (PermissionError, ProcessLookupError, OSError):
        return False


class QueryTimeout(Exception):
    """The query ran past its limit; its worker was killed."""


class PoolBusy(Exception):
    """No worker became free within the limit."""


class WorkerLost(Exception):
    """The worker died while running the request (killed, out of memory…); it has been replaced."""


def _worker_main(conn, memory_limit: int | None = None) -> None:  # runs in the child process
    if memory_limit:  # a request past it fails to allocate (MemoryError) or the worker dies: replaced
        import resource

        resource.setrlimit(resource.RLIMIT_DATA, (memory_limit, memory_limit))
    cache: dict = {}  # what a request type keeps between requests (opened stores, parsed context)
    conn.send(("ready", None))  # imports done: the pool starts a request's clock only now
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        try:
            conn.send(_answer(request, cache))
        except MemoryError:  # at its memory limit: this worker's state is suspect, a fresh one replaces it
            os._exit(3)


def _answer(request, cache: dict) -> tuple[str, object]:
    """("ok", what request.execute gave) or ("raised", the error to raise to the caller)."""
    try:
        return "ok", request.execute(cache)
    except RequestFailed as err:
        return "raised", err
    except MemoryError:
        raise
    except Exception as err:  # noqa: BLE001 — report anything else as an evaluation error, keep serving
        return "raised", QueryFailed("evaluation", f"{type(err).__name__}: {err}")


@dataclass
class _Worker:
    process: multiprocessing.Process
    conn: object
    retired: bool = False  # stopped, or being stopped: its pipe is closed once, by whoever came first


class QueryPool:
    def __init__(self, size: int, demote_after: float | None = LONG_RUNNING, most: int | None = None,
                 memory_limit: int | None = None, here: int = 0):
        """`size` workers wait for requests. `demote_after`: seconds after which a request runs at
        the lowest CPU priority (None: never); it then stops holding one of the `size` places, and
        workers are started for other requests, up to `most` in all (default: four times `size`).
        `memory_limit`: bytes of data each worker may allocate (RLIMIT_DATA), None for no limit.
        `here`: threads of this process for light requests (0: none; see `run`)."""
        self.size = size
        self.here = here
        self._here_slots = threading.BoundedSemaphore(here) if here else None
        self._here_threads = ThreadPoolExecutor(here, thread_name_prefix="kouiki-light") if here else None
        self.ran_here = 0  # light requests answered in this process, for /health and tests
        self.overran_here = 0  # light requests that ran past their time limit here
        self.memory_limit = memory_limit
        self.demote_after = demote_after
        self.most = size if demote_after is None else (most or 4 * size)
        self._context = multiprocessing.get_context("spawn")  # no inherited store handles or threads
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._lock = threading.RLock()
        self._all: list[_Worker] = []
        self._demoted = 0  # requests running at the lowest priority now
        self._heavy: OrderedDict[str, None] = OrderedDict()  # shapes that ran long: most recent last
        self.killed = 0  # workers killed for overrunning, for /health and tests
        for _ in range(size):
            self._start()
        atexit.register(self.close)

    # A worker joins the idle queue only once it has said it is ready. Handed a request while
    # still importing (~0.5 s, ~1 s under load), a trivial query waited for it: p100 1.09 s beside
    # 16 clients of pathological queries. Now a request waiting for a worker takes the first one
    # ready — one just started, or one another request has given back.

    def _start(self) -> None:
        worker = self._spawn()
        threading.Thread(target=self._enlist_when_ready, args=(worker,), name="kouiki-worker-start",
                         daemon=True).start()

    def _enlist_when_ready(self, worker: _Worker) -> None:
        try:
            ready = worker.conn.poll(STARTUP_LIMIT) and worker.conn.recv()[0] == "ready"
        except (EOFError, OSError):
            ready = False
        if ready:
            self._idle.put(worker)
        else:
            self._retire(worker)

    def _spawn(self) -> _Worker:
        parent, child = self._context.Pipe()
        process = self._context.Process(target=_worker_main, args=(child, self.memory_limit), daemon=True,
                                        name="kouiki-query")
        process.start()
        child.close()
        worker = _Worker(process, parent)
        with self._lock:
            self._all.append(worker)
        return worker

    def _retire(self, worker: _Worker) -> None:
        with self._lock:
            if worker.retired:  # a starting worker may be retired by close() and by its own start
                return
            worker.retired = True
            if worker in self._all:
                self._all.remove(worker)
        worker.process.kill()
        worker.process.join(timeout=5)
        worker.conn.close()

    def run(self, request, timeout: float, cost_key: str | None = None, here: dict | None = None):
        """Run request.execute(cache) in a worker within `timeout` seconds of getting one, or raise.

        `cost_key` names the request's shape (a query without its comments and values): a shape
        that has run past the demotion threshold before is heavy, and may not take the pool's
        last idle workers, which stay for everything else (measured cost, not a guess).
        `here`: the caller vouches that the request is light, and gives the cache (opened store)
        it runs with in this process — if a thread is free and its shape has not proved heavy."""
        if here is not None and self._here_slots is not None and cost_key not in self._heavy \
                and self._here_slots.acquire(blocking=False):
            return self._run_here(request, timeout, cost_key, here)
        begun = time.monotonic()
        worker = self._checkout(timeout, cost_key)
        demoted = False
        try:
            started = time.monotonic()
            timeout = max(0.0, timeout - (started - begun))
            worker.conn.send(request)
            ready = worker.conn.poll(timeout if self.demote_after is None else min(timeout, self.demote_after))
            if not ready and self.demote_after is not None:
                # A long request yields the CPU to short ones (its worker's priority is lowered)
                # and its place in the pool to them.
                demoted = _set_niceness(worker.process.pid, 19)
                self._remember_heavy(cost_key)  # measured: past the threshold, now (not when it ends)
                if demoted:
                    self._stand_aside()
                ready = worker.conn.poll(max(0.0, timeout - (time.monotonic() - started)))
            if not ready:
                self.killed += 1
                self._remember_heavy(cost_key)
                self._retire(worker)
                worker = None
                raise QueryTimeout(f"{time.monotonic() - started:.1f} s")
            status, payload = worker.conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            self._retire(worker)
            worker = None
            raise WorkerLost() from None
        finally:
            self._give_back(worker, demoted)
        if status == "ok":
            return payload
        raise payload

    def _run_here(self, request, timeout: float, cost_key: str | None, cache: dict):
        """A light request in one of this process's threads (its slot already taken)."""
        started = time.monotonic()
        try:
            running = self._here_threads.submit(_answer, request, cache)
        except RuntimeError:  # the pool is closing
            self._here_slots.release()
            raise WorkerLost() from None
        running.add_done_callback(lambda _: self._here_slots.release())  # when it ends, even past its limit
        try:
            status, payload = running.result(timeout)
        except FutureTimeout:
            self.overran_here += 1
            raise QueryTimeout(f"{time.monotonic() - started:.1f} s") from None
        except MemoryError:
            raise WorkerLost() from None
        finally:
            if time.monotonic() - started > LIGHT_BUDGET:
                self._remember_heavy(cost_key)  # not as light as it read: workers take its shape
        self.ran_here += 1
        if status == "ok":
            return payload
        raise payload

    # A demoted request does not hold one of the pool's `size` places: while long requests run,
    # workers are started for short ones, up to `most` in all. At 32 clients of the unique mix,
    # short look-ups waited seconds for one of eight workers, all busy with long queries, while
    # the engine's own server answered them at once.

    def _short_of_places(self) -> bool:  # call with the lock held
        return len(self._all) - self._demoted < self.size and len(self._all) < self.most

    def _remember_heavy(self, cost_key: str | None) -> None:
        if cost_key is None:
            return
        with self._lock:
            self._heavy[cost_key] = None
            self._heavy.move_to_end(cost_key)
            while len(self._heavy) > HEAVY_SHAPES:
                self._heavy.popitem(last=False)

    def _checkout(self, timeout: float, cost_key: str | None = None) -> _Worker:
        """A ready worker within `timeout`. A request whose shape is known heavy — known when it
        asks, or learnt while it waits — leaves the last RESERVED idle workers to others."""
        deadline = time.monotonic() + timeout
        while True:
            heavy = cost_key is not None and cost_key in self._heavy
            with self._lock:
                held_back = heavy and self._idle.qsize() <= RESERVED
                if self._short_of_places() and (not held_back or len(self._all) < self.most - RESERVED) \
                        and (held_back or self._idle.empty()):
                    self._start()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PoolBusy()
            if held_back:
                time.sleep(min(0.02, remaining))
                continue
            try:  # briefly, then look again: its shape may have been found heavy meanwhile
                worker = self._idle.get(timeout=min(0.05, remaining))
            except queue.Empty:
                continue
            if worker.process.is_alive():
                return worker
            self._retire(worker)  # died on its own (e.g. out of memory): replaced above, on the next turn

    def _stand_aside(self) -> None:
        """A request was demoted: if nothing waits idle, start a worker for whoever asks next."""
        with self._lock:
            self._demoted += 1
            if self._idle.empty() and self._short_of_places():
                self._start()

    def _give_back(self, worker: _Worker | None, demoted: bool) -> None:
        """After a request (its worker None if retired): the pool keeps `size` places, starting a
        worker if it is short and retiring this one if it has more."""
        with self._lock:
            if demoted:
                self._demoted -= 1
            if worker is None:
                if self._short_of_places():
                    self._start()
                return
            surplus = len(self._all) - self._demoted > self.size
            if surplus:
                self._all.remove(worker)  # counted out now; stopped below, outside the lock
        if surplus:
            self._retire(worker)
            return
        if demoted and not _set_niceness(worker.process.pid, 0):
            self._retire(worker)  # may not raise a priority again without privilege: start afresh
            self._start()
            return
        self._idle.put(worker)

    def pids(self) -> list[int]:
        with self._lock:
            return [w.process.pid for w in self._all]

    def close(self) -> None:
        if self._here_threads is not None:
            self._here_threads.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            workers = list(self._all)
        for w in workers:
            self._retire(w)
