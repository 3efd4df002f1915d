"""Pure planning of a consumed batch: decode, set poison aside, coalesce per event."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from overlap_shared import events
from overlap_shared.dead_letters import Record, reason


@dataclass
class EventChanges:
    """All messages of one event in a batch: one recompute covers them."""

    event_id: uuid.UUID
    token: str
    version: int = 0
    types: list[str] = field(default_factory=list)


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
        entry.version = max(entry.version, msg.version)
        if msg.type not in entry.types:
            entry.types.append(msg.type)
    return plan
