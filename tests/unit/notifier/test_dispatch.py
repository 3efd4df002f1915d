"""The delivery engine with a stand-in Pusher sender (the real one is exercised against
soketi in tests/integration/test_notifier.py). Redis is an unreachable address: view reads
and stats degrade to versions only, as they must when Redis is down."""

import asyncio
import time
from typing import Any

import orjson
from overlap_notifier.coalescer import Update
from overlap_notifier.dispatcher import DeliveryConfig, Dispatcher, Pending
from overlap_notifier.pusher_http import PusherError
from overlap_shared.redis_client import create_redis

CONFIG = DeliveryConfig(
    window_s=0.02,
    retry_base_s=0.01,
    retry_max_s=0.05,
    delivery_timeout_s=0.5,
    breaker_failures=3,
    breaker_cooldown_s=0.1,
)


class Sender:
    def __init__(self, failing: bool = False) -> None:
        self.failing, self.failures = failing, 0
        self.calls: list[list[dict[str, Any]]] = []

    async def trigger_batch(self, batch: list[dict[str, Any]]) -> None:
        if self.failing:
            self.failures += 1
            raise PusherError("down")
        assert len(batch) <= 10
        self.calls.append(batch)


def update(channel: str, version: int) -> Pending:
    return Update(channel, "view.updated", version, "t0k", time.time(), time.monotonic())


async def engine(sender: Sender, dead: list[tuple[Pending, str]]) -> Dispatcher:
    async def dead_letter(u: Pending, reason: str) -> None:
        dead.append((u, reason))

    redis = create_redis("redis://127.0.0.1:1/0")
    d = Dispatcher(CONFIG, sender, redis, dead_letter)
    d.start()
    return d


async def test_a_burst_on_one_channel_is_one_call_with_the_latest_version() -> None:
    sender = Sender()
    d = await engine(sender, [])
    await asyncio.wait_for(d.deliver([update("private-event-a", v) for v in range(1, 101)]), 5)
    await d.stop()
    assert len(sender.calls) == 1
    (event,) = sender.calls[0]
    assert event["channel"] == "private-event-a" and orjson.loads(event["data"]) == {"version": 100}


async def test_many_channels_go_out_ten_events_per_call() -> None:
    sender = Sender()
    d = await engine(sender, [])
    await asyncio.wait_for(d.deliver([update(f"private-event-{i}", 1) for i in range(35)]), 5)
    await d.stop()
    assert sorted(len(c) for c in sender.calls) == [5, 10, 10, 10]


async def test_failures_retry_open_the_circuit_and_recover() -> None:
    sender = Sender(failing=True)
    d = await engine(sender, [])
    delivered = asyncio.ensure_future(d.deliver([update("private-event-a", 1)]))
    await asyncio.sleep(0.3)
    assert not delivered.done()
    assert d.breaker.failures >= CONFIG.breaker_failures
    sender.failing = False
    await asyncio.wait_for(delivered, 2)
    await d.stop()
    assert len(sender.calls) == 1 and d.breaker.failures == 0


async def test_an_update_undeliverable_past_the_deadline_is_dead_lettered() -> None:
    sender, dead = Sender(failing=True), list[tuple[Pending, str]]()
    d = await engine(sender, dead)
    await asyncio.wait_for(
        d.deliver([update("private-event-a", 1), update("private-event-a", 2)]), 5
    )
    await d.stop()
    assert [(u.version, reason) for u, reason in dead] == [(2, "pusher delivery failed: down")]


async def test_replayed_versions_are_not_sent_again() -> None:
    sender = Sender()
    d = await engine(sender, [])
    await d.deliver([update("private-event-a", 5)])
    await d.deliver([update("private-event-a", 4), update("private-event-a", 5)])
    await d.stop()
    assert len(sender.calls) == 1
