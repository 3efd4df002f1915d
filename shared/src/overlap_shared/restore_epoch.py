"""After a database restore: move every event's version past any version seen before, and
announce every event, so caches and open pages converge on the restored data.

A restore takes the database back in time: versions go backwards, while Redis, the
availability worker's in-process aggregates, the API's L1 floors and open pages hold newer
ones. Each of them accepts only a newer version (compare-and-set in Redis, version floors, a
page ignores a view older than the one it shows): what keeps them right in normal running
would keep the restored data out. Raising every version by a gap larger than the writes one
event can take between a backup and its restore makes the restored state the newest
everywhere, with no special case in any reader.

``python -m overlap_shared.restore_epoch [--gap N]`` runs once against the restored database,
before it is put in service (``deploy/local/backup.sh restore``). In one transaction it bumps
the versions and adds one ``EventUpdated`` per event to the outbox, behind the restored rows:
the relay publishes them, the availability worker rebuilds each view in full (a version gap),
the cache-invalidator clears the event's cached metadata, the notifier tells open pages.
"""

import argparse
import asyncio
import uuid
from collections.abc import Iterable

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from overlap_shared import events
from overlap_shared.db import create_engine
from overlap_shared.models import Event, OutboxMessage, outbox_rows
from overlap_shared.settings import ServiceSettings

# More writes than one event can take between a backup and its restore: a row lock passes
# about 10,000 writes a second at most, 8.6e8 in a day. Pages handle versions up to 2**53.
DEFAULT_GAP = 1_000_000_000
INSERT_BATCH = 1_000


def announcements(
    bumped: Iterable[tuple[uuid.UUID, str, int]],
) -> list[events.EventUpdated]:
    """One ``EventUpdated`` per (event id, token, new version): a full rebuild everywhere."""
    restored = events.EventUpdatedData(fields=(), grid_changed=True)
    return [
        events.EventUpdated(event_id=event_id, token=token, version=version, data=restored)
        for event_id, token, version in bumped
    ]


async def advance(conn: AsyncConnection, gap: int, topic: str) -> int:
    """Bump every event's version by ``gap`` and enqueue its announcement; how many events."""
    bump = update(Event).values(version=Event.version + gap)
    result = await conn.execute(bump.returning(Event.id, Event.token, Event.version))
    rows = outbox_rows(topic, announcements((r[0], r[1], r[2]) for r in result))
    for start in range(0, len(rows), INSERT_BATCH):
        await conn.execute(insert(OutboxMessage), rows[start : start + INSERT_BATCH])
    return len(rows)


async def run(settings: ServiceSettings, gap: int) -> int:
    engine = create_engine(settings.database_url, "overlap-restore-epoch")
    try:
        async with engine.begin() as conn:
            return await advance(conn, gap, settings.domain_topic)
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gap", type=int, default=DEFAULT_GAP, help="added to every version")
    args = parser.parse_args()
    if not 1 <= args.gap <= 2**50:
        parser.error("--gap must be 1..2**50")
    count = asyncio.run(run(ServiceSettings(), args.gap))
    print(f"advanced and announced {count} events by {args.gap} versions")


if __name__ == "__main__":
    main()
