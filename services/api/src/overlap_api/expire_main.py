"""Entry point `overlap-expire`: delete the events past the retention policy, then exit.

Run on a schedule (the ``overlap-expire`` CronJob, ``make expire``). Safe to run twice or
concurrently (see ``expiry``). It logs what it removed and counts it in Prometheus metrics,
pushed to ``PUSHGATEWAY_URL`` when set (a job that exits is never scraped).
"""

import argparse
import asyncio
import logging
import time
from datetime import UTC, datetime

from overlap_shared.db import create_engine
from overlap_shared.logs import setup_logging
from prometheus_client import CollectorRegistry, Counter, Gauge, push_to_gateway

from overlap_api.ops.expiry import expire
from overlap_api.settings import Settings

log = logging.getLogger(__name__)
REGISTRY = CollectorRegistry()
EXPIRED = Counter(
    "overlap_expired_events", "Events deleted by the retention job", registry=REGISTRY
)
LAST_SUCCESS = Gauge(
    "overlap_expire_last_success_unixtime",
    "When the retention job last finished",
    registry=REGISTRY,
)
DURATION = Gauge("overlap_expire_duration_seconds", "The last run's duration", registry=REGISTRY)


async def run(settings: Settings, batch_size: int, max_batches: int) -> int:
    """One run of the job; returns how many events it deleted."""
    started = time.monotonic()
    engine = create_engine(settings.database_url, "overlap-expire")
    try:
        removed = await expire(
            engine,
            datetime.now(UTC),
            settings.retention_days,
            batch_size,
            max_batches,
            settings.domain_topic,
        )
    finally:
        await engine.dispose()
    EXPIRED.inc(len(removed))
    LAST_SUCCESS.set_to_current_time()
    DURATION.set(time.monotonic() - started)
    log.info(
        "retention job done: %d events deleted (RETENTION_DAYS=%d) in %.1f s",
        len(removed),
        settings.retention_days,
        time.monotonic() - started,
    )
    if settings.pushgateway_url:
        push_to_gateway(settings.pushgateway_url, job="overlap-expire", registry=REGISTRY)
    return len(removed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-size", type=int, default=100, help="events per transaction")
    parser.add_argument("--max-batches", type=int, default=1000, help="batches per run at most")
    args = parser.parse_args()
    if not 1 <= args.batch_size <= 10_000 or not 1 <= args.max_batches <= 1_000_000:
        parser.error("--batch-size must be 1..10000 and --max-batches 1..1000000")
    settings = Settings()
    setup_logging(settings.log_level)
    print(asyncio.run(run(settings, args.batch_size, args.max_batches)))


if __name__ == "__main__":
    main()
