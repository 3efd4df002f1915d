"""A request still unanswered at the deadline gets a 503 with Retry-After; others pass."""

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI
from overlap_api.http.deadline import Deadline, not_after
from overlap_api.http.errors import install_error_handlers
from starlette.types import Message, Receive, Scope, Send


async def test_a_request_past_the_deadline_is_a_503_and_its_work_is_cancelled() -> None:
    cancelled = asyncio.Event()
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(Deadline, seconds=0.2)

    @app.get("/slow")
    async def slow() -> dict[str, str]:
        try:
            await asyncio.sleep(60)  # a paused PostgreSQL
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return {"never": "reached"}

    @app.get("/fast")
    async def fast() -> dict[str, str]:
        return {"ok": "yes"}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=30) as client:
        r = await client.get("/slow")
        assert r.status_code == 503, r.text
        assert r.headers["retry-after"] == "2"
        assert r.headers["content-type"] == "application/problem+json"
        assert "no answer within 0.2 s" in r.json()["detail"]
        await asyncio.wait_for(cancelled.wait(), 5)  # the work was cancelled (in the background)
        assert (await client.get("/fast")).json() == {"ok": "yes"}


async def test_an_answer_already_started_at_the_deadline_is_finished() -> None:
    async def streaming(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await asyncio.sleep(0.3)  # past the deadline, mid-answer
        await send({"type": "http.response.body", "body": b"whole", "more_body": False})

    transport = httpx.ASGITransport(app=Deadline(streaming, seconds=0.1))
    async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=30) as client:
        r = await client.get("/")
    assert (r.status_code, r.content) == (200, b"whole")


async def test_the_503_goes_out_at_the_deadline_while_the_clean_up_still_runs() -> None:
    order: list[str] = []
    refused = asyncio.Event()

    async def paused(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await asyncio.sleep(60)  # a paused PostgreSQL
        finally:  # closing its connection takes long: until the 503 is out (at most 10 s)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(refused.wait(), 10)
            order.append("cleaned up")
        await send({"type": "http.response.start", "status": 200, "headers": []})

    async def record(message: Message) -> None:
        if message["type"] == "http.response.start":
            order.append(str(message["status"]))
            refused.set()

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}
    await Deadline(paused, seconds=0.1)(scope, receive, record)  # returns, not raises
    assert order == ["503", "cleaned up"]  # the answer did not wait for the clean-up


async def test_the_deadline_is_in_the_scope_as_wall_clock_time() -> None:
    seen: list[object] = []

    async def record(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(not_after(scope))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    transport = httpx.ASGITransport(app=Deadline(record, seconds=7))
    async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=30) as client:
        before = datetime.now(UTC)
        assert (await client.get("/")).status_code == 204
        after = datetime.now(UTC)
    (deadline,) = seen
    assert isinstance(deadline, datetime)
    assert before + timedelta(seconds=7) <= deadline <= after + timedelta(seconds=7)
    assert not_after({"type": "http"}) is None  # outside the middleware
