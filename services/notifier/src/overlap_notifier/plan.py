"""Pure planning for the notifier: which records become which Pusher updates.

Only the envelope is read (``overlap_shared.intake``: the notifier decodes no body). On the
views topic every ``ViewRefreshed`` becomes ``view.updated``; on the domain topic the
types below become page events and every other known type is skipped: those are meant
for the other groups, and pages learn of them through the ``ViewRefreshed`` that follows.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from overlap_shared.dead_letters import Record
from overlap_shared.intake import Inbound

from overlap_notifier.coalescer import Update
from overlap_notifier.dispatcher import Pending
from overlap_notifier.payloads import EVENT_DELETED, EVENT_UPDATED, VIEW_UPDATED, private_channel

# The Pusher event each message type becomes, per topic.
VIEW_EVENT_NAMES: Mapping[str, str] = {"ViewRefreshed": VIEW_UPDATED}
DOMAIN_EVENT_NAMES: Mapping[str, str] = {
    "EventUpdated": EVENT_UPDATED,
    "EventFinalized": EVENT_UPDATED,
    "EventDeleted": EVENT_DELETED,
}

Plan = list[tuple[Record, Pending]]


def plan_updates(inbound: Sequence[Inbound[Any]], names: Mapping[str, str], now: float) -> Plan:
    """One update per record, named by ``names`` (the intake passed only those types);
    ``now`` is when they arrived (the delivery deadline counts from it)."""
    plan: Plan = []
    for item in inbound:
        head, record = item.head, item.record
        update: Pending = Update(
            channel=private_channel(head.event_id),
            name=names[head.type],
            version=head.version,
            token=head.token,
            occurred_at=head.occurred_at.timestamp(),
            received_at=now,
            topic=record.topic,
            raw=record.value or b"",
            key=record.key,
        )
        plan.append((record, update))
    return plan
