"""Settings of the API service (environment variables of the same names, upper case)."""

from overlap_shared.settings import ServiceSettings, refuse_dev_secrets
from pydantic import Field, model_validator


class Settings(ServiceSettings):
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    enable_performance_monitoring: bool = True
    operator_key: str = Field(default="overlap-dev-operator-key-not-for-production", repr=False)
    jwt_secret: str = Field(default="overlap-dev-jwt-secret-not-for-production", repr=False)
    max_participants: int = Field(default=1_000, ge=1, le=10_000)
    public_url: str = "http://127.0.0.1:8080"
    relay_enabled: bool = True  # run the outbox relay inside this API process
    relay_batch_size: int = Field(default=500, ge=1, le=10_000)
    readiness_timeout_s: float = Field(default=2.0, gt=0, le=30)
    # Every request is answered within this (503 + Retry-After past it); see deadline.py.
    request_timeout_s: float = Field(default=5.0, gt=0, le=120)
    # Where `overlap-expire` pushes its metrics (a Prometheus Pushgateway); unset: not pushed.
    pushgateway_url: str | None = None

    @model_validator(mode="after")
    def _no_placeholder_secrets(self) -> "Settings":
        refuse_dev_secrets(
            self.environment, OPERATOR_KEY=self.operator_key, JWT_SECRET=self.jwt_secret
        )
        return self
