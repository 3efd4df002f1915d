"""A writer reading its own write: the held aggregate brought forward by this process's own
PUTs has the bytes of a full rebuild, and any version it did not write reads PostgreSQL."""

import dataclasses
import uuid
from datetime import timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from overlap_api.reads.aggregates import MB, RecentAggregates
from overlap_api.writes.own_writes import OwnWrite, OwnWrites
from overlap_shared.view import render_view
from prometheus_client import REGISTRY

from tests.unit.api.test_view_aggregates import crowd, one_day
from tests.unit.shared.test_engine_oracle import EXAMPLES, RETENTION_DAYS, STAMP, bits, snapshots


@st.composite
def own_writes(draw: st.DrawFn) -> tuple[Any, list[Any], list[OwnWrite]]:
    """A snapshot, then a series of PUTs by its participants (the bits as stored)."""
    event, everyone = draw(snapshots())
    if not everyone:
        everyone = crowd(1)
    writes = []
    for k in range(draw(st.integers(1, 6))):
        who = draw(st.sampled_from(everyone))
        stored = bits(draw, event.grid.slot_count)
        stamp = STAMP + timedelta(days=draw(st.integers(0, 400)), seconds=k)
        writes.append(OwnWrite(event.version + k + 1, who.id, stored, b"", stamp))
    return event, everyone, writes


def at(event: Any, everyone: list[Any], write: OwnWrite) -> tuple[Any, list[Any]]:
    """The snapshot PostgreSQL would give after ``write``."""
    event = dataclasses.replace(event, version=write.version, updated_at=write.updated_at)
    changed = [
        dataclasses.replace(p, available=write.available, if_needed=write.if_needed)
        if p.id == write.participant_id
        else p
        for p in everyone
    ]
    return event, changed


@EXAMPLES
@given(own_writes())
def test_own_writes_give_the_bytes_of_a_full_rebuild(case: Any) -> None:
    event, everyone, writes = case
    held, noted = RecentAggregates(64 * MB, RETENTION_DAYS), OwnWrites()
    held.render(event, everyone)
    for write in writes:
        noted.note(event.token, write)
        event, everyone = at(event, everyone, write)
        want = render_view(event, everyone, retention_days=RETENTION_DAYS)
        assert held.advance(event.token, write.version, noted) == (write.version, want)


def test_several_own_writes_are_applied_at_once() -> None:
    event, everyone = one_day(1), crowd(20)
    held, noted = RecentAggregates(64 * MB, RETENTION_DAYS), OwnWrites()
    held.render(event, everyone)
    owns = REGISTRY.get_sample_value("view_rebuilds_total", {"how": "own"}) or 0.0
    for k, who in enumerate((3, 7, 3)):
        write = OwnWrite(2 + k, everyone[who].id, bytes([k + 1]) * 12, b"\x80", STAMP)
        noted.note(event.token, write)
        event, everyone = at(event, everyone, write)
    want = render_view(event, everyone, retention_days=RETENTION_DAYS)
    assert held.advance(event.token, 3, noted) == (4, want)  # past the version asked for
    assert REGISTRY.get_sample_value("view_rebuilds_total", {"how": "own"}) == owns + 1


def test_a_version_it_did_not_write_reads_postgresql() -> None:
    event, everyone = one_day(1), crowd(20)
    held, noted = RecentAggregates(64 * MB, RETENTION_DAYS), OwnWrites()
    held.render(event, everyone)
    first = held.aggregate_of(event.token)
    noted.note(event.token, OwnWrite(3, everyone[0].id, b"\x01", b"", STAMP))  # 2: not ours
    assert held.advance(event.token, 3, noted) is None
    assert held.aggregate_of(event.token) is first  # untouched, still held
    assert held.advance("another", 2, noted) is None  # nothing held


def test_a_writer_the_aggregate_does_not_know_drops_it() -> None:
    event, everyone = one_day(1), crowd(20)
    held, noted = RecentAggregates(64 * MB, RETENTION_DAYS), OwnWrites()
    held.render(event, everyone)
    noted.note(event.token, OwnWrite(2, uuid.UUID(int=999), b"\x01", b"", STAMP))
    assert held.advance(event.token, 2, noted) is None
    assert held.aggregate_of(event.token) is None  # half-applied state is never kept


def test_the_notes_are_bounded() -> None:
    noted = OwnWrites(max_events=2, per_event=3)
    for version in range(2, 8):
        noted.note("a", OwnWrite(version, uuid.UUID(int=1), b"", b"", STAMP))
    assert noted.between("a", 1, 2) is None  # versions 2-4 were dropped
    assert [w.version for w in noted.between("a", 4, 7) or []] == [5, 6, 7]
    noted.note("b", OwnWrite(2, uuid.UUID(int=1), b"", b"", STAMP))
    noted.note("c", OwnWrite(2, uuid.UUID(int=1), b"", b"", STAMP))
    assert noted.between("a", 4, 7) is None  # the least recently written event went
