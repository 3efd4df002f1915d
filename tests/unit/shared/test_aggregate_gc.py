"""A view aggregate stays out of the garbage collector's way: the objects a full collection
must walk for it do not grow with its participants (issue #14: full collections over held
aggregates stalled the API's cache misses)."""

import gc
import uuid
from datetime import UTC, date, datetime, timedelta
from types import BuiltinFunctionType, FunctionType, ModuleType

from overlap_shared.aggregate import ViewAggregate
from overlap_shared.snapshots import EventSnapshot, ParticipantSnapshot

STAMP = datetime(2026, 6, 1, tzinfo=UTC)


def week() -> EventSnapshot:
    days = tuple(date(2026, 6, 1) + timedelta(days=i) for i in range(7))
    return EventSnapshot(
        uuid.UUID(int=1), "tok", "t", "", "UTC", "dates", days, None,
        0, 1440, 15, "open", None, None, 1, STAMP, STAMP,
    )  # fmt: skip


def crowd(count: int) -> list[ParticipantSnapshot]:
    return [
        ParticipantSnapshot(
            uuid.UUID(int=100 + i), f"p{i}", bytes([i % 256]) * 84, b"", STAMP + timedelta(i)
        )
        for i in range(count)
    ]


def tracked_reach(root: object) -> int:
    """How many GC-tracked objects a full collection walks through from ``root`` (classes,
    modules and functions left out: they are the program's, shared by every aggregate)."""
    seen: set[int] = set()
    todo = [root]
    while todo:
        obj = todo.pop()
        shared = isinstance(obj, type | ModuleType | FunctionType | BuiltinFunctionType)
        if id(obj) in seen or shared or not gc.is_tracked(obj):
            continue
        seen.add(id(obj))
        todo.extend(gc.get_referents(obj))
    return len(seen)


def held(count: int) -> ViewAggregate:
    agg = ViewAggregate.build(week(), crowd(count), retention_days=90)
    agg.upsert(crowd(count + 1)[-1])  # a joiner by delta too
    agg.render()
    return agg


def test_the_walked_objects_do_not_grow_with_the_participants() -> None:
    small, large = held(20), held(400)
    gc.collect()  # what a collection has seen and found atomic, it stops tracking
    assert large.participant_count == 401
    assert tracked_reach(large) == tracked_reach(small) < 100
