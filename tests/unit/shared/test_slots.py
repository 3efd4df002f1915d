from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from overlap_shared.slots import (
    MAX_SLOTS,
    WEEKDAYS,
    SlotGrid,
    SlotGridError,
    format_hhmm,
    parse_hhmm,
    utc_iso,
)

ZONES = [
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "UTC",
    "Asia/Kolkata",
]
# DST changes in 2026 of the zones above (both directions).
TRANSITIONS = [
    date(2026, 3, 8),
    date(2026, 11, 1),
    date(2026, 3, 29),
    date(2026, 10, 25),
    date(2026, 4, 5),
    date(2026, 10, 4),
]


def dates_grid(
    dates: list[date], start: str, end: str, minutes: int, zone: str = "UTC"
) -> SlotGrid:
    return SlotGrid("dates", tuple(dates), None, parse_hhmm(start), parse_hhmm(end), minutes, zone)


@st.composite
def grids(draw: st.DrawFn, aligned: bool = True) -> SlotGrid:
    """Random grids; ``aligned`` keeps every slot start on a 15-minute wall time."""
    zone = draw(st.sampled_from(ZONES))
    slot = draw(st.sampled_from([15, 30, 60]))
    start = draw(st.integers(0, 95)) * 15 if aligned else draw(st.integers(0, 1439))
    count = draw(st.integers(1, max(1, (1440 - start) // slot)))
    end = start + count * slot
    if end > 1440:  # only possible when unaligned and the window is shorter than a slot
        start, end = 1440 - slot, 1440
    if draw(st.booleans()):
        days = draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=7, unique=True))
        ordered = tuple(sorted(days, key=WEEKDAYS.index))
        return SlotGrid("weekdays", None, ordered, start, end, slot, zone)
    base = draw(st.sampled_from(TRANSITIONS) | st.dates(date(2020, 1, 1), date(2030, 12, 31)))
    offsets = draw(st.sets(st.integers(-2, 2), min_size=1, max_size=4))
    days_ = tuple(sorted(base + timedelta(days=o) for o in offsets))
    return SlotGrid("dates", days_, None, start, end, slot, zone)


@cache
def wall_clock(zone_name: str, day: date) -> dict[datetime, datetime]:
    """Oracle: every 15-minute local wall time of ``day`` that the clock shows, mapped to
    the first UTC instant showing it, found by scanning UTC (all these zones' offsets are
    multiples of 15 minutes)."""
    zone = ZoneInfo(zone_name)
    first: dict[datetime, datetime] = {}
    t = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(days=1)
    stop = t + timedelta(days=3)
    while t < stop:
        wall = t.astimezone(zone).replace(tzinfo=None)
        if wall.date() == day:
            first.setdefault(wall, t)
        t += timedelta(minutes=15)
    return first


def intended_wall(grid: SlotGrid, index: int) -> datetime:
    assert grid.dates is not None
    day, slot = grid.split(index)
    return datetime.combine(grid.dates[day], datetime.min.time()) + timedelta(
        minutes=grid.local_start_minutes(slot)
    )


@given(grids(aligned=False))
def test_index_split_round_trip(grid: SlotGrid) -> None:
    assert grid.slot_count == grid.days * grid.slots_per_day
    for i in range(grid.slot_count):
        day, slot = grid.split(i)
        assert 0 <= day < grid.days and 0 <= slot < grid.slots_per_day
        assert grid.slot_index(day, slot) == i
    with pytest.raises(IndexError):
        grid.split(grid.slot_count)
    with pytest.raises(IndexError):
        grid.slot_index(grid.days, 0)
    with pytest.raises(IndexError):
        grid.slot_index(0, grid.slots_per_day)


@given(grids(aligned=False))
def test_starts_increase_and_round_trip(grid: SlotGrid) -> None:
    starts = grid.starts_utc()
    if grid.kind == "weekdays":
        assert starts is None
        assert grid.starts_utc_iso() is None
        assert grid.missing() == ()
        return
    assert starts is not None and len(starts) == grid.slot_count
    zone = ZoneInfo(grid.timezone)
    for day in range(grid.days):
        existing = [
            s for s in starts[day * grid.slots_per_day : (day + 1) * grid.slots_per_day] if s
        ]
        assert all(a < b for a, b in itertools.pairwise(existing))
    for i, s in enumerate(starts):
        if s is not None:
            assert s.tzinfo is UTC
            assert s.astimezone(zone).replace(tzinfo=None) == intended_wall(grid, i)
    assert grid.missing() == tuple(i for i, s in enumerate(starts) if s is None)
    iso = grid.starts_utc_iso()
    assert iso == [None if s is None else utc_iso(s) for s in starts]


@settings(max_examples=150)
@given(grids(aligned=True).filter(lambda g: g.kind == "dates"))
def test_missing_are_exactly_skipped_wall_times_and_first_occurrence(grid: SlotGrid) -> None:
    starts = grid.starts_utc()
    assert starts is not None and grid.dates is not None
    expected_missing = []
    for i, s in enumerate(starts):
        wall = intended_wall(grid, i)
        shown = wall_clock(grid.timezone, wall.date())
        if wall in shown:
            assert s == shown[wall]  # the first (earliest) instant showing that wall time
        else:
            expected_missing.append(i)
    assert list(grid.missing()) == expected_missing


def test_new_york_spring_forward() -> None:
    grid = dates_grid([date(2026, 3, 8)], "01:00", "04:00", 30, "America/New_York")
    assert grid.missing() == (2, 3)  # 02:00 and 02:30 do not exist
    iso = grid.starts_utc_iso()
    assert iso == [
        "2026-03-08T06:00:00Z",
        "2026-03-08T06:30:00Z",
        None,
        None,
        "2026-03-08T07:00:00Z",  # 03:00 EDT
        "2026-03-08T07:30:00Z",
    ]


def test_lord_howe_half_hour_shift() -> None:
    grid = dates_grid([date(2026, 10, 4)], "01:30", "03:00", 15, "Australia/Lord_Howe")
    assert grid.missing() == (2, 3)  # 02:00 and 02:15 do not exist
    iso = grid.starts_utc_iso()
    assert iso is not None
    assert iso[0] == "2026-10-03T15:00:00Z"  # 01:30 at +10:30
    assert iso[4] == "2026-10-03T15:30:00Z"  # 02:30 at +11:00


def test_london_fall_back_uses_first_occurrence() -> None:
    grid = dates_grid([date(2026, 10, 25)], "01:00", "02:00", 30, "Europe/London")
    assert grid.missing() == ()
    assert grid.starts_utc_iso() == ["2026-10-25T00:00:00Z", "2026-10-25T00:30:00Z"]


def test_multi_day_index_and_kolkata() -> None:
    grid = dates_grid([date(2026, 12, 1), date(2026, 12, 3)], "09:00", "17:00", 60, "Asia/Kolkata")
    assert (grid.days, grid.slots_per_day, grid.slot_count) == (2, 8, 16)
    assert grid.slot_index(1, 2) == 10 and grid.split(10) == (1, 2)
    iso = grid.starts_utc_iso()
    assert iso is not None
    assert iso[0] == "2026-12-01T03:30:00Z" and iso[10] == "2026-12-03T05:30:00Z"


def test_full_day_window_and_max_size() -> None:
    days = [date(2026, 1, 1) + timedelta(days=k) for k in range(62)]
    grid = dates_grid(days, "00:00", "24:00", 15, "Europe/London")
    assert grid.slot_count == MAX_SLOTS == 5952
    iso = grid.starts_utc_iso()
    assert iso is not None and iso[95] == "2026-01-01T23:45:00Z"
    assert grid.starts_utc() == grid.starts_utc()  # cached, but callers get fresh lists
    assert grid.starts_utc() is not grid.starts_utc()


def test_weekdays_grid() -> None:
    grid = SlotGrid("weekdays", None, ("mon", "wed", "sun"), 540, 1020, 30, "Europe/Berlin")
    assert grid.slot_count == 48 and grid.starts_utc() is None and grid.missing() == ()


def test_grid_accepts_lists_and_is_hashable() -> None:
    grid = SlotGrid("weekdays", None, ["mon"], 0, 60, 15, "UTC")  # type: ignore[arg-type]
    assert grid.weekdays == ("mon",)
    assert hash(grid) == hash(SlotGrid("weekdays", None, ("mon",), 0, 60, 15, "UTC"))


D = (date(2026, 5, 1),)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("dates", (), None, 540, 600, 30, "UTC"), "1 to 62"),
        (("dates", None, None, 540, 600, 30, "UTC"), "1 to 62"),
        (
            (
                "dates",
                tuple(date(2026, 1, 1) + timedelta(k) for k in range(63)),
                None,
                0,
                60,
                15,
                "UTC",
            ),
            "1 to 62",
        ),
        (("dates", (date(2026, 5, 2), date(2026, 5, 1)), None, 540, 600, 30, "UTC"), "sorted"),
        (("dates", (date(2026, 5, 1), date(2026, 5, 1)), None, 540, 600, 30, "UTC"), "unique"),
        (("dates", (datetime(2026, 5, 1),), None, 540, 600, 30, "UTC"), "calendar dates"),
        (("dates", ("2026-05-01",), None, 540, 600, 30, "UTC"), "calendar dates"),
        (("dates", D, ("mon",), 540, 600, 30, "UTC"), "cannot also"),
        (("weekdays", D, ("mon",), 540, 600, 30, "UTC"), "cannot also"),
        (("weekdays", None, (), 540, 600, 30, "UTC"), "non-empty"),
        (("weekdays", None, ("tue", "mon"), 540, 600, 30, "UTC"), "week order"),
        (("weekdays", None, ("mon", "mon"), 540, 600, 30, "UTC"), "unique"),
        (("weekdays", None, ("Mon",), 540, 600, 30, "UTC"), "unknown weekday"),
        (("months", None, None, 540, 600, 30, "UTC"), "kind"),
        (("dates", D, None, 600, 540, 30, "UTC"), "after"),
        (("dates", D, None, 540, 540, 30, "UTC"), "after"),
        (("dates", D, None, 540, 600, 45, "UTC"), "15, 30 or 60"),
        (("dates", D, None, 540, 600, True, "UTC"), "15, 30 or 60"),
        (("dates", D, None, 540, 610, 30, "UTC"), "whole number"),
        (("dates", D, None, -30, 600, 30, "UTC"), "0..1440"),
        (("dates", D, None, 540, 1470, 30, "UTC"), "0..1440"),
        (("dates", D, None, 540.0, 600, 30, "UTC"), "0..1440"),
        (("dates", D, None, 540, 600, 30, ""), "timezone"),
        (("dates", D, None, 540, 600, 30, "Mars/Olympus"), "unknown timezone"),
        (("dates", D, None, 540, 600, 30, "utc"), "unknown timezone"),
        (("dates", D, None, 540, 600, 30, "../etc/passwd"), "unknown timezone"),
        (("dates", D, None, 540, 600, 30, "/etc/localtime"), "unknown timezone"),
        (("dates", D, None, 540, 600, 30, "localtime"), "unknown timezone"),
        (("dates", D, None, 540, 600, 30, "America"), "unknown timezone"),
    ],
)
def test_grid_validation(args: tuple[object, ...], message: str) -> None:
    with pytest.raises(SlotGridError, match=message):
        SlotGrid(*args)  # type: ignore[arg-type]


