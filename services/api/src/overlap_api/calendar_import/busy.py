"""Busy times from an iCalendar file, pure: parse it (icalendar), expand its recurrences
(recurring-ical-events, which honours RRULE, RDATE, EXDATE, RECURRENCE-ID and each
event's own zone, so a weekly 10:00 meeting stays at 10:00 across a DST change), and keep
what overlaps the window. All-day and floating times are read in the Overlap event's zone.
Free (TRANSP:TRANSPARENT) and cancelled events do not make anyone busy."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import recurring_ical_events
from icalendar import Calendar, Component, Event, IncompleteComponent, InvalidCalendar

from overlap_api.http.errors import Invalid, TooMany

MAX_OCCURRENCES = 5_000  # expanded occurrences in one window; past this the file is refused
MAX_WINDOW = timedelta(days=400)


class CalendarUnreadable(Invalid):
    """Not an iCalendar file, or one whose events cannot be expanded."""

    title = "Calendar file unreadable"


class TooManyOccurrences(TooMany):
    """The window holds more expanded occurrences than MAX_OCCURRENCES."""


class WindowInvalid(Invalid):
    """The window to read busy times in is not an ordered, bounded pair of instants."""


@dataclass(frozen=True)
class Busy:
    """Merged busy intervals (UTC, half-open) and how many occurrences made them."""

    intervals: list[tuple[datetime, datetime]]
    occurrences: int


def busy_times(data: bytes, start: datetime, end: datetime, zone: ZoneInfo) -> Busy:
    """The merged busy intervals of the calendar ``data`` within [start, end) (aware)."""
    calendar = _parse(data)
    found: list[tuple[datetime, datetime]] = []
    count = 0
    for read, component in enumerate(_occurrences(calendar, start), 1):
        if read > MAX_OCCURRENCES:
            raise TooManyOccurrences(
                f"the calendar has more than {MAX_OCCURRENCES} events in this event's dates"
            )
        span = _span(component, zone)
        if span is not None and span[0] >= end:
            break  # occurrences come in order of start
        if span is None:
            continue
        count += 1
        if _blocks_time(component) and span[1] > start:
            found.append((max(span[0], start), min(span[1], end)))
    return Busy(merge(found), count)


def merge(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Sorted, non-overlapping intervals covering the same instants."""
    out: list[tuple[datetime, datetime]] = []
    for s, e in sorted(intervals):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        elif e > s:
            out.append((s, e))
    return out


def _parse(data: bytes) -> Component:
    try:
        calendar = Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError) as exc:
        raise CalendarUnreadable(f"not an iCalendar (.ics) file: {exc}") from None
    if not isinstance(calendar, Component) or calendar.name != "VCALENDAR":
        raise CalendarUnreadable("not an iCalendar (.ics) file: it has no VCALENDAR")
    return calendar


def _occurrences(calendar: Component, start: datetime) -> Iterator[Component]:
    try:
        yield from recurring_ical_events.of(calendar).after(start)
    except (ValueError, TypeError, KeyError) as exc:
        raise CalendarUnreadable(f"an event in the file cannot be read: {exc}") from None


def _blocks_time(component: Component) -> bool:
    transparent = str(component.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT"
    cancelled = str(component.get("STATUS", "")).upper() == "CANCELLED"
    return not transparent and not cancelled


def _span(component: Component, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
    """Start and end (RFC 5545's defaults: a date lasts a day, a date-time no time)."""
    if not isinstance(component, Event):
        return None
    try:
        first, last = _instant(component.start, zone), _instant(component.end, zone)
    except (IncompleteComponent, InvalidCalendar):
        return None
    return (first, last) if last > first else None


def _instant(value: date | datetime, zone: ZoneInfo) -> datetime:
    """An aware instant; dates and floating times are read in ``zone``."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time.min)
    aware = value if value.tzinfo is not None else value.replace(tzinfo=zone)
    return aware.astimezone(UTC)


def check_window(start: datetime, end: datetime) -> None:
    """The window must be aware, ordered and at most MAX_WINDOW long."""
    if start.tzinfo is None or end.tzinfo is None:
        raise WindowInvalid("start and end need a UTC offset")
    if not start < end <= start + MAX_WINDOW:
        raise WindowInvalid(f"end must be after start, at most {MAX_WINDOW.days} days")
