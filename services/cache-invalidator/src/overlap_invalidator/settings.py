"""Settings of the invalidator worker."""

from overlap_shared.settings import WorkerSettings
from pydantic import AliasChoices, Field


class Settings(WorkerSettings):
    # HEALTH_PORT overrides for one process, so several processes can run side by side.
    health_port: int = Field(
        default=8102, validation_alias=AliasChoices("HEALTH_PORT", "INVALIDATOR_HEALTH_PORT")
    )
    # Its consumer (shared settings, other defaults): fewer wake-ups and fetches per write,
    # for tags cleared up to ~0.3 s later (README, "The workers' polls and fetches"). Kafka
    # holds each fetch until 1 MiB waits or 200 ms passed, so the batch gathers in the
    # broker; a pause after it would only add to that wait.
    consumer_poll_ms: int = Field(default=100, ge=1, le=1_000)
    consumer_fetch_min_bytes: int = Field(default=2**20, ge=1, le=50 * 2**20)
    consumer_fetch_wait_ms: int = Field(default=200, ge=0, le=5_000)
    consumer_linger_ms: int = Field(default=0, ge=0, le=1_000)
