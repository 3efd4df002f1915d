"""The API application on the real services, driven in-process through httpx."""

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from overlap_api.app import create_app
from overlap_api.http import monitoring
from overlap_api.resources import Resources
from overlap_api.settings import Settings
from overlap_api.wiring import Wiring, attach, wire
from overlap_api.writes.relay import make_relay
from sqlalchemy import event

from tests.conftest import Services


@dataclass
class SqlCounter:
    statements: list[str] = field(default_factory=list)

    def reset(self) -> None:
        self.statements.clear()


@dataclass
class Api:
    client: httpx.AsyncClient
    wiring: Wiring
    sql: SqlCounter
    app: FastAPI

    @property
    def resources(self) -> Resources:
        return self.wiring.resources

    def share_with(self, app: FastAPI, settings: Settings) -> None:
        """Let ``app`` (made with other ``settings``) serve with this fixture's resources."""
        resources = dataclasses.replace(self.resources, settings=settings)
        attach(app, dataclasses.replace(self.wiring, resources=resources))

    async def create_event(self, **overrides: Any) -> dict[str, Any]:
        body = {
            "title": "Planning",
            "timezone": "Europe/Berlin",
            "dates": ["2026-12-01", "2026-12-02"],
            "day_start": "09:00",
            "day_end": "17:00",
            "slot_minutes": 30,
            **overrides,
        }
        r = await self.client.post("/api/events", json=body)
        assert r.status_code == 201, r.text
        return r.json()

    async def join(self, token: str, name: str) -> dict[str, Any]:
        r = await self.client.post(f"/api/events/{token}/participants", json={"name": name})
        assert r.status_code == 201, r.text
        return r.json()


@pytest.fixture(scope="session")
async def api(services: Services, migrated: str) -> AsyncIterator[Api]:
    settings = Settings(
        database_url=services.database_url,
        redis_url=services.redis_url,
        kafka_bootstrap_servers=services.kafka_bootstrap_servers,
        environment="test",
        rate_limits_enabled=False,  # one client creates and joins a lot (limits: own tests)
        write_queue_ms=10_000,  # tests write in bursts to one event (the queue: own tests)
        relay_enabled=False,  # the `relay` fixture runs it where a test needs it
    )
    app = create_app(settings)
    counter = SqlCounter()
    async with wire(app, settings) as wiring:

        def _count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            counter.statements.append(statement)

        for engine in (wiring.resources.engine, wiring.resources.replica):  # replica: misses
            if engine is not None:
                event.listen(engine.sync_engine, "before_cursor_execute", _count)
        monitoring.PAST_THE_ENGINE.append(counter.statements.append)  # the PUT's statement

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://overlap.test") as c:
            yield Api(c, wiring, counter, app)
        monitoring.PAST_THE_ENGINE.remove(counter.statements.append)


@pytest.fixture
async def relay(api: Api) -> AsyncIterator[None]:
    """The outbox relay, running in the test's event loop for the test's duration."""
    settings = api.resources.settings
    runner = make_relay(settings, settings.relay_batch_size)
    task = asyncio.create_task(runner.run())
    yield
    runner.stop()
    await asyncio.wait_for(task, 15)
