"""Pure planning of a consumed batch: decode, set poison aside, coalesce per event.

Besides coalescing, each event's entry records what a delta needs: the versions seen
(to detect a gap), the participants whose rows changed, and whether only a full rebuild
will do (the event was created, deleted or its slot grid edited).
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from overlap_shared import events
from overlap_shared.dead_letters import Record, reason

_PARTICIPANT_DATA = (
    events.ParticipantJoinedData,
    events.ParticipantRenamedData,
    events.ParticipantLeftData,
    events.AvailabilityChangedData,
)


@dataclass
class EventChanges:
    """All messages of one event in a batch: one refresh covers them."""

    event_id: uuid.UUID
    token: str
    version: int = 0
    types: list[str] = field(default_factory=list)
    versions: set[int] = field(default_factory=set)
    participants: set[uuid.UUID] = field(default_factory=set)
    full: bool = False  # a delta cannot follow: created, deleted, or a new grid

    def add(self, msg: events.Envelope, data: object) -> None:
        self.version = max(self.version, msg.version)
        self.versions.add(msg.version)
        if msg.type not in self.types:
            self.types.append(msg.type)
        if isinstance(data, _PARTICIPANT_DATA):
            self.participants.add(data.participant_id)
        elif isinstance(data, events.EventUpdatedData):
            self.full |= data.grid_changed
        elif isinstance(data, (events.EventCreatedData, events.EventDeletedData)):
            self.full = True

    def follows(self, version: int) -> bool:
        """True when the versions after ``version`` here are exactly ``version + 1 ..``
        up to this batch's newest: no message in between is missing."""
        newer = {v for v in self.versions if v > version}
        return newer == set(range(version + 1, self.version + 1))


@dataclass
class Plan:
    changes: dict[uuid.UUID, EventChanges] = field(default_factory=dict)
    poison: list[tuple[Record, str]] = field(default_factory=list)  # (record, error header)


def plan_batch(records: Iterable[Record]) -> Plan:
    plan = Plan()
    for record in records:
        try:
            msg = events.decode(record.value)  # None (a tombstone) is malformed too
        except events.MessageError as exc:
            plan.poison.append((record, reason(exc)))
            continue
        entry = plan.changes.setdefault(msg.event_id, EventChanges(msg.event_id, msg.token))
        entry.add(msg, msg.data)
    return plan
