"""Send ``trigger_batch`` to the Pusher HTTP API asynchronously.

The ``pusher`` package builds and signs the request (its ``make_request`` step, the same
code its blocking backends use); httpx sends it without blocking the event loop.
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


class PusherSender:
    def __init__(self, cfg: PusherSettings, timeout_s: float, max_connections: int) -> None:
        self._pusher = pusher.Pusher(**cfg.client_options(), timeout=timeout_s)
        limits = httpx.Limits(max_connections=max_connections, keepalive_expiry=30)
        self._http = httpx.AsyncClient(timeout=timeout_s, limits=limits)

    def signed_request(self, batch: list[dict[str, Any]]) -> Any:
        """The pusher package's signed ``POST /apps/<id>/batch_events`` request."""
        client = self._pusher._pusher_client
        return client.trigger_batch.make_request(batch, already_encoded=False)

    async def trigger_batch(self, batch: list[dict[str, Any]]) -> None:
        try:
            request = self.signed_request([dict(event) for event in batch])
        except (ValueError, TypeError) as exc:  # the pusher package refused the batch
            raise PusherError(f"invalid batch: {exc}", retryable=False) from exc
        try:
            response = await self._http.post(
                request.url, content=request.body, headers=request.headers
            )
        except httpx.HTTPError as exc:
            raise PusherError(f"{type(exc).__name__}: {exc}") from exc
        status, why = refusal(response)
        if status is None:
            return
        retryable = status >= 500 or status in (408, 429)
        raise PusherError(f"HTTP {status}: {why}", retryable)

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
