"""Channel names and event payloads exactly as DESIGN §3 "Realtime" (pure)."""

from typing import Any, Final
from uuid import UUID

import orjson
from overlap_shared.viewcache import is_tombstone, version_of

VIEW_UPDATED: Final = "view.updated"
EVENT_UPDATED: Final = "event.updated"
EVENT_DELETED: Final = "event.deleted"
# Pusher's limit is 10 KB of event data; sys.getsizeof in the pusher client adds a small
# object header, so stay a little below.
MAX_EVENT_BYTES: Final = 10_000
MAX_EVENTS_PER_CALL: Final = 10


def private_channel(event_id: UUID | str) -> str:
    return f"private-event-{event_id}"


def presence_channel(event_id: UUID | str) -> str:
    return f"presence-event-{event_id}"


def view_payload(version: int, stored: bytes | None) -> bytes:
    """``{version, heatmap?}`` for ``view.updated``.

    The heatmap comes from the stored view when that view is at least as new as the
    message (then its version is the one announced); it is left out when the stored view
    is missing, older, a tombstone, unreadable, or when it would push the payload past
    :data:`MAX_EVENT_BYTES` — clients then fetch ``GET /api/events/{token}?min_version=N``.
    """
    short = orjson.dumps({"version": version})
    if stored is None or is_tombstone(stored):
        return short
    stored_version = version_of(stored)
    if stored_version is None or stored_version < version:
        return short
    # A view far larger than the limit cannot have a small enough heatmap only in
    # theory; parsing it is bounded by the view size the worker writes.
    try:
        heatmap = orjson.loads(stored).get("heatmap")
    except (orjson.JSONDecodeError, AttributeError):
        return short
    if not isinstance(heatmap, dict):
        return orjson.dumps({"version": stored_version})
    full = orjson.dumps({"version": stored_version, "heatmap": heatmap})
    return full if len(full) <= MAX_EVENT_BYTES else orjson.dumps({"version": stored_version})


def event_updated_payload(version: int) -> bytes:
    return orjson.dumps({"version": version})


def event_deleted_payload() -> bytes:
    return b"{}"


def batch_event(channel: str, name: str, data: bytes) -> dict[str, Any]:
    """One entry of a ``trigger_batch`` body (data is the JSON string Pusher forwards)."""
    return {"channel": channel, "name": name, "data": data.decode()}
