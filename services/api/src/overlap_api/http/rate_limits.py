"""Per-route-class request limits (OWASP API4): creating events, joining, and the costly
reads, per client; and joins per event. Enforced here in the API, not at the gateway:

- the counts live in Redis, so they hold across every API process and every gateway replica
  (nginx's ``limit_req`` counts per nginx process, and the Kubernetes path has no gateway);
- the per-event bound needs the event, which only the API resolves;
- each limit is a validated setting beside ``MAX_PARTICIPANTS``.

The gateway keeps its coarse per-client flood limit (``GATEWAY_RATE``) in front of these.

A limit is N requests per fixed 60-second window that starts at the client's first request
(Redis ``SET NX EX`` + ``INCR`` in one transaction). The N+1st request within the window is
refused with a 429 problem whose ``Retry-After`` is the time left in the window. When Redis
is unreachable the request is let through (a limit is a guard, not a dependency) and counted
in ``redis_errors_total``.
"""

import ipaddress
import logging
import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from fastapi import Depends, Request
from overlap_shared.redis_client import RedisClient
from prometheus_client import Counter
from redis.exceptions import RedisError

from overlap_api.http.deps import ResourcesDep, Token
from overlap_api.http.errors import RateLimited
from overlap_api.reads.metrics import REDIS_ERRORS
from overlap_api.settings import Settings

log = logging.getLogger(__name__)
WINDOW_S = 60
REFUSED = Counter("rate_limited_total", "Requests refused by a route-class limit", ["limit"])


class RouteClass(StrEnum):
    CREATE_EVENT = "create-event"
    JOIN = "join"
    COSTLY_READ = "costly-read"
    JOIN_PER_EVENT = "join-per-event"


WHAT = {
    RouteClass.CREATE_EVENT: "event creations per minute from one client",
    RouteClass.JOIN: "joins per minute from one client",
    RouteClass.COSTLY_READ: "best-times and calendar reads per minute from one client",
    RouteClass.JOIN_PER_EVENT: "joins per minute to one event",
}

# OpenAPI description of the refusal, for the routes' ``responses=``.
RATE_LIMITED: dict[int | str, dict[str, Any]] = {
    429: {"description": "a rate limit was reached; retry after Retry-After seconds"}
}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after_s: int


def decide(count: int, limit: int, ttl_ms: int) -> Decision:
    """The ``count``-th request of a window with ``ttl_ms`` left, under ``limit`` per window."""
    if count <= limit:
        return Decision(True, 0)
    left_ms = ttl_ms if ttl_ms > 0 else WINDOW_S * 1000  # -1/-2: no expiry seen: a full window
    return Decision(False, max(1, math.ceil(left_ms / 1000)))


def limit_of(settings: Settings, route_class: RouteClass) -> int:
    """The setting for this class; 0 turns it off, and so does RATE_LIMITS_ENABLED=false."""
    if not settings.rate_limits_enabled:
        return 0
    return {
        RouteClass.CREATE_EVENT: settings.rate_create_event_per_minute,
        RouteClass.JOIN: settings.rate_join_per_minute,
        RouteClass.COSTLY_READ: settings.rate_costly_read_per_minute,
        RouteClass.JOIN_PER_EVENT: settings.rate_join_per_event_per_minute,
    }[route_class]


async def count_hit(redis: RedisClient, key: str) -> tuple[int, int]:
    """Count one request in ``key``'s window: (requests so far, milliseconds left)."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(key, 0, ex=WINDOW_S, nx=True)
        pipe.incr(key)
        pipe.pttl(key)
        _, count, ttl_ms = await pipe.execute()
    return int(count), int(ttl_ms)


async def enforce(resources: ResourcesDep, route_class: RouteClass, subject: str) -> None:
    """Raise ``RateLimited`` when ``subject`` (a client or an event) is over its limit."""
    limit = limit_of(resources.settings, route_class)
    if limit <= 0:
        return
    try:
        count, ttl_ms = await count_hit(resources.redis, f"ratelimit:{route_class}:{subject}")
    except (RedisError, OSError) as exc:
        REDIS_ERRORS.inc()
        log.warning("rate limit %s not checked (Redis unavailable): %s", route_class, exc)
        return
    decision = decide(count, limit, ttl_ms)
    if not decision.allowed:
        REFUSED.labels(route_class.value).inc()
        retry = decision.retry_after_s
        detail = f"at most {limit} {WHAT[route_class]} ({route_class}); retry after {retry} s"
        raise RateLimited(detail, retry)


def client_key(host: str) -> str:
    """One client: an IPv4 address, or an IPv6 /64 (one host usually holds a whole /64)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if address.version == 6 and not address.ipv4_mapped:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address.ipv4_mapped or address) if address.version == 6 else str(address)


def client_of(request: Request) -> str:
    """The client: uvicorn takes its address from X-Forwarded-For when the peer is a
    trusted proxy (FORWARDED_ALLOW_IPS, default 127.0.0.1,::1: the local gateway)."""
    return client_key(request.client.host) if request.client else "unknown"


async def limit_create_event(request: Request, resources: ResourcesDep) -> None:
    await enforce(resources, RouteClass.CREATE_EVENT, client_of(request))


async def limit_costly_read(request: Request, resources: ResourcesDep) -> None:
    await enforce(resources, RouteClass.COSTLY_READ, client_of(request))


async def limit_join(request: Request, resources: ResourcesDep, token: Token) -> None:
    await enforce(resources, RouteClass.JOIN, client_of(request))
    await enforce(resources, RouteClass.JOIN_PER_EVENT, token)


CreateEventLimit = Depends(limit_create_event)
CostlyReadLimit = Depends(limit_costly_read)
JoinLimit = Depends(limit_join)
