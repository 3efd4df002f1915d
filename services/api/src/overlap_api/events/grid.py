"""An event's slot grid as a request gives it: days (dates or weekdays), the daily window,
the slot size and a time zone that is a real place. Building the ``SlotGrid`` validates it."""

import zoneinfo
from datetime import date
from functools import cache
from typing import Annotated, Any, Literal, get_args

from overlap_shared.slots import MAX_DAYS, WEEKDAYS, SlotGrid, SlotGridError, parse_hhmm
from pydantic import AfterValidator, Field

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
assert get_args(Weekday) == WEEKDAYS  # the week, as the slot math orders it
HHMM = Annotated[str, Field(pattern=r"^\d\d:\d\d$", examples=["09:00", "24:00"])]
SlotMinutes = Literal[15, 30, 60]
# The IANA areas whose zones are places ("Europe/Berlin"); besides them only UTC, GMT and
# the fixed offsets under Etc/ ("Etc/GMT+5") are zones. Not accepted: "Factory" (a zone for
# machines not yet set up), the rule names "CET", "EST5EDT" and the like, and the old
# aliases ("US/Eastern", "Japan") that a browser's Intl never reports.
PLACE_AREAS = frozenset(
    {"Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe"}
    | {"Indian", "Pacific"}
)
# Far enough from date.min/max that every slot instant, in any zone, is a datetime (year 1
# in Asia/Tokyo starts in year 0 UTC: an event no view or calendar could be built for).
FIRST_DATE, LAST_DATE = date(1900, 1, 1), date(9998, 12, 31)


@cache
def known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def is_place(zone: str) -> bool:
    """Whether ``zone`` is an IANA zone of a place or of UTC (see ``PLACE_AREAS``)."""
    area = zone.split("/", 1)[0] if "/" in zone else None
    if area not in PLACE_AREAS | {"Etc"} and zone not in ("UTC", "GMT"):
        return False
    return zone in known_zones()


def real_place(zone: str) -> str:
    if not is_place(zone):
        raise ValueError(f"{zone[:64]!r} is not a time zone of a place, such as 'Europe/Berlin'")
    return zone


def in_range(value: date) -> date:
    if not FIRST_DATE <= value <= LAST_DATE:
        raise ValueError(f"dates must lie between {FIRST_DATE} and {LAST_DATE}")
    return value


Zone = Annotated[
    str,
    Field(min_length=1, max_length=64, examples=["Europe/Berlin"]),
    AfterValidator(real_place),
]
Dates = Annotated[
    list[Annotated[date, AfterValidator(in_range)]], Field(min_length=1, max_length=MAX_DAYS)
]
Weekdays = Annotated[list[Weekday], Field(min_length=1, max_length=7)]


def grid_from(fields: dict[str, Any]) -> SlotGrid:
    """Build (and so validate) a slot grid from event fields; ValueError when invalid."""
    dates, weekdays = fields.get("dates"), fields.get("weekdays")
    if (dates is None) == (weekdays is None):
        raise ValueError("give exactly one of 'dates' or 'weekdays'")
    if dates is not None and len(set(dates)) != len(dates):
        raise ValueError("dates must be unique")
    if weekdays is not None and len(set(weekdays)) != len(weekdays):
        raise ValueError("weekdays must be unique")
    try:
        return SlotGrid(
            kind="dates" if dates is not None else "weekdays",
            dates=tuple(sorted(dates)) if dates is not None else None,
            weekdays=tuple(d for d in WEEKDAYS if d in weekdays) if weekdays is not None else None,
            day_start=parse_hhmm(fields["day_start"]),
            day_end=parse_hhmm(fields["day_end"]),
            slot_minutes=fields["slot_minutes"],
            timezone=fields["timezone"],
        )
    except SlotGridError as exc:
        raise ValueError(str(exc)) from None


def grid_columns(grid: SlotGrid) -> dict[str, Any]:
    """The event table's columns that hold ``grid``."""
    return {
        "timezone": grid.timezone,
        "kind": grid.kind,
        "dates": list(grid.dates) if grid.dates is not None else None,
        "weekdays": list(grid.weekdays) if grid.weekdays is not None else None,
        "day_start": grid.day_start,
        "day_end": grid.day_end,
        "slot_minutes": grid.slot_minutes,
    }
