"""Kafka topic names and an idempotent bootstrap that creates them.

Run as ``python -m overlap_shared.topics`` (``make topics``).
"""

import asyncio
import logging
from contextlib import suppress

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from overlap_shared.settings import ServiceSettings

log = logging.getLogger(__name__)

# The consumer groups' default names (no KAFKA_GROUP_PREFIX); a running stack's names are
# ``settings.consumer_groups()``. Each group has its own dead-letter topics.
AVAILABILITY_GROUP = "availability"
INVALIDATOR_GROUP = "cache-invalidator"
NOTIFIER_GROUP = "notifier"
GROUPS = (AVAILABILITY_GROUP, INVALIDATOR_GROUP, NOTIFIER_GROUP)


def dead_letter_topic(topic: str, group: str) -> str:
    """The topic where ``group`` parks messages of ``topic`` it cannot process."""
    return f"{topic}.dlt.{group}"


def topic_plan(settings: ServiceSettings) -> dict[str, int]:
    """Every topic the system needs, with its partition count."""
    partitions = settings.domain_partitions
    plan = {settings.domain_topic: partitions, settings.views_topic: partitions}
    groups = settings.consumer_groups()
    for group in groups.values():
        plan[dead_letter_topic(settings.domain_topic, group)] = 1
    plan[dead_letter_topic(settings.views_topic, groups["notifier"])] = 1
    return plan


def replication_factor(brokers: int) -> int:
    """3 replicas where the cluster has 3 brokers or more (its min.insync.replicas of 2
    then lets any one be lost), else one per broker (make run and make test: one)."""
    return max(1, min(3, brokers))


async def ensure_topics(bootstrap: str, plan: dict[str, int]) -> list[str]:
    """Create the topics of ``plan`` that do not exist yet; returns the ones created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="overlap-topics")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        replicas = replication_factor(len((await admin.describe_cluster())["brokers"]))
        missing = [NewTopic(name, n, replicas) for name, n in plan.items() if name not in existing]
        if missing:
            with suppress(TopicAlreadyExistsError):  # a concurrent bootstrap won the race
                await admin.create_topics(missing)
        return [t.name for t in missing]
    finally:
        await admin.close()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = ServiceSettings()
    created = asyncio.run(ensure_topics(settings.kafka_bootstrap_servers, topic_plan(settings)))
    log.info("topics: created %s", created or "none (all present)")


if __name__ == "__main__":
    main()
