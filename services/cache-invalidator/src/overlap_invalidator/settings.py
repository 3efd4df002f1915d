"""Settings of the invalidator worker."""

from overlap_shared.settings import WorkerSettings
from pydantic import AliasChoices, Field


class Settings(WorkerSettings):
    # HEALTH_PORT overrides for one process, so several processes can run side by side.
    health_port: int = Field(
        default=8102, validation_alias=AliasChoices("HEALTH_PORT", "INVALIDATOR_HEALTH_PORT")
    )
