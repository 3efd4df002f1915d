"""The consumer group as the worker scale-out bench checks it: who holds which partitions
of the bench's private topic, and whether that is the settled, even split it needs.

A drain is only a measure of N consumers if N of them each hold their share of the
partitions for the whole drain: the bench waits for that split before it times anything
and compares it with the split after the drain (a rebalance in between would show).
Only the members holding partitions of the bench's topic count (the bench gives its
workers a group of their own, but a group may hold members of other topics).
"""

import asyncio
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment

# client id of a member (``overlap-availability-<host>-<pid>``) -> its partitions of a topic
Split = dict[str, list[int]]


def split_of(described: Any, topic: str) -> tuple[str, Split]:
    """The group's state and the members' partitions of ``topic``, from one
    ``DescribeGroups`` response (members without a partition of it left out) (pure)."""
    groups = getattr(described, "groups", None) or []
    if not groups:
        return "Dead", {}
    _error, _name, state, _ptype, _protocol, members, *_ = groups[0]
    out: Split = {}
    for _member_id, client_id, _host, _metadata, assignment, *_ in members:
        if not assignment:
            continue
        decoded = ConsumerProtocolMemberAssignment.decode(assignment)
        mine = sorted(p for t, parts in decoded.assignment if t == topic for p in parts)
        if mine:
            out[client_id] = mine
    return str(state), out


def even(state: str, split: Split, consumers: int, partitions: int) -> bool:
    """Stable, ``consumers`` members, every partition held once, each member the same share
    (``partitions / consumers`` when that divides, else within one) (pure)."""
    if state != "Stable" or len(split) != consumers:
        return False
    held = sorted(p for parts in split.values() for p in parts)
    sizes = [len(parts) for parts in split.values()]
    return held == list(range(partitions)) and max(sizes) - min(sizes) <= 1


async def describe(bootstrap: str, group: str, topic: str) -> tuple[str, Split]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (described,) = await admin.describe_consumer_groups([group])
    finally:
        await admin.close()
    return split_of(described, topic)


async def wait_even(
    bootstrap: str, group: str, topic: str, consumers: int, partitions: int, timeout_s: float
) -> Split:
    """The split once :func:`even` holds (twice in a row, 0.5 s apart: settled, not a
    passing state of a rebalance); TimeoutError after ``timeout_s``."""
    seen: Split | None = None
    async with asyncio.timeout(timeout_s):
        while True:
            state, split = await describe(bootstrap, group, topic)
            if even(state, split, consumers, partitions):
                if split == seen:
                    return split
                seen = split
            else:
                seen = None
            await asyncio.sleep(0.5)
