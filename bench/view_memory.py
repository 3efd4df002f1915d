"""Redis memory per event, for the capacity model (deploy/CAPACITY.md): the bench's event
shapes are seeded through an in-process API on the services the environment names
(DATABASE_URL, REDIS_URL, REDIS_CLUSTER), each view is read once (a miss stores it), and
``MEMORY USAGE`` of every key the event holds is summed.

    .venv/bin/python -m bench.view_memory      # with deploy/local/env.sh sourced

It writes real events (and their outbox rows, for DOMAIN_TOPIC): run it against a
``make run`` stack, whose relay sends them on, never against the tests' database.
"""

import asyncio
import random

import httpx
from overlap_api.app import create_app
from overlap_api.settings import Settings
from overlap_api.wiring import wire
from overlap_shared.redis_client import RedisClient

from bench.seed import FULL_EVENTS, LARGE_EVENT, EventSpec, seed_event

SHAPES = (*[s for s in FULL_EVENTS if not s.name.startswith("big-")], LARGE_EVENT)


async def event_memory(client: httpx.AsyncClient, redis: RedisClient, spec: EventSpec) -> str:
    """One table row: the shape, its view's bytes, what Redis holds for the event."""
    seeded = await seed_event(client, spec, random.Random(8), asyncio.Semaphore(8))
    view = (await client.get(f"/api/events/{seeded.token}")).raise_for_status()
    total = 0
    async for key in redis.scan_iter(match=f"ov:{{{seeded.token}}}:*", count=1000):
        total += await redis.memory_usage(key) or 0
    shape = f"{spec.participants} x {spec.days} days x {seeded.slot_count // spec.days} slots"
    return f"| {spec.name} | {shape} | {len(view.content):,} | {total:,} |"


async def main() -> None:
    settings = Settings(rate_limits_enabled=False, relay_enabled=False)
    app = create_app(settings)
    async with wire(app, settings) as wiring:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=60) as c:
            print("| event | shape | view JSON bytes | Redis bytes (all its keys) |")
            print("|---|---|---|---|")
            for spec in SHAPES:
                print(await event_memory(c, wiring.resources.redis, spec), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
