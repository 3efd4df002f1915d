"""The organiser's CSV export: rows, columns and local times, across DST changes."""

import csv
import io
from datetime import date

from overlap_api.events.export import FIXED_COLUMNS, export_csv

from tests.unit.snapshots import event_snapshot, participant


def parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_spring_forward_rows_skip_the_missing_hour_and_keep_local_times() -> None:
    people = [
        participant(0, [[0, 6]], [[6, 8]], 12, name="Ana"),
        participant(1, [[2, 4], [10, 12]], [[0, 2]], 12, name="Bo"),
    ]
    rows = parse(export_csv(event_snapshot(), people))
    assert rows[0] == [*FIXED_COLUMNS, "Ana", "Bo"]
    assert len(rows) == 1 + 10  # 12 slots, 02:00 and 02:30 on 2026-03-08 do not exist
    assert rows[1] == [
        "2026-03-07",
        "01:00",
        "01:30",
        "2026-03-07T06:00:00Z",
        "1",
        "1",
        "yes",
        "if needed",
    ]
    assert rows[3] == [
        "2026-03-07",
        "02:00",
        "02:30",
        "2026-03-07T07:00:00Z",
        "2",
        "0",
        "yes",
        "yes",
    ]
    day_two = [r for r in rows[1:] if r[0] == "2026-03-08"]
    assert [r[1] for r in day_two] == ["01:00", "01:30", "03:00", "03:30"]
    assert [r[3] for r in day_two] == [
        "2026-03-08T06:00:00Z",  # EST, UTC-5
        "2026-03-08T06:30:00Z",
        "2026-03-08T07:00:00Z",  # EDT, UTC-4: 03:00 local follows 01:59 local
        "2026-03-08T07:30:00Z",
    ]
    assert day_two[0][4:] == ["0", "1", "if needed", ""]
    assert day_two[2][4:] == ["1", "0", "", "yes"]


def test_fall_back_keeps_one_row_per_slot_at_the_first_occurrence() -> None:
    autumn = event_snapshot(
        timezone="Europe/Berlin", dates=(date(2026, 10, 25),), day_start=60, slot_minutes=60
    )
    rows = parse(export_csv(autumn, [participant(0, [[1, 2]], [], 3, name="Cy")]))
    assert [r[:4] for r in rows[1:]] == [
        ["2026-10-25", "01:00", "02:00", "2026-10-24T23:00:00Z"],
        ["2026-10-25", "02:00", "03:00", "2026-10-25T00:00:00Z"],  # CEST, the first 02:00
        ["2026-10-25", "03:00", "04:00", "2026-10-25T02:00:00Z"],  # CET: the hour repeated
    ]
    assert [r[-1] for r in rows[1:]] == ["", "yes", ""]


def test_weekday_events_name_the_day_and_have_no_instants() -> None:
    weekly = event_snapshot(kind="weekdays", dates=None, weekdays=("mon", "fri"), day_end=120)
    rows = parse(export_csv(weekly, []))
    assert rows[0] == list(FIXED_COLUMNS)
    assert [r[0] for r in rows[1:]] == ["mon", "mon", "fri", "fri"]
    assert {r[3] for r in rows[1:]} == {""}
    assert rows[-1][1:3] == ["01:30", "02:00"]


def test_a_name_a_spreadsheet_would_run_is_quoted_as_text() -> None:
    rows = parse(export_csv(event_snapshot(), [participant(0, [], [], 12, name="=HYPERLINK(1)")]))
    assert rows[0][-1] == "'=HYPERLINK(1)"
    assert {r[-1] for r in rows[1:]} == {""}


def test_a_slot_marked_at_both_levels_counts_as_available_only() -> None:
    rows = parse(export_csv(event_snapshot(), [participant(0, [[0, 1]], [[0, 2]], 12, name="Di")]))
    assert rows[1][4:] == ["1", "0", "yes"]
    assert rows[2][4:] == ["0", "1", "if needed"]
