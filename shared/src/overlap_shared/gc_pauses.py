"""Python's cyclic garbage collector, measured and kept off the read path's tail.

A full (generation 2) collection walks every container object the process holds: after
start-up that is some hundreds of thousands (the framework, the ORM, the schemas), and on
the 2-core machine one walk stopped the event loop for 100-140 ms, a run of cache misses
behind each stall (issue #14). Those start-up objects live as long as the process, so
``settle`` moves them to the collector's permanent generation (``gc.freeze``) once the app
is wired (the API's lifespan, every worker's ``after_startup``): later collections walk only
what was made since. ``watch`` times every
collection into ``gc_pause_seconds`` so that a stall has a name on ``/metrics``.
"""

import gc
import time
from typing import Any

from prometheus_client import Histogram

GC_PAUSES = Histogram(
    "gc_pause_seconds",
    "Pauses of Python's cyclic garbage collector, by generation collected",
    ["generation"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25),
)
_started: list[float] = []  # the start of the collection in progress (at most one)


def _timed(phase: str, info: dict[str, Any]) -> None:
    """``gc.callbacks`` hook: start and stop of each collection."""
    if phase == "start":
        _started[:] = [time.perf_counter()]
    elif _started:
        GC_PAUSES.labels(str(info["generation"])).observe(time.perf_counter() - _started.pop())


def watch() -> None:
    """Time every collection from now on (once per process; again is a no-op)."""
    if _timed not in gc.callbacks:
        gc.callbacks.append(_timed)


def settle() -> int:
    """Collect what start-up left behind, then freeze the survivors out of later
    collections; the number of objects frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
