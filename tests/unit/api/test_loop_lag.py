"""``http/loop_lag.py``: the timer notes how late the loop ran it, and runs only while
requests come."""

import asyncio
import time

from overlap_api.http.loop_lag import LoopLag

from tests.unit.clock import Clock


def test_a_tick_notes_how_late_it_ran_and_never_less_than_nothing() -> None:
    clock = Clock(50.0)
    lag = LoopLag(period_s=0.01, clock=clock)
    lag.tick()
    assert lag.late_s == 0.0  # not started: nothing due
    lag.due = 50.01
    clock.now = 50.035
    lag.tick()
    assert abs(lag.late_s - 0.025) < 1e-9
    clock.now = 50.0
    lag.tick()
    assert lag.late_s == 0.0


async def test_a_loop_blocked_for_a_while_shows_as_lateness() -> None:
    lag = LoopLag(period_s=0.005)
    lag.start()
    lag.start()  # once: a second start adds no timer
    await asyncio.sleep(0.02)
    time.sleep(0.06)  # noqa: ASYNC251 (on purpose: the loop is stuck past the next tick)
    await asyncio.sleep(0.001)  # the overdue tick runs before this wakes
    assert lag.late_s >= 0.03  # (a loaded machine only makes it later)


async def test_a_second_loop_gets_a_timer_of_its_own_and_the_old_one_stops() -> None:
    lag = LoopLag(period_s=0.005)
    lag.start()
    first = lag.loop
    lag.loop, lag.late_s = None, 5.0  # as if started on a loop that is gone, stale
    lag.start()
    assert lag.loop is first and lag.late_s == 0.0  # restarted here, the stale value dropped


async def test_the_timer_stops_after_a_quiet_stretch_and_a_request_starts_it_again() -> None:
    lag = LoopLag(period_s=0.002, idle_ticks=3)
    lag.start()
    assert lag.due is not None  # ticking
    lag.late_s = 1.0  # as if the loop had been late
    await asyncio.sleep(0.1)  # far more than 3 quiet ticks
    assert lag.due is None and lag.late_s == 0.0  # stopped: an idle loop is not late
    lag.start()
    assert lag.due is not None  # a request starts it again
    await asyncio.sleep(0.1)
    assert lag.due is None


def test_a_quiet_tick_counts_towards_stopping_and_a_request_resets_it() -> None:
    clock = Clock(10.0)
    lag = LoopLag(period_s=0.01, clock=clock, idle_ticks=2)
    loop = asyncio.new_event_loop()
    try:
        lag.loop, lag.due = loop, 10.01
        lag._run(loop)  # no request since: one quiet tick
        assert lag.quiet == 1 and lag.due is not None
        lag.requests = 1
        lag._run(loop)
        assert lag.quiet == 0 and lag.due is not None
        lag._run(loop)
        lag._run(loop)  # two quiet ticks in a row: stopped
        assert lag.due is None
    finally:
        loop.close()
