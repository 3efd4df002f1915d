"""Past capacity, refuse at once: a bound on the requests one API process works on.

Without it an overloaded process takes every request, each waits behind the others (for a
pool connection, for the event's row lock, for the event loop) and most end at the request
deadline, seconds later, as 503s; the ones it does answer are late too. With it a request
over the bound is answered 503 with ``Retry-After`` in well under a millisecond of work,
and the admitted ones keep their usual latency. Writes (every method but GET and HEAD)
and reads have bounds of their own: a write burst cannot lock readers out. Probes and
metrics are never refused.
"""

from prometheus_client import Counter
from starlette.types import ASGIApp, Receive, Scope, Send

from overlap_api.http.errors import unavailable

NEVER_REFUSED = frozenset({"/api/healthz", "/api/readyz", "/metrics"})
READS = frozenset({"GET", "HEAD", "OPTIONS"})
REFUSED = Counter(
    "http_requests_refused_total", "Requests refused at the admission bound", ["kind"]
)


class Admission:
    """ASGI middleware: at most ``max_writes`` writes and ``max_reads`` reads in flight."""

    def __init__(self, app: ASGIApp, max_writes: int, max_reads: int) -> None:
        self.app = app
        self.bounds = {"write": max_writes, "read": max_reads}
        self.in_flight = {"write": 0, "read": 0}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in NEVER_REFUSED:
            return await self.app(scope, receive, send)
        kind = "read" if scope["method"] in READS else "write"
        if self.in_flight[kind] >= self.bounds[kind]:
            REFUSED.labels(kind).inc()
            busy = f"this API process is at its limit of {self.bounds[kind]} {kind}s in flight"
            return await unavailable(f"{busy}; retry soon")(scope, receive, send)
        self.in_flight[kind] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight[kind] -= 1
