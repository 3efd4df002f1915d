"""Request metrics for ``/metrics`` and ``/api/performance/monitor``.

A pure ASGI middleware times every request per route template and counts the SQL
statements it ran (a context variable the engine's cursor hook increments, and
:func:`counted` for the PUT's statement, sent on asyncpg past the engine). The monitor
keeps the last ``WINDOW`` samples per route in memory, per process.
"""

import contextvars
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import Histogram
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

WINDOW = 4096
REQUEST_SECONDS = Histogram(
    "http_request_duration_seconds",
    "HTTP request duration by route template",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
SQL_PER_REQUEST = Histogram(
    "http_request_sql_statements", "SQL statements per request", buckets=(0, 1, 2, 3, 5, 8, 13)
)
# Histogram children by (method, route, status), resolved once: ``labels()`` per request
# took a lock and built a key each time (py-spy, issue #15). Routes are templates, so few.
_timers: dict[tuple[str, str, int], Any] = {}
_sql_count: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("sql", default=None)


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(1, round(q / 100 * len(sorted_values) + 0.4999))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def summary(samples: Iterable[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "count": len(ordered),
        "p50_ms": round(percentile(ordered, 50) * 1000, 3),
        "p95_ms": round(percentile(ordered, 95) * 1000, 3),
        "p99_ms": round(percentile(ordered, 99) * 1000, 3),
    }


class Monitor:
    def __init__(self) -> None:
        self.durations: dict[str, deque[float]] = defaultdict(lambda: deque(maxlen=WINDOW))
        self.totals: dict[str, int] = defaultdict(int)
        self.sql: deque[int] = deque(maxlen=WINDOW)

    def record(self, route: str, seconds: float, statements: int) -> None:
        self.durations[route].append(seconds)
        self.totals[route] += 1
        self.sql.append(statements)

    def routes(self) -> dict[str, dict[str, Any]]:
        return {
            route: {**summary(samples), "count": self.totals[route]}
            for route, samples in sorted(self.durations.items())
        }

    def sql_per_request(self) -> dict[str, float]:
        values = list(self.sql)
        mean = sum(values) / len(values) if values else 0.0
        return {"mean": round(mean, 3), "max": max(values, default=0), "requests": len(values)}


# Who else hears of the statements sent past the engine (the integration tests' SQL hook).
PAST_THE_ENGINE: list[Callable[[str], None]] = []


def counted(statement: str) -> None:
    """A statement sent past the engine, counted as the engine's hook counts the others."""
    counter = _sql_count.get()
    if counter is not None:
        counter[0] += 1
    for hook in PAST_THE_ENGINE:
        hook(statement)


def count_sql(engine: AsyncEngine) -> None:
    """Count statements into the current request's counter (if any)."""

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _count(*_: Any) -> None:
        counter = _sql_count.get()
        if counter is not None:
            counter[0] += 1


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, monitor: Monitor) -> None:
        self.app, self.monitor = app, monitor

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        counter = [0]
        token = _sql_count.set(counter)
        status = [500]
        started = time.perf_counter()

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            elapsed = time.perf_counter() - started
            _sql_count.reset(token)
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            record_request(self.monitor, scope["method"], template, status[0], elapsed, counter[0])


def record_request(
    monitor: Monitor, method: str, template: str, status: int, seconds: float, statements: int
) -> None:
    """One answered request, in the monitor's window and the Prometheus histograms."""
    monitor.record(f"{method} {template}", seconds, statements)
    timer = _timers.get((method, template, status))
    if timer is None:
        timer = _timers[method, template, status] = REQUEST_SECONDS.labels(
            method, template, str(status)
        )
    timer.observe(seconds)
    SQL_PER_REQUEST.observe(statements)
