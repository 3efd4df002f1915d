"""The notifier's pure pieces: coalescing, batching, payloads, backoff, circuit breaker."""

import orjson
from hypothesis import given
from hypothesis import strategies as st
from overlap_notifier.backoff import backoff_delay
from overlap_notifier.batching import calls
from overlap_notifier.breaker import CircuitBreaker, State
from overlap_notifier.coalescer import Coalescer, Update
from overlap_notifier.offsets import OffsetTracker
from overlap_notifier.payloads import (
    EVENT_DELETED,
    MAX_EVENT_BYTES,
    VIEW_UPDATED,
    batch_event,
    heatmap_bytes,
    view_payload,
)


def upd(channel: str, version: int, name: str = VIEW_UPDATED, at: float = 0.0) -> Update[str]:
    return Update(channel, name, version, "tok", 0.0, at, waiters=[f"{channel}:{name}:{version}"])


# ------------------------------------------------------------------- coalescer


@given(st.lists(st.tuples(st.sampled_from("abc"), st.integers(1, 50)), min_size=1, max_size=60))
def test_coalescing_keeps_the_latest_version_per_channel_and_every_waiter(
    items: list[tuple[str, int]],
) -> None:
    co: Coalescer[str] = Coalescer(window_s=0.1, max_channels=100)
    for channel, version in items:
        assert co.add(upd(channel, version), now=0.0) == []
    taken = co.take(now=0.0, max_events=10)  # quiet channels go out at once
    assert {u.channel: u.version for u in taken} == {
        c: max(v for c2, v in items if c2 == c) for c, _ in items
    }
    assert sorted(w for u in taken for w in u.waiters) == sorted(
        f"{c}:{VIEW_UPDATED}:{v}" for c, v in items
    )


def test_after_a_call_the_channel_waits_a_window_and_coalesces() -> None:
    co: Coalescer[str] = Coalescer(window_s=0.1, max_channels=100)
    co.add(upd("a", 1), now=0.0)
    first = co.take(now=0.0, max_events=10)
    assert [u.version for u in first] == [1]
    co.done(first, delivered=True)
    for version, at in ((2, 0.02), (3, 0.05)):
        co.add(upd("a", version), now=at)
    assert co.take(now=0.05, max_events=10) == []  # within the window after the last call
    assert [u.version for u in co.take(now=0.13, max_events=10)] == [3]


def test_event_names_are_coalesced_separately() -> None:
    co: Coalescer[str] = Coalescer(0.0, 10)
    co.add(upd("a", 1), 0)
    co.add(upd("a", 2, EVENT_DELETED), 0)
    assert sorted(u.name for u in co.take(0, 10)) == [EVENT_DELETED, VIEW_UPDATED]


def test_a_channel_in_flight_is_not_handed_out_again_until_done() -> None:
    co: Coalescer[str] = Coalescer(0.0, 10)
    co.add(upd("a", 1), 0)
    first = co.take(0, 10)
    co.add(upd("a", 2), 0)
    assert co.take(1, 10) == []
    co.done(first, delivered=True)
    assert [u.version for u in co.take(1, 10)] == [2]


def test_requeue_after_failure_merges_with_newer_updates() -> None:
    co: Coalescer[str] = Coalescer(0.1, 10)
    co.add(upd("a", 1, at=0.0), 0)
    failed = co.take(0.1, 10)
    co.add(upd("a", 3, at=0.15), 0.15)
    co.done(failed, delivered=False)
    co.requeue(failed, due=1.0)
    assert co.take(0.5, 10) == []  # not before the retry time
    (again,) = co.take(1.0, 10)
    assert again.version == 3 and again.received_at == 0.0 and len(again.waiters) == 2


def test_replays_of_delivered_versions_are_recognised() -> None:
    co: Coalescer[str] = Coalescer(0.0, 10)
    co.add(upd("a", 5), 0)
    co.done(co.take(0, 10), delivered=True)
    assert co.is_sent(upd("a", 4)) and co.is_sent(upd("a", 5)) and not co.is_sent(upd("a", 6))


