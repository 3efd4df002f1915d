"""Settings of the notifier worker."""

from overlap_shared.settings import ServiceSettings
from pydantic import AliasChoices, Field


class Settings(ServiceSettings):
    health_host: str = "127.0.0.1"
    # HEALTH_PORT overrides for one process, so several processes can run side by side.
    health_port: int = Field(
        default=8103, validation_alias=AliasChoices("HEALTH_PORT", "NOTIFIER_HEALTH_PORT")
    )
