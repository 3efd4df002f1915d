"""Pure planning of a batch for the availability worker: coalesce per event.

Besides coalescing, each event's entry records what a delta needs: the versions seen
(to detect a gap), the participants whose rows changed, and whether only a full rebuild
will do (the event was created, deleted or its slot grid edited).
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from overlap_shared import events
from overlap_shared.codec import AnyHead
from overlap_shared.intake import Inbound

_PARTICIPANT_DATA = (
    events.ParticipantJoinedData,
    events.ParticipantRenamedData,
    events.ParticipantLeftData,
    events.AvailabilityChangedData,
)
# Every known type changes the view; these name what changed in their body (the others
# are read from their envelope alone).
BODIES = frozenset(
    {
        "ParticipantJoined",
        "ParticipantRenamed",
        "ParticipantLeft",
        "AvailabilityChanged",
        "EventUpdated",
    }
)
_REBUILDS = frozenset({"EventCreated", "EventDeleted"})


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

    def add(self, head: AnyHead, msg: events.DomainEvent | None) -> None:
        self.version = max(self.version, head.version)
        self.versions.add(head.version)
        if head.type not in self.types:
            self.types.append(head.type)
        data = None if msg is None else msg.data
        if isinstance(data, _PARTICIPANT_DATA):
            self.participants.add(data.participant_id)
        elif isinstance(data, events.EventUpdatedData):
            self.full |= data.grid_changed
        elif head.type in _REBUILDS:
            self.full = True

    def follows(self, version: int) -> bool:
        """True when the versions after ``version`` here are exactly ``version + 1 ..``
        up to this batch's newest: no message in between is missing."""
        newer = {v for v in self.versions if v > version}
        return newer == set(range(version + 1, self.version + 1))


def plan_batch(inbound: Iterable[Inbound[events.DomainEvent]]) -> dict[uuid.UUID, EventChanges]:
    """The batch's changes per event."""
    changes: dict[uuid.UUID, EventChanges] = {}
    for item in inbound:
        head = item.head
        entry = changes.setdefault(head.event_id, EventChanges(head.event_id, head.token))
        entry.add(head, item.message)
    return changes
