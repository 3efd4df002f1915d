"""Slot grid math: the one place that knows how an event's days and times become slots.

An event has ``days`` candidate days (ISO dates or weekdays) and a daily local window
``[day_start, day_end)`` in minutes after local midnight, cut into slots of
``slot_minutes``.  With ``S = (day_end - day_start) // slot_minutes`` slots per day, slot
``i = day_index * S + slot_in_day`` starts at local wall time
``day_start + slot_in_day * slot_minutes`` on that day.

For ``dates`` events each slot start is a local time in the event's IANA zone, converted
to UTC.  A wall time skipped by a DST change (the clock jumps over it) is a slot that
does not exist: it has no start instant and is listed by :meth:`SlotGrid.missing`.  An
ambiguous wall time (the clock passes it twice) uses its first occurrence (``fold=0``).
``weekdays`` events have no absolute instants and no missing slots.

Only slot *starts* are converted; the last start is ``day_end - slot_minutes``, so a
``day_end`` of ``24:00`` (1440) never is a start.  Everything here is pure and cached
per grid (grids are frozen and hashable).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "MAX_DAYS",
    "MAX_SLOTS",
    "MINUTES_PER_DAY",
    "SLOT_MINUTES",
    "WEEKDAYS",
    "SlotGrid",
    "SlotGridError",
    "format_hhmm",
    "load_zone",
    "parse_hhmm",
    "utc_iso",
]

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SLOT_MINUTES: frozenset[int] = frozenset({15, 30, 60})
MINUTES_PER_DAY = 1440
MAX_DAYS = 62
MAX_SLOTS = MAX_DAYS * MINUTES_PER_DAY // 15  # 5952

Kind = Literal["dates", "weekdays"]

_HHMM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
# Keys that ZoneInfo loads but that are not zone names an event should carry.
_REJECTED_ZONES = frozenset({"localtime", "posixrules"})


class SlotGridError(ValueError):
    """An invalid slot grid or time-of-day value."""


def parse_hhmm(value: str) -> int:
    """``"09:30"`` -> 570; ``"24:00"`` -> 1440.  Exactly two-digit ``HH:MM``, nothing else."""
    if not isinstance(value, str):
        raise SlotGridError(f"time of day must be a string 'HH:MM', got {type(value).__name__}")
    if value == "24:00":
        return MINUTES_PER_DAY
    match = _HHMM.fullmatch(value)
    if match is None:
        raise SlotGridError(f"time of day must be 'HH:MM' between 00:00 and 24:00, got {value!r}")
    return int(match.group(1)) * 60 + int(match.group(2))


def format_hhmm(minutes: int) -> str:
    """570 -> ``"09:30"``; 1440 -> ``"24:00"``."""
    if not _is_int(minutes) or not 0 <= minutes <= MINUTES_PER_DAY:
        raise SlotGridError(f"minutes after midnight must be an int in 0..1440, got {minutes!r}")
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def utc_iso(dt: datetime) -> str:
    """An aware datetime as ISO 8601 UTC with ``Z``: ``"2026-12-01T08:00:00Z"``.

    Microseconds are shown only when non-zero.  A naive datetime is taken to be UTC.
    """
    if dt.tzinfo is None:
        return dt.isoformat() + "Z"
    return dt.astimezone(UTC).isoformat()[:-6] + "Z"  # drop "+00:00"


def load_zone(name: str) -> ZoneInfo:
    """The ZoneInfo for an IANA name, or :class:`SlotGridError`."""
    if not isinstance(name, str) or not name:
        raise SlotGridError("timezone must be a non-empty IANA name such as 'Europe/Berlin'")
    if name in _REJECTED_ZONES or name.startswith(("posix/", "right/")):
        raise SlotGridError(f"unknown timezone {name[:64]!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise SlotGridError(f"unknown timezone {name[:64]!r}") from exc


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class SlotGrid:
    """An event's slot grid; validated on construction (raises :class:`SlotGridError`)."""

    kind: Kind
    dates: tuple[date, ...] | None
    weekdays: tuple[str, ...] | None
    day_start: int
    day_end: int
    slot_minutes: int
    timezone: str

    def __post_init__(self) -> None:
        # Accept lists for convenience; store tuples so the grid stays hashable.
        if isinstance(self.dates, list):
            object.__setattr__(self, "dates", tuple(self.dates))
        if isinstance(self.weekdays, list):
            object.__setattr__(self, "weekdays", tuple(self.weekdays))
        self._check_days()
        self._check_window()
        load_zone(self.timezone)

    def _check_days(self) -> None:
        if self.kind == "dates":
            if self.weekdays is not None:
                raise SlotGridError("a 'dates' event cannot also have weekdays")
            dates = self.dates
            if not isinstance(dates, tuple) or not 1 <= len(dates) <= MAX_DAYS:
                raise SlotGridError(f"dates must be a list of 1 to {MAX_DAYS} dates")
            for d in dates:
                if type(d) is not date:
                    raise SlotGridError(f"dates must be calendar dates, got {d!r}")
            if any(a >= b for a, b in pairwise(dates)):
                raise SlotGridError("dates must be sorted and unique")
        elif self.kind == "weekdays":
            if self.dates is not None:
                raise SlotGridError("a 'weekdays' event cannot also have dates")
            days = self.weekdays
            if not isinstance(days, tuple) or not days:
                raise SlotGridError("weekdays must be a non-empty list of 'mon'..'sun'")
            for day in days:
                if day not in WEEKDAYS:
                    raise SlotGridError(f"unknown weekday {day!r}; use 'mon'..'sun'")
            order = [WEEKDAYS.index(day) for day in days]
            if any(a >= b for a, b in pairwise(order)):
                raise SlotGridError("weekdays must be unique and in week order (mon..sun)")
        else:
            raise SlotGridError(f"kind must be 'dates' or 'weekdays', got {self.kind!r}")

    def _check_window(self) -> None:
        if not _is_int(self.slot_minutes) or self.slot_minutes not in SLOT_MINUTES:
            raise SlotGridError(f"slot_minutes must be 15, 30 or 60, got {self.slot_minutes!r}")
        for name in ("day_start", "day_end"):
            value = getattr(self, name)
            if not _is_int(value) or not 0 <= value <= MINUTES_PER_DAY:
                raise SlotGridError(f"{name} must be minutes in 0..1440, got {value!r}")
        if self.day_end <= self.day_start:
            raise SlotGridError("day_end must be after day_start")
        if (self.day_end - self.day_start) % self.slot_minutes:
            raise SlotGridError(
                f"the window {format_hhmm(self.day_start)}-{format_hhmm(self.day_end)} "
                f"is not a whole number of {self.slot_minutes}-minute slots"
            )

    # -- sizes and indexes -------------------------------------------------------------

    @property
    def days(self) -> int:
        seq = self.dates if self.kind == "dates" else self.weekdays
        assert seq is not None
        return len(seq)

    @property
    def slots_per_day(self) -> int:
        return (self.day_end - self.day_start) // self.slot_minutes

    @property
    def slot_count(self) -> int:
        return self.days * self.slots_per_day

    def slot_index(self, day_index: int, slot_in_day: int) -> int:
        if not 0 <= day_index < self.days:
            raise IndexError(f"day index {day_index} out of range 0..{self.days - 1}")
        if not 0 <= slot_in_day < self.slots_per_day:
            raise IndexError(f"slot {slot_in_day} out of range 0..{self.slots_per_day - 1}")
        return day_index * self.slots_per_day + slot_in_day

    def split(self, index: int) -> tuple[int, int]:
        """Slot index -> ``(day_index, slot_in_day)``."""
        if not 0 <= index < self.slot_count:
            raise IndexError(f"slot {index} out of range 0..{self.slot_count - 1}")
        day, slot = divmod(index, self.slots_per_day)
        return day, slot

    def local_start_minutes(self, slot_in_day: int) -> int:
        """Local wall time (minutes after midnight) at which a slot of any day starts."""
        return self.day_start + slot_in_day * self.slot_minutes

    # -- absolute instants (dates events) ----------------------------------------------

    def starts_utc(self) -> list[datetime | None] | None:
        """UTC start of every slot (None for a slot skipped by DST); None for weekdays."""
        starts = _starts(self)
        return None if starts is None else list(starts)

    def starts_utc_iso(self) -> list[str | None] | None:
        """:meth:`starts_utc` rendered with :func:`utc_iso` (cached)."""
        starts = _starts_iso(self)
        return None if starts is None else list(starts)

    def missing(self) -> tuple[int, ...]:
        """Indexes of slots that do not exist (local start skipped by a DST change)."""
        return _missing(self)


