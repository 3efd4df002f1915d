"""One deadline for the whole Redis part of a read, and a pause after Redis fails.

A paused Redis accepts connections and answers nothing, so each call waits out the
client's socket timeout (and its one retry). A read makes several Redis calls (the view,
the lease, the write-back, the session), so it used to wait that long several times over
(4.3 to 4.85 s under ``make chaos``). Now each read takes one :class:`RedisBudget`: all its
Redis calls share one allowance of waiting (``REDIS_READ_BUDGET_S``, at most 1 s; time
spent in PostgreSQL between them does not count, so a slow database does not make Redis
look down). When it runs out or a call fails, the budget is spent: the rest of the read
skips Redis and is served from PostgreSQL, and every read skips Redis for
``REDIS_BACKOFF_S`` after that.
"""

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar

from redis.exceptions import RedisError

from overlap_api.reads.metrics import REDIS_DEADLINES, REDIS_ERRORS

log = logging.getLogger(__name__)
T = TypeVar("T")
REDIS_BACKOFF_S = 2.0


@dataclass
class RedisBudget:
    """The Redis part of one read: seconds it may still wait, spent on first failure."""

    left_s: float
    spent: bool = False


class RedisGate:
    """Runs Redis calls within a budget; shares the backoff across every read."""

    def __init__(self, budget_s: float, backoff_s: float = REDIS_BACKOFF_S) -> None:
        self.budget_s, self.backoff_s = budget_s, backoff_s
        self._skip_until = 0.0

    def budget(self) -> RedisBudget:
        """A fresh budget for one read (already spent while Redis is backed off)."""
        backing_off = asyncio.get_running_loop().time() < self._skip_until
        return RedisBudget(self.budget_s, spent=backing_off)

    async def call(self, call: Awaitable[T], budget: RedisBudget | None = None) -> T | None:
        """Await ``call`` within the read's budget; on failure or a spent budget answer None.
        Without a budget the call is not part of a read (an invalidation after a write): it
        gets a deadline of its own and is tried even while reads back off."""
        budget = budget or RedisBudget(self.budget_s)
        if budget.spent:
            _close(call)
            return None
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            async with asyncio.timeout(budget.left_s):
                return await call
        except TimeoutError:
            REDIS_DEADLINES.inc()
            self._fail(budget, f"no answer within the read's {self.budget_s:g} s")
        except (RedisError, OSError) as exc:
            self._fail(budget, str(exc))
        finally:
            budget.left_s -= loop.time() - started
        return None

    def _fail(self, budget: RedisBudget, why: str) -> None:
        REDIS_ERRORS.inc()
        budget.spent = True
        self._skip_until = asyncio.get_running_loop().time() + self.backoff_s
        log.warning("redis unavailable, serving from PostgreSQL for %.0fs: %s", self.backoff_s, why)


def _close(call: Awaitable[object]) -> None:
    close = getattr(call, "close", None)  # an un-awaited coroutine: no "never awaited"
    if close is not None:
        close()