@given(st.integers(1, 20), st.integers(1, 200))
def test_pending_channels_stay_capped_dropping_the_oldest_view_updates(cap: int, n: int) -> None:
    co: Coalescer[str] = Coalescer(1.0, cap)
    dropped = []
    for i in range(n):
        dropped += co.add(upd(f"c{i}", 1), float(i))
        assert len(co) <= cap
    assert [u.channel for u in dropped] == [f"c{i}" for i in range(max(0, n - cap))]


def test_the_cap_never_drops_event_deletions() -> None:
    co: Coalescer[str] = Coalescer(1.0, 1)
    co.add(upd("a", 1, EVENT_DELETED), 0)
    assert co.add(upd("b", 1, EVENT_DELETED), 0) == []
    assert len(co) == 2


@given(st.lists(st.integers(1, 3), min_size=1, max_size=30), st.integers(1, 10))
def test_take_hands_out_whole_channels_within_the_event_limit(sizes: list[int], limit: int) -> None:
    co: Coalescer[str] = Coalescer(0.0, 1000)
    names = [VIEW_UPDATED, EVENT_DELETED, "event.updated"]
    for i, size in enumerate(sizes):
        for name in names[:size]:
            co.add(upd(f"c{i}", 1, name), 0)
    seen = 0
    while batch := co.take(0, limit):
        assert len(batch) <= max(limit, 3)
        seen += len(batch)
    assert seen == sum(sizes)


# -------------------------------------------------------------------- batching


@given(st.integers(0, 95))
def test_batches_hold_at_most_ten_events_in_order(n: int) -> None:
    events = [batch_event(f"c{i}", VIEW_UPDATED, b"{}") for i in range(n)]
    out = calls(events)
    assert all(1 <= len(c) <= 10 for c in out)
    assert [e for c in out for e in c] == events


def test_an_oversized_event_is_refused() -> None:
    big = batch_event("c", VIEW_UPDATED, b"x" * (MAX_EVENT_BYTES + 1))
    try:
        calls([big])
    except ValueError:
        return
    raise AssertionError("expected ValueError")


# -------------------------------------------------------------------- payloads


def view(version: int, counts: int) -> bytes:
    heatmap = {"available": [3] * counts, "if_needed": [1] * counts}
    return orjson.dumps({"version": version, "event": {}, "heatmap": heatmap, "best": []})


def test_view_payload_carries_the_heatmap_of_the_stored_view() -> None:
    data = orjson.loads(view_payload(4, view(4, 10)))
    assert data == {"version": 4, "heatmap": {"available": [3] * 10, "if_needed": [1] * 10}}


def test_view_payload_announces_a_newer_stored_version() -> None:
    assert orjson.loads(view_payload(4, view(6, 2)))["version"] == 6


def test_view_payload_leaves_the_heatmap_out_when_missing_old_deleted_or_large() -> None:
    assert orjson.loads(view_payload(4, None)) == {"version": 4}
    assert orjson.loads(view_payload(4, view(3, 2))) == {"version": 4}
    assert orjson.loads(view_payload(4, b'{"version":5,"deleted":true}')) == {"version": 4}
    big = view_payload(4, view(4, 5_952))
    assert orjson.loads(big) == {"version": 4} and len(big) <= MAX_EVENT_BYTES
    assert orjson.loads(view_payload(4, b"not json")) == {"version": 4}


