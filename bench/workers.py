"""Availability-worker scale-out: drain rate of a backlog with 1 vs N consumer processes,
and per-event ordering of what they publish.

A private topic pair (``bench.domain.<run>`` with 8 partitions, ``bench.views.<run>``) is
created for each measurement; worker processes (``python -m overlap_availability``,
bench/fleet.py, in a consumer group of their own: ``<domain topic>.availability``) are
started on it and waited for until the group has settled with each holding an even share
of the partitions (bench/group.py). Then they are paused, the whole
backlog of domain messages (increasing versions per event) is published, and they are
resumed: the drain is timed from the resume until every event's last message shows up in
a ``ViewRefreshed`` on the private views topic, so neither the workers' start-up nor the
publish is in it.

A worker stopped while its fetch waits at the broker (a long poll) gets that fetch's
answer as soon as the first records land, and finds it on resuming: a first slice of the
backlog (the producer's first batch on each partition, about 40 records), in which the
round-robin backlog names every event of the worker's partitions; each event was then
refreshed twice, once for the slice and once for the rest, and N workers each had such a
slice where one worker had one (a partition's worth). So before the backlog, one
**primer** record goes to each worker, on the first of its partitions (a phantom event of
its own, not a target, its view ignored): that answers the waiting fetch (one fetch covers
all of a worker's partitions on the local stack's one broker), and after a short wait for
it the backlog is published whole. Each worker then resumes to its one primer, and the
backlog waits for it whole, as a backlog does. One primer, not one a partition: a worker
pauses ``AVAILABILITY_LINGER_MS`` (100 ms) after a batch of two records or more, so a
primer on each of its partitions held every worker 100 ms at the start of its drain, 8 %
of four workers' drain of about 1.2 s against 2 % of one worker's 4.4 s.

The split of the partitions is read again after the drain (a rebalance during it would
show).

Each event's messages go to one partition (so their order is kept, as with the key hash),
and the events are dealt to the partitions in turn, seeded ones and phantoms each apart:
every partition carries the same work, so the drain of N workers ends when the work is
done, not when the partition that the key hash happened to load most is done.

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
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from overlap_shared import events
from overlap_shared.topics import ensure_topics

from bench import fleet, group

MARKER = "ParticipantRenamed"
PARTITIONS = 8
PRIMER_SETTLE_S = 0.3  # after the primers' acks: the broker answers the waiting fetches


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


def placement(targets: Sequence[Target], partitions: int = PARTITIONS) -> dict[uuid.UUID, int]:
    """Each event's partition: the seeded events dealt to the partitions in turn, then the
    phantoms likewise, so each partition holds as many of each kind as it can (pure)."""
    out: dict[uuid.UUID, int] = {}
    for kind in (False, True):
        same = [t for t in targets if t.phantom is kind]
        out |= {t.event_id: i % partitions for i, t in enumerate(same)}
    return out


def primers(split: group.Split) -> list[tuple[int, bytes, bytes]]:
    """One record for each member of ``split``, on the first of its partitions, each of a
    phantom event of its own (see the module): (partition, key, value) (pure but for the
    ids)."""
    out = []
    for p in sorted(min(parts) for parts in split.values()):
        data = events.AvailabilityChangedData(
            participant_id=uuid.UUID(int=1), available_slots=0, if_needed_slots=0
        )
        m = events.AvailabilityChanged(
            event_id=uuid.uuid4(), token=f"bench-primer-{p}", version=1, data=data
        )
        out.append((p, events.kafka_key(m), events.encode(m)))
    return out


def encoded(targets: Sequence[Target], per_event: int, base: int) -> list[tuple[int, bytes, bytes]]:
    """The backlog as records ready to send: (partition, key, value)."""
    where = placement(targets)
    return [
        (where[m.event_id], events.kafka_key(m), events.encode(m))
        for m in backlog(targets, per_event, base)
    ]


async def publish(bootstrap: str, topic: str, records: Sequence[tuple[int, bytes, bytes]]) -> float:
    """Send every record, wait for all acks; the seconds it took."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all")
    await producer.start()
    try:
        started = time.perf_counter()
        futures = [await producer.send(topic, value=v, key=k, partition=p) for p, k, v in records]
        await asyncio.gather(*futures)
        return time.perf_counter() - started
    finally:
        await producer.stop()


@contextlib.asynccontextmanager
async def views_reader(bootstrap: str, topic: str) -> AsyncIterator[AIOKafkaConsumer]:
    """A consumer of ``topic`` from its current end (what comes next is this drain's)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        ends = await consumer.end_offsets(parts)
        consumer.assign(parts)
        for tp, offset in ends.items():
            consumer.seek(tp, offset)
        yield consumer
    finally:
        with contextlib.suppress(asyncio.CancelledError):
            await consumer.stop()


async def read_views(
    consumer: AIOKafkaConsumer, targets: Sequence[Target], final: int, timeout_s: float
) -> tuple[bool, float | None, list[tuple[str, int]]]:
    """Read ``ViewRefreshed`` until every event's last message is in one: (drained, the
    ``perf_counter`` of the batch that finished it, the views in arrival order)."""
    seen: dict[str, dict[str, Any]] = {}
    arrivals: list[tuple[str, int]] = []
    end = None
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout_s):
            while not finished(seen, targets, final):
                batch = await consumer.getmany(timeout_ms=100)
                end = time.perf_counter()
                for records in batch.values():
                    for r in records:
                        seen_view(r.value or b"", seen, arrivals)
    return finished(seen, targets, final), end, arrivals


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
    """``consumers`` workers drain the backlog once the group has settled (see the module)."""
    domain, views = topics
    own = f"{domain}.availability"  # a private group: only these workers, no stack worker
    worker_env = {**os.environ, **env, "DOMAIN_TOPIC": domain, "VIEWS_TOPIC": views}
    worker_env |= {"KAFKA_GROUP_PREFIX": "", "AVAILABILITY_GROUP": own}
    records = encoded(targets, per_event, base)  # not timed
    slow = 1 / min(1.0, cpus or 1.0)  # a quota-held worker joins slowly too
    with fleet.running(consumers, worker_env, Path(tempfile.gettempdir()), cpus) as workers:
        started = time.perf_counter()
        split = await group.wait_even(bootstrap, own, domain, consumers, PARTITIONS, 90 * slow)
        joined_s = time.perf_counter() - started
        async with views_reader(bootstrap, views) as reader:
            workers.pause()
            try:
                await publish(bootstrap, domain, primers(split))  # answers the waiting fetches
                await asyncio.sleep(PRIMER_SETTLE_S)
                published = await publish(bootstrap, domain, records)
                before = workers.throttling()
            finally:
                resumed = time.perf_counter()
                workers.resume()
            done, end, arrivals = await read_views(reader, targets, base + per_event, timeout_s)
        ids = {str(t.event_id) for t in targets}
        arrivals = [a for a in arrivals if a[0] in ids]  # not the primers' views
        after = workers.throttling()
        _, split_after = await group.describe(bootstrap, own, domain)
    elapsed = None if end is None else end - resumed
    share = [throttled_share(b, a) for b, a in zip(before, after, strict=True)]
    return figures(len(records), targets, done, published, elapsed, arrivals) | {
        "consumers": consumers, "split": split, "settled": split == split_after,
        "join_s": joined_s, "cpus": cpus, "throttled_share": share,
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
