"""Settings of the invalidator worker."""

from overlap_shared.settings import WorkerSettings
from pydantic import AliasChoices, Field


class Settings(WorkerSettings):
    # HEALTH_PORT overrides for one process, so several processes can run side by side.
    health_port: int = Field(
        default=8102, validation_alias=AliasChoices("HEALTH_PORT", "INVALIDATOR_HEALTH_PORT")
    )
    # Its consumer (shared settings, other defaults): fewer wake-ups and fetches per write,
    # for tags cleared up to ~0.25 s later under load (README, "The write path").
    consumer_poll_ms: int = Field(default=100, ge=1, le=1_000)
    consumer_linger_ms: int = Field(default=100, ge=0, le=1_000)
