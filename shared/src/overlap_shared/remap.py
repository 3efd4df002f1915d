"""Carry availability across a change of an event's slot grid, explicitly.

Days are matched by their date (``dates`` events) or weekday (``weekdays`` events); a
change of kind matches no day. A new slot is marked when every old slot overlapping its
local time span on the matched day was marked, so a coarser grid never claims time a
participant did not give, and a finer grid keeps everything. Unmatched time is cleared.
"""

from overlap_shared.slots import SlotGrid


def _day_keys(grid: SlotGrid) -> list[object]:
    return list(grid.dates) if grid.dates is not None else list(grid.weekdays or ())


def remap_bits(old: SlotGrid, new: SlotGrid, bits: int) -> int:
    if old == new:
        return bits
    if old.kind != new.kind or not bits:
        return 0
    old_days = {key: i for i, key in enumerate(_day_keys(old))}
    result = 0
    for new_day, key in enumerate(_day_keys(new)):
        old_day = old_days.get(key)
        if old_day is None:
            continue
        for slot in range(new.slots_per_day):
            start = new.day_start + slot * new.slot_minutes
            end = start + new.slot_minutes
            if start < old.day_start or end > old.day_end:
                continue
            first = (start - old.day_start) // old.slot_minutes
            last = (end - 1 - old.day_start) // old.slot_minutes
            base = old_day * old.slots_per_day
            span = ((1 << (last - first + 1)) - 1) << (base + first)
            if bits & span == span:
                result |= 1 << new.slot_index(new_day, slot)
    return result & ~sum(1 << i for i in new.missing())
