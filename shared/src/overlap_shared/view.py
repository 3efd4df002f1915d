"""The event "view" (block map): one JSON document with everything the event page needs.

:func:`render_view` gives the view's bytes for an event snapshot and its participants
(keys in the order of DESIGN §3) through the array engine, ``overlap_shared.aggregate``.
The same input always gives identical bytes (no key sorting, no clock, no randomness),
so every reader of a version receives the same document; they equal the pure-Python
oracle's (``overlap_shared.oracle.view``), which the property tests check.

Stored bitsets are read defensively: bits beyond the grid or on a missing slot are
ignored, and a slot marked at both levels counts as ``available`` only.  The rows in the
database are not changed here; remapping on a grid change is the writer's job.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from overlap_shared.aggregate import ViewAggregate
from overlap_shared.snapshots import EventSnapshot, ParticipantSnapshot, event_public

__all__ = [
    "EventSnapshot",
    "ParticipantSnapshot",
    "event_public",
    "render_view",
    "serialize_view",
]


def render_view(
    event: EventSnapshot,
    participants: Sequence[ParticipantSnapshot],
    best_limit: int = 10,
    *,
    retention_days: int,
) -> bytes:
    """The whole view's bytes for ``event`` with ``participants`` in the given order
    (``retention_days``: the policy that sets ``event.expires_at``)."""
    return ViewAggregate.build(event, participants, retention_days=retention_days).render(
        best_limit
    )


def serialize_view(view: dict[str, Any]) -> bytes:
    """A view dict as compact JSON bytes, keys in insertion order (deterministic)."""
    return orjson.dumps(view)
