"""The read wing's Prometheus metrics, in one place: cache hits and misses per cache, views
the API rebuilt, and Redis failures and deadlines. ``/api/performance/monitor`` reads them
back through the registry's public ``get_sample_value``."""

from prometheus_client import REGISTRY, Counter

CACHE_HITS = Counter("cache_hits_total", "Cache hits", ["cache"])
CACHE_MISSES = Counter("cache_misses_total", "Cache misses", ["cache"])
RECOMPUTES = Counter("view_recomputes_total", "Views built from PostgreSQL by the API")
REBUILDS = Counter(
    "view_rebuilds_total",
    "The API's view builds: 'delta' on the aggregate it held for the event, 'own' the same"
    " from its own writes alone (no SQL), else 'full'",
    ["how"],
)
REDIS_ERRORS = Counter("redis_errors_total", "Redis calls that failed (served without cache)")
REDIS_DEADLINES = Counter(
    "redis_read_deadlines_total", "Reads whose Redis part ran out of its one deadline"
)
# The caches the monitor reports: process-memory L1s, then Redis.
CACHES = ("view_l1", "view", "sessions", "events", "events_l1", "users")
L1_HITS = CACHE_HITS.labels("view_l1")


def count_lookup(cache: str, found: object) -> None:
    """One lookup in ``cache``: a hit when something was found."""
    (CACHE_HITS if found else CACHE_MISSES).labels(cache).inc()


def cache_figures() -> dict[str, dict[str, float]]:
    """Hits, misses and hit rate of every cache since the process started."""
    out = {}
    for name in CACHES:
        hits = REGISTRY.get_sample_value("cache_hits_total", {"cache": name}) or 0.0
        misses = REGISTRY.get_sample_value("cache_misses_total", {"cache": name}) or 0.0
        total = hits + misses
        out[name] = {
            "hits": hits,
            "misses": misses,
            "hit_rate": round(hits / total, 4) if total else 0.0,
        }
    return out
