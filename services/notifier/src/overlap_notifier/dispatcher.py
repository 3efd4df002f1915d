"""The delivery engine: coalesce per channel, send in batches with bounded concurrency,
retry with backoff, stop calling while the circuit is open, dead-letter past a deadline.

``submit`` gives one future per update, resolved once the update is settled: delivered
(possibly by a later version that superseded it), dropped (stale or over the memory cap)
or dead-lettered. The consumer commits a record's offset only after that.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from overlap_shared.cache_keys import notifier_stats_key, view_key
from overlap_shared.redis_client import RedisClient

from overlap_notifier import metrics
from overlap_notifier.backoff import backoff_delay
from overlap_notifier.batching import calls
from overlap_notifier.breaker import CircuitBreaker
from overlap_notifier.coalescer import Coalescer, Update
from overlap_notifier.payloads import (
    EVENT_DELETED,
    EVENT_UPDATED,
    MAX_EVENTS_PER_CALL,
    VIEW_UPDATED,
    batch_event,
    event_deleted_payload,
    event_updated_payload,
    view_payload,
)
from overlap_notifier.pusher_http import PusherError
from overlap_notifier.settings import Settings

log = logging.getLogger(__name__)
Waiter = asyncio.Future[None]
Pending = Update[Waiter]
DeadLetter = Callable[[Pending, str], Awaitable[None]]
_ORDER = {EVENT_UPDATED: 0, VIEW_UPDATED: 1, EVENT_DELETED: 2}


class Sender(Protocol):
    async def trigger_batch(self, batch: list[dict[str, Any]]) -> None: ...


@dataclass(frozen=True)
class DeliveryConfig:
    window_s: float = 0.1
    max_pending_channels: int = 10_000
    concurrency: int = 8
    retry_base_s: float = 0.1
    retry_max_s: float = 5.0
    delivery_timeout_s: float = 60.0
    breaker_failures: int = 5
    breaker_cooldown_s: float = 2.0

    @classmethod
    def from_settings(cls, s: Settings) -> "DeliveryConfig":
        return cls(
            window_s=s.notifier_window_ms / 1000,
            max_pending_channels=s.notifier_max_pending_channels,
            concurrency=s.notifier_concurrency,
            retry_base_s=s.notifier_retry_base_ms / 1000,
            retry_max_s=s.notifier_retry_max_ms / 1000,
            delivery_timeout_s=s.notifier_delivery_timeout_s,
            breaker_failures=s.notifier_breaker_failures,
            breaker_cooldown_s=s.notifier_breaker_cooldown_ms / 1000,
        )


def _settle(update: Pending) -> None:
    for waiter in update.waiters:
        if not waiter.done():
            waiter.set_result(None)
    update.waiters = []


class Dispatcher:
    def __init__(
        self,
        config: DeliveryConfig,
        sender: Sender,
        redis: RedisClient,
        dead_letter: DeadLetter,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config, self.sender, self.redis = config, sender, redis
        self.dead_letter, self.clock = dead_letter, clock
        self.coalescer: Coalescer[Waiter] = Coalescer(config.window_s, config.max_pending_channels)
        self.breaker = CircuitBreaker(config.breaker_failures, config.breaker_cooldown_s)
        self._slots = asyncio.Semaphore(config.concurrency)
        self._wake = asyncio.Event()
        self._calls: set[asyncio.Task[None]] = set()
        self._runner: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._runner = asyncio.create_task(self._run(), name="notifier-dispatch")

    async def stop(self, grace_s: float = 5.0) -> None:
        if self._runner:
            self._runner.cancel()
            await asyncio.gather(self._runner, return_exceptions=True)
        if self._calls:
            _, late = await asyncio.wait(self._calls, timeout=grace_s)
            for task in late:
                task.cancel()

    # --------------------------------------------------------------------- intake

    def submit(self, updates: list[Pending]) -> list[Waiter]:
        """Queue ``updates``; each future resolves when its update is settled."""
        loop = asyncio.get_running_loop()
        waiters: list[Waiter] = []
        now = self.clock()
        for update in updates:
            waiter: Waiter = loop.create_future()
            waiters.append(waiter)
            if self.coalescer.is_sent(update):
                metrics.DROPPED.labels("stale").inc()
                waiter.set_result(None)
                continue
            update.waiters.append(waiter)
            self._drop(self.coalescer.add(update, now))
        self._observe()
        self._wake.set()
        return waiters

    async def deliver(self, updates: list[Pending]) -> None:
        """:meth:`submit` and wait until all are settled."""
        waiters = self.submit(updates)
        if waiters:
            await asyncio.gather(*waiters)

    def _drop(self, dropped: list[Pending]) -> None:
        for update in dropped:
            metrics.DROPPED.labels("capped").inc()
            _settle(update)

    def _observe(self) -> None:
        metrics.PENDING.set(len(self.coalescer))
        metrics.IN_FLIGHT.set(self.coalescer.in_flight)
        metrics.CIRCUIT.set(int(self.breaker.state(self.clock())))

    # ------------------------------------------------------------------- the loop

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            await self._slots.acquire()
            batch = self._next_batch()
            if batch:
                task = asyncio.create_task(self._send(batch))
                self._calls.add(task)
                task.add_done_callback(self._calls.discard)
                continue
            self._slots.release()
            self._observe()
            try:
                async with asyncio.timeout(self._idle_timeout()):
                    await self._wake.wait()
            except TimeoutError:
                pass

    def _next_batch(self) -> list[Pending]:
        now = self.clock()
        if not self.coalescer.has_due(now) or not self.breaker.allow(now):
            return []
        return self.coalescer.take(now, MAX_EVENTS_PER_CALL)

    def _idle_timeout(self) -> float | None:
        due = self.coalescer.next_due()
        if due is None:
            return None
        now = self.clock()
        return max(0.0, max(due, self.breaker.retry_at(now)) - now)

    # ------------------------------------------------------------------- one call

    async def _send(self, batch: list[Pending]) -> None:
        batch.sort(key=lambda u: (u.channel, _ORDER.get(u.name, 9)))
        try:
            events = await self._events(batch)
            for call in calls(events):
                await self.sender.trigger_batch(call)
        except PusherError as exc:
            await self._failed(batch, exc)
        except Exception as exc:  # a bug: log it, treat like a failed call
            log.exception("notifier: unexpected error sending a batch")
            await self._failed(batch, PusherError(f"{type(exc).__name__}: {exc}"))
        else:
            await self._succeeded(batch, len(events))
        finally:
            self._slots.release()
            self._observe()
            self._wake.set()

    async def _events(self, batch: list[Pending]) -> list[dict[str, Any]]:
        views = await self._stored_views([u.token for u in batch if u.name == VIEW_UPDATED])
        events = []
        for update in batch:
            if update.name == VIEW_UPDATED:
                data = view_payload(update.version, views.get(update.token))
            elif update.name == EVENT_UPDATED:
                data = event_updated_payload(update.version)
            else:
                data = event_deleted_payload()
            events.append(batch_event(update.channel, update.name, data))
        return events

    async def _stored_views(self, tokens: list[str]) -> dict[str, bytes | None]:
        """The stored views, one round trip; without Redis, none (clients fetch)."""
        if not tokens:
            return {}
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for token in tokens:
                    pipe.get(view_key(token))
                found = await pipe.execute()
        except Exception as exc:
            log.warning("notifier: views unreadable, sending versions only: %s", exc)
            return {}
        return dict(zip(tokens, found, strict=True))

    async def _succeeded(self, batch: list[Pending], n_events: int) -> None:
        self.breaker.record_success()
        self.coalescer.done(batch, delivered=True)
        metrics.CALLS.labels("ok").inc()
        metrics.EVENTS_PER_CALL.observe(n_events)
        wall = time.time()
        for update in batch:
            metrics.LATENCY.observe(max(0.0, wall - update.occurred_at))
            _settle(update)
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.hincrby(notifier_stats_key(), "calls", 1)
                pipe.hincrby(notifier_stats_key(), "events", n_events)
                await pipe.execute()
        except Exception as exc:
            log.warning("notifier: stats not recorded: %s", exc)

    async def _failed(self, batch: list[Pending], exc: PusherError) -> None:
        now = self.clock()
        self.coalescer.done(batch, delivered=False)
        metrics.CALLS.labels("error").inc()
        metrics.FAILURES.labels("retryable" if exc.retryable else "refused").inc()
        if exc.retryable:
            self.breaker.record_failure(now)
        else:
            self.breaker.record_success()  # Pusher answered; the batch was the problem
        limit = self.config.delivery_timeout_s
        expired = [u for u in batch if not exc.retryable or now - u.received_at >= limit]
        retry = [u for u in batch if all(u is not e for e in expired)]
        if retry:
            for update in retry:
                update.attempts += 1
            delay = backoff_delay(
                max(u.attempts for u in retry), self.config.retry_base_s, self.config.retry_max_s
            )
            due = max(now + delay, self.breaker.retry_at(now))
            self._drop(self.coalescer.requeue(retry, due))
            log.info("notifier: call failed (%s); %d updates retry", exc, len(retry))
        for update in expired:
            await self._dead_letter(update, f"pusher delivery failed: {exc}")

    async def _dead_letter(self, update: Pending, reason: str) -> None:
        try:
            await self.dead_letter(update, reason)
        except Exception as exc:  # keep it (uncommitted) and try again later
            log.error("notifier: dead-lettering failed, retrying later: %s", exc)
            due = self.clock() + self.config.retry_max_s
            self._drop(self.coalescer.requeue([update], due))
            self._wake.set()
            return
        log.warning("notifier: dead-lettered %s on %s: %s", update.name, update.channel, reason)
        _settle(update)
