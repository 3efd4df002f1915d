from datetime import date

from hypothesis import given
from hypothesis import strategies as st
from overlap_shared.bitmaps import ranges_to_bits
from overlap_shared.remap import remap_bits
from overlap_shared.slots import SlotGrid


def grid(
    start: int = 540, end: int = 1020, minutes: int = 30, dates: tuple[date, ...] = ()
) -> SlotGrid:
    days = dates or (date(2026, 12, 1), date(2026, 12, 2))
    return SlotGrid("dates", days, None, start, end, minutes, "UTC")


def test_same_grid_keeps_bits() -> None:
    assert remap_bits(grid(), grid(), 0b1011) == 0b1011


def test_finer_grid_splits_each_slot() -> None:
    old, new = grid(minutes=60), grid(minutes=30)
    bits = ranges_to_bits([[0, 1]], old.slot_count)  # 09:00-10:00 on day 0
    assert remap_bits(old, new, bits) == ranges_to_bits([[0, 2]], new.slot_count)


def test_coarser_grid_needs_every_covered_slot() -> None:
    old, new = grid(minutes=30), grid(minutes=60)
    half = ranges_to_bits([[0, 1]], old.slot_count)  # only 09:00-09:30
    full = ranges_to_bits([[0, 2]], old.slot_count)
    assert remap_bits(old, new, half) == 0
    assert remap_bits(old, new, full) == 1


def test_days_follow_their_dates_and_dropped_days_clear() -> None:
    d1, d2, d3 = date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3)
    old, new = grid(dates=(d1, d2)), grid(dates=(d2, d3))
    day2 = ranges_to_bits([[old.slots_per_day, old.slots_per_day + 3]], old.slot_count)
    assert remap_bits(old, new, day2) == ranges_to_bits([[0, 3]], new.slot_count)
    assert remap_bits(old, new, ranges_to_bits([[0, 3]], old.slot_count)) == 0


def test_shrunk_window_drops_time_outside_it() -> None:
    old, new = grid(start=540, end=1020), grid(start=600, end=1020)
    bits = ranges_to_bits([[0, 4]], old.slot_count)  # 09:00-11:00
    assert remap_bits(old, new, bits) == ranges_to_bits([[0, 2]], new.slot_count)  # 10-11


def test_kind_change_clears() -> None:
    weekly = SlotGrid("weekdays", None, ("mon",), 540, 1020, 30, "UTC")
    assert remap_bits(grid(), weekly, 0b1) == 0


@given(st.integers(min_value=0, max_value=(1 << 32) - 1), st.sampled_from([15, 30, 60]))
def test_round_trip_through_finer_grid_is_lossless(bits: int, minutes: int) -> None:
    coarse = grid(minutes=60)
    bits &= (1 << coarse.slot_count) - 1
    fine = grid(minutes=minutes)
    assert remap_bits(fine, coarse, remap_bits(coarse, fine, bits)) == bits
