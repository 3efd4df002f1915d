"""The route-class limits (overlap_api.http.rate_limits) on real Redis and PostgreSQL: each one
lets its threshold through and refuses the next request with a 429 problem + Retry-After;
another client (or event) is not affected. Each test uses client addresses of its own, so
windows left in Redis by earlier runs never count."""

import secrets
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from overlap_api.app import create_app

from tests.integration.conftest import Api

CREATE, JOIN, READS, JOIN_PER_EVENT = 3, 4, 5, 6
EVENT = {
    "title": "Limits",
    "timezone": "Europe/Berlin",
    "dates": ["2026-12-01"],
    "day_start": "09:00",
    "day_end": "11:00",
    "slot_minutes": 30,
}
Client = Callable[[], httpx.AsyncClient]


@pytest.fixture
async def limited(api: Api) -> FastAPI:
    """The API with low limits, sharing the session's connections, caches and view reader."""
    settings = api.resources.settings.model_copy(
        update={
            "rate_limits_enabled": True,
            "rate_create_event_per_minute": CREATE,
            "rate_join_per_minute": JOIN,
            "rate_costly_read_per_minute": READS,
            "rate_join_per_event_per_minute": JOIN_PER_EVENT,
        }
    )
    app = create_app(settings)
    api.share_with(app, settings)
    return app


@pytest.fixture
async def new_client(limited: FastAPI) -> AsyncIterator[Client]:
    """Factory of clients, each from an address never used before."""
    opened: list[httpx.AsyncClient] = []

    def make() -> httpx.AsyncClient:
        address = f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.token_hex(2)}"
        transport = httpx.ASGITransport(app=limited, client=(address, 40000))
        opened.append(httpx.AsyncClient(transport=transport, base_url="http://overlap.test"))
        return opened[-1]

    yield make
    for client in opened:
        await client.aclose()


def assert_refused(answer: httpx.Response, words: str) -> None:
    assert answer.status_code == 429, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = answer.json()
    assert problem["status"] == 429 and problem["title"] == "Too many requests"
    assert words in problem["detail"], problem
    assert 1 <= int(answer.headers["retry-after"]) <= 60


async def create(client: httpx.AsyncClient) -> httpx.Response:
    return await client.post("/api/events", json=EVENT)


async def join(client: httpx.AsyncClient, token: str, name: str) -> httpx.Response:
    return await client.post(f"/api/events/{token}/participants", json={"name": name})


async def test_creating_events_is_limited_per_client(new_client: Client) -> None:
    client, other = new_client(), new_client()
    for _ in range(CREATE):
        assert (await create(client)).status_code == 201
    assert_refused(await create(client), f"at most {CREATE} event creations per minute")
    assert (await create(other)).status_code == 201  # another client has its own window


async def test_joining_is_limited_per_client(new_client: Client) -> None:
    setup, client, other = new_client(), new_client(), new_client()
    tokens = [(await create(setup)).json()["token"] for _ in range(2)]
    for i in range(JOIN):  # spread over two events: below the per-event bound
        assert (await join(client, tokens[i % 2], f"p{i}")).status_code == 201
    assert_refused(await join(client, tokens[0], "one too many"), f"at most {JOIN} joins")
    assert (await join(other, tokens[0], "someone else")).status_code == 201


async def test_joining_one_event_is_bounded_per_minute(new_client: Client) -> None:
    setup = new_client()
    token, spare = [(await create(setup)).json()["token"] for _ in range(2)]
    for i in range(JOIN_PER_EVENT):  # one join per client: never the per-client limit
        assert (await join(new_client(), token, f"p{i}")).status_code == 201
    late = new_client()
    assert_refused(await join(late, token, "late"), f"at most {JOIN_PER_EVENT} joins per minute")
    assert (await join(late, spare, "late")).status_code == 201  # other events are open


async def test_best_times_and_calendar_share_the_costly_read_limit(new_client: Client) -> None:
    client, other = new_client(), new_client()
    token = (await create(new_client())).json()["token"]
    reads = [f"/api/events/{token}/best-times", f"/api/events/{token}/calendar.ics"]
    for i in range(READS):
        answer = await client.get(reads[i % 2])
        assert answer.status_code in (200, 409), answer.text  # 409: not finalized yet
    assert_refused(await client.get(reads[0]), f"at most {READS} best-times and calendar")
    assert_refused(await client.get(reads[1]), "costly-read")
    assert (await other.get(reads[0])).status_code == 200
    # The view itself is cheap (cached) and has no such limit.
    for _ in range(READS + 2):
        assert (await client.get(f"/api/events/{token}")).status_code == 200


async def test_no_limit_when_disabled(api: Api) -> None:
    """The session's API runs with RATE_LIMITS_ENABLED=false: far past every threshold."""
    token = (await api.create_event())["token"]
    for i in range(max(CREATE, JOIN, JOIN_PER_EVENT) + 3):
        await api.create_event()
        await api.join(token, f"free{i}")
    for _ in range(READS + 3):
        assert (await api.client.get(f"/api/events/{token}/best-times")).status_code == 200
