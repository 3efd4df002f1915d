"""The engine bench's timing: warm-up reps not counted, the cyclic GC off while timing."""

import gc
from functools import partial

import pytest

from bench.engine import cpu_times_ms, spread_ms


def test_the_warm_up_is_run_but_not_counted() -> None:
    ran: list[int] = []
    times = cpu_times_ms([partial(ran.append, i) for i in range(6)], warmup=2)
    assert ran == [0, 1, 2, 3, 4, 5]
    assert len(times) == 4
    assert all(t >= 0 for t in times)


def test_the_gc_is_off_during_each_timed_call_and_back_on_after() -> None:
    states: list[bool] = []
    cpu_times_ms([lambda: states.append(gc.isenabled())] * 3, warmup=0)
    assert states == [False, False, False]
    assert gc.isenabled()


def test_the_gc_is_back_on_when_a_call_fails() -> None:
    def fails() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        cpu_times_ms([fails], warmup=0)
    assert gc.isenabled()


def test_the_spread_is_median_min_and_max() -> None:
    assert spread_ms([3.0, 1.0, 2.0, 10.0, 2.5]) == "2.5 [1.0\u201310.0] ms"
    assert spread_ms([0.123, 0.456, 0.2], 2) == "0.20 [0.12\u20130.46] ms"
