"""Prometheus metrics of the notifier (served on the worker's /metrics)."""

from prometheus_client import Counter, Gauge, Histogram

CALLS = Counter("notifier_pusher_calls_total", "Pusher trigger_batch calls", ["outcome"])
EVENTS_PER_CALL = Histogram(
    "notifier_events_per_call",
    "Events in one successful trigger_batch call",
    buckets=(1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
)
LATENCY = Histogram(
    "notifier_delivery_latency_seconds",
    "From a message's occurred_at to the success of the Pusher call carrying it",
    buckets=(0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2, 5, 10, 30, 60),
)
FAILURES = Counter("notifier_pusher_failures_total", "Failed Pusher calls", ["reason"])
CIRCUIT = Gauge("notifier_circuit_state", "Circuit breaker: 0 closed, 1 half-open, 2 open")
PENDING = Gauge("notifier_pending_channels", "Channels with updates waiting to be sent")
IN_FLIGHT = Gauge("notifier_in_flight_channels", "Channels whose call is in flight")
DROPPED = Counter(
    "notifier_dropped_total", "Updates settled without a call", ["reason"]
)  # reason: capped (memory bound while Pusher is down) | stale (replay of a sent version)
# Consumed records and dead letters: worker_messages_total / worker_dead_lettered_total
# (overlap_shared.intake), labelled with the group.
