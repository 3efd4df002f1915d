"""Request bodies that several API tests start from."""

from typing import Any

# The smallest valid event: one date, a working day of 30-minute slots, in UTC.
MINIMAL_EVENT: dict[str, Any] = {
    "title": "T",
    "timezone": "UTC",
    "dates": ["2026-12-01"],
    "day_start": "09:00",
    "day_end": "17:00",
    "slot_minutes": 30,
}
