"""Busy times from .ics files: recurrences across a DST change, exceptions, free and
cancelled events, all-day and floating times in the event's zone, limits, bad files."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from overlap_api.calendar_import import busy as module
from overlap_api.calendar_import.busy import (
    CalendarUnreadable,
    TooManyOccurrences,
    WindowInvalid,
    busy_times,
    check_window,
    merge,
)

BERLIN = ZoneInfo("Europe/Berlin")


def ics(*events: str) -> bytes:
    body = "".join(
        f"BEGIN:VEVENT\r\nUID:{k}@test\r\n{e.strip()}\r\nEND:VEVENT\r\n"
        for k, e in enumerate(events)
    )
    return (
        f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{body}END:VCALENDAR\r\n".encode()
    )


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


WEEKLY = """
DTSTART;TZID=Europe/Berlin:20261019T100000
DTEND;TZID=Europe/Berlin:20261019T110000
RRULE:FREQ=WEEKLY;COUNT=4
SUMMARY:weekly
"""


def test_a_weekly_event_keeps_its_wall_time_across_the_dst_change() -> None:
    busy = busy_times(ics(WEEKLY), utc("2026-10-01T00:00"), utc("2026-12-01T00:00"), BERLIN)
    starts = [s for s, _ in busy.intervals]
    # 10:00 CEST is 08:00 UTC; after 25 October, 10:00 CET is 09:00 UTC.
    assert starts == [
        utc(t)
        for t in ("2026-10-19T08:00", "2026-10-26T09:00", "2026-11-02T09:00", "2026-11-09T09:00")
    ]
    assert all(e - s == timedelta(hours=1) for s, e in busy.intervals)
    assert busy.occurrences == 4


def test_excluded_and_moved_occurrences_are_honoured() -> None:
    moved = """
RECURRENCE-ID;TZID=Europe/Berlin:20261102T100000
DTSTART;TZID=Europe/Berlin:20261102T150000
DTEND;TZID=Europe/Berlin:20261102T160000
"""
    series = WEEKLY.replace("COUNT=4", "COUNT=4\r\nEXDATE;TZID=Europe/Berlin:20261026T100000")
    data = ics(series, moved).replace(b"UID:1@test", b"UID:0@test")
    busy = busy_times(data, utc("2026-10-01T00:00"), utc("2026-12-01T00:00"), BERLIN)
    assert [s for s, _ in busy.intervals] == [
        utc("2026-10-19T08:00"),
        utc("2026-11-02T14:00"),
        utc("2026-11-09T09:00"),
    ]


def test_free_and_cancelled_events_are_not_busy() -> None:
    free = "DTSTART:20261020T090000Z\r\nDTEND:20261020T100000Z\r\nTRANSP:TRANSPARENT"
    cancelled = "DTSTART:20261021T090000Z\r\nDTEND:20261021T100000Z\r\nSTATUS:CANCELLED"
    busy = busy_times(
        ics(free, cancelled), utc("2026-10-01T00:00"), utc("2026-11-01T00:00"), BERLIN
    )
    assert busy.intervals == [] and busy.occurrences == 2


def test_all_day_and_floating_times_are_read_in_the_events_zone() -> None:
    all_day = "DTSTART;VALUE=DATE:20261020\r\nDTEND;VALUE=DATE:20261021"
    floating = "DTSTART:20261022T090000\r\nDURATION:PT30M"
    busy = busy_times(
        ics(all_day, floating), utc("2026-10-01T00:00"), utc("2026-11-01T00:00"), BERLIN
    )
    assert busy.intervals == [
        (utc("2026-10-19T22:00"), utc("2026-10-20T22:00")),
        (utc("2026-10-22T07:00"), utc("2026-10-22T07:30")),
    ]


def test_intervals_are_clipped_to_the_window_and_merged() -> None:
    long = "DTSTART:20261020T080000Z\r\nDTEND:20261020T120000Z"
    inner = "DTSTART:20261020T110000Z\r\nDTEND:20261020T130000Z"
    busy = busy_times(ics(long, inner), utc("2026-10-20T09:00"), utc("2026-10-20T12:30"), BERLIN)
    assert busy.intervals == [(utc("2026-10-20T09:00"), utc("2026-10-20T12:30"))]
    assert merge([(utc("2026-10-20T09:00"), utc("2026-10-20T09:00"))]) == []


def test_an_endless_series_is_refused_past_the_occurrence_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(module, "MAX_OCCURRENCES", 10)
    daily = "DTSTART:20261001T080000Z\r\nDTEND:20261001T090000Z\r\nRRULE:FREQ=DAILY"
    with pytest.raises(TooManyOccurrences, match="more than 10"):
        busy_times(ics(daily), utc("2026-10-01T00:00"), utc("2026-11-01T00:00"), BERLIN)
    few = busy_times(ics(daily), utc("2026-10-01T00:00"), utc("2026-10-06T00:00"), BERLIN)
    assert len(few.intervals) == 5


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello, not a calendar",
        b"BEGIN:VEVENT\r\nEND:VEVENT\r\n",
        b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:2026\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    ],
)
def test_a_bad_file_gets_a_clear_error(data: bytes) -> None:
    with pytest.raises(CalendarUnreadable) as caught:
        busy_times(data, utc("2026-10-01T00:00"), utc("2026-11-01T00:00"), BERLIN)
    assert caught.value.status == 422
    assert caught.value.detail.startswith(("not an iCalendar (.ics) file", "an event in the file"))


def test_the_window_is_aware_ordered_and_bounded() -> None:
    check_window(utc("2026-10-01T00:00"), utc("2026-10-02T00:00"))
    for start, end in [
        (utc("2026-10-02T00:00"), utc("2026-10-01T00:00")),
        (utc("2026-10-01T00:00"), utc("2028-10-01T00:00")),
        (datetime(2026, 10, 1), datetime(2026, 10, 2)),
    ]:
        with pytest.raises(WindowInvalid):
            check_window(start, end)
