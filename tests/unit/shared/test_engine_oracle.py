"""The array engine against the pure-Python oracle: identical view bytes, identical best
times, over any grid (DST gaps included) and any participants, built in full or by deltas."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from overlap_shared.aggregate import GridChanged, ViewAggregate
from overlap_shared.best_read import best_from_view, view_best, view_head
from overlap_shared.oracle.scoring import best_times as oracle_best
from overlap_shared.oracle.view import build_view as oracle_view
from overlap_shared.oracle.view import clean_bits
from overlap_shared.view import EventSnapshot, ParticipantSnapshot, event_public, render_view

RETENTION_DAYS = 90  # the services' default policy (RETENTION_DAYS), in event.expires_at

STAMP = datetime(2026, 1, 1, tzinfo=UTC)
# (zone, first day): windows that include a DST gap (a missing hour or half hour).
ZONES = [
    ("UTC", date(2026, 6, 1)),
    ("America/New_York", date(2026, 3, 7)),
    ("Europe/London", date(2026, 3, 28)),
    ("Australia/Lord_Howe", date(2026, 10, 3)),
    ("America/New_York", date(2026, 10, 31)),
]
EXAMPLES = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def events(draw: st.DrawFn) -> EventSnapshot:
    zone, first = draw(st.sampled_from(ZONES))
    slot = draw(st.sampled_from([15, 30, 60]))
    start = draw(st.integers(0, 1440 // slot - 1)) * slot
    end = draw(st.integers(start // slot + 1, 1440 // slot)) * slot
    days = draw(st.integers(1, 3))
    weekdays = draw(st.booleans())
    return EventSnapshot(
        uuid.UUID(int=1),
        "tok",
        draw(st.text(max_size=5)),
        "",
        zone,
        "weekdays" if weekdays else "dates",
        None if weekdays else tuple(first + timedelta(days=d) for d in range(days)),
        ("mon", "wed", "sun")[:days] if weekdays else None,
        start,
        end,
        slot,
        "open",
        None,
        None,
        draw(st.integers(1, 99)),
        STAMP,
        STAMP,
    )


def bits(draw: st.DrawFn, slot_count: int) -> bytes:
    """Stored bits of any length (short, exact or too long), dense or sparse."""
    width = draw(st.integers(0, (slot_count + 7) // 8 + 2))
    density = draw(st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0]))
    rnd = draw(st.randoms(use_true_random=False))
    return bytes(sum(1 << b for b in range(8) if rnd.random() < density) for _ in range(width))


@st.composite
def people(draw: st.DrawFn, slot_count: int, count: int = 8) -> list[ParticipantSnapshot]:
    ids = draw(st.lists(st.integers(1, 10**6), unique=True, max_size=count))
    return [
        ParticipantSnapshot(
            uuid.UUID(int=i),
            draw(st.text(min_size=1, max_size=8)),
            bits(draw, slot_count),
            bits(draw, slot_count),
            STAMP + timedelta(seconds=k),
        )
        for k, i in enumerate(ids)
    ]


@st.composite
def snapshots(draw: st.DrawFn) -> tuple[EventSnapshot, list[ParticipantSnapshot]]:
    event = draw(events())
    return event, draw(people(event.grid.slot_count))


def expected_bytes(event: EventSnapshot, everyone: list[ParticipantSnapshot]) -> bytes:
    return orjson.dumps(oracle_view(event, everyone, retention_days=RETENTION_DAYS))


@EXAMPLES
@given(snapshots())
def test_full_rebuild_bytes_equal_the_oracle(snap: Any) -> None:
    event, everyone = snap
    assert render_view(event, everyone, retention_days=RETENTION_DAYS) == expected_bytes(
        event, everyone
    )


@EXAMPLES
@given(snapshots(), st.data())
def test_best_times_with_min_slots_and_required_equal_the_oracle(
    snap: Any, data: st.DataObject
) -> None:
    event, everyone = snap
    grid = event.grid
    min_slots = data.draw(st.integers(1, grid.slots_per_day + 1))
    ids = [str(p.id) for p in everyone]
    required = data.draw(st.lists(st.sampled_from(ids), max_size=2)) if ids else []
    if data.draw(st.booleans()):
        required.append(str(uuid.UUID(int=0)))  # not a participant: no block qualifies
    limit = data.draw(st.integers(0, 12))
    want = oracle_best(
        grid.slots_per_day,
        grid.slot_count,
        clean_bits(grid, everyone),
        grid.missing(),
        min_slots=min_slots,
        required=required,
        limit=limit,
    )
    got = ViewAggregate.build(event, everyone, retention_days=RETENTION_DAYS).best(
        min_slots, required, limit
    )
    assert got == want


@st.composite
def histories(draw: st.DrawFn) -> tuple[EventSnapshot, list[ParticipantSnapshot], list[Any]]:
    """An event, its first participants, and a list of changes to apply to it."""
    event, everyone = draw(snapshots())
    slot_count = event.grid.slot_count
    steps: list[Any] = []
    for k in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(["join", "availability", "rename", "leave", "event"]))
        if kind == "join":
            joined = STAMP + timedelta(seconds=draw(st.integers(0, 20)))
            new = ParticipantSnapshot(
                uuid.UUID(int=10**7 + k),
                f"new {k}",
                bits(draw, slot_count),
                bits(draw, slot_count),
                joined,
            )
            steps.append(("upsert", new))
        elif kind == "event":
            steps.append(("event", draw(st.text(max_size=5)), draw(st.booleans())))
        else:
            steps.append((kind, draw(st.integers(0, 50)), bits(draw, slot_count)))
    return event, everyone, steps


def apply(
    step: Any, event: EventSnapshot, everyone: list[ParticipantSnapshot], agg: ViewAggregate
) -> EventSnapshot:
    """Apply one change to the oracle's inputs and, as a delta, to the aggregate."""
    kind = step[0]
    if kind == "upsert":
        everyone.append(step[1])
        everyone.sort(key=lambda p: (p.created_at, p.id))
        agg.upsert(step[1])
    elif kind == "event":
        final = (0, 1) if step[2] else (None, None)
        status = "finalized" if step[2] else "open"
        event = dataclasses.replace(
            event,
            title=step[1],
            status=status,
            final_start=final[0],
            final_end=final[1],
            version=event.version + 1,
            updated_at=STAMP + timedelta(hours=1),
        )
        agg.set_event(event)
    elif everyone:
        who = everyone[step[1] % len(everyone)]
        if kind == "leave":
            everyone.remove(who)
            agg.remove(str(who.id))
            return event
        name = f"{who.name}!" if kind == "rename" else who.name
        available = step[2] if kind == "availability" else who.available
        changed = ParticipantSnapshot(who.id, name, available, who.if_needed, who.created_at)
        everyone[everyone.index(who)] = changed
        agg.upsert(changed)
    return event


