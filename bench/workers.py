"""Availability-worker scale-out: drain rate of a backlog with 1 vs N consumer processes,
and per-event ordering of what they publish.

A private topic pair (``bench.domain.<run>`` with 8 partitions, ``bench.views.<run>``) is
created for the bench run; worker processes (``python -m overlap_availability``) are
started on it, and once the ``availability`` group is Stable with all of them, a backlog
of domain messages (keyed by event id, increasing versions per event) is published as
fast as possible. The drain ends when every event's last message shows up in a
``ViewRefreshed`` on the private views topic.

Two kinds of events are in the backlog: seeded events (the worker loads and rebuilds their
real view, the realistic cost; their ``ViewRefreshed.version`` is the database's, so the
last message of each is a ``ParticipantRenamed`` marker, seen in ``data.changes``) and a
few phantom events absent from the database (the worker buries them at the batch's
highest version, so their ``ViewRefreshed.version`` follows the backlog: the ordering
check reads those).
"""

import asyncio
import contextlib
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from overlap_shared import events
from overlap_shared.topics import AVAILABILITY_GROUP, ensure_topics

from bench import quota
from launcher import services
from launcher.process import free_port
from launcher.services import AVAILABILITY

MARKER = "ParticipantRenamed"
PARTITIONS = 8


@dataclass(frozen=True)
class Target:
    event_id: uuid.UUID
    token: str
    phantom: bool  # absent from the database: ViewRefreshed.version = the batch's max


def backlog(targets: Sequence[Target], per_event: int, base: int) -> list[events.DomainEvent]:
    """Round-robin over the events, versions ``base+1 .. base+per_event`` per event; the last
    message of each event is the ``ParticipantRenamed`` marker (pure)."""
    out: list[events.DomainEvent] = []
    person = uuid.UUID(int=1)
    for i in range(1, per_event + 1):
        for t in targets:
            common = {"event_id": t.event_id, "token": t.token, "version": base + i}
            if i == per_event:
                data = events.ParticipantRenamedData(participant_id=person, name="bench")
                out.append(events.ParticipantRenamed(**common, data=data))
            else:
                avail = events.AvailabilityChangedData(
                    participant_id=person, available_slots=i % 50, if_needed_slots=0
                )
                out.append(events.AvailabilityChanged(**common, data=avail))
    return out


def order_violations(seen: Sequence[tuple[str, int]]) -> int:
    """How many times an event's version went down, in arrival order (pure)."""
    last: dict[str, int] = {}
    bad = 0
    for event_id, version in seen:
        if version < last.get(event_id, 0):
            bad += 1
        last[event_id] = max(version, last.get(event_id, 0))
    return bad


def finished(seen: dict[str, dict[str, Any]], targets: Sequence[Target], final: int) -> bool:
    """Every event's last message processed: its marker seen (and, for a phantom, the final
    version) (pure)."""
    for t in targets:
        got = seen.get(str(t.event_id))
        if not got or not got["marker"] or (t.phantom and got["version"] < final):
            return False
    return True


