"""The rate-limit decision, its settings, and what happens when Redis is down (no server)."""

import asyncio
from types import SimpleNamespace
from typing import Any, cast

import pytest
from overlap_api.http.errors import RateLimited
from overlap_api.http.rate_limits import RouteClass, client_key, decide, enforce, limit_of
from overlap_api.settings import Settings
from redis.exceptions import ConnectionError as RedisConnectionError


def test_the_threshold_passes_and_the_next_request_waits_for_the_window() -> None:
    assert decide(count=1, limit=3, ttl_ms=60_000).allowed
    assert decide(count=3, limit=3, ttl_ms=100).allowed
    refused = decide(count=4, limit=3, ttl_ms=12_001)
    assert not refused.allowed and refused.retry_after_s == 13
    assert decide(count=9, limit=3, ttl_ms=20).retry_after_s == 1  # never "retry after 0"
    assert decide(count=9, limit=3, ttl_ms=-1).retry_after_s == 60  # no expiry seen


def test_each_class_has_its_setting_and_the_switch_turns_all_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RATE_CREATE_EVENT_PER_MINUTE", "7")
    monkeypatch.setenv("RATE_JOIN_PER_EVENT_PER_MINUTE", "0")
    settings = Settings()
    assert limit_of(settings, RouteClass.CREATE_EVENT) == 7
    assert limit_of(settings, RouteClass.JOIN) == 30  # the defaults
    assert limit_of(settings, RouteClass.COSTLY_READ) == 60
    assert limit_of(settings, RouteClass.JOIN_PER_EVENT) == 0
    off = Settings(rate_limits_enabled=False)
    assert all(limit_of(off, c) == 0 for c in RouteClass)
    with pytest.raises(ValueError):
        Settings(rate_join_per_minute=-1)


def test_a_client_is_an_ipv4_address_or_an_ipv6_slash_64() -> None:
    assert client_key("192.0.2.7") == "192.0.2.7"
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:ffff::9")
    assert client_key("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert client_key("testclient") == "testclient"


class DownRedis:
    def pipeline(self, **_: Any) -> Any:
        raise RedisConnectionError("connection refused")


class CountingRedis:
    """Redis's answers to SET NX / INCR / PTTL, for one key."""

    def __init__(self) -> None:
        self.count = 0

    def pipeline(self, **_: Any) -> "CountingRedis":
        return self

    async def __aenter__(self) -> "CountingRedis":
        return self

    async def __aexit__(self, *_: object) -> None:
        return None

    def set(self, *_: Any, **__: Any) -> None: ...
    def incr(self, *_: Any) -> None: ...
    def pttl(self, *_: Any) -> None: ...

    async def execute(self) -> list[Any]:
        self.count += 1
        return [None, self.count, 30_000]


def resources(redis: object, **settings: Any) -> Any:
    return cast(Any, SimpleNamespace(settings=Settings(**settings), redis=redis))


def test_redis_down_lets_requests_through() -> None:
    down = resources(DownRedis(), rate_create_event_per_minute=1)
    for _ in range(3):
        asyncio.run(enforce(down, RouteClass.CREATE_EVENT, "10.0.0.1"))


def test_the_request_after_the_threshold_is_refused_with_retry_after() -> None:
    counting = resources(CountingRedis(), rate_costly_read_per_minute=2)
    asyncio.run(enforce(counting, RouteClass.COSTLY_READ, "10.0.0.2"))
    asyncio.run(enforce(counting, RouteClass.COSTLY_READ, "10.0.0.2"))
    with pytest.raises(RateLimited) as refused:
        asyncio.run(enforce(counting, RouteClass.COSTLY_READ, "10.0.0.2"))
    assert refused.value.status == 429
    assert refused.value.response_headers() == {"Retry-After": "30"}
    assert "at most 2 best-times and calendar reads per minute" in refused.value.detail


@pytest.mark.parametrize(
    ("value", "origins"),
    [
        ("", []),
        ("https://a.example", ["https://a.example"]),
        (
            "https://a.example, http://localhost:3000",
            ["https://a.example", "http://localhost:3000"],
        ),
    ],
)
def test_cors_origins_are_a_comma_separated_list(
    monkeypatch: pytest.MonkeyPatch, value: str, origins: list[str]
) -> None:
    monkeypatch.setenv("CORS_ORIGINS", value)
    assert Settings().cors_origins == origins


@pytest.mark.parametrize("bad", ["*", "https://a.example/", "a.example", "https://a.example/x"])
def test_cors_origins_must_be_origins(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv("CORS_ORIGINS", bad)
    with pytest.raises(ValueError, match="CORS_ORIGINS"):
        Settings()
