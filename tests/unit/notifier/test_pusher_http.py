"""The Pusher sender's answers told apart, against small asyncio servers on loopback: a
refusal, an error worth retrying, a server that does not answer in time (soketi itself:
tests/integration/test_notifier.py)."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from overlap_notifier.pusher_http import PusherError, PusherSender, refusal
from overlap_shared.settings import PusherSettings

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
EVENT = {"channel": "private-event-x", "name": "view.updated", "data": "{}"}


@contextlib.asynccontextmanager
async def answering(answers: list[bytes | None]) -> AsyncIterator[int]:
    """A server answering each request in turn (None: never answers)."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while answers:
                head = (await reader.readuntil(b"\r\n\r\n")).decode().lower()
                await reader.readexactly(int(head.split("content-length:")[1].split("\r\n")[0]))
                raw = answers.pop(0)
                if raw is None:
                    await asyncio.sleep(10)
                    return
                writer.write(raw)
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


def test_refusals_are_told_apart_from_deliveries() -> None:
    assert refusal(200, b"{}") == (None, "")
    assert refusal(202, b"not json") == (None, "")
    assert refusal(200, b'{"error": "bad secret", "code": 401}') == (401, "bad secret")
    assert refusal(200, b'{"error": "odd"}') == (400, "odd")
    assert refusal(413, b"too big") == (413, "too big")


async def test_each_answer_is_a_delivery_a_final_refusal_or_a_retryable_failure() -> None:
    answers: list[bytes | None] = [b"HTTP/1.1 413 Too big\r\nContent-Length: 3\r\n\r\nbig",
               b"HTTP/1.1 502 Bad\r\nContent-Length: 0\r\n\r\n", OK]  # fmt: skip
    outcomes = []
    async with answering(answers) as port:
        sender = PusherSender(PusherSettings(host="127.0.0.1", port=port), 2, 1)
        for _ in range(3):
            try:
                await sender.trigger_batch([EVENT])
                outcomes.append("ok")
            except PusherError as exc:
                outcomes.append(f"{str(exc)[:8]} {exc.retryable}")
        await sender.close()
    assert outcomes == ["HTTP 413 False", "HTTP 502 True", "ok"]


async def test_a_server_that_does_not_answer_is_a_retryable_timeout() -> None:
    async with answering([None]) as port:
        sender = PusherSender(PusherSettings(host="127.0.0.1", port=port), 0.2, 1)
        with pytest.raises(PusherError) as failed:
            await sender.trigger_batch([EVENT])
        await sender.close()
    assert failed.value.retryable and str(failed.value).startswith("Timeout")
