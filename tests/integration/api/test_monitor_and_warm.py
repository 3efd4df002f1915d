"""The operator's monitor endpoint and the cache-warming command."""

from overlap_api.ops.warm import warm
from overlap_api.settings import Settings
from overlap_shared.cache_keys import view_key

from tests.conftest import Services
from tests.integration.conftest import Api


async def test_monitor_needs_the_operator_key(api: Api) -> None:
    assert (await api.client.get("/api/performance/monitor")).status_code == 401
    wrong = {"X-Operator-Key": "nope"}
    assert (await api.client.get("/api/performance/monitor", headers=wrong)).status_code == 403


async def test_monitor_reports_the_guides_figures(api: Api) -> None:
    token = (await api.create_event())["token"]
    for _ in range(5):  # from Redis each time (the first one puts it there), not from L1
        api.wiring.local.views.forget(token)
        assert (await api.client.get(f"/api/events/{token}")).status_code == 200
    key = {"X-Operator-Key": api.resources.settings.operator_key}
    r = await api.client.get("/api/performance/monitor", headers=key)
    assert r.status_code == 200, r.text
    figures = r.json()
    route = figures["routes"]["GET /api/events/{token}"]
    assert route["count"] >= 5 and 0 < route["p50_ms"] <= route["p99_ms"]
    view = figures["caches"]["view"]
    assert view["hits"] >= 4 and 0 < view["hit_rate"] <= 1
    assert figures["sql_per_request"]["max"] >= 1
    assert figures["outbox"]["backlog"] >= 0 and "oldest_age_ms" in figures["outbox"]
    consumers = figures["consumers"]  # a fresh broker's first FindCoordinator included
    assert set(consumers) == {"availability", "cache-invalidator", "notifier"}, consumers
    assert all(c["lag"] >= 0 and c["partitions"] >= 0 for c in consumers.values()), consumers
    assert "events_per_call" in figures["notifier"]


async def test_warming_fills_the_view_cache_for_recent_events(api: Api, services: Services) -> None:
    tokens = [(await api.create_event(title=f"w{i}"))["token"] for i in range(3)]
    await api.resources.redis.delete(*(view_key(t) for t in tokens))
    settings = Settings(
        database_url=services.database_url,
        redis_url=services.redis_url,
        kafka_bootstrap_servers=services.kafka_bootstrap_servers,
    )
    written = await warm(settings, limit=50, rate=1000)  # other tests may add recent events
    assert written >= 3
    for t in tokens:
        assert (await api.resources.redis.get(view_key(t))) is not None
    api.sql.reset()
    r = await api.client.get(f"/api/events/{tokens[0]}")
    assert r.status_code == 200 and api.sql.statements == []
