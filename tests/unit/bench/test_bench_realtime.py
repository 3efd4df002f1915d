"""Pure helpers of the freshness, notifier and worker scale-out scenarios."""

import uuid

from overlap_shared import events

from bench.goals import MET, NOT_MET, evaluate_all
from bench.realtime import first_arrivals
from bench.workers import MARKER, Target, backlog, finished, order_violations


def test_first_arrival_is_the_first_update_at_or_past_the_writes_version() -> None:
    writes = [(10.0, 5), (10.1, 6), (10.2, 7)]
    arrivals = [(10.05, 5), (10.3, 7), (9.0, 9)]  # one before any write: ignored
    got = first_arrivals(writes, arrivals)
    assert [round(x or 0) for x in got] == [50, 200, 100]


def test_a_write_whose_version_never_arrived_has_no_latency() -> None:
    assert first_arrivals([(1.0, 3)], [(1.5, 2)]) == [None]


def test_backlog_interleaves_events_with_rising_versions_and_ends_on_a_marker() -> None:
    a = Target(uuid.uuid4(), "tok-a", False)
    b = Target(uuid.uuid4(), "tok-b", True)
    msgs = backlog([a, b], per_event=3, base=10)
    assert [(m.event_id, m.version) for m in msgs] == [
        (a.event_id, 11), (b.event_id, 11), (a.event_id, 12), (b.event_id, 12),
        (a.event_id, 13), (b.event_id, 13),
    ]  # fmt: skip
    assert [m.type for m in msgs[-2:]] == [MARKER, MARKER]
    assert all(isinstance(m, events.AvailabilityChanged) for m in msgs[:-2])
    assert events.decode(events.encode(msgs[0])) == msgs[0]  # valid on the wire


def test_order_violations_count_versions_going_down_per_event() -> None:
    assert order_violations([("a", 1), ("b", 5), ("a", 3), ("a", 3), ("b", 6)]) == 0
    assert order_violations([("a", 4), ("a", 2), ("b", 1), ("a", 3)]) == 2


def test_finished_needs_every_marker_and_the_phantoms_final_version() -> None:
    real, phantom = Target(uuid.uuid4(), "r", False), Target(uuid.uuid4(), "p", True)
    seen = {str(real.event_id): {"version": 3, "marker": True}}
    assert not finished(seen, [real, phantom], final=20)
    seen[str(phantom.event_id)] = {"version": 19, "marker": True}
    assert not finished(seen, [real, phantom], final=20)
    seen[str(phantom.event_id)]["version"] = 20
    assert finished(seen, [real, phantom], final=20)


def s(median: float) -> dict[str, object]:
    return {"median": median, "min": median, "max": median, "runs": [median]}


def test_the_new_rows_are_judged() -> None:
    rows = {
        r["id"]: r
        for r in evaluate_all(
            {
                "scenarios": {
                    "freshness": {"latency_ms": {"p99": s(120.0)}},
                    "outbox": {"latency_ms": {"p99": s(40.0)}},
                    "notifier_batching": {"calls_per_update": s(0.3)},
                    "worker_scaling": {"ratio": s(1.2), "order_kept": s(1.0)},
                }
            }
        )
    }
    assert rows["freshness_p99"]["status"] == MET
    assert rows["freshness_p99"]["floor_ratio"] == 3.0
    assert rows["notifier_ratio"]["status"] == NOT_MET
    assert rows["worker_scale"]["status"] == NOT_MET
    assert rows["worker_order"]["status"] == MET
