"""Settings of the availability worker."""

from overlap_shared.settings import WorkerSettings
from pydantic import AliasChoices, Field


class Settings(WorkerSettings):
    # HEALTH_PORT overrides for one process, so several processes can run side by side.
    health_port: int = Field(
        default=8101, validation_alias=AliasChoices("HEALTH_PORT", "AVAILABILITY_HEALTH_PORT")
    )
    # Records per consumed batch. Each event's records in a batch cost one refresh, so under
    # a backlog a bigger batch is less work per record (at 500, a worker with a quarter of
    # the partitions refreshed each event more often than one worker with all of them).
    batch_max_records: int = Field(default=5_000, ge=1, le=10_000)
    # Refreshes of one batch in flight at once (32 was slower with 4 workers on 2 cores: more
    # requests at once on the shared PostgreSQL, Redis and Kafka).
    recompute_concurrency: int = Field(default=8, ge=1, le=64)
    # Share of deltas compared with a full rebuild (availability_consistency_mismatches_total).
    consistency_sample: float = Field(default=0.01, ge=0, le=1)
    # Memory for the per-event aggregates of this process; least recently used dropped first.
    aggregate_memory_mb: int = Field(default=256, ge=1, le=65_536)
    # The pause after a batch of two records or more (instead of CONSUMER_LINGER_MS),
    # counted from the batch's start: while writes keep coming, one batch, so one refresh
    # per event, per this long (a lone write is never held; under a stream of writes a
    # view waits up to about this long more). None when Kafka already holds a full next
    # batch. README, "The availability worker's refreshes".
    availability_linger_ms: int = Field(default=100, ge=0, le=1_000)
