"""An iCalendar (RFC 5545) file for an event's final time. Pure."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from overlap_shared.slots import WEEKDAYS
from overlap_shared.view import EventSnapshot

WEEKDAY_CODES = {day: day[:2].upper() for day in WEEKDAYS}  # "mon" -> "MO" (RFC 5545)


def _escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """Fold lines longer than 75 octets (continuation lines start with a space)."""
    data = line.encode()
    if len(data) <= 75:
        return line
    parts: list[str] = []
    chunk = b""
    for ch in line:
        enc = ch.encode()
        if len(chunk) + len(enc) > (75 if not parts else 74):
            parts.append(chunk.decode())
            chunk = b""
        chunk += enc
    parts.append(chunk.decode())
    return "\r\n ".join(parts)


def _utc(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar(event: EventSnapshot, url: str, now: datetime) -> str:
    """The VCALENDAR text; the event must be finalized."""
    assert event.final_start is not None and event.final_end is not None
    grid = event.grid
    day, first = grid.split(event.final_start)
    minutes = (event.final_end - event.final_start) * grid.slot_minutes
    start_minute = grid.day_start + first * grid.slot_minutes
    zone = ZoneInfo(event.timezone)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Overlap//Overlap scheduler//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{event.id}@overlap",
        f"DTSTAMP:{_utc(now)}",
        f"SUMMARY:{_escape(event.title)}",
    ]
    if event.description:
        lines.append(f"DESCRIPTION:{_escape(event.description)}")
    lines.append(f"URL:{url}")
    if grid.dates is not None:
        local = datetime.combine(grid.dates[day], datetime.min.time(), zone)
        start = (local.replace(tzinfo=None) + timedelta(minutes=start_minute)).replace(tzinfo=zone)
        lines += [f"DTSTART:{_utc(start)}", f"DTEND:{_utc(start + timedelta(minutes=minutes))}"]
    else:
        weekday = grid.weekdays[day] if grid.weekdays else WEEKDAYS[0]
        first_day = _next_weekday(now.astimezone(zone).date(), WEEKDAYS.index(weekday))
        start = datetime.combine(first_day, datetime.min.time()) + timedelta(minutes=start_minute)
        end = start + timedelta(minutes=minutes)
        lines += [
            f"DTSTART;TZID={event.timezone}:{start.strftime('%Y%m%dT%H%M%S')}",
            f"DTEND;TZID={event.timezone}:{end.strftime('%Y%m%dT%H%M%S')}",
            f"RRULE:FREQ=WEEKLY;BYDAY={WEEKDAY_CODES[weekday]}",
        ]
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"


def _next_weekday(today: date, weekday: int) -> date:
    return today + timedelta(days=(weekday - today.weekday()) % 7)
