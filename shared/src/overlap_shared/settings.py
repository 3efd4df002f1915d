"""Settings base shared by every service: read from the environment, fail fast when wrong.

A settings object's repr (and so any log line or traceback that shows one) masks the
password of every URL setting and leaves out the ``repr=False`` secrets.
"""

import re
from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRETS = {
    "overlap-local-secret",
    "change-me",
    "overlap-dev-jwt-secret-not-for-production",
    "overlap-dev-operator-key-not-for-production",
    "",
}


# The password of ``scheme://user:password@host``.
_URL_PASSWORD = re.compile(r"(?P<head>://[^/@:]*:)[^@/]*@")
MASK = "***"


def mask_url(url: str) -> str:
    """``url`` with its password (if any) replaced by :data:`MASK`."""
    return _URL_PASSWORD.sub(rf"\g<head>{MASK}@", url)


class MaskedSettings(BaseSettings):
    """Settings whose repr shows URLs without their passwords."""

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            yield name, mask_url(value) if isinstance(value, str) and "://" in value else value


class ServiceSettings(MaskedSettings):
    """Connection settings every service needs. Names match the environment variables."""

    # hide_input_in_errors: a refused setting must not print the other values (secrets).
    model_config = SettingsConfigDict(extra="ignore", frozen=True, hide_input_in_errors=True)

    environment: Literal["development", "test", "production"] = "development"
    log_level: str = "INFO"

    database_url: str = "postgresql+asyncpg://overlap:overlap@127.0.0.1:5432/overlap"
    redis_url: str = "redis://127.0.0.1:6379/0"
    # REDIS_URL names one node of a Redis Cluster (database 0) and the client finds the rest.
    redis_cluster: bool = False
    kafka_bootstrap_servers: str = "127.0.0.1:9092"

    domain_topic: str = "overlap.domain.v1"
    views_topic: str = "overlap.views.v1"
    domain_partitions: int = Field(default=8, ge=1, le=256)

    # Cache lifetimes in milliseconds; names and defaults from the user's performance guide.
    cache_ttl_events: int = Field(default=120_000, ge=1_000)
    cache_ttl_sessions: int = Field(default=300_000, ge=1_000)
    cache_ttl_users: int = Field(default=600_000, ge=1_000)
    cache_ttl_availability: int = Field(default=30_000, ge=1_000)

    # Days an event is kept after its last candidate date and last write; 0 keeps it forever.
    retention_days: int = Field(default=90, ge=0, le=36_500)

    # Consumer groups: KAFKA_GROUP_PREFIX + the group's name, so that stacks sharing a
    # broker do not rebalance each other. Each group's dead-letter topics follow its name.
    kafka_group_prefix: str = Field(default="", pattern=r"^[A-Za-z0-9._-]*$", max_length=100)
    availability_group: str = Field(default="availability", pattern=r"^[A-Za-z0-9._-]+$")
    invalidator_group: str = Field(default="cache-invalidator", pattern=r"^[A-Za-z0-9._-]+$")
    notifier_group: str = Field(default="notifier", pattern=r"^[A-Za-z0-9._-]+$")

    def consumer_groups(self) -> dict[str, str]:
        """The consumer group of each worker (``availability``, ``invalidator``,
        ``notifier``), prefixed."""
        prefix = self.kafka_group_prefix
        return {
            "availability": prefix + self.availability_group,
            "invalidator": prefix + self.invalidator_group,
            "notifier": prefix + self.notifier_group,
        }

    @property
    def longest_cache_ttl_ms(self) -> int:
        return max(
            self.cache_ttl_events,
            self.cache_ttl_sessions,
            self.cache_ttl_users,
            self.cache_ttl_availability,
        )


class WorkerSettings(ServiceSettings):
    """What every Kafka worker adds: its probe address and the poison-message rule."""

    health_host: str = "127.0.0.1"
    # A record whose processing fails this many times while the worker's dependencies
    # answer their probe goes to the group's dead-letter topic (see overlap_shared.poison).
    worker_max_attempts: int = Field(default=5, ge=1, le=100)
    # Backoff between those attempts: doubles from the first, up to the longest.
    worker_retry_first_ms: int = Field(default=100, ge=1, le=60_000)
    worker_retry_longest_ms: int = Field(default=2_000, ge=1, le=600_000)
    # A consumer's fetch: Kafka answers once it holds this many bytes for it, or after this
    # long. Raising both makes a busy topic come in bigger batches (one plan, one Redis round
    # trip, one recompute per event for many records) at the cost of that wait and of more
    # idle fetches; the defaults are aiokafka's (README, "The write path").
    consumer_fetch_min_bytes: int = Field(default=1, ge=1, le=50 * 2**20)
    consumer_fetch_wait_ms: int = Field(default=500, ge=0, le=5_000)
    # Processed offsets are committed together this long after the first of them (and
    # before a rebalance or a stop takes the partitions), not after every batch: at a low
    # rate every message is a batch. 0: after each batch. Still at least once. At 200 ms the
    # workers' commits were 0.65 of Kafka's 4.0 requests per write (50 writes/s); a second
    # makes them about one per subscriber a second.
    consumer_commit_interval_ms: int = Field(default=1_000, ge=0, le=10_000)
    # FastStream's batch poll: it waits this long for records and, after an empty poll,
    # sleeps as long again (a record arriving then waits up to this long). Every poll is a
    # wake-up: at 10 ms an idle subscription spends 20-30 ms of CPU a second.
    consumer_poll_ms: int = Field(default=10, ge=1, le=1_000)
    # After a batch the consumer pauses this long before the next poll, so that under load
    # the records of that time come in one fetch and one batch (a lone record, arriving
    # after the pause, is not delayed; under load a record waits up to about twice this).
    # 0: no pause.
    consumer_linger_ms: int = Field(default=25, ge=0, le=1_000)


class PusherSettings(MaskedSettings):
    """Where Pusher (or a Pusher-protocol server such as soketi) is."""

    model_config = SettingsConfigDict(
        extra="ignore", frozen=True, env_prefix="PUSHER_", hide_input_in_errors=True
    )

    app_id: str = "1001"
    key: str = "overlap-local-key"
    secret: str = Field(default="overlap-local-secret", repr=False)
    cluster: str = "mt1"
    host: str | None = "127.0.0.1"
    port: int | None = 6001
    ssl: bool = False
    environment: str = Field(default="development", validation_alias="ENVIRONMENT")

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments of ``pusher.Pusher`` for this server (API and notifier)."""
        return self.model_dump(
            include={"app_id", "key", "secret", "cluster", "host", "port", "ssl"}
        )

    @model_validator(mode="after")
    def _numeric_app_id(self) -> "PusherSettings":
        if not self.app_id.isdigit():
            raise ValueError("PUSHER_APP_ID must be numeric (the pusher client requires it)")
        refuse_dev_secrets(self.environment, PUSHER_SECRET=self.secret)
        return self


def refuse_dev_secrets(environment: str, **secrets: str) -> None:
    """Outside development and test, placeholder secrets are a configuration error."""
    if environment != "production":
        return
    weak = [name for name, value in secrets.items() if value in DEV_SECRETS or len(value) < 16]
    if weak:
        raise ValueError(f"refusing to start in production with placeholder secrets: {weak}")
