"""Pure planning of a consumed batch: decode, set poison aside, coalesce per event."""

import uuid
from dataclasses import dataclass, field

from overlap_shared import events


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
    poison: list[tuple[bytes, str]] = field(default_factory=list)


def plan_batch(raw_messages: list[bytes]) -> Plan:
    plan = Plan()
    for raw in raw_messages:
        try:
            msg = events.decode(raw)
        except events.MessageError as exc:
            plan.poison.append((raw, f"{type(exc).__name__}: {exc}"[:500]))
            continue
        entry = plan.changes.setdefault(msg.event_id, EventChanges(msg.event_id, msg.token))
        entry.version = max(entry.version, msg.version)
        if msg.type not in entry.types:
            entry.types.append(msg.type)
    return plan
