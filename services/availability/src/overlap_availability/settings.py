"""Settings of the availability worker."""

from overlap_shared.settings import WorkerSettings
from pydantic import AliasChoices, Field


class Settings(WorkerSettings):
    # HEALTH_PORT overrides for one process, so several processes can run side by side.
    health_port: int = Field(
        default=8101, validation_alias=AliasChoices("HEALTH_PORT", "AVAILABILITY_HEALTH_PORT")
    )
    batch_max_records: int = Field(default=500, ge=1, le=10_000)
    recompute_concurrency: int = Field(default=8, ge=1, le=64)
    # Share of deltas compared with a full rebuild (availability_consistency_mismatches_total).
    consistency_sample: float = Field(default=0.01, ge=0, le=1)
    # Memory for the per-event aggregates of this process; least recently used dropped first.
    aggregate_memory_mb: int = Field(default=256, ge=1, le=65_536)
