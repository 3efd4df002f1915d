"""The engine bench's timing: warm-up reps not counted, the figures' reps interleaved, the
cyclic GC off while timing."""

import gc
from collections.abc import Callable
from functools import partial

import pytest

from bench.engine import cpu_ms, interleaved_ms, spread_ms


def test_the_warm_up_is_run_but_not_counted_and_the_figures_interleave() -> None:
    ran: list[str] = []
    figures: dict[str, list[Callable[[], object]]] = {
        "a": [partial(ran.append, f"a{i}") for i in range(4)],
        "b": [partial(ran.append, f"b{i}") for i in range(8)],
    }
    times = interleaved_ms(figures, warmup=1)
    assert {name: len(t) for name, t in times.items()} == {"a": 3, "b": 7}
    assert all(t >= 0 for t in times["a"] + times["b"])
    assert ran[:2] == ["a0", "b0"]  # the warm-ups first
    assert [r for r in ran if r[0] == "b"] == [f"b{i}" for i in range(8)]  # order kept
    first_half = ran[:6]
    assert sum(r[0] == "a" for r in first_half) == 2  # each figure spread over the run


def test_the_gc_is_off_during_a_timed_call_and_back_on_after() -> None:
    states: list[bool] = []
    assert cpu_ms(lambda: states.append(gc.isenabled())) >= 0
    assert states == [False]
    assert gc.isenabled()


def test_the_gc_is_back_on_when_a_call_fails() -> None:
    def fails() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        cpu_ms(fails)
    assert gc.isenabled()


def test_the_spread_is_median_min_and_max() -> None:
    assert spread_ms([3.0, 1.0, 2.0, 10.0, 2.5]) == "2.5 [1.0\u201310.0] ms"
    assert spread_ms([0.123, 0.456, 0.2], 2) == "0.20 [0.12\u20130.46] ms"
