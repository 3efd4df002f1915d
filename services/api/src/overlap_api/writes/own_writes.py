"""The availability this API process wrote lately, so that a writer reading its own write
gets the new view from the aggregate the process holds, without reading PostgreSQL.

A ``GET ?min_version=v`` right after a ``PUT`` (the page does it after every save) finds
the view in Redis older than ``v``, since the availability worker has not refreshed it yet,
and the API rebuilds it. For the large event (300 participants x 5,952 slots) that was a
snapshot read of about 450 KB (4-12 ms on a 2-core machine) to learn one participant's new
bits, which this process had just written itself. The PUT's statement bumps the event's
version under the row lock and changes nothing else of the view but that participant's
bits and the event's ``updated_at``, so the event at ``v`` is the event at ``v - 1`` plus
that write: an aggregate held at ``v - 1`` (``reads.aggregates``) is brought to ``v`` by a
delta. The reader uses these notes only when they account for every version from its held
aggregate's to the one asked for; any gap (another process's write, a join, an edit) reads
PostgreSQL as before. Bounded: the last ``PER_EVENT`` writes of ``MAX_EVENTS`` events.
"""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from overlap_shared.lru import Lru

MAX_EVENTS = 1024
PER_EVENT = 8


@dataclass(frozen=True, slots=True)
class OwnWrite:
    """One PUT availability: the event went from ``version - 1`` to ``version`` by this
    participant's new bits (as stored) and ``updated_at`` alone."""

    version: int
    participant_id: UUID
    available: bytes
    if_needed: bytes
    updated_at: datetime


class OwnWrites:
    """This process's latest PUTs by event token."""

    def __init__(self, max_events: int = MAX_EVENTS, per_event: int = PER_EVENT) -> None:
        self._by_token: Lru[str, list[OwnWrite]] = Lru(max_events)
        self.per_event = per_event

    def note(self, token: str, write: OwnWrite) -> None:
        writes = self._by_token.get(token)
        if writes is None:
            self._by_token.put(token, [write])
            return
        writes.append(write)
        if len(writes) > self.per_event:
            del writes[0]

    def between(self, token: str, held: int, wanted: int) -> list[OwnWrite] | None:
        """The writes of versions ``held + 1`` to at least ``wanted`` (every one of them, in
        order); None when some version in between is not one of them."""
        by_version = {w.version: w for w in self._by_token.get(token) or ()}
        chain = []
        version = held + 1
        while version in by_version:
            chain.append(by_version[version])
            version += 1
        return chain if chain and chain[-1].version >= wanted else None