@lru_cache(maxsize=256)
def _starts(grid: SlotGrid) -> tuple[datetime | None, ...] | None:
    if grid.kind != "dates" or grid.dates is None:
        return None
    zone = load_zone(grid.timezone)
    offsets = [timedelta(minutes=grid.local_start_minutes(k)) for k in range(grid.slots_per_day)]
    out: list[datetime | None] = []
    for day in grid.dates:
        midnight = datetime.combine(day, time())
        for offset in offsets:
            wall = midnight + offset  # naive local wall time; never 24:00 (see module doc)
            instant = wall.replace(tzinfo=zone).astimezone(UTC)  # fold=0: first occurrence
            # A skipped wall time does not survive the round trip local -> UTC -> local.
            back = instant.astimezone(zone).replace(tzinfo=None)
            out.append(instant if back == wall else None)
    return tuple(out)


@lru_cache(maxsize=256)
def _starts_iso(grid: SlotGrid) -> tuple[str | None, ...] | None:
    starts = _starts(grid)
    if starts is None:
        return None
    return tuple(None if s is None else utc_iso(s) for s in starts)


@lru_cache(maxsize=256)
def _missing(grid: SlotGrid) -> tuple[int, ...]:
    starts = _starts(grid)
    if starts is None:
        return ()
    return tuple(i for i, s in enumerate(starts) if s is None)
