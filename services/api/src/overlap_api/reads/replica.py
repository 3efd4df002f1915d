"""Where a cache miss reads its snapshot, and how far the PostgreSQL replica is behind.

With ``DATABASE_REPLICA_URL`` set, a view rebuilt on a cache miss is read from the
streaming replica, so misses scale with replicas instead of loading the primary. Its copy
may be older than the primary's (replication is asynchronous). The rule:

- A reader with ``min_version`` (a writer reading its own write) is never answered older:
  its rebuild reads the primary at once (the replica has seldom replayed a write made a
  moment ago, and reading it first would rebuild the view twice; see
  ``views.ViewReader.read``).
- An event the replica does not have yet (created a moment ago), or a replica that cannot
  be reached, is read from the primary at once.
- The compare-and-set of the view cache keeps a replica's older view from replacing a
  newer one in Redis.

Replica lag (bytes of WAL not yet replayed, and seconds since the last replayed commit
while it is behind) is measured every few seconds into ``/metrics`` and the monitor.
"""

import asyncio
import logging

from overlap_shared.queries import Snapshot
from prometheus_client import Counter, Gauge
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from overlap_api.http.errors import EventNotFound
from overlap_api.reads.queries import snapshot
from overlap_api.resources import Resources

log = logging.getLogger(__name__)
LAG_EVERY_S = 5.0
REPLICA_READS = Counter(
    "replica_reads_total",
    "Cache-miss snapshots by where they came from (replica; primary: missing, failed)",
    ["outcome"],
)
LAG_BYTES = Gauge("replica_lag_bytes", "WAL the replica has not replayed yet (-1: unknown)")
LAG_SECONDS = Gauge(
    "replica_lag_seconds", "Seconds since the replica's last replayed commit, 0 when caught up"
)
_PRIMARY_LSN = text("select pg_current_wal_lsn()::text")
_REPLICA_LAG = text(
    "select pg_wal_lsn_diff(cast(cast(:primary as text) as pg_lsn), pg_last_wal_replay_lsn()),"
    " coalesce(extract(epoch from now() - pg_last_xact_replay_timestamp()), 0)"
)


async def miss_snapshot(resources: Resources, token: str, *, primary: bool) -> Snapshot:
    """The event's snapshot for a view rebuild: from the replica unless ``primary`` (or
    there is none, or it has not got the event, or it fails)."""
    if not primary and resources.replica is not None:
        try:
            async with resources.replica_reading() as conn:
                found = await snapshot(conn, token)
            REPLICA_READS.labels("replica").inc()
            return found
        except EventNotFound:
            REPLICA_READS.labels("primary_missing").inc()
        except (DBAPIError, OSError, TimeoutError) as exc:
            REPLICA_READS.labels("primary_failed").inc()
            log.warning("replica read failed, reading the primary: %s", exc)
    async with resources.statement() as conn:  # one statement: no BEGIN/ROLLBACK trips
        return await snapshot(conn, token)


async def replica_lag(resources: Resources) -> dict[str, float | bool]:
    """How far the replica is behind the primary now (``configured: false`` without one)."""
    if resources.replica is None:
        return {"configured": False}
    async with resources.reading() as conn:
        primary_lsn = (await conn.execute(_PRIMARY_LSN)).scalar_one()
    async with resources.replica_reading() as conn:
        behind, since = (await conn.execute(_REPLICA_LAG, {"primary": primary_lsn})).one()
    lag_bytes = max(0, int(behind or 0))
    lag_s = round(float(since), 3) if lag_bytes else 0.0
    LAG_BYTES.set(lag_bytes)
    LAG_SECONDS.set(lag_s)
    return {"configured": True, "lag_bytes": lag_bytes, "lag_s": lag_s}


async def track_lag(resources: Resources, every_s: float = LAG_EVERY_S) -> None:
    """Keep the lag gauges current for the process's life (a background task)."""
    while True:
        try:
            await replica_lag(resources)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the replica is down: say so, try again later
            LAG_BYTES.set(-1)
            log.warning("replica lag not measured: %s", exc)
        await asyncio.sleep(every_s)
