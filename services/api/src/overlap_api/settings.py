"""Settings of the API service (environment variables of the same names, upper case)."""

import re
from typing import Annotated

from overlap_shared.settings import ServiceSettings, refuse_dev_secrets
from pydantic import Field, field_validator, model_validator
from pydantic_settings import NoDecode

ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


class Settings(ServiceSettings):
    api_host: str = "127.0.0.1"
    # A PostgreSQL streaming replica that cache-miss view rebuilds read (resources.py);
    # unset: the primary (DATABASE_URL) serves them.
    database_replica_url: str | None = None
    api_port: int = 8000
    enable_performance_monitoring: bool = True
    operator_key: str = Field(default="overlap-dev-operator-key-not-for-production", repr=False)
    jwt_secret: str = Field(default="overlap-dev-jwt-secret-not-for-production", repr=False)
    max_participants: int = Field(default=1_000, ge=1, le=10_000)
    # Route-class limits (http/rate_limits.py): requests per minute; 0 turns one off.
    rate_limits_enabled: bool = True
    rate_create_event_per_minute: int = Field(default=10, ge=0, le=100_000)
    rate_join_per_minute: int = Field(default=30, ge=0, le=100_000)
    rate_costly_read_per_minute: int = Field(default=60, ge=0, le=100_000)
    rate_join_per_event_per_minute: int = Field(default=60, ge=0, le=100_000)
    # Origins of other frontends that may call the API from a browser (CORS), as
    # "scheme://host[:port]", comma-separated; empty: same-origin only.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    public_url: str = "http://127.0.0.1:8080"
    relay_enabled: bool = True  # run the outbox relay inside this API process
    relay_batch_size: int = Field(default=500, ge=1, le=10_000)
    # After a NOTIFY the relay waits this long before it claims: a burst's rows in one batch.
    relay_coalesce_ms: int = Field(default=10, ge=0, le=1_000)
    # After a batch that sent rows the relay pauses this long before it reads again: under a
    # stream of writes each batch (one produce request, one statement) takes several rows.
    relay_linger_ms: int = Field(default=40, ge=0, le=1_000)
    readiness_timeout_s: float = Field(default=2.0, gt=0, le=30)
    # Every request is answered within this (503 + Retry-After past it); see http/deadline.py.
    request_timeout_s: float = Field(default=5.0, gt=0, le=120)
    # All the Redis calls of one read wait this long in all, then it is served from
    # PostgreSQL (see reads/redis_gate.py).
    redis_read_budget_s: float = Field(default=1.0, gt=0, le=1.0)
    # Requests one process works on at once; past it: 503 + Retry-After at once (http/admission.py).
    max_writes_in_flight: int = Field(default=256, ge=1, le=10_000)
    max_reads_in_flight: int = Field(default=512, ge=1, le=100_000)
    # Writes worked on at once; the others wait their turn for at most WRITE_QUEUE_MS, the
    # event loop's lag counted in, and one the queue could not start within that is
    # refused on arrival (http/admission.py). 40 ms: an accepted write stays within the
    # 50 ms p99 of a sustained rate (at 100 ms the overload's accepted p99 was 167 ms).
    write_concurrency: int = Field(default=8, ge=1, le=1_000)
    write_queue_ms: int = Field(default=40, ge=1, le=60_000)
    # Memory for the view aggregates of the events this process rebuilt lately, so that the
    # next rebuild applies what changed (reads/aggregates.py); 0: every rebuild is in full.
    view_aggregate_memory_mb: int = Field(default=64, ge=0, le=65_536)
    # Where `overlap-expire` pushes its metrics (a Prometheus Pushgateway); unset: not pushed.
    pushgateway_url: str | None = None

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list):
            wrong = [o for o in value if not (isinstance(o, str) and ORIGIN.match(o))]
            if wrong:
                raise ValueError(f"CORS_ORIGINS: not an origin (scheme://host[:port]): {wrong}")
        return value

    @model_validator(mode="after")
    def _no_placeholder_secrets(self) -> "Settings":
        refuse_dev_secrets(
            self.environment, OPERATOR_KEY=self.operator_key, JWT_SECRET=self.jwt_secret
        )
        return self
