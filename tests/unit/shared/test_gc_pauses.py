"""The API's garbage-collector watch: pauses are timed by generation, and start-up's
objects are frozen out of later collections."""

import gc
from collections.abc import Iterator

import pytest
from overlap_shared import gc_pauses
from prometheus_client import REGISTRY


def _pauses(generation: int) -> float:
    labels = {"generation": str(generation)}
    return REGISTRY.get_sample_value("gc_pause_seconds_count", labels) or 0.0


@pytest.fixture
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()  # the rest of the test session collects as usual


def test_every_collection_is_timed_once() -> None:
    gc_pauses.watch()
    gc_pauses.watch()  # again: still one hook
    assert gc.callbacks.count(gc_pauses._timed) == 1
    was_enabled = gc.isenabled()
    gc.disable()  # no automatic collection between the two counts (it made this flaky)
    try:
        before = _pauses(2), _pauses(0)
        gc.collect()
        gc.collect(0)
        after = _pauses(2), _pauses(0)
    finally:
        if was_enabled:
            gc.enable()
    assert after == (before[0] + 1, before[1] + 1)
    total = REGISTRY.get_sample_value("gc_pause_seconds_sum", {"generation": "2"})
    assert total is not None and total > 0


@pytest.mark.usefixtures("unfrozen")
def test_settle_freezes_what_lives_now_and_not_what_comes_later() -> None:
    kept = [[i] for i in range(1000)]  # containers alive at "start-up"
    frozen = gc_pauses.settle()
    assert frozen == gc.get_freeze_count() >= len(kept)
    later = [[i] for i in range(1000)]
    assert gc.get_freeze_count() == frozen  # made after the freeze: collected as usual
    assert all(gc.is_tracked(x) for x in later)
