"""How late this process's event loop runs what is due: the time a request already lost
before any middleware saw it.

Past capacity the loop itself is the queue: a request's bytes wait in the socket until the
loop gets to them, and the admission bound (``http/admission.py``) only starts counting
once it does. Under the bench's overload (3x the sustained write rate) that unseen wait
made refusals and accepted writes alike take 0.7-11 s on a loaded machine. A timer that
notes how late it ran tells the admission how long a request arriving now has waited
already: about as long as the loop is late.
"""

import asyncio
import time
from collections.abc import Callable

PERIOD_S = 0.01  # a tick every 10 ms: ~100 wake-ups a second, a few µs each


class LoopLag:
    """The loop's latest lateness (:attr:`late_s`), measured by a timer every ``period_s``
    once :meth:`start` ran on the loop."""

    def __init__(self, period_s: float = PERIOD_S, clock: Callable[[], float] = time.monotonic):
        self.period_s, self.clock = period_s, clock
        self.late_s = 0.0
        self.due: float | None = None  # when the pending tick should run; None: not started
        self.loop: asyncio.AbstractEventLoop | None = None  # the loop it ticks on

    def start(self) -> None:
        """Begin ticking on the running loop (once per loop; later calls do nothing)."""
        loop = asyncio.get_running_loop()
        if self.loop is not loop:  # first, or the app now runs on another loop (tests)
            self.loop, self.late_s = loop, 0.0
            self._schedule(loop)

    def tick(self) -> None:
        """Note how late this tick ran (the timer calls it)."""
        if self.due is not None:
            self.late_s = max(0.0, self.clock() - self.due)

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        self.due = self.clock() + self.period_s
        loop.call_later(self.period_s, self._run, loop)

    def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        if loop is self.loop:  # else a newer loop ticks: this one's timer ends here
            self.tick()
            self._schedule(loop)