async def group_members(bootstrap: str, group: str) -> tuple[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (described,) = await admin.describe_consumer_groups([group])
    finally:
        await admin.close()
    groups = getattr(described, "groups", None) or []
    if not groups:
        return "Dead", 0
    return str(groups[0][2]), len(groups[0][5])


async def wait_stable(bootstrap: str, group: str, at_least: int, timeout_s: float) -> int:
    async with asyncio.timeout(timeout_s):
        while True:
            state, n = await group_members(bootstrap, group)
            if state in ("Stable", "Empty", "Dead") and n >= at_least:
                return n
            await asyncio.sleep(0.2)


@contextlib.contextmanager
def worker_processes(
    n: int, env: dict[str, str], log_dir: Path, cpus: float | None = None
) -> Iterator[Callable[[], list[dict[str, int]]]]:
    """``n`` availability workers, healthy; each held to ``cpus`` when given (bench.quota).
    Yields a function that reads their groups' throttling counters."""
    workers = [
        services.process(AVAILABILITY, f"bench-worker-{os.getpid()}-{i}", env, free_port(), log_dir)
        for i in range(n)
    ]
    with contextlib.ExitStack() as stack:
        for worker in workers:
            stack.callback(worker.stop, 15)
            worker.start()
        stats: Callable[[], list[dict[str, int]]] = list
        if cpus:  # from the start: a quota-held worker also starts up slowly
            pids = [w.pid for w in workers if w.pid is not None]
            stats = stack.enter_context(quota.held(pids, cpus, str(os.getpid())))
        limit_s = 120 / min(1.0, cpus or 1.0)  # a loaded machine starts slowly
        for worker in workers:
            worker.wait_healthy(limit_s, poll_s=0.2)
        yield stats


async def views_end(bootstrap: str, topic: str) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        return dict(
            await consumer.end_offsets([TopicPartition(topic, p) for p in range(PARTITIONS)])
        )
    finally:
        await consumer.stop()


async def drain(
    bootstrap: str,
    domain: str,
    views: str,
    targets: Sequence[Target],
    per_event: int,
    base: int,
    timeout_s: float,
) -> dict[str, Any]:
    """Publish the backlog as fast as possible; read the views topic until it is drained."""
    msgs = backlog(targets, per_event, base)
    encoded = [(events.kafka_key(m), events.encode(m)) for m in msgs]  # not timed
    start = await views_end(bootstrap, views)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all")
    await consumer.start()
    await producer.start()
    seen: dict[str, dict[str, Any]] = {}
    arrivals: list[tuple[str, int]] = []
    final = base + per_event
    try:
        consumer.assign(list(start))
        for tp, offset in start.items():
            consumer.seek(tp, offset)
        t0 = time.perf_counter()
        futures = [await producer.send(domain, value=v, key=k) for k, v in encoded]
        await asyncio.gather(*futures)
        published = time.perf_counter() - t0
        end = None
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                while not finished(seen, targets, final):
                    batch = await consumer.getmany(timeout_ms=100)
                    end = time.perf_counter()
                    for records in batch.values():
                        for r in records:
                            seen_view(r.value or b"", seen, arrivals)
    finally:
        await producer.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await consumer.stop()
    elapsed = (end - t0) if end is not None else None
    return figures(len(msgs), targets, finished(seen, targets, final), published, elapsed, arrivals)


def figures(
    messages: int,
    targets: Sequence[Target],
    done: bool,
    published: float,
    elapsed: float | None,
    arrivals: list[tuple[str, int]],
) -> dict[str, Any]:
    """One drain's figures: timings, throughput, and the order the views came in."""
    phantoms = {str(t.event_id) for t in targets if t.phantom}
    return {
        "messages": messages,
        "events": len(targets),
        "drained": done,
        "publish_s": published,
        "drain_s": elapsed if done else None,
        "throughput": messages / elapsed if done and elapsed else None,
        "view_messages": len(arrivals),
        "order_violations": order_violations(arrivals),
        "phantom_order_violations": order_violations([a for a in arrivals if a[0] in phantoms]),
    }


def seen_view(
    value: bytes, seen: dict[str, dict[str, Any]], arrivals: list[tuple[str, int]]
) -> None:
    """Note one ``ViewRefreshed``: its arrival, and its event's highest version and marker."""
    with contextlib.suppress(events.MessageError):
        v = events.decode_view(value)
        key = str(v.event_id)
        arrivals.append((key, v.version))
        got = seen.setdefault(key, {"version": 0, "marker": False})
        got["version"] = max(got["version"], v.version)
        got["marker"] = got["marker"] or MARKER in v.data.changes


async def measure(
    bootstrap: str,
    env: dict[str, str],
    topics: tuple[str, str],
    targets: Sequence[Target],
    consumers: int,
    per_event: int,
    base: int,
    timeout_s: float,
    cpus: float | None = None,
) -> dict[str, Any]:
    domain, views = topics
    worker_env = {**os.environ, **env, "DOMAIN_TOPIC": domain, "VIEWS_TOPIC": views}
    baseline = await wait_stable(bootstrap, AVAILABILITY_GROUP, 0, 60)
    log_dir = Path(tempfile.gettempdir())
    with worker_processes(consumers, worker_env, log_dir, cpus) as throttling:
        started = time.perf_counter()
        members = await wait_stable(bootstrap, AVAILABILITY_GROUP, baseline + consumers, 90)
        joined_s = time.perf_counter() - started
        before = throttling()
        out = await drain(bootstrap, domain, views, targets, per_event, base, timeout_s)
        after = throttling()
    share = [throttled_share(b, a) for b, a in zip(before, after, strict=True)]
    return out | {
        "consumers": consumers, "group_members": members, "join_s": joined_s, "cpus": cpus,
        "throttled_share": share,
    }  # fmt: skip


def throttled_share(before: dict[str, int], after: dict[str, int]) -> float | None:
    """The share of scheduler periods in which the group hit its quota (pure)."""
    periods = after.get("nr_periods", 0) - before.get("nr_periods", 0)
    hit = after.get("nr_throttled", 0) - before.get("nr_throttled", 0)
    return hit / periods if periods > 0 else None


async def create_topics(bootstrap: str, run_id: str) -> tuple[str, str]:
    domain, views = f"bench.domain.{run_id}", f"bench.views.{run_id}"
    await ensure_topics(bootstrap, {domain: PARTITIONS, views: PARTITIONS})
    return domain, views


async def delete_topics(bootstrap: str, topics: Sequence[str]) -> None:
    """Remove a measurement's private topics (best effort)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.delete_topics(list(topics))
    finally:
        await admin.close()
