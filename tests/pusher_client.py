"""A real Pusher-protocol websocket client for tests (soketi), and channel authorization
through the API's realtime route."""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import websockets

from tests.conftest import Services


class Socket:
    """A Pusher-protocol websocket client that records every event with its arrival time."""

    def __init__(self, ws: Any, socket_id: str) -> None:
        self.ws, self.socket_id = ws, socket_id
        self.events: list[tuple[float, dict[str, Any]]] = []
        self.changed = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self.ws:
                self.events.append((time.time(), orjson.loads(raw)))
                self.changed.set()

    async def wait_for(self, pred: Any, limit_s: float = 10) -> tuple[float, dict[str, Any]]:
        async with asyncio.timeout(limit_s):
            seen = 0
            while True:
                for at, msg in self.events[seen:]:
                    if pred(msg):
                        return at, msg
                seen = len(self.events)
                self.changed.clear()
                await self.changed.wait()

    def received(self, channel: str, name: str) -> list[dict[str, Any]]:
        return [
            orjson.loads(m["data"])
            for _, m in self.events
            if m.get("channel") == channel and m.get("event") == name
        ]

    async def subscribe(self, channel: str, auth: dict[str, Any]) -> dict[str, Any]:
        await self.ws.send(
            orjson.dumps({"event": "pusher:subscribe", "data": {"channel": channel, **auth}})
        )
        _, msg = await self.wait_for(
            lambda m: (
                (
                    m.get("channel") == channel
                    and m["event"]
                    in ("pusher_internal:subscription_succeeded", "pusher:subscription_error")
                )
                or m["event"] == "pusher:error"
            )
        )
        return msg

    async def close(self) -> None:
        await self.ws.close()
        await self._reader


@contextlib.asynccontextmanager
async def socket(services: Services) -> AsyncIterator[Socket]:
    cfg = services.pusher
    url = f"ws://{cfg.host}:{cfg.port}/app/{cfg.key}?protocol=7&client=overlap-tests&version=1"
    async with websockets.connect(url) as ws:
        hello = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
        assert hello["event"] == "pusher:connection_established", hello
        s = Socket(ws, orjson.loads(hello["data"])["socket_id"])
        try:
            yield s
        finally:
            await s.close()


async def authorize(
    client: httpx.AsyncClient, socket_id: str, channel: str, **headers: str
) -> httpx.Response:
    return await client.post(
        "/api/realtime/auth",
        data={"socket_id": socket_id, "channel_name": channel},
        headers=headers,
    )


async def subscribe_private(s: Socket, client: httpx.AsyncClient, event: dict[str, Any]) -> str:
    channel = f"private-event-{event['event']['id']}"
    r = await authorize(client, s.socket_id, channel, **{"X-Event-Token": event["token"]})
    assert r.status_code == 200, r.text
    ack = await s.subscribe(channel, r.json())
    assert ack["event"] == "pusher_internal:subscription_succeeded", ack
    return channel
