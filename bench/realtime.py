"""Write → websocket client: freshness and the notifier's batching under a burst.

A real Pusher-protocol websocket client (``tests.pusher_client.Socket``) is subscribed to
``private-event-<id>`` of a seeded event, authorized through the API's
``/api/realtime/auth`` with ``X-Event-Token``; availability PATCHes are then sent open-loop.
"""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
import orjson
import websockets
from overlap_shared.cache_keys import notifier_stats_key
from overlap_shared.redis_client import create_redis
from overlap_shared.settings import PusherSettings

from bench.log import log
from bench.seed import Seeded
from bench.stats import summarize
from tests.pusher_client import Socket, authorize


def updates(socket: Socket, channel: str) -> list[tuple[float, int]]:
    """(arrival time, version) of every ``view.updated`` the socket received on ``channel``."""
    out = []
    for at, m in list(socket.events):
        if m.get("channel") == channel and m.get("event") == "view.updated":
            with contextlib.suppress(ValueError, KeyError, TypeError):
                out.append((at, int(orjson.loads(m["data"])["version"])))
    return out


def first_arrivals(
    writes: Sequence[tuple[float, int]], arrivals: Sequence[tuple[float, int]]
) -> list[float | None]:
    """For each write (intended send time, version it returned), the ms until the first
    arrival (time, version) at or after the send with a version >= the write's (pure)."""
    ordered = sorted(arrivals)
    out: list[float | None] = []
    for sent, version in writes:
        hit = next((at for at, v in ordered if at >= sent and v >= version), None)
        out.append(None if hit is None else (hit - sent) * 1000)
    return out


@contextlib.asynccontextmanager
async def subscribed(client: httpx.AsyncClient, event: Seeded) -> AsyncIterator[tuple[Socket, str]]:
    cfg = PusherSettings()
    url = f"ws://{cfg.host}:{cfg.port}/app/{cfg.key}?protocol=7&client=overlap-bench&version=1"
    async with websockets.connect(url) as ws:
        hello = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
        if hello.get("event") != "pusher:connection_established":
            raise RuntimeError(f"websocket: unexpected greeting {hello}")
        s = Socket(ws, orjson.loads(hello["data"])["socket_id"])
        try:
            channel = f"private-event-{event.event_id}"
            r = await authorize(client, s.socket_id, channel, **{"X-Event-Token": event.token})
            r.raise_for_status()
            ack = await s.subscribe(channel, r.json())
            if ack.get("event") != "pusher_internal:subscription_succeeded":
                raise RuntimeError(f"websocket: subscription refused {ack}")
            yield s, channel
        finally:
            await s.close()


async def open_loop_writes(
    client: httpx.AsyncClient, event: Seeded, rate: float, n: int
) -> list[tuple[float, int]]:
    """``n`` availability PATCHes at ``rate``/s (participants in turn); returns (intended
    send time as wall-clock, version it returned) of the successful ones."""
    url = f"/api/events/{event.token}/participants/me/availability"
    done: list[tuple[float, int]] = []

    async def write(i: int, intended: float) -> None:
        key = event.keys[i % len(event.keys)]
        slot = i % max(1, event.slot_count - 1)
        with contextlib.suppress(httpx.HTTPError):
            r = await client.patch(
                url, json={"set_available": [[slot, slot + 1]]}, headers={"X-Participant-Key": key}
            )
            if r.status_code == 200:
                done.append((intended, int(r.json()["version"])))

    mono0, wall0 = time.monotonic(), time.time()
    tasks = []
    for i in range(n):
        await asyncio.sleep(max(0.0, mono0 + i / rate - time.monotonic()))
        tasks.append(asyncio.create_task(write(i, wall0 + i / rate)))
    await asyncio.gather(*tasks)
    return done


async def freshness(api: str, event: Seeded, rate: float, seconds: float) -> dict[str, Any]:
    """Write → first ``view.updated`` with a version >= the write's, from the intended send
    time of the write (a late send is charged)."""
    n = max(1, int(rate * seconds))
    async with (
        httpx.AsyncClient(base_url=api, timeout=10) as client,
        subscribed(client, event) as (socket, channel),
    ):
        writes = await open_loop_writes(client, event, rate, n)
        last = max((v for _, v in writes), default=0)
        with contextlib.suppress(TimeoutError):  # give the last write its chance to arrive
            await socket.wait_for(
                lambda m: (
                    m.get("channel") == channel
                    and m.get("event") == "view.updated"
                    and int(orjson.loads(m["data"])["version"]) >= last
                ),
                limit_s=5,
            )
        got = first_arrivals(writes, updates(socket, channel))
    latencies = [x for x in got if x is not None]
    return {
        "writes": n,
        "committed": len(writes),
        "received": len(latencies),
        "latency_ms": summarize(latencies),
    }


async def notifier_calls(redis_url: str) -> tuple[int, int]:
    redis = create_redis(redis_url)
    try:
        calls, n_events = await redis.hmget(notifier_stats_key(), ["calls", "events"])
    finally:
        await redis.aclose()
    return int(calls or 0), int(n_events or 0)


async def notifier_burst(
    api: str, redis_url: str, event: Seeded, writes: int, settle_s: float
) -> dict[str, Any]:
    """``writes`` PATCHes within one second (open loop), then Pusher HTTP calls per view
    update from the notifier's ``ov:stats:notifier`` hash; the subscribed client must end
    on the final version."""
    async with (
        httpx.AsyncClient(base_url=api, timeout=10) as client,
        subscribed(client, event) as (socket, channel),
    ):
        calls0, events0 = await notifier_calls(redis_url)
        done = await open_loop_writes(client, event, float(writes), writes)
        await asyncio.sleep(settle_s)
        calls1, events1 = await notifier_calls(redis_url)
        seen = updates(socket, channel)
    final = max((v for _, v in done), default=None)
    last_seen = max((v for _, v in seen), default=None)
    return {
        "writes": writes,
        "committed": len(done),
        "calls": calls1 - calls0,
        "events": events1 - events0,
        "calls_per_update": (calls1 - calls0) / writes,
        "messages_received": len(seen),
        "final_version": final,
        "last_version_seen": last_seen,
        "ends_on_final": final is not None and last_seen == final,
    }


def guarded(coro: Any) -> dict[str, Any]:
    """Run one realtime scenario; a failure (stack not wired, soketi down) is recorded."""
    try:
        return dict(asyncio.run(coro))
    except Exception as exc:  # a shared stack: report, do not abort the run
        log(f"  failed: {type(exc).__name__}: {exc}")
        return {"error": f"{type(exc).__name__}: {exc}"[:300]}


def realtime_notes(fresh: list[dict[str, Any]], bursts: list[dict[str, Any]]) -> list[str]:
    out = [
        "Freshness and notifier batching: a real Pusher websocket client (soketi) subscribed "
        "to private-event-<id> of the seeded event, authorized through /api/realtime/auth; "
        "the path is API → outbox relay → Kafka → availability worker → notifier → soketi. "
        "The floor ratio divides by the outbox commit → consumer p99 of the same run."
    ]
    errors = [r["error"] for r in fresh + bursts if "error" in r]
    if errors:
        out.append(f"Realtime runs that failed: {'; '.join(errors)}")
    short = [f for f in fresh if "error" not in f and f["received"] < f["committed"]]
    if short:
        got = ", ".join(f"{f['received']}/{f['committed']}" for f in short)
        out.append(f"Freshness: some writes never reached the client within 5 s ({got}).")
    return out
