"""The worker scale-out bench's fairness: events dealt evenly over the partitions, the
group's split read from Kafka's answer and judged, the workers paused and resumed."""

import signal
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment
from overlap_shared import events as domain

from bench.fleet import Fleet
from bench.group import even, split_of
from bench.workers import PARTITIONS, Target, encoded, placement, primers
from launcher.process import Process


def targets(seeded: int, phantoms: int) -> list[Target]:
    return [Target(uuid.uuid4(), f"s{i}", False) for i in range(seeded)] + [
        Target(uuid.uuid4(), f"p{i}", True) for i in range(phantoms)
    ]


def test_each_kind_of_event_is_dealt_evenly_over_the_partitions() -> None:
    events = targets(192, 8)
    where = placement(events)
    seeded = Counter(where[t.event_id] for t in events if not t.phantom)
    phantom = Counter(where[t.event_id] for t in events if t.phantom)
    assert seeded == {p: 24 for p in range(8)}
    assert phantom == {p: 1 for p in range(8)}


def test_a_primer_goes_to_each_worker_on_its_first_partition_for_an_event_of_its_own() -> None:
    split = {"w-1": [2, 3], "w-2": [0, 1], "w-3": [6, 7], "w-4": [4, 5]}
    records = primers(split)
    assert [p for p, _, _ in records] == [0, 2, 4, 6]  # one a worker: a batch of one
    assert [p for p, _, _ in primers({"alone": list(range(PARTITIONS))})] == [0]
    decoded = [domain.decode(value) for _, _, value in records]
    assert len({m.event_id for m in decoded}) == len(split)
    assert all(key == domain.kafka_key(m) for (_, key, _), m in zip(records, decoded, strict=True))


def test_an_events_messages_all_go_to_its_one_partition() -> None:
    events = targets(10, 2)
    records = encoded(events, per_event=3, base=0)
    assert len(records) == 36
    by_key: dict[bytes, set[int]] = {}
    for partition, key, _ in records:
        by_key.setdefault(key, set()).add(partition)
    assert all(len(parts) == 1 for parts in by_key.values())
    assert Counter(p for p, _, _ in records) == {0: 9, 1: 9, 2: 3, 3: 3, 4: 3, 5: 3, 6: 3, 7: 3}


def member(client_id: str, assignment: list[tuple[str, list[int]]]) -> tuple[object, ...]:
    raw = ConsumerProtocolMemberAssignment(0, assignment, b"").encode() if assignment else b""
    return (f"m-{client_id}", client_id, "/127.0.0.1", b"", raw)


def described(state: str, *members: tuple[object, ...]) -> SimpleNamespace:
    return SimpleNamespace(groups=[(0, "availability", state, "consumer", "roundrobin", members)])


def test_the_split_keeps_only_the_members_holding_the_topic() -> None:
    answer = described(
        "Stable",
        member("w1", [("bench.d", [0, 4]), ("other", [1])]),
        member("w2", [("bench.d", [5, 1])]),
        member("stack", [("overlap.domain.v1", [0, 1, 2])]),
        member("new", []),
    )
    assert split_of(answer, "bench.d") == ("Stable", {"w1": [0, 4], "w2": [1, 5]})
    assert split_of(SimpleNamespace(groups=[]), "bench.d") == ("Dead", {})


def test_an_even_split_is_stable_complete_and_equal() -> None:
    four = {"a": [0, 4], "b": [1, 5], "c": [2, 6], "d": [3, 7]}
    assert even("Stable", four, 4, 8)
    assert not even("PreparingRebalance", four, 4, 8)
    assert not even("Stable", four, 3, 8)
    assert not even("Stable", {"a": [0, 1, 2, 3, 4, 5], "b": [6, 7]}, 2, 8)
    assert not even("Stable", {"a": [0, 1, 2, 3], "b": [4, 5, 6]}, 2, 8)  # 7 held by none
    assert even("Stable", {"a": [0, 1, 2], "b": [3, 4], "c": [5, 6, 7]}, 3, 8)


def state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def test_a_paused_fleet_is_stopped_until_resumed(tmp_path: Path) -> None:
    sleeper = Process("sleeper", [sys.executable, "-c", "import time; time.sleep(60)"], None,
                      tmp_path / "sleeper.log")  # fmt: skip
    sleeper.start()
    try:
        assert sleeper.pid is not None
        fleet = Fleet([sleeper], list)
        fleet.pause()
        time.sleep(0.2)
        assert state(sleeper.pid) == "T"
        fleet.resume()
        time.sleep(0.2)
        assert state(sleeper.pid) in ("S", "R")
    finally:
        sleeper.signal(signal.SIGKILL)
        sleeper.stop(5)