@given(
    st.lists(st.text(), max_size=5),
    st.lists(st.integers(0, 1_000), min_size=1, max_size=50),
    st.lists(st.integers(0, 50), max_size=10),
)
def test_the_heatmap_is_cut_from_the_tail_whatever_the_names(
    names: list[str], counts: list[int], scores: list[int]
) -> None:
    heatmap = {"available": counts, "if_needed": counts[::-1]}
    people = [{"id": str(i), "name": n, "available": [[0, 1]]} for i, n in enumerate(names)]
    people.append({"id": "x", "name": ',"heatmap":{"available":[9]},"best":[]}'})
    best = [{"start": 0, "end": s, "available": ["1", "2"], "score": s / 2} for s in scores]
    doc = {"version": 3, "event": {"title": '},"best":'}, "participants": people}
    stored = orjson.dumps({**doc, "heatmap": heatmap, "best": best})
    cut = heatmap_bytes(stored)
    assert cut is not None and orjson.loads(cut) == heatmap
    assert orjson.loads(view_payload(3, stored)) == {"version": 3, "heatmap": heatmap}


def test_a_view_without_a_heatmap_announces_its_version_alone() -> None:
    assert heatmap_bytes(b'{"version":5,"event":{}}') is None
    assert orjson.loads(view_payload(4, b'{"version":5,"event":{}}')) == {"version": 5}
    assert orjson.loads(view_payload(4, b'{"version":5,"heatmap":[1],"best":[]}')) == {"version": 5}


@given(st.integers(1, 5_952))
def test_view_payload_is_never_over_the_limit(counts: int) -> None:
    assert len(view_payload(1, view(1, counts))) <= MAX_EVENT_BYTES


# --------------------------------------------------------------------- backoff


@given(st.integers(1, 100), st.floats(0, 1))
def test_backoff_grows_exponentially_within_jitter_and_cap(attempt: int, r: float) -> None:
    delay = backoff_delay(attempt, 0.1, 5.0, lambda: r)
    ceiling = min(5.0, 0.1 * 2 ** (attempt - 1))
    assert ceiling / 2 <= delay <= ceiling


# --------------------------------------------------------------------- breaker


def test_breaker_opens_after_consecutive_failures_and_probes_after_cooldown() -> None:
    b = CircuitBreaker(threshold=3, cooldown_s=2.0)
    for t in range(2):
        b.record_failure(t)
    assert b.state(2) is State.CLOSED and b.allow(2)
    b.record_failure(2)
    assert b.state(3) is State.OPEN and not b.allow(3) and b.retry_at(3) == 4.0
    assert b.state(4) is State.HALF_OPEN and b.allow(4)
    assert not b.allow(4)  # one probe at a time
    b.record_failure(4.5)  # the probe failed: open again
    assert b.state(5) is State.OPEN and not b.allow(6)
    assert b.allow(6.5)
    b.record_success()
    assert b.state(7) is State.CLOSED and b.allow(7) and b.allow(7)


def test_a_success_resets_the_failure_count() -> None:
    b = CircuitBreaker(threshold=2, cooldown_s=1.0)
    b.record_failure(0)
    b.record_success()
    b.record_failure(1)
    assert b.state(1) is State.CLOSED


# --------------------------------------------------------------------- offsets


@given(st.lists(st.booleans(), min_size=1, max_size=40))
def test_commits_stop_at_the_first_unsettled_record(settled: list[bool]) -> None:
    tracker: OffsetTracker[str] = OffsetTracker()
    entries = [tracker.add("p0", offset) for offset in range(len(settled))]
    for entry, done in zip(entries, settled, strict=True):
        if done:
            entry.settle()
    prefix = next((i for i, done in enumerate(settled) if not done), len(settled))
    assert tracker.committable() == ({"p0": prefix} if prefix else {})
    assert tracker.unsettled == settled.count(False)
    for entry in entries:
        entry.settle()
    assert tracker.committable() == ({"p0": len(settled)} if prefix < len(settled) else {})


def test_a_rewound_or_revoked_partition_starts_over() -> None:
    tracker: OffsetTracker[str] = OffsetTracker()
    tracker.add("p0", 5)
    tracker.add("p0", 3).settle()  # the consumer was rewound to 3
    assert tracker.committable() == {"p0": 4}
    tracker.add("p1", 0)
    tracker.keep_only({"p0"})
    assert tracker.unsettled == 0
