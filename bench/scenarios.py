"""The scenarios: each call is one run and returns its figures (latencies in ms)."""

import asyncio
import json
import random
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import httpx
from overlap_shared.cache_keys import view_key
from overlap_shared.eviction_channel import announce
from overlap_shared.redis_client import create_redis
from redis.exceptions import RedisError

from bench import ladder, probes
from bench.config import Config
from bench.seed import Seeded, availability
from bench.stats import summarize
from bench.vegeta import Target, attack


@dataclass
class Ctx:
    api: str
    redis_url: str
    kafka: str
    cfg: Config
    events: dict[str, Seeded]

    def view_url(self, name: str) -> str:
        return f"{self.api}/api/events/{self.events[name].token}"


def put_targets(ctx: Ctx, seed: int) -> list[Target]:
    """PUTs with fresh realistic availability, spread evenly over the events (each event
    gets the same share of the writes, whatever its size), participants in turn."""
    rng = random.Random(seed)
    out = []
    events = list(ctx.events.values())
    for i in range(max(len(ev.keys) for ev in events)):
        for ev in events:
            key = ev.keys[i % len(ev.keys)]
            avail, maybe = availability(rng, ev.spec.days, ev.spec.slots_per_day)
            out.append(
                Target(
                    "PUT",
                    f"{ctx.api}/api/events/{ev.token}/participants/me/availability",
                    {"X-Participant-Key": key, "Content-Type": "application/json"},
                    json.dumps({"available": avail, "if_needed": maybe}).encode(),
                )
            )
    return out


async def metrics(ctx: Ctx) -> dict[str, float]:
    async with httpx.AsyncClient() as client:
        return await probes.scrape(client, f"{ctx.api}/metrics")


def hit_rate(before: dict[str, float], after: dict[str, float]) -> float | None:
    hits = probes.delta(before, after, "cache_hits_total", 'cache="view"')
    misses = probes.delta(before, after, "cache_misses_total", 'cache="view"')
    if hits is None or misses is None or hits + misses <= 0:
        return None
    return hits / (hits + misses)


def cached_get(ctx: Ctx) -> dict[str, Any]:
    url = ctx.view_url(ctx.cfg.read_event)
    httpx.get(url, timeout=10).raise_for_status()  # warm: the view is in Redis now
    before = asyncio.run(metrics(ctx))
    figures = attack([Target("GET", url)], ctx.cfg.cached_rate, ctx.cfg.cached_s).figures()
    figures["hit_rate"] = hit_rate(before, asyncio.run(metrics(ctx)))
    return figures


def constant(url: str, rate: float, seconds: float) -> dict[str, Any]:
    return attack([Target("GET", url)], rate, seconds).figures()


def climb_pair(bare_url: str, view_url: str, cfg: Config) -> tuple[dict[str, Any], ...]:
    """The bare endpoint's and the cached GET's ladders, interleaved step by step, each
    after a warm-up at the first rate (connections open, the view in process memory)."""
    rates = ladder.rates(cfg.ladder_start, cfg.ladder_factor, cfg.ladder_steps)

    def attacker(url: str) -> Any:
        def at(rate: float) -> dict[str, Any]:
            figures = attack([Target("GET", url)], rate, cfg.ladder_s).figures()
            time.sleep(cfg.pause_s)
            return figures

        return at

    for url in (bare_url, view_url):
        attack([Target("GET", url)], cfg.ladder_start, cfg.ladder_warmup_s)
    return ladder.climb_pair((attacker(bare_url), attacker(view_url)), rates, cfg.ladder_p99_ms)


