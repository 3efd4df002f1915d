"""The availability worker's delta rules: what a batch records, when a delta may follow,
and that deltas (with full rebuilds on grid edits) give the oracle's bytes."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from overlap_availability.aggregates import Aggregates, apply_delta, can_apply
from overlap_availability.batch import plan_batch
from overlap_shared import events
from overlap_shared.aggregate import ViewAggregate
from overlap_shared.bitmaps import from_bytes, to_bytes
from overlap_shared.held import build, changed_rows, inputs_of, refresh
from overlap_shared.oracle.view import build_view as oracle_view
from overlap_shared.remap import remap_bits
from overlap_shared.view import EventSnapshot, ParticipantSnapshot

from tests.unit.records import inbound

RETENTION_DAYS = 90  # the services' default policy (RETENTION_DAYS), in event.expires_at

STAMP = datetime(2026, 1, 1, tzinfo=UTC)
EVENT_ID = uuid.UUID(int=1)


def envelope(version: int) -> dict[str, Any]:
    return {"event_id": EVENT_ID, "token": "tok", "version": version}


def test_a_batch_records_versions_participants_and_grid_edits() -> None:
    who = uuid.uuid4()
    msgs: list[events.DomainEvent] = [
        events.AvailabilityChanged(
            **envelope(5),
            data=events.AvailabilityChangedData(
                participant_id=who, available_slots=1, if_needed_slots=0
            ),
        ),
        events.EventUpdated(
            **envelope(6), data=events.EventUpdatedData(fields=("title",), grid_changed=False)
        ),
    ]
    changes = plan_batch(inbound(m, i) for i, m in enumerate(msgs))[EVENT_ID]
    assert (changes.version, changes.versions, changes.participants) == (6, {5, 6}, {who})
    assert not changes.full and changes.follows(4) and not changes.follows(3)
    assert changes.follows(5) and changes.follows(6)  # older ones are replays
    grid = events.EventUpdated(
        **envelope(7), data=events.EventUpdatedData(fields=("day_end",), grid_changed=True)
    )
    assert plan_batch([inbound(grid, 9)])[EVENT_ID].full


def small_event(version: int = 1, **changes: Any) -> EventSnapshot:
    event = EventSnapshot(
        EVENT_ID,
        "tok",
        "t",
        "",
        "America/New_York",
        "dates",
        (date(2026, 3, 7), date(2026, 3, 8)),
        None,
        0,
        240,
        30,
        "open",
        None,
        None,
        version,
        STAMP,
        STAMP,
    )
    return dataclasses.replace(event, **changes)


def test_can_apply_needs_an_aggregate_no_gap_and_no_grid_edit() -> None:
    agg = ViewAggregate.build(small_event(version=3), [], retention_days=RETENTION_DAYS)
    msg = events.EventFinalized(**envelope(4), data=events.EventFinalizedData(start=0, end=1))
    changes = plan_batch([inbound(msg)])[EVENT_ID]
    assert can_apply(agg, changes) and not can_apply(None, changes)
    gap = events.EventFinalized(**envelope(6), data=events.EventFinalizedData(start=0, end=1))
    assert not can_apply(agg, plan_batch([inbound(gap)])[EVENT_ID])


def test_the_memory_budget_drops_the_least_recently_used() -> None:
    held = Aggregates(max_bytes=1)
    first = build(small_event(), [], RETENTION_DAYS)
    second = build(small_event(), [], RETENTION_DAYS)
    held.put(uuid.UUID(int=1), first)
    held.put(uuid.UUID(int=2), second)
    assert held.get(uuid.UUID(int=1)) is None and held.get(uuid.UUID(int=2)) is second
    assert len(held) == 1


def test_the_bytes_held_follow_puts_again_and_drops() -> None:
    held, one, two = Aggregates(max_bytes=2**30), uuid.UUID(int=1), uuid.UUID(int=2)
    first, second = (build(small_event(), [], RETENTION_DAYS) for _ in range(2))
    held.put(one, first)
    held.put(two, second)
    held.put(one, first)  # held again after a change: counted once
    assert held.held_bytes == first.nbytes + second.nbytes
    held.drop(one)
    held.drop(one)  # not held any more: nothing to take off
    assert held.held_bytes == second.nbytes


def test_the_published_version_goes_with_its_aggregate() -> None:
    held, one, two = Aggregates(max_bytes=1), uuid.UUID(int=1), uuid.UUID(int=2)
    held.mark_published(one, 4)  # not held: nothing is known of it
    assert held.published(one) == 0
    held.put(one, build(small_event(), [], RETENTION_DAYS))
    held.mark_published(one, 4)
    held.mark_published(one, 3)  # an older one never lowers it
    assert held.published(one) == 4
    held.put(two, build(small_event(), [], RETENTION_DAYS))
    assert held.published(one) == 0  # evicted with its aggregate
    held.mark_published(two, 7)
    held.drop(two)
    assert held.published(two) == 0


def person(k: int, available: bytes, joined_s: int) -> ParticipantSnapshot:
    return ParticipantSnapshot(
        uuid.UUID(int=100 + k), f"p{k}", available, b"\x0f", STAMP + timedelta(seconds=joined_s)
    )


steps = st.lists(
    st.tuples(
        st.sampled_from(["join", "availability", "rename", "remove", "grid", "title"]),
        st.integers(0, 9),
        st.binary(max_size=3),
    ),
    min_size=1,
    max_size=15,
)


def step_rows(
    kind: str, k: int, data: bytes, event: EventSnapshot, everyone: list[ParticipantSnapshot]
) -> tuple[EventSnapshot, list[ParticipantSnapshot], set[uuid.UUID]]:
    """The database after one write: the new event, participants, and who was touched."""
    event = dataclasses.replace(event, version=event.version + 1)
    if kind == "join":
        new = person(1000 + event.version, data, k)
        return event, sorted([*everyone, new], key=lambda p: (p.created_at, p.id)), {new.id}
    if kind in ("grid", "title"):
        if kind == "title":
            return dataclasses.replace(event, title=data.hex()), everyone, set()
        wider = dataclasses.replace(event, day_start=0 if event.day_start else 60)
        slots = wider.grid.slot_count
        moved = [
            dataclasses.replace(
                p,
                available=to_bytes(
                    remap_bits(event.grid, wider.grid, from_bytes(p.available))
                    & ((1 << slots) - 1),
                    slots,
                ),
            )
            for p in everyone
        ]
        return wider, moved, set()
    if not everyone:
        return event, everyone, set()
    who = everyone[k % len(everyone)]
    if kind == "remove":
        return event, [p for p in everyone if p is not who], {who.id}
    changed = dataclasses.replace(who, name=who.name + "!") if kind == "rename" else who
    changed = dataclasses.replace(changed, available=data) if kind == "availability" else changed
    return event, [changed if p is who else p for p in everyone], {who.id}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_deltas_and_grid_rebuilds_give_the_oracle_bytes(history: list[Any]) -> None:
    event = small_event()
    everyone = [person(k, bytes([k * 37 % 256]), k) for k in range(3)]
    held = build(event, everyone, RETENTION_DAYS)
    for kind, k, data in history:
        event, everyone, touched = step_rows(kind, k, data, event, everyone)
        rows = [p for p in everyone if p.id in touched]
        if not apply_delta(held, event, rows, touched):
            assert kind == "grid"
            held = build(event, everyone, RETENTION_DAYS)
        assert held.aggregate.render() == orjson.dumps(
            oracle_view(event, everyone, retention_days=RETENTION_DAYS)
        )


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps, st.integers(1, 5))
def test_a_snapshot_several_writes_ahead_applied_as_its_difference_gives_the_oracle_bytes(
    history: list[Any], every: int
) -> None:
    """The worker reading a database already further on: the whole snapshot, every
    ``every`` writes, applied as the rows that differ from the held ones."""
    event = small_event()
    everyone = [person(k, bytes([k * 37 % 256]), k) for k in range(3)]
    held = build(event, everyone, RETENTION_DAYS)
    kinds: list[str] = []
    for i, (kind, k, data) in enumerate(history, 1):
        event, everyone, _ = step_rows(kind, k, data, event, everyone)
        kinds.append(kind)
        if i % every and i < len(history):
            continue
        if not refresh(held, event, everyone):
            assert "grid" in kinds
            held = build(event, everyone, RETENTION_DAYS)
        kinds.clear()
        assert held.aggregate.version == event.version
        assert held.aggregate.render() == orjson.dumps(
            oracle_view(event, everyone, retention_days=RETENTION_DAYS)
        )


def test_the_difference_names_changed_rows_and_leavers_or_asks_for_a_rebuild() -> None:
    a, b, c = (person(k, bytes([k]), k) for k in range(3))
    renamed = dataclasses.replace(b, name="new")
    assert changed_rows(inputs_of([a, b, c]), [a, renamed]) == ([renamed], [c.id])
    assert changed_rows(inputs_of([a]), [a]) == ([], [])
    moved = dataclasses.replace(a, created_at=STAMP + timedelta(days=1))
    assert changed_rows(inputs_of([a]), [moved]) is None  # its place in the order moved
    many = [person(10 + k, b"\x01", 10 + k) for k in range(9)]
    assert changed_rows({}, many) is None  # a rebuild is cheaper than this many deltas