@EXAMPLES
@given(histories())
def test_deltas_give_the_bytes_of_a_full_rebuild(history: Any) -> None:
    event, everyone, steps = history
    everyone = list(everyone)
    agg = ViewAggregate.build(event, everyone, retention_days=RETENTION_DAYS)
    for step in steps:
        event = apply(step, event, everyone, agg)
        assert agg.render() == expected_bytes(event, everyone)
        assert agg.participant_count == len(everyone)


def test_a_new_grid_is_refused_by_a_delta() -> None:
    event = EventSnapshot(
        uuid.UUID(int=1),
        "tok",
        "t",
        "",
        "UTC",
        "dates",
        (date(2026, 6, 1),),
        None,
        0,
        120,
        30,
        "open",
        None,
        None,
        1,
        STAMP,
        STAMP,
    )
    agg = ViewAggregate.build(event, [], retention_days=RETENTION_DAYS)
    wider = dataclasses.replace(event, day_end=240)
    with pytest.raises(GridChanged):
        agg.set_event(wider)
    assert agg.event is event


@EXAMPLES
@given(snapshots(), st.data())
def test_best_times_from_a_cached_view_equal_the_oracle(snap: Any, data: st.DataObject) -> None:
    event, everyone = snap
    event = dataclasses.replace(event, title='x"},"best":[],"slots":{}')  # keys inside a string
    grid = event.grid
    view = render_view(event, everyone, retention_days=RETENTION_DAYS)
    min_slots = data.draw(st.integers(1, grid.slots_per_day))
    ids = [str(p.id) for p in everyone]
    required = data.draw(st.lists(st.sampled_from(ids), max_size=2)) if ids else []
    limit = data.draw(st.integers(1, 12))
    want = oracle_best(
        grid.slots_per_day,
        grid.slot_count,
        clean_bits(grid, everyone),
        grid.missing(),
        min_slots=min_slots,
        required=required,
        limit=limit,
    )
    assert best_from_view(orjson.loads(view), min_slots, required, limit) == want
    assert view_best(view) == orjson.loads(view)["best"]
    assert view_head(view) == {
        "version": event.version,
        "event": event_public(event, retention_days=RETENTION_DAYS),
    }
