"""Redis writes that a read makes after it has its answer, off the response path.

A rebuilt view is stored in Redis (a compare-and-set of up to 0.6 MB for the large event)
and the rebuild's lease released; neither changes the answer, yet together they were 7 to
20 ms of a recompute GET on a loaded 2-core machine. The reader already holds the bytes
(and keeps them in its process's L1), so it answers first and these run as a task.

At most ``limit`` such tasks run at once in a process; past that a read does its writes
itself before it answers (the old way), so a burst of misses cannot pile up unbounded
work or memory. :meth:`WriteBehind.drain` waits for the pending ones (shutdown, tests).
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)
DEFAULT_LIMIT = 32


class WriteBehind:
    """A bounded set of background Redis write-backs of one process."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def run(self, write: Callable[[], Awaitable[None]]) -> None:
        """Start ``write`` in the background, or await it here when ``limit`` are running."""
        if len(self._tasks) >= self.limit:
            await write()
            return
        task = asyncio.create_task(self._logged(write), name="view-write-behind")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait until every write started so far has finished."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    @staticmethod
    async def _logged(write: Callable[[], Awaitable[None]]) -> None:
        try:
            await write()
        except Exception:  # a write-back is an optimization: the next miss rebuilds
            log.exception("view write-back failed")
