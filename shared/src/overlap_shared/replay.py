"""Replay a dead-letter topic: publish its records again to the topic they came from.

Run as ``python -m overlap_shared.replay <dead-letter topic> [--from-offset N]
[--limit N] [--to TOPIC] [--dry-run]`` (``make replay DLT=<topic>``), once the cause is
fixed. Each record goes to its ``source-topic`` header (or ``--to``) with the same key and
value, so it stays in its event's partition order; every consumer group reads it again,
which is harmless: the workers' writes are versioned and the notifier skips versions
already sent. Records cut to fit (header ``truncated-from``) cannot be replayed and are
listed instead. It reads up to the end offsets at its start and prints, per partition, the
next offset: pass it as ``--from-offset`` next time to replay only what came since.
"""

import argparse
import asyncio
import logging
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from overlap_shared.dead_letters import Record
from overlap_shared.settings import ServiceSettings

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    replayed: int = 0
    skipped: list[str] = field(default_factory=list)  # "partition@offset: why"
    next_offsets: dict[int, int] = field(default_factory=dict)


def destination(record: Record, to: str | None) -> str | None:
    """Where ``record`` goes back to; None when it cannot be replayed."""
    headers = {k: v for k, v in record.headers}
    if "truncated-from" in headers:
        return None
    source = headers.get("source-topic")
    return to or (source.decode() if source else None)


async def replay(
    bootstrap: str, topic: str, from_offset: int, limit: int, to: str | None, dry_run: bool
) -> Outcome:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await consumer.start()
    await producer.start()
    outcome = Outcome()
    try:
        parts = [TopicPartition(topic, p) for p in sorted(await producer.partitions_for(topic))]
        ends = await consumer.end_offsets(parts)
        consumer.assign(parts)
        for tp in parts:
            consumer.seek(tp, from_offset)
            outcome.next_offsets[tp.partition] = max(from_offset, 0)
        while outcome.replayed < limit and any(
            outcome.next_offsets[tp.partition] < ends[tp] for tp in parts
        ):
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    if record.offset >= ends[TopicPartition(topic, record.partition)]:
                        continue
                    if outcome.replayed >= limit:
                        break
                    await _one(producer, record, to, dry_run, outcome)
    finally:
        await consumer.stop()
        await producer.stop()
    return outcome


async def _one(
    producer: AIOKafkaProducer, record: Record, to: str | None, dry_run: bool, outcome: Outcome
) -> None:
    outcome.next_offsets[record.partition] = record.offset + 1
    target = destination(record, to)
    if target is None:
        outcome.skipped.append(f"{record.partition}@{record.offset}: truncated or no source")
        return
    if not dry_run:
        await producer.send_and_wait(target, record.value, key=record.key)
    outcome.replayed += 1


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("topic", help="the dead-letter topic, <topic>.dlt.<group>")
    parser.add_argument("--from-offset", type=int, default=0)
    parser.add_argument("--limit", type=int, default=1_000_000)
    parser.add_argument("--to", help="publish here instead of the source-topic header")
    parser.add_argument("--dry-run", action="store_true", help="count, publish nothing")
    args = parser.parse_args()
    settings = ServiceSettings()
    outcome = asyncio.run(
        replay(
            settings.kafka_bootstrap_servers,
            args.topic,
            args.from_offset,
            args.limit,
            args.to,
            args.dry_run,
        )
    )
    verb = "would replay" if args.dry_run else "replayed"
    log.info("%s %d record(s) from %s", verb, outcome.replayed, args.topic)
    for line in outcome.skipped:
        log.info("  not replayed: %s", line)
    log.info("next offsets per partition: %s", outcome.next_offsets)


if __name__ == "__main__":
    main()
