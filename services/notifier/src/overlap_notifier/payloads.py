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


# A stored view's last two keys are ``heatmap`` and ``best`` (ids and numbers only), and
# its strings are JSON-escaped: these bytes occur unescaped only as those keys.
_HEATMAP_KEY: Final = b',"heatmap":'
_BEST_KEY: Final = b'},"best":'


def heatmap_bytes(view: bytes) -> bytes | None:
    """The heatmap object of a stored view, cut from its tail without parsing the rest
    (the view is the size of every participant's ranges); None when it has none."""
    start, end = view.rfind(_HEATMAP_KEY), view.rfind(_BEST_KEY)
    if start < 0 or end < start:
        return None
    return view[start + len(_HEATMAP_KEY) : end + 1]


def view_payload(version: int, stored: bytes | None) -> bytes:
    """``{version, heatmap?}`` for ``view.updated``.

    The heatmap comes from the stored view when that view is at least as new as the
    message (then its version is the one announced); it is left out when the stored view
    is missing, older, a tombstone, unreadable, or when it would push the payload past
    :data:`MAX_EVENT_BYTES` — clients then fetch ``GET /api/events/{token}?min_version=N``.
    Only the heatmap's bytes are parsed (:func:`heatmap_bytes`), never the whole view.
    """
    short = orjson.dumps({"version": version})
    if stored is None or is_tombstone(stored):
        return short
    stored_version = version_of(stored)
    if stored_version is None or stored_version < version:
        return short
    bare = orjson.dumps({"version": stored_version})
    cut = heatmap_bytes(stored)
    if cut is None or len(bare) + len(_HEATMAP_KEY) + len(cut) > MAX_EVENT_BYTES:
        return bare
    try:
        heatmap = orjson.loads(cut)
    except orjson.JSONDecodeError:
        return bare
    if not isinstance(heatmap, dict):
        return bare
    full = orjson.dumps({"version": stored_version, "heatmap": heatmap})
    return full if len(full) <= MAX_EVENT_BYTES else bare


def event_updated_payload(version: int) -> bytes:
    return orjson.dumps({"version": version})


def event_deleted_payload() -> bytes:
    return b"{}"


def batch_event(channel: str, name: str, data: bytes) -> dict[str, Any]:
    """One entry of a ``trigger_batch`` body (data is the JSON string Pusher forwards)."""
    return {"channel": channel, "name": name, "data": data.decode()}
