"""Split events into Pusher ``trigger_batch`` calls (pure)."""

from collections.abc import Sequence
from typing import Any

from overlap_notifier.payloads import MAX_EVENT_BYTES, MAX_EVENTS_PER_CALL


def event_size(event: dict[str, Any]) -> int:
    return len(str(event["data"]).encode())


def calls(
    events: Sequence[dict[str, Any]],
    max_events: int = MAX_EVENTS_PER_CALL,
    max_event_bytes: int = MAX_EVENT_BYTES,
) -> list[list[dict[str, Any]]]:
    """Consecutive groups of at most ``max_events``; order is kept (per channel it matters).

    Raises ValueError for an event over ``max_event_bytes``: payload building keeps every
    event below it, so one that is not is a bug, not something to send.
    """
    for event in events:
        if event_size(event) > max_event_bytes:
            raise ValueError(f"event {event['name']} on {event['channel']} exceeds the limit")
    return [list(events[i : i + max_events]) for i in range(0, len(events), max_events)]
