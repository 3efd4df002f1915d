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


class Deadline:
    """ASGI middleware: a 503 for any HTTP request still unanswered after ``seconds``.

    The request runs as its own task; at the deadline it is cancelled and the 503 goes out
    at once, while the task's clean-up (closing a connection to a paused server) goes on
    in the background, its late messages dropped.
    """

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app, self.seconds = app, seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        answered = given_up = False

        async def tracked(message: Message) -> None:
            nonlocal answered
            if given_up:
                return
            answered = answered or message["type"] == "http.response.start"
            await send(message)

        task = asyncio.ensure_future(self.app(scope, receive, tracked))
        done, _ = await asyncio.wait({task}, timeout=self.seconds)
        if done or answered:  # finished, or too late to answer otherwise
            return await task
        given_up = True
        task.cancel()
        task.add_done_callback(lambda t: t.cancelled() or t.exception())  # not "never retrieved"
        method, path = scope["method"], scope["path"]
        log.warning("%s %s: no answer within %.1f s", method, path, self.seconds)
        await unavailable(f"no answer within {self.seconds:g} s; retry soon")(scope, receive, send)
