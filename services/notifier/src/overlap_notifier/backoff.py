"""Retry delays: exponential backoff with jitter (pure)."""

import random
from collections.abc import Callable


def backoff_delay(
    attempt: int, base_s: float, cap_s: float, rand: Callable[[], float] = random.random
) -> float:
    """Delay before retry number ``attempt`` (1 = first retry): "equal jitter".

    The ceiling doubles per attempt up to ``cap_s``; the delay is uniform in its upper
    half, so retries of many callers spread out but never come back immediately.
    """
    ceiling = min(cap_s, base_s * 2 ** max(0, min(attempt - 1, 60)))
    return ceiling / 2 + rand() * ceiling / 2
