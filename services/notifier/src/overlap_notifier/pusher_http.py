"""Send ``trigger_batch`` to the Pusher HTTP API asynchronously.

Through the ``pusher`` package's public client: it validates, builds and signs the
request, and hands it to its HTTP backend, a documented extension point (``backend=``,
as its own ``AsyncIOBackend``). :class:`AiohttpBackend` sends it with one shared aiohttp
session (keep-alive pool, C-accelerated parser: about 0.9 ms of CPU per call where httpx
took 2 to 3.4 ms) without blocking the event loop, so ``trigger_batch`` returns a coroutine.
"""

from typing import Any

import aiohttp
import orjson
import pusher
from overlap_shared.settings import PusherSettings


class PusherError(Exception):
    """A failed call; ``retryable`` is False for answers a retry cannot change."""

    def __init__(self, message: str, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class AiohttpBackend:
    """A ``pusher`` HTTP backend: ``send_request`` is a coroutine on a shared session."""

    def __init__(self, client: Any, session: aiohttp.ClientSession) -> None:
        self.client, self.session = client, session

    async def send_request(self, request: Any) -> None:
        try:
            async with self.session.request(
                request.method, request.url, data=request.body, headers=request.headers
            ) as response:
                status, body = response.status, await response.read()
        except TimeoutError as exc:
            raise PusherError(f"Timeout: {exc}") from exc
        except aiohttp.ClientConnectionError as exc:
            raise PusherError(f"ConnectError: {exc}") from exc
        except aiohttp.ClientError as exc:
            raise PusherError(f"{type(exc).__name__}: {exc}") from exc
        refused, why = refusal(status, body)
        if refused is not None:
            retryable = refused >= 500 or refused in (408, 429)
            raise PusherError(f"HTTP {refused}: {why}", retryable)


class PusherSender:
    def __init__(self, cfg: PusherSettings, timeout_s: float, max_connections: int) -> None:
        connector = aiohttp.TCPConnector(limit=max_connections, keepalive_timeout=30)
        timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session = aiohttp.ClientSession(connector=connector, timeout=timeout)
        options = cfg.client_options()
        self._pusher = pusher.Pusher(
            **options, timeout=timeout_s, backend=AiohttpBackend, session=self._session
        )

    async def trigger_batch(self, batch: list[dict[str, Any]]) -> None:
        try:
            sent = self._pusher.trigger_batch([dict(event) for event in batch])
        except (ValueError, TypeError) as exc:  # the pusher package refused the batch
            raise PusherError(f"invalid batch: {exc}", retryable=False) from exc
        await sent

    async def close(self) -> None:
        await self._session.close()


def refusal(status: int, body: bytes) -> tuple[int | None, str]:
    """(status, why) of a refused call; (None, "") when it was taken. soketi answers some
    refusals, such as a wrong secret, with 200 and ``{"error": ..., "code": 401}``."""
    if status not in (200, 202):
        return status, body.decode(errors="replace")[:200]
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, ""
    if isinstance(parsed, dict) and "error" in parsed:
        code = parsed.get("code")
        return code if isinstance(code, int) and code >= 400 else 400, str(parsed["error"])[:200]
    return None, ""
