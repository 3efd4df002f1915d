"""Cache warming: precompute the views of the most recently active events.

After Redis restarts empty, ``overlap-warm --limit 500 --rate 50`` fills the view cache
for the events most likely to be read, newest activity first, at a bounded rate so it
never competes with live traffic for PostgreSQL. Versioned writes make it safe to run
beside the workers.
"""

import argparse
import asyncio
import logging
import time

from overlap_shared.db import create_engine
from overlap_shared.logs import setup_logging
from overlap_shared.models import Event
from overlap_shared.queries import load_snapshot_by_id
from overlap_shared.redis_client import create_redis
from overlap_shared.view import render_view
from overlap_shared.viewcache import ViewCache
from sqlalchemy import select

from overlap_api.settings import Settings

log = logging.getLogger(__name__)
MAX_LIMIT = 100_000


async def warm(settings: Settings, limit: int, rate: float) -> int:
    """Warm up to ``limit`` views at most ``rate`` per second; returns how many were written."""
    engine = create_engine(settings.database_url, "overlap-warm")
    redis = create_redis(settings.redis_url, cluster=settings.redis_cluster)
    cache = ViewCache(redis, settings.cache_ttl_availability)
    written = 0
    try:
        async with engine.connect() as conn:
            recent = select(Event.id).order_by(Event.updated_at.desc()).limit(limit)
            ids = (await conn.execute(recent)).scalars().all()
        started = time.monotonic()
        for n, event_id in enumerate(ids):
            await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
            async with engine.connect() as conn:
                snap = await load_snapshot_by_id(conn, event_id)
            if snap is None:  # deleted meanwhile
                continue
            event, people = snap
            written += await cache.put(
                event.token,
                event.version,
                render_view(event, people, retention_days=settings.retention_days),
            )
    finally:
        await redis.aclose()
        await engine.dispose()
    log.info("warmed %d of %d recent events", written, len(ids))
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=1000, help="events to warm (newest first)")
    parser.add_argument("--rate", type=float, default=50.0, help="events per second at most")
    args = parser.parse_args()
    if not 1 <= args.limit <= MAX_LIMIT or not 0 < args.rate <= 10_000:
        parser.error(f"--limit must be 1..{MAX_LIMIT} and --rate 0..10000")
    settings = Settings()
    setup_logging(settings.log_level)
    print(asyncio.run(warm(settings, args.limit, args.rate)))


if __name__ == "__main__":
    main()
