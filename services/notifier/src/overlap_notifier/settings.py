"""Settings of the notifier worker (environment variables of the same names, upper case)."""

from overlap_shared.settings import WorkerSettings
from pydantic import AliasChoices, Field


class Settings(WorkerSettings):
    # HEALTH_PORT overrides for one process, so several processes can run side by side.
    health_port: int = Field(
        default=8103, validation_alias=AliasChoices("HEALTH_PORT", "NOTIFIER_HEALTH_PORT")
    )
    # Coalescing: updates of one channel arriving within the window go out in one event.
    notifier_window_ms: int = Field(default=100, ge=0, le=10_000)
    # Memory bound while Pusher is down: past this many pending channels the oldest
    # view.updated is dropped (clients recover by fetching the latest version).
    notifier_max_pending_channels: int = Field(default=10_000, ge=1, le=1_000_000)
    notifier_concurrency: int = Field(default=8, ge=1, le=256)  # Pusher calls in flight
    notifier_http_timeout_s: float = Field(default=5.0, gt=0, le=60)
    notifier_retry_base_ms: int = Field(default=100, ge=1, le=60_000)
    notifier_retry_max_ms: int = Field(default=5_000, ge=1, le=600_000)
    # An update still undelivered this long after it arrived is dead-lettered (and its
    # offset committed), so a long Pusher outage never blocks the consumer for good.
    notifier_delivery_timeout_s: float = Field(default=60.0, gt=0, le=3_600)
    notifier_breaker_failures: int = Field(default=5, ge=1, le=1_000)
    notifier_breaker_cooldown_ms: int = Field(default=2_000, ge=10, le=600_000)
    # Backpressure: the consumer pauses while this many consumed records await settling.
    notifier_max_unsettled: int = Field(default=20_000, ge=1, le=1_000_000)
    notifier_max_records: int = Field(default=500, ge=1, le=10_000)
    # The notifier's poll (a shared setting, another default): updates are coalesced per
    # window anyway, so it may wake less often (README, "The write path").
    consumer_poll_ms: int = Field(default=50, ge=1, le=1_000)
    # The pause after a batch of the domain topic, where the notifier skips most records
    # (availability changes): event.updated/deleted wait up to about twice this under load.
    notifier_domain_linger_ms: int = Field(default=250, ge=0, le=1_000)
    # The domain topic's poll (instead of CONSUMER_POLL_MS): after an idle gap an
    # event.updated/deleted waits up to this long; each poll is a wake-up, idle or not.
    notifier_domain_poll_ms: int = Field(default=250, ge=1, le=1_000)
    # How often settled offsets are committed (the shared setting and default; at least
    # 10 ms here: the notifier commits on a timer, never per batch). A notifier killed
    # replays what it settled since: page clients ignore versions they have.
    consumer_commit_interval_ms: int = Field(default=1_000, ge=10, le=10_000)
