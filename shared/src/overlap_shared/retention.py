"""The retention policy: when an event expires, as one pure function.

An event is kept ``RETENTION_DAYS`` after the later of its last candidate date (the end of
that day in the event's time zone) and its last write; a ``weekdays`` event has no dates, so
only its last write counts. Every write moves ``updated_at`` and so pushes the date back.
The event page shows this date (the view's ``event.expires_at``) and the expiry job deletes
by the same rule (its SQL is held to this function by tests).
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from overlap_shared.slots import load_zone


def last_activity(updated_at: datetime, dates: Sequence[date] | None, timezone: str) -> datetime:
    """The later of the last write and the end of the last candidate date (local midnight)."""
    if not dates:
        return updated_at.astimezone(UTC)
    day_after = max(dates) + timedelta(days=1)
    end_of_last_date = datetime.combine(day_after, time(), tzinfo=load_zone(timezone))
    return max(updated_at, end_of_last_date).astimezone(UTC)  # days are added in UTC


def expires_at(
    updated_at: datetime, dates: Sequence[date] | None, timezone: str, retention_days: int
) -> datetime | None:
    """When the event expires; ``None`` when retention is off (``retention_days == 0``)."""
    if retention_days <= 0:
        return None
    return last_activity(updated_at, dates, timezone) + timedelta(days=retention_days)
