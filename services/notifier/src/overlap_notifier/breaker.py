"""A circuit breaker for the Pusher HTTP API (pure: the caller passes the time)."""

from enum import IntEnum


class State(IntEnum):
    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


class CircuitBreaker:
    """Closed until ``threshold`` consecutive failures; then open for ``cooldown_s``;
    then half-open: one probe call goes through, its outcome closes or re-opens it."""

    def __init__(self, threshold: int, cooldown_s: float) -> None:
        self.threshold, self.cooldown_s = threshold, cooldown_s
        self.failures = 0
        self._opened_at: float | None = None
        self._probing = False

    def state(self, now: float) -> State:
        if self._opened_at is None:
            return State.CLOSED
        if self._probing or now - self._opened_at >= self.cooldown_s:
            return State.HALF_OPEN
        return State.OPEN

    def allow(self, now: float) -> bool:
        """May a call start now? In half-open state only one (the probe) may."""
        state = self.state(now)
        if state is State.CLOSED:
            return True
        if state is State.HALF_OPEN and not self._probing:
            self._probing = True
            return True
        return False

    def retry_at(self, now: float) -> float:
        """When a refused call may ask again."""
        if self._opened_at is None:
            return now
        if self._probing:  # the probe's outcome wakes the caller before this
            return now + self.cooldown_s
        return max(now, self._opened_at + self.cooldown_s)

    def record_success(self) -> None:
        self.failures, self._opened_at, self._probing = 0, None, False

    def record_failure(self, now: float) -> None:
        self.failures += 1
        if self._probing or self.failures >= self.threshold:
            self._opened_at, self._probing = now, False
