"""The API's held view aggregates: a rebuild by deltas gives the bytes of a full one."""

import dataclasses
import gc
import uuid
from datetime import date, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from overlap_api.reads.aggregates import MB, RecentAggregates, build
from overlap_shared.view import EventSnapshot, ParticipantSnapshot, render_view
from prometheus_client import REGISTRY

from tests.unit.shared.test_engine_oracle import (
    EXAMPLES,
    RETENTION_DAYS,
    STAMP,
    bits,
    events,
    snapshots,
)


@st.composite
def snapshot_series(draw: st.DrawFn) -> list[Any]:
    """One event's snapshots over time: joins, leaves, renames, new availability, event
    edits, and now and then a new grid."""
    event, everyone = draw(snapshots())
    series = [(event, list(everyone))]
    for k in range(draw(st.integers(1, 6))):
        everyone = list(everyone)
        for j in range(draw(st.integers(0, 3))):
            kind = draw(st.sampled_from(["join", "availability", "rename", "leave"]))
            slots = event.grid.slot_count
            if kind == "join" or not everyone:
                joined = STAMP + timedelta(seconds=draw(st.integers(0, 20)))
                new = ParticipantSnapshot(
                    uuid.UUID(int=10**7 + 10 * k + j),  # unique, as ids are
                    f"new {k}",
                    bits(draw, slots),
                    bits(draw, slots),
                    joined,
                )
                everyone.append(new)
                everyone.sort(key=lambda p: (p.created_at, p.id))
                continue
            i = draw(st.integers(0, len(everyone) - 1))
            who = everyone[i]
            if kind == "leave":
                del everyone[i]
            elif kind == "rename":
                everyone[i] = dataclasses.replace(who, name=f"{who.name}!")
            else:
                everyone[i] = dataclasses.replace(who, available=bits(draw, slots))
        if draw(st.integers(0, 4)) == 0:
            event = dataclasses.replace(draw(events()), version=event.version + 1)
        else:
            event = dataclasses.replace(event, title=f"t{k}", version=event.version + 1)
        series.append((event, everyone))
    return series


@EXAMPLES
@given(snapshot_series())
def test_each_rebuild_has_the_bytes_of_a_full_rebuild(series: list[Any]) -> None:
    held = RecentAggregates(64 * MB, RETENTION_DAYS)
    for event, everyone in series:
        want = render_view(event, everyone, retention_days=RETENTION_DAYS)
        assert held.render(event, everyone) == want


@EXAMPLES
@given(snapshots())
def test_a_zero_budget_holds_nothing_and_still_renders(snap: Any) -> None:
    event, everyone = snap
    held = RecentAggregates(0, RETENTION_DAYS)
    want = render_view(event, everyone, retention_days=RETENTION_DAYS)
    assert held.render(event, everyone) == want
    assert held.held_bytes == 0


def one_day(event_id: int) -> EventSnapshot:
    return EventSnapshot(
        uuid.UUID(int=event_id), f"tok{event_id}", "t", "", "UTC", "dates", (date(2026, 6, 1),),
        None, 0, 1440, 15, "open", None, None, 1, STAMP, STAMP,
    )  # fmt: skip


def crowd(count: int) -> list[ParticipantSnapshot]:
    return [
        ParticipantSnapshot(uuid.UUID(int=i + 1), f"p{i}", bytes([i % 256]) * 12, b"", STAMP)
        for i in range(count)
    ]


def test_one_change_is_applied_to_the_held_aggregate_not_rebuilt() -> None:
    event, everyone = one_day(1), crowd(40)
    held = RecentAggregates(64 * MB, RETENTION_DAYS)
    held.render(event, everyone)
    first = held.aggregate_of(event.token)
    deltas = REGISTRY.get_sample_value("view_rebuilds_total", {"how": "delta"}) or 0.0
    everyone[7] = dataclasses.replace(everyone[7], available=b"\xff" * 12)
    newer = dataclasses.replace(event, version=2)
    assert held.render(newer, everyone) == render_view(
        newer, everyone, retention_days=RETENTION_DAYS
    )
    assert held.aggregate_of(event.token) is first  # a delta, not a new build
    assert REGISTRY.get_sample_value("view_rebuilds_total", {"how": "delta"}) == deltas + 1
    wider = dataclasses.replace(newer, version=3, day_start=60)
    held.render(wider, everyone)
    assert held.aggregate_of(event.token) is not first  # a new grid: rebuilt


def test_past_the_budget_the_least_recently_rendered_event_goes() -> None:
    everyone = crowd(40)
    held = RecentAggregates(64 * MB, RETENTION_DAYS)
    held.render(one_day(1), everyone)
    one = held.held_bytes
    held.max_bytes = 2 * one
    for event_id in (2, 1, 3):  # event 2 is now the least recently rendered
        held.render(one_day(event_id), everyone)
    assert held.aggregate_of("tok2") is None
    assert held.aggregate_of("tok1") is not None
    assert held.held_bytes == 2 * one


def test_the_held_inputs_are_invisible_to_the_garbage_collector() -> None:
    kept = build(one_day(1), crowd(40), RETENTION_DAYS)
    assert len(kept.inputs) == 40
    gc.collect()  # a collection that sees them untracks them: never walked again
    assert not gc.is_tracked(kept.inputs)
    assert not any(gc.is_tracked(row) for row in kept.inputs.values())


def test_a_moved_join_time_rebuilds_in_full() -> None:
    event, everyone = one_day(1), crowd(40)
    held = RecentAggregates(64 * MB, RETENTION_DAYS)
    held.render(event, everyone)
    first = held.aggregate_of(event.token)
    everyone[3] = dataclasses.replace(everyone[3], created_at=STAMP + timedelta(hours=1))
    everyone.sort(key=lambda p: (p.created_at, p.id))
    newer = dataclasses.replace(event, version=2)
    want = render_view(newer, everyone, retention_days=RETENTION_DAYS)
    assert held.render(newer, everyone) == want
    assert held.aggregate_of(event.token) is not first
