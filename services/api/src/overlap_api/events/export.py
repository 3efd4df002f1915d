"""The organiser's CSV export: every participant's availability in every slot, in the
event's local time, for keeping outside Overlap before the event expires.

One row per slot that exists (a local time skipped by a DST change has no row), columns
``day`` (ISO date, or ``mon``..``sun`` for a weekdays event), local ``start`` and ``end``
(wall-clock ``HH:MM``), ``start_utc`` (the instant; empty for weekdays events), the two
counts, then one column per participant in joining order: ``yes``, ``if needed`` or empty.
Cells are read as the view reads them (``kernels.unpack_clean``). Pure: a snapshot in, text out.
"""

import csv
import io
from collections.abc import Iterator, Sequence

from overlap_shared.kernels import exists_mask, unpack_clean
from overlap_shared.slots import format_hhmm, utc_iso
from overlap_shared.view import EventSnapshot, ParticipantSnapshot

FIXED_COLUMNS = ("day", "start", "end", "start_utc", "available", "if_needed")
YES, IF_NEEDED = "yes", "if needed"
# A cell starting with one of these is a formula to a spreadsheet: quote it as text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def as_text(cell: str) -> str:
    """A cell a spreadsheet shows as text, never runs (CSV injection)."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def export_rows(event: EventSnapshot, people: Sequence[ParticipantSnapshot]) -> Iterator[list[str]]:
    """The header, then one row per existing slot."""
    grid = event.grid
    exists = exists_mask(grid.slot_count, grid.missing())
    # (participants, slots) boolean matrices, cleaned as the view cleans them
    marks_a, marks_n = unpack_clean(
        [p.available for p in people], [p.if_needed for p in people], exists
    )
    yield [*FIXED_COLUMNS, *(as_text(p.name) for p in people)]
    days = grid.dates if grid.dates is not None else grid.weekdays
    assert days is not None
    starts = grid.starts_utc()
    for index in range(grid.slot_count):
        if starts is not None and starts[index] is None:
            continue  # skipped by a DST change: the slot does not exist
        day, slot = grid.split(index)
        local = grid.local_start_minutes(slot)
        column = zip(marks_a[:, index].tolist(), marks_n[:, index].tolist(), strict=True)
        cells = [YES if a else IF_NEEDED if n else "" for a, n in column]
        start = starts[index] if starts is not None else None
        yield [
            str(days[day]),
            format_hhmm(local),
            format_hhmm(local + grid.slot_minutes),
            utc_iso(start) if start is not None else "",
            str(cells.count(YES)),
            str(cells.count(IF_NEEDED)),
            *cells,
        ]


def export_csv(event: EventSnapshot, people: Sequence[ParticipantSnapshot]) -> str:
    """The whole export as CSV text (RFC 4180: CRLF line ends, quoted where needed)."""
    out = io.StringIO()
    csv.writer(out).writerows(export_rows(event, people))
    return out.getvalue()
