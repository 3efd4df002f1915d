"""Past capacity, refuse at once: bounds on the requests one API process works on.

Without them an overloaded process takes every request, each waits behind the others (for
a pool connection, for the event's row lock, for the event loop) and the answers come
seconds late (the bench measured an accepted p99 of 2.4 s at 450 writes/s) or end at the
request deadline as 503s. With them:

* **Writes** to events (every method but GET, HEAD and OPTIONS under ``/api/events``: the
  requests that write to PostgreSQL) go through a :class:`WriteQueue`: at most
  ``WRITE_CONCURRENCY`` are worked on at once and the others wait their turn in arrival
  order, but never longer than ``WRITE_QUEUE_MS``, counted from its arrival (when every
  slot is busy, the event loop's lag, ``http/loop_lag.py``, is the time it already
  waited before this middleware saw it, and is taken off its patience; the lag's timer
  runs only while writes find every slot busy). A write that
  arrives behind a queue that would take longer than that to drain, at the pace writes
  have been finishing, is
  refused on arrival; one that waited that long all the same (the pace fell, or PostgreSQL
  stopped answering) is refused then. So an admitted write waits at most
  ``WRITE_QUEUE_MS`` for its turn, a refusal costs no database work, and most refusals
  are answered in well under a millisecond of work. (A slot is held while the body is
  read: behind the gateway, which buffers bodies, that is no time.)
* Past ``MAX_WRITES_IN_FLIGHT`` writes (waiting or worked on) or ``MAX_READS_IN_FLIGHT``
  reads a request is refused at once: a write burst cannot lock readers out.

A refusal is a 503 with ``Retry-After`` and did nothing. Probes and metrics are never
refused.
"""

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable

from prometheus_client import Counter
from starlette.types import ASGIApp, Receive, Scope, Send

from overlap_api.http.errors import unavailable
from overlap_api.http.loop_lag import LoopLag

NEVER_REFUSED = frozenset({"/api/healthz", "/api/readyz", "/metrics"})
READS = frozenset({"GET", "HEAD", "OPTIONS"})
QUEUED = "/api/events"  # the writes that queue (not realtime auth, not calendar parsing)
REFUSED = Counter(
    "http_requests_refused_total", "Requests refused at the admission bound", ["kind"]
)  # kind: read | write (over the in-flight bound) | write_queue (the queue's rule)
SMOOTHING = 0.1  # weight of the newest service time in the running mean
# A write is queued only when the pace says it starts within this share of the patience:
# the pace lags when writes slow down, and a wait that runs out is a late refusal.
ADMIT_WITHIN = 0.5


class WriteQueue:
    """At most ``working`` writes at once, the rest waiting in arrival order for at most
    ``patience_s``; :meth:`enter` refuses a write the queue could not start in time.

    The pace is Little's law over the slots: ``working`` slots, each held for the running
    mean of the time a write keeps its slot (:attr:`service_s`), finish ``working /
    service_s`` writes a second; the ``n``-th waiter starts about ``n * service_s /
    working`` seconds from now, and a write is refused on arrival when that is more than
    ``ADMIT_WITHIN`` of the patience. Before any write finished the pace is unknown and
    only the patience applies.
    """

    def __init__(
        self, working: int, patience_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.working, self.patience_s, self.clock = working, patience_s, clock
        self.busy = 0  # slots held
        self.waiting: deque[asyncio.Future[None]] = deque()
        self.service_s: float | None = None

    def full(self) -> bool:
        """Every slot busy (or writes waiting): a write arriving now waits its turn."""
        return self.busy >= self.working or bool(self.waiting)

    def expected_wait_s(self) -> float | None:
        """How long a write arriving now would wait for a slot (None: pace unknown)."""
        if self.busy < self.working and not self.waiting:
            return 0.0
        if self.service_s is None:
            return None
        return (len(self.waiting) + 1) * self.service_s / self.working

    async def enter(self, late_s: float = 0.0) -> float | None:
        """Wait for a slot: the clock when it was given, or None when the write is refused
        (it holds no slot then). ``late_s``, how long the write waited before it got here
        (the loop's lag), counts against the patience when no slot is free."""
        expected = self.expected_wait_s()
        if expected == 0.0:
            self.busy += 1
            return self.clock()
        patience_s = self.patience_s - late_s
        if patience_s <= 0 or (expected is not None and expected > ADMIT_WITHIN * patience_s):
            return None
        turn = asyncio.get_running_loop().create_future()
        self.waiting.append(turn)
        try:
            async with asyncio.timeout(patience_s):
                await turn
        except TimeoutError:
            if not _given(turn):  # else it was handed over as the time ran out: take it
                self._forget(turn)
                return None
        except asyncio.CancelledError:
            if _given(turn):
                self._pass_on()
            else:
                self._forget(turn)
            raise
        return self.clock()

    def leave(self, entered: float) -> None:
        """Give the slot taken at ``entered`` back (to the longest waiter, if any)."""
        took = self.clock() - entered
        mean = self.service_s
        self.service_s = took if mean is None else mean + SMOOTHING * (took - mean)
        self._pass_on()

    def _pass_on(self) -> None:
        while self.waiting:
            turn = self.waiting.popleft()
            if not turn.done():
                turn.set_result(None)  # the slot goes to it: ``busy`` stays
                return
        self.busy -= 1

    def _forget(self, turn: asyncio.Future[None]) -> None:
        with contextlib.suppress(ValueError):  # already handed a slot and popped
            self.waiting.remove(turn)


def _given(turn: asyncio.Future[None]) -> bool:
    return turn.done() and not turn.cancelled()


class Admission:
    """ASGI middleware: at most ``max_writes`` writes and ``max_reads`` reads in flight,
    and the writes through ``writes``, their wait counted from their arrival (``lag``)."""

    def __init__(
        self, app: ASGIApp, max_writes: int, max_reads: int, writes: WriteQueue, lag: LoopLag
    ) -> None:
        self.app, self.writes, self.lag = app, writes, lag
        self.bounds = {"write": max_writes, "read": max_reads}
        self.in_flight = {"write": 0, "read": 0}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in NEVER_REFUSED:
            return await self.app(scope, receive, send)
        kind = "read" if scope["method"] in READS else "write"
        if self.in_flight[kind] >= self.bounds[kind]:
            REFUSED.labels(kind).inc()
            busy = f"this API process is at its limit of {self.bounds[kind]} {kind}s in flight"
            return await unavailable(f"{busy}; retry soon")(scope, receive, send)
        self.in_flight[kind] += 1
        try:
            if kind == "write" and scope["path"].startswith(QUEUED):
                await self._write(scope, receive, send)
            else:
                await self.app(scope, receive, send)
        finally:
            self.in_flight[kind] -= 1

    async def _write(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.writes.full():  # it may wait: the loop's lateness counts, so keep it measured
            self.lag.start()
        entered = await self.writes.enter(self.lag.late_s)
        if entered is None:
            REFUSED.labels("write_queue").inc()
            ms = round(self.writes.patience_s * 1000)
            busy = f"writes are queueing in this API process (longer than {ms} ms)"
            return await unavailable(f"{busy}; retry soon")(scope, receive, send)
        try:
            await self.app(scope, receive, send)
        finally:
            self.writes.leave(entered)
