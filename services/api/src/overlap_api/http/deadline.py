"""Every request gets an answer within the request timeout.

Past ``REQUEST_TIMEOUT_S`` the request's work is cancelled (a transaction in flight rolls
back, or committed just before: as with any lost answer) and the client gets a 503 with
Retry-After. A paused PostgreSQL, or a pool whose connections all wait on it, cannot hang
a client for longer (found by ``make chaos``: a 15 s pause held requests past 10 s).
"""

import asyncio
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from overlap_api.http.errors import unavailable

log = logging.getLogger(__name__)


class _Request:
    """One request's state: answered (its response started), given up (the deadline
    passed first: its late messages are dropped) and the refusal sent in its place."""

    __slots__ = ("answered", "given_up", "refusal", "send")

    def __init__(self, send: Send) -> None:
        self.send, self.answered, self.given_up = send, False, False
        self.refusal: asyncio.Future[None] | None = None

    async def tracked(self, message: Message) -> None:
        if self.given_up:
            return
        self.answered = self.answered or message["type"] == "http.response.start"
        await self.send(message)


class Deadline:
    """ASGI middleware: a 503 for any HTTP request still unanswered after ``seconds``.

    The request runs in the server's task with a timer, not in a task of its own (one task
    less per request). At the deadline the timer cancels that task and sends the 503 from a
    task of its own at once, while the request's clean-up (closing a connection to a
    paused server) goes on, its late messages dropped.
    """

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app, self.seconds = app, seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request = _Request(send)
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        timer = loop.call_later(self.seconds, self._expire, request, task, scope, receive)
        try:
            await self.app(scope, receive, request.tracked)
        except asyncio.CancelledError:
            if not request.given_up:
                raise
        finally:
            timer.cancel()
        if request.refusal is not None:  # the deadline passed: its cancellation is spent
            if task.cancelling():
                task.uncancel()
            await request.refusal

    def _expire(
        self, request: _Request, task: asyncio.Task, scope: Scope, receive: Receive
    ) -> None:
        if request.answered:  # too late to answer otherwise: let it finish
            return
        request.given_up = True
        task.cancel()
        log.warning("%s %s: no answer within %.1f s", scope["method"], scope["path"], self.seconds)
        refusal = unavailable(f"no answer within {self.seconds:g} s; retry soon")
        request.refusal = asyncio.ensure_future(refusal(scope, receive, request.send))
