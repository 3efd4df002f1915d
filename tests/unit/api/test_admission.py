"""The write queue of ``http/admission.py``: slots in arrival order, a refusal on arrival
when the queue would not start a write in time, and one when a write waited that long;
the loop's lateness measured only while writes find every slot busy."""

import asyncio

import pytest
from overlap_api.http.admission import Admission, WriteQueue
from overlap_api.http.loop_lag import LoopLag
from starlette.types import Message, Receive, Scope, Send

from tests.unit.clock import Clock


async def test_writes_within_the_slots_start_at_once_and_the_rest_in_arrival_order() -> None:
    queue = WriteQueue(working=2, patience_s=5.0)
    first, second = await queue.enter(), await queue.enter()
    assert first is not None and second is not None and queue.busy == 2
    started: list[int] = []

    async def write(i: int) -> None:
        entered = await queue.enter()
        assert entered is not None
        started.append(i)

    waiters = [asyncio.create_task(write(i)) for i in range(3)]
    await asyncio.sleep(0)
    assert started == [] and len(queue.waiting) == 3
    queue.leave(first)
    await asyncio.sleep(0)
    assert started == [0]
    queue.leave(second)
    queue.leave(first)
    await asyncio.gather(*waiters)
    assert started == [0, 1, 2] and queue.busy == 2 and not queue.waiting


async def test_a_write_that_waited_its_patience_is_refused_and_leaves_no_trace() -> None:
    queue = WriteQueue(working=1, patience_s=0.01)
    held = await queue.enter()
    assert held is not None
    assert await queue.enter() is None  # nothing finished: the slot never came
    assert not queue.waiting and queue.busy == 1
    queue.leave(held)
    assert queue.busy == 0
    assert await queue.enter() is not None  # free again


async def test_behind_a_queue_slower_than_the_patience_a_write_is_refused_on_arrival() -> None:
    clock = Clock(100.0)
    queue = WriteQueue(working=2, patience_s=0.2, clock=clock)  # queued if it starts in 0.1 s
    entered = await queue.enter()
    assert entered is not None
    clock.now += 0.05  # a write holds its slot 50 ms: two slots finish 40 writes a second
    queue.leave(entered)
    assert queue.service_s == pytest.approx(0.05)
    holders = [await queue.enter(), await queue.enter()]
    waiters = [asyncio.create_task(queue.enter()) for _ in range(3)]
    await asyncio.sleep(0)
    assert len(queue.waiting) == 3  # the 3rd of them starts 75 ms from now
    assert queue.expected_wait_s() == pytest.approx(0.1)  # the next one's: not over 0.1 s
    late = asyncio.create_task(queue.enter())
    await asyncio.sleep(0)
    assert len(queue.waiting) == 4
    assert queue.expected_wait_s() == pytest.approx(0.125)
    assert await queue.enter() is None  # refused on arrival, without waiting
    assert len(queue.waiting) == 4
    for held in holders:
        assert held is not None
        queue.leave(held)
    for task in (*waiters, late):
        entered = await task
        if entered is not None:
            queue.leave(entered)
    assert queue.busy == 0 and not queue.waiting


async def test_a_cancelled_waiter_hands_a_slot_it_was_given_on() -> None:
    queue = WriteQueue(working=1, patience_s=5.0)
    held = await queue.enter()
    assert held is not None
    given = asyncio.create_task(queue.enter())
    after = asyncio.create_task(queue.enter())
    await asyncio.sleep(0)
    queue.leave(held)  # the slot goes to ``given``...
    given.cancel()  # ...which is cancelled before it runs: ``after`` gets the slot
    entered = await after
    assert entered is not None and given.cancelled() and queue.busy == 1
    queue.leave(entered)
    assert queue.busy == 0 and not queue.waiting


async def test_a_late_write_is_refused_when_its_wait_already_used_the_patience() -> None:
    queue = WriteQueue(working=1, patience_s=0.1)
    held = await queue.enter()
    assert held is not None
    assert await queue.enter(late_s=0.1) is None  # it waited before the queue saw it
    assert not queue.waiting and queue.busy == 1
    waiter = asyncio.create_task(queue.enter(late_s=0.09))  # 10 ms of patience left
    await asyncio.sleep(0.05)
    assert waiter.done() and await waiter is None and not queue.waiting
    queue.leave(held)


async def test_a_late_write_still_takes_a_free_slot() -> None:
    queue = WriteQueue(working=1, patience_s=0.1)
    entered = await queue.enter(late_s=1.0)  # a lag without a queue refuses nothing
    assert entered is not None and queue.busy == 1
    queue.leave(entered)


async def test_a_late_write_is_refused_on_arrival_behind_a_queue_that_its_rest_cannot_wait() -> (
    None
):
    clock = Clock(100.0)
    queue = WriteQueue(working=1, patience_s=0.2, clock=clock)
    entered = await queue.enter()
    assert entered is not None
    clock.now += 0.04  # the pace: a write every 40 ms
    queue.leave(entered)
    held = await queue.enter()
    assert held is not None and queue.expected_wait_s() == pytest.approx(0.04)
    waiter = asyncio.create_task(queue.enter(late_s=0.05))  # 0.04 within half of 0.15: queued
    await asyncio.sleep(0)
    assert len(queue.waiting) == 1  # the next starts in 80 ms: more than half of 0.2 - 0.05
    assert await queue.enter(late_s=0.05) is None and len(queue.waiting) == 1
    assert held is not None
    queue.leave(held)
    assert await waiter is not None


async def test_the_loop_lag_timer_runs_only_for_writes_that_find_every_slot_busy() -> None:
    queue = WriteQueue(working=1, patience_s=5.0)
    lag = LoopLag()
    passed: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        passed.append(scope["path"])

    admission = Admission(app, max_writes=10, max_reads=10, writes=queue, lag=lag)
    scope = {"type": "http", "method": "PUT", "path": "/api/events/x/participants/me"}
    assert not queue.full()
    await admission(scope, _no_receive, _no_send)
    assert passed and lag.due is None  # a free slot: the lateness is not read, no timer
    held = await queue.enter()  # every slot busy now
    assert held is not None and queue.full()
    write = asyncio.create_task(admission(scope, _no_receive, _no_send))
    await asyncio.sleep(0)
    assert lag.due is not None and lag.loop is asyncio.get_running_loop()  # ticking
    queue.leave(held)
    await write
    assert len(passed) == 2 and not queue.full()


async def _no_receive() -> Message:
    raise AssertionError("the body is not read here")


async def _no_send(message: Message) -> None:
    raise AssertionError("nothing is answered here")
