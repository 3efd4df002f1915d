"""Every request gets an answer within the request timeout.

Past ``REQUEST_TIMEOUT_S`` the request's work is cancelled (a transaction in flight rolls
back, or committed just before: as with any lost answer) and the client gets a 503 with
Retry-After. A paused PostgreSQL, or a pool whose connections all wait on it, cannot hang
a client for longer (found by ``make chaos``: a 15 s pause held requests past 10 s).
The deadline, as wall-clock time, is in the request's scope (:func:`not_after`): a write
sent as one statement carries it, so that PostgreSQL does not apply it after the 503.

The request runs in the server's own task, watched by a timer (one ``call_later`` per
request): a task of its own per request, and ``asyncio.wait`` on it, cost a PUT more CPU
than its answer (py-spy, issue #15).
"""

import asyncio
import logging
import time
from datetime import UTC, datetime

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from overlap_api.http.errors import unavailable

log = logging.getLogger(__name__)
NOT_AFTER = "overlap.not_after"  # the scope's key: the deadline, seconds since the epoch


def not_after(scope: Scope) -> datetime | None:
    """The request's deadline as wall-clock time; None outside :class:`Deadline`."""
    at = scope.get(NOT_AFTER)
    return None if at is None else datetime.fromtimestamp(at, UTC)


class Watch:
    """One request's answer as it goes out: whether it started, whether the deadline
    gave up on it (its later messages are dropped then)."""

    __slots__ = ("answered", "given_up", "refusal", "send")

    def __init__(self, send: Send) -> None:
        self.send, self.answered, self.given_up = send, False, False
        self.refusal: asyncio.Future[None] | None = None  # the 503, sent from its own task

    async def tracked(self, message: Message) -> None:
        if self.given_up:
            return
        self.answered = self.answered or message["type"] == "http.response.start"
        await self.send(message)


class Deadline:
    """ASGI middleware: a 503 for any HTTP request still unanswered after ``seconds``.

    At the deadline the request's task is cancelled and the 503 goes out at once from a
    task of its own, while the request's clean-up (closing a connection to a paused
    server) goes on, its late messages dropped; the request returns once the 503 is out.
    An answer already started is finished.
    """

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app, self.seconds = app, seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        scope[NOT_AFTER] = time.time() + self.seconds
        watch = Watch(send)
        task = asyncio.current_task()
        assert task is not None  # an ASGI server runs each request in a task
        args = (watch, task, scope, receive)
        timer = asyncio.get_running_loop().call_later(self.seconds, self._expire, *args)
        try:
            await self.app(scope, receive, watch.tracked)
        except asyncio.CancelledError:
            if not watch.given_up:
                raise
            task.uncancel()  # the deadline's own cancellation
            if watch.refusal is not None:  # return once the 503 is out, not before
                await watch.refusal
        finally:
            timer.cancel()

    def _expire(self, watch: Watch, task: asyncio.Task, scope: Scope, receive: Receive) -> None:
        if watch.answered:  # too late to answer otherwise: let it finish
            return
        watch.given_up = True
        task.cancel()
        log.warning("%s %s: no answer within %.1f s", scope["method"], scope["path"], self.seconds)
        refusal = unavailable(f"no answer within {self.seconds:g} s; retry soon")
        watch.refusal = asyncio.ensure_future(refusal(scope, receive, watch.send))
