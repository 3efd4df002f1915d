"""Send ``trigger_batch`` to the Pusher HTTP API asynchronously.

Through the ``pusher`` package's public client: it validates, builds and signs the
request, and hands it to its HTTP backend, a documented extension point (``backend=``,
as its own ``AsyncIOBackend``). :class:`HttpxBackend` sends it with one shared httpx
client without blocking the event loop, so ``trigger_batch`` returns a coroutine.
"""

from typing import Any

import httpx
import pusher
from overlap_shared.settings import PusherSettings


class PusherError(Exception):
    """A failed call; ``retryable`` is False for answers a retry cannot change."""

    def __init__(self, message: str, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class HttpxBackend:
    """A ``pusher`` HTTP backend: ``send_request`` is a coroutine on a shared client."""

    def __init__(self, client: Any, http: httpx.AsyncClient) -> None:
        self.client, self.http = client, http

    async def send_request(self, request: Any) -> None:
        try:
            response = await self.http.request(
                request.method, request.url, content=request.body, headers=request.headers
            )
        except httpx.HTTPError as exc:
            raise PusherError(f"{type(exc).__name__}: {exc}") from exc
        status, why = refusal(response)
        if status is not None:
            retryable = status >= 500 or status in (408, 429)
            raise PusherError(f"HTTP {status}: {why}", retryable)


class PusherSender:
    def __init__(self, cfg: PusherSettings, timeout_s: float, max_connections: int) -> None:
        limits = httpx.Limits(max_connections=max_connections, keepalive_expiry=30)
        self._http = httpx.AsyncClient(timeout=timeout_s, limits=limits)
        options = cfg.client_options()
        self._pusher = pusher.Pusher(
            **options, timeout=timeout_s, backend=HttpxBackend, http=self._http
        )

    async def trigger_batch(self, batch: list[dict[str, Any]]) -> None:
        try:
            sent = self._pusher.trigger_batch([dict(event) for event in batch])
        except (ValueError, TypeError) as exc:  # the pusher package refused the batch
            raise PusherError(f"invalid batch: {exc}", retryable=False) from exc
        await sent

    async def close(self) -> None:
        await self._http.aclose()


def refusal(response: httpx.Response) -> tuple[int | None, str]:
    """(status, why) of a refused call; (None, "") when it was taken. soketi answers some
    refusals, such as a wrong secret, with 200 and ``{"error": ..., "code": 401}``."""
    if response.status_code not in (200, 202):
        return response.status_code, response.text[:200]
    try:
        body = response.json()
    except ValueError:
        return None, ""
    if isinstance(body, dict) and "error" in body:
        code = body.get("code")
        return code if isinstance(code, int) and code >= 400 else 400, str(body["error"])[:200]
    return None, ""
