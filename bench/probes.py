"""Floors and counters: Redis GET and SQL round trips, /metrics, PostgreSQL transactions."""

import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx
from overlap_shared.db import create_engine
from overlap_shared.redis_client import create_redis
from sqlalchemy import text

FLOOR_KEY = "ov:bench:floor"


def parse_prometheus(body: str) -> dict[str, float]:
    """Prometheus text format → {"name{labels}": value} (comments and bad lines skipped)."""
    out: dict[str, float] = {}
    for line in body.splitlines():
        if not line or line.startswith("#"):
            continue
        series, _, value = line.rpartition(" ")
        try:
            out[series.strip()] = float(value)
        except ValueError:
            continue
    return out


def total(samples: dict[str, float], name: str, labels: str | None = None) -> float | None:
    """Sum of the series called ``name`` (optionally only those whose labels contain
    ``labels``, e.g. ``cache="view"``); None when the metric is absent."""
    found = [
        v
        for k, v in samples.items()
        if (k == name or k.startswith(name + "{")) and (labels is None or labels in k)
    ]
    return sum(found) if found else None


async def scrape(client: httpx.AsyncClient, url: str) -> dict[str, float]:
    try:
        r = await client.get(url, timeout=5)
    except httpx.HTTPError:
        return {}
    return parse_prometheus(r.text) if r.status_code == 200 else {}


def delta(
    before: dict[str, float], after: dict[str, float], name: str, labels: str | None = None
) -> float | None:
    a, b = total(after, name, labels), total(before, name, labels)
    return None if a is None or b is None else a - b


async def redis_floor(redis_url: str, n: int) -> list[float]:
    """Latencies (ms) of ``n`` sequential GETs with the project's client."""
    redis = create_redis(redis_url)
    try:
        await redis.set(FLOOR_KEY, b"x" * 64, px=60_000)
        out = []
        for _ in range(n):
            t = time.perf_counter()
            await redis.get(FLOOR_KEY)
            out.append((time.perf_counter() - t) * 1000)
        await redis.delete(FLOOR_KEY)
        return out
    finally:
        await redis.aclose()


async def sql_floor(database_url: str, n: int) -> list[float]:
    """Latencies (ms) of ``n`` sequential ``select 1`` on one pooled connection."""
    engine = create_engine(database_url, "overlap-bench")
    try:
        async with engine.connect() as conn:
            await conn.execute(text("select 1"))
            out = []
            for _ in range(n):
                t = time.perf_counter()
                await conn.execute(text("select 1"))
                out.append((time.perf_counter() - t) * 1000)
            return out
    finally:
        await engine.dispose()


class Transactions:
    """Committed + rolled-back transactions of the database (pg_stat_database).

    Backends flush their counters lazily (PostgreSQL 15: within ~10 s of going idle), so a
    probe waits ``settle_s`` before reading, and subtracts the background rate (the relay's
    polling, the workers) measured the same way.
    """

    SQL = text(
        "select xact_commit + xact_rollback from pg_stat_database "
        "where datname = current_database()"
    )

    def __init__(self, database_url: str, settle_s: float = 11.0) -> None:
        self.engine = create_engine(database_url, "overlap-bench")
        self.settle_s = settle_s
        self.background_per_s = 0.0

    async def count(self) -> int:
        async with self.engine.connect() as conn:
            return int((await conn.execute(self.SQL)).scalar_one())

    async def measure_background(self) -> float:
        c0, t0 = await self.count(), time.monotonic()
        await asyncio.sleep(self.settle_s)
        self.background_per_s = (await self.count() - c0) / (time.monotonic() - t0)
        return self.background_per_s

    async def per_request(self, send: Callable[[], Awaitable[object]], n: int) -> float:
        c0, t0 = await self.count(), time.monotonic()
        for _ in range(n):
            await send()
        await asyncio.sleep(self.settle_s)
        spent = await self.count() - c0 - self.background_per_s * (time.monotonic() - t0)
        return max(0.0, spent / n)

    async def close(self) -> None:
        await self.engine.dispose()
