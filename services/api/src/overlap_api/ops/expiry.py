"""Deleting the events the retention policy has expired (``overlap_shared.retention``).

Each batch is one transaction: claim up to ``limit`` expired events with
``FOR UPDATE SKIP LOCKED`` (two jobs at once, or a job beside an organiser's delete or a
write, never take the same event), bump their versions, then delete them through the
organiser's path, :func:`events.service.remove_events`: one ``EventDeleted`` each in the
outbox. The relay publishes them; the availability worker buries the views, the
cache-invalidator clears the cached tags, the notifier tells open pages ``event.deleted``.
"""

import logging
import uuid
from datetime import datetime, timedelta
from typing import cast

from overlap_shared.models import Event
from overlap_shared.queries import SNAPSHOT_COLUMNS, event_snapshot
from sqlalchemy import ARRAY, DateTime, Select, String, bindparam, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from overlap_api.events.service import remove_events
from overlap_api.writes.store import Locked

log = logging.getLogger(__name__)

# The end of the last candidate date in the event's zone (local midnight after it). A zone
# PostgreSQL does not know (``:zones`` lists those it does) is read as UTC-12, the latest
# midnight anywhere: such an event goes up to a day late, never early, and never fails the job.
_LAST_DATE_ENDED_BY_CUTOFF = text(
    """(SELECT (max(d) + 1)::timestamp AT TIME ZONE
          CASE WHEN events.timezone IN (SELECT unnest(:zones)) THEN events.timezone
               ELSE 'Etc/GMT+12' END
        FROM unnest(events.dates) AS d) <= :cutoff"""
).bindparams(bindparam("zones", type_=ARRAY(String)), bindparam("cutoff", type_=DateTime(True)))
_KNOWN_ZONES = text("SELECT array_agg(name) FROM pg_timezone_names")  # ~0.3 s: once a run


def cutoff(now: datetime, retention_days: int) -> datetime:
    """Events whose last activity (``retention.last_activity``) is at or before this expired."""
    return now - timedelta(days=retention_days)


async def known_zones(conn: AsyncConnection) -> list[str]:
    """The time zones PostgreSQL's ``AT TIME ZONE`` understands."""
    return list((await conn.execute(_KNOWN_ZONES)).scalar_one() or [])


def claim_expired(until: datetime, limit: int, zones: list[str]) -> Select[uuid.UUID]:
    """Up to ``limit`` expired event ids, oldest write first, locked; rows another
    transaction holds (a concurrent job, a delete, a write) are skipped."""
    ended = _LAST_DATE_ENDED_BY_CUTOFF.bindparams(cutoff=until, zones=zones)
    return (
        select(Event.id)
        .where(Event.updated_at <= until, or_(Event.kind == "weekdays", ended))
        .order_by(Event.updated_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


async def expire_batch(
    conn: AsyncConnection, until: datetime, limit: int, zones: list[str], topic: str
) -> list[Locked]:
    """Delete one batch of expired events in this transaction; returns what it removed."""
    await conn.execute(text("SET LOCAL jit = off"))  # a short scan; compiling costs more
    claimed = claim_expired(until, limit, zones).scalar_subquery()
    bump = (
        update(Event)
        .where(Event.id.in_(claimed))
        .values(version=Event.version + 1, updated_at=func.now())
        .returning(*SNAPSHOT_COLUMNS, Event.admin_key_hash)
    )
    rows = (await conn.execute(bump)).all()
    doomed = [Locked(event_snapshot(row), cast(bytes, row[-1])) for row in rows]
    await remove_events(conn, doomed, topic)
    return doomed


async def expire(
    engine: AsyncEngine,
    now: datetime,
    retention_days: int,
    batch_size: int,
    max_batches: int,
    topic: str,
) -> list[Locked]:
    """Run batches (one transaction each) until none is full or ``max_batches`` ran."""
    if retention_days <= 0:
        log.info("retention is off (RETENTION_DAYS=0): nothing expires")
        return []
    until = cutoff(now, retention_days)
    async with engine.connect() as conn:
        zones = await known_zones(conn)
    removed: list[Locked] = []
    for _ in range(max_batches):
        async with engine.begin() as conn:  # the one place this job commits
            batch = await expire_batch(conn, until, batch_size, zones, topic)
        removed += batch
        if batch:
            ids = ", ".join(str(e.id) for e in batch)
            log.info("expired %d events (last activity before %s): %s", len(batch), until, ids)
        if len(batch) < batch_size:
            break
    return removed