def test_hhmm_round_trip() -> None:
    for minutes in range(1441):
        assert parse_hhmm(format_hhmm(minutes)) == minutes
    assert parse_hhmm("09:30") == 570 and parse_hhmm("24:00") == 1440
    assert format_hhmm(0) == "00:00" and format_hhmm(1440) == "24:00"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "9:30",
        "09:3",
        "09:60",
        "24:01",
        "25:00",
        "24:30",
        " 09:30",
        "09:30 ",
        "09.30",
        "0930",
        "+9:30",
        "09:30:00",
        "\u0660\u0669:30",
        "-1:00",
    ],
)
def test_parse_hhmm_rejects(bad: str) -> None:
    with pytest.raises(SlotGridError):
        parse_hhmm(bad)


@pytest.mark.parametrize("bad", [-1, 1441, True, 1.5])
def test_format_hhmm_rejects(bad: int) -> None:
    with pytest.raises(SlotGridError):
        format_hhmm(bad)


def test_utc_iso() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    assert utc_iso(datetime(2026, 12, 1, 9, 0, tzinfo=berlin)) == "2026-12-01T08:00:00Z"
    assert utc_iso(datetime(2026, 12, 1, 8, 0, 0, 1500, tzinfo=UTC)) == (
        "2026-12-01T08:00:00.001500Z"
    )
    assert utc_iso(datetime(2026, 12, 1, 8, 0)) == "2026-12-01T08:00:00Z"