async def cache_miss(ctx: Ctx) -> dict[str, Any]:
    """Open loop at ``miss_rate``: delete a big event's view key (from Redis, and from the
    API's in-process L1 through the invalidation channel), then GET it (the big events take
    turns).

    The view is gone, so the API must rebuild it from PostgreSQL (the miss path). Latency
    runs from the intended send time of the GET (a late start is charged). The share of
    reads that really missed is read from the API's cache_misses_total.
    """
    big = [ctx.events[name] for name in ctx.cfg.miss_events]
    redis = create_redis(ctx.redis_url)
    n = max(1, int(ctx.cfg.miss_rate * ctx.cfg.miss_s))
    latencies: list[float] = []
    codes: dict[str, int] = {}
    async with (
        httpx.AsyncClient(base_url=ctx.api, timeout=10) as client,
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as timed,
    ):
        before = await probes.scrape(client, f"{ctx.api}/metrics")

        async def one(intended: float, token: str) -> None:
            late = max(0.0, time.perf_counter() - intended)  # the DEL itself is not charged
            try:
                await redis.delete(view_key(token))
                await announce(redis, token)  # and out of the API's in-process L1
                await asyncio.sleep(0.002)  # the API's listener drops it before the GET
                sent = time.perf_counter()
                async with timed.get(f"{ctx.api}/api/events/{token}") as r:
                    await r.read()  # aiohttp: httpx's own CPU was a third of the p50
            except (RedisError, aiohttp.ClientError, TimeoutError) as exc:  # a shared stack
                codes[type(exc).__name__] = codes.get(type(exc).__name__, 0) + 1
                return
            latencies.append((time.perf_counter() - sent + late) * 1000)
            codes[str(r.status)] = codes.get(str(r.status), 0) + 1

        start, tasks = time.perf_counter(), []
        for i in range(n):
            intended = start + i / ctx.cfg.miss_rate
            await asyncio.sleep(max(0.0, intended - time.perf_counter()))
            tasks.append(asyncio.create_task(one(intended, big[i % len(big)].token)))
        await asyncio.gather(*tasks)
        after = await probes.scrape(client, f"{ctx.api}/metrics")
    await redis.aclose()
    misses = probes.delta(before, after, "cache_misses_total", 'cache="view"')
    return {
        "requests": n,
        "status_codes": codes,
        "latency_ms": summarize(latencies),
        "miss_ratio": None if misses is None else min(1.0, misses / n),
    }


def put_availability(ctx: Ctx, run: int) -> dict[str, Any]:
    targets = put_targets(ctx, run)
    return attack(targets, ctx.cfg.put_rate, ctx.cfg.put_s).figures()


def mix_90_10(ctx: Ctx, run: int) -> dict[str, Any]:
    """9 GETs (round robin over every seeded event) for each PUT, in one open-loop stream."""
    puts = put_targets(ctx, 1000 + run)
    gets = [Target("GET", ctx.view_url(name)) for name in ctx.events]
    targets = []
    for i, put in enumerate(puts):
        targets += [gets[(9 * i + j) % len(gets)] for j in range(9)] + [put]
    before = asyncio.run(metrics(ctx))
    figures = attack(targets, ctx.cfg.mix_rate, ctx.cfg.mix_s).figures()
    figures["hit_rate"] = hit_rate(before, asyncio.run(metrics(ctx)))
    return figures


def hot_key_expiry(ctx: Ctx) -> dict[str, Any]:
    """Delete the hot view's key, then ``hot_readers`` GETs within 100 ms; count recomputes
    (the API's view_recomputes_total; the workers' own recomputes are not in it)."""
    ev = ctx.events[ctx.cfg.read_event]
    url = ctx.view_url(ctx.cfg.read_event)

    async def expire() -> None:
        redis = create_redis(ctx.redis_url)
        await redis.delete(view_key(ev.token))
        await announce(redis, ev.token)  # expired in the API's L1 too
        await redis.aclose()
        await asyncio.sleep(0.01)

    before = asyncio.run(metrics(ctx))
    asyncio.run(expire())
    burst = attack([Target("GET", url)], ctx.cfg.hot_readers * 10, 0.1).figures()
    recomputes = probes.delta(before, asyncio.run(metrics(ctx)), "view_recomputes_total")
    return {
        "recomputes": recomputes,
        "readers": burst["requests"],
        "latency_ms": burst["latency_ms"],
    }


async def sql_probe(ctx: Ctx, database_url: str) -> tuple[float, float]:
    xacts = probes.Transactions(database_url)
    redis = create_redis(ctx.redis_url)
    big = ctx.events[ctx.cfg.miss_events[0]].token
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            await client.get(ctx.view_url(ctx.cfg.read_event))
            await xacts.measure_background()

            async def hit() -> None:
                (await client.get(ctx.view_url(ctx.cfg.read_event))).raise_for_status()

            async def miss() -> None:
                await redis.delete(view_key(big))
                await announce(redis, big)  # out of the API's in-process L1 too
                await asyncio.sleep(0.002)
                (await client.get(ctx.view_url(ctx.cfg.miss_events[0]))).raise_for_status()

            return await xacts.per_request(hit, 300), await xacts.per_request(miss, 200)
    finally:
        await redis.aclose()
        await xacts.close()
