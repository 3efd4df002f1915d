"""How late this process's event loop runs what is due: the time a request already lost
before any middleware saw it.

Past capacity the loop itself is the queue: a request's bytes wait in the socket until the
loop gets to them, and the admission bound (``http/admission.py``) only starts counting
once it does. Under the bench's overload (3x the sustained write rate) that unseen wait
made refusals and accepted writes alike take 0.7-11 s on a loaded machine. A timer that
notes how late it ran tells the admission how long a request arriving now has waited
already: about as long as the loop is late.

The timer runs only while the lateness is wanted: ticking every 10 ms cost an idle
process about 1 % of a core, and at 50 writes/s about 0.2 ms of CPU per write (100
wake-ups a second, issue #15), yet the admission reads the lateness only for a write
that finds every slot busy. Such a write (re)starts the timer (:meth:`LoopLag.start`); a
stretch of ``IDLE_TICKS`` ticks without one stops it, its lateness then nothing.
"""

import asyncio
import time
from collections.abc import Callable

PERIOD_S = 0.01  # a tick every 10 ms while wanted: a few µs each
IDLE_TICKS = 100  # a second of ticks without a call to start(): the timer stops


class LoopLag:
    """The loop's latest lateness (:attr:`late_s`), measured by a timer every ``period_s``
    while :meth:`start` keeps being called on the loop (by each write that may wait)."""

    def __init__(
        self,
        period_s: float = PERIOD_S,
        clock: Callable[[], float] = time.monotonic,
        idle_ticks: int = IDLE_TICKS,
    ):
        self.period_s, self.clock, self.idle_ticks = period_s, clock, idle_ticks
        self.late_s = 0.0
        self.due: float | None = None  # when the pending tick should run; None: not ticking
        self.loop: asyncio.AbstractEventLoop | None = None  # the loop it ticks on
        self.requests = 0  # calls to start() since the timer last looked
        self.quiet = 0  # ticks in a row that saw none

    def start(self) -> None:
        """The lateness is wanted: tick on the running loop (a timer is started when none
        runs on it; later calls only count the call)."""
        self.requests += 1
        if self.due is None or self.loop is not asyncio.get_running_loop():
            # first, after a quiet stretch, or the app now runs on another loop (tests)
            self.loop, self.late_s, self.quiet = asyncio.get_running_loop(), 0.0, 0
            self._schedule(self.loop)

    def tick(self) -> None:
        """Note how late this tick ran (the timer calls it)."""
        if self.due is not None:
            self.late_s = max(0.0, self.clock() - self.due)

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        self.due = self.clock() + self.period_s
        loop.call_later(self.period_s, self._run, loop)

    def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        if loop is not self.loop:  # a newer loop ticks: this one's timer ends here
            return
        self.tick()
        self.quiet = 0 if self.requests else self.quiet + 1
        self.requests = 0
        if self.quiet >= self.idle_ticks:  # idle: stop until the next request
            self.due, self.late_s = None, 0.0
            return
        self._schedule(loop)
