from __future__ import annotations

import random
import time
import uuid
from datetime import date, timedelta
from typing import Any

import orjson
import pytest
from overlap_shared.bitmaps import ranges_to_bits, to_bytes
from overlap_shared.oracle.scoring import best_times
from overlap_shared.slots import SlotGridError
from overlap_shared.view import ParticipantSnapshot, event_public, render_view, serialize_view

from tests.unit.snapshots import event_snapshot, participant

RETENTION_DAYS = 90


def build_view(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """The engine's view (``render_view``'s bytes) as a dict, to inspect."""
    view: dict[str, Any] = orjson.loads(render_view(*args, **kwargs))
    return view


EVENT_KEYS = [
    "id",
    "token",
    "title",
    "description",
    "timezone",
    "kind",
    "dates",
    "weekdays",
    "day_start",
    "day_end",
    "slot_minutes",
    "slots_per_day",
    "slot_count",
    "status",
    "final",
    "created_at",
    "updated_at",
    "expires_at",
]


def test_view_document_shape() -> None:
    event = event_snapshot()
    grid = event.grid
    assert grid.missing() == (8, 9)  # 2026-03-08 02:00 and 02:30 in New York
    n = grid.slot_count
    people = [
        participant(0, [[0, 6]], [[6, 8]], n, grid.missing()),
        participant(1, [[2, 4], [10, 12]], [[0, 2]], n, grid.missing()),
    ]
    view = build_view(event, people, retention_days=RETENTION_DAYS)
    assert list(view) == ["version", "event", "slots", "participants", "heatmap", "best"]
    assert view["version"] == 7
    ev = view["event"]
    assert list(ev) == EVENT_KEYS
    assert ev == event_public(event, retention_days=RETENTION_DAYS)
    assert ev["id"] == "00000000-0000-0000-0000-000000000001"
    assert ev["dates"] == ["2026-03-07", "2026-03-08"] and ev["weekdays"] is None
    assert (ev["day_start"], ev["day_end"]) == ("01:00", "04:00")
    assert (ev["slots_per_day"], ev["slot_count"]) == (6, 12)
    assert ev["final"] is None
    assert ev["created_at"] == "2026-02-01T12:00:00Z"
    assert ev["updated_at"] == "2026-02-01T12:00:01.250000Z"
    assert ev["expires_at"] == "2026-06-07T04:00:00Z"  # 90 days after 2026-03-09 00:00 EDT
    assert list(view["slots"]) == ["starts_utc", "missing"]
    starts = view["slots"]["starts_utc"]
    assert starts[0] == "2026-03-07T06:00:00Z" and starts[8] is None and starts[9] is None
    assert starts[10] == "2026-03-08T07:00:00Z"
    assert view["slots"]["missing"] == [8, 9]
    assert view["participants"] == [
        {
            "id": str(uuid.UUID(int=100)),
            "name": "person 0",
            "available": [[0, 6]],
            "if_needed": [[6, 8]],
        },
        {
            "id": str(uuid.UUID(int=101)),
            "name": "person 1",
            "available": [[2, 4], [10, 12]],
            "if_needed": [[0, 2]],
        },
    ]
    assert view["heatmap"] == {
        "available": [1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1, 1],
        "if_needed": [1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0],
    }
    assert view["best"][0] == {
        "start": 2,
        "end": 4,
        "available": [str(uuid.UUID(int=100)), str(uuid.UUID(int=101))],
        "if_needed": [],
        "score": 2.0,
    }
    assert orjson.loads(serialize_view(view)) == view


def test_weekdays_and_final() -> None:
    event = event_snapshot(
        kind="weekdays",
        dates=None,
        weekdays=("mon", "fri"),
        final_start=1,
        final_end=3,
        status="finalized",
        timezone="UTC",
    )
    view = build_view(event, [], retention_days=RETENTION_DAYS)
    assert view["slots"] == {"starts_utc": None, "missing": []}
    assert view["event"]["final"] == {"start": 1, "end": 3}
    assert view["event"]["weekdays"] == ["mon", "fri"] and view["event"]["dates"] is None
    assert view["heatmap"] == {"available": [0] * 12, "if_needed": [0] * 12}
    assert view["best"] == [] and view["participants"] == []
    data = serialize_view(view)
    assert data.startswith(b'{"version":7,"event":{"id":"00000000-0000-0000-0000-000000000001"')


def test_invalid_event_grid() -> None:
    with pytest.raises(SlotGridError):
        _ = event_snapshot(timezone="Nowhere/Special").grid


def test_stored_bits_are_read_defensively() -> None:
    event = event_snapshot()
    n = event.grid.slot_count
    # Bits on missing slots (8, 9), beyond the grid (12..15), and on both levels (slot 0).
    raw = ParticipantSnapshot(uuid.UUID(int=5), "raw", to_bytes(0xF301, 16), to_bytes(0b11, 16))
    view = build_view(event, [raw], retention_days=RETENTION_DAYS)
    p = view["participants"][0]
    assert p["available"] == [[0, 1]] and p["if_needed"] == [[1, 2]]
    assert sum(view["heatmap"]["available"]) == 1 and len(view["heatmap"]["available"]) == n


def random_people(
    count: int, n: int, per_day: int, rng: random.Random
) -> list[ParticipantSnapshot]:
    people = []
    for k in range(count):
        avail: list[list[int]] = []
        maybe: list[list[int]] = []
        for day in range(n // per_day):
            start = rng.randrange(per_day)
            end = min(per_day, start + rng.randrange(1, 40))
            avail.append([day * per_day + start, day * per_day + end])
        a = ranges_to_bits(avail, n)
        for i in rng.sample(range(n), 20):
            maybe.append([i, i + 1])
        f = ranges_to_bits(maybe, n) & ~a
        people.append(
            ParticipantSnapshot(
                uuid.UUID(int=rng.getrandbits(128)), f"p{k}", to_bytes(a, n), to_bytes(f, n)
            )
        )
    return people


def test_heatmap_and_best_agree_with_bitmaps() -> None:
    rng = random.Random(11)
    event = event_snapshot(
        day_start=0,
        day_end=1440,
        slot_minutes=15,
        timezone="UTC",
        dates=tuple(date(2026, 6, 1) + timedelta(days=d) for d in range(7)),
    )
    grid = event.grid
    people = random_people(50, grid.slot_count, grid.slots_per_day, rng)
    view = build_view(event, people, best_limit=5, retention_days=RETENTION_DAYS)
    bits = [
        (int.from_bytes(p.available, "little"), int.from_bytes(p.if_needed, "little"))
        for p in people
    ]
    assert sum(view["heatmap"]["available"]) == sum(a.bit_count() for a, _ in bits)
    assert sum(view["heatmap"]["if_needed"]) == sum(f.bit_count() for _, f in bits)
    expected_best = best_times(
        grid.slots_per_day,
        grid.slot_count,
        [(str(p.id), a, f) for p, (a, f) in zip(people, bits, strict=True)],
        (),
        limit=5,
    )
    assert view["best"] == expected_best and len(expected_best) == 5


def test_big_view_is_deterministic_and_fast() -> None:
    rng = random.Random(5)
    event = event_snapshot(
        day_start=0,
        day_end=1440,
        slot_minutes=15,
        timezone="Europe/London",
        dates=tuple(date(2026, 10, 21) + timedelta(days=d) for d in range(7)),
    )
    grid = event.grid
    assert grid.slot_count == 672
    people = random_people(200, grid.slot_count, grid.slots_per_day, rng)
    first = serialize_view(
        build_view(event, people, retention_days=RETENTION_DAYS)
    )  # warm the grid caches
    timings = []
    for _ in range(10):
        t0 = time.perf_counter()
        data = serialize_view(build_view(event, people, retention_days=RETENTION_DAYS))
        timings.append(time.perf_counter() - t0)
        assert data == first
    t0 = time.perf_counter()
    cold_event = event_snapshot(
        day_start=0,
        day_end=1440,
        slot_minutes=15,
        timezone="Europe/London",
        dates=tuple(date(2027, 1, 4) + timedelta(days=d) for d in range(7)),
    )
    serialize_view(build_view(cold_event, people, retention_days=RETENTION_DAYS))
    cold = time.perf_counter() - t0
    print(
        f"\nview 200 participants x 7 days x 96 slots: build+serialize best "
        f"{min(timings) * 1e3:.2f} ms, median {sorted(timings)[5] * 1e3:.2f} ms, "
        f"{len(first)} bytes; first build for a new grid {cold * 1e3:.2f} ms"
    )
    view = orjson.loads(first)
    assert sum(view["heatmap"]["available"]) == sum(
        int.from_bytes(p.available, "little").bit_count() for p in people
    )
