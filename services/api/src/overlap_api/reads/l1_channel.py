"""Keeps this process's two L1s honest: the views and the event metadata. Writers and the
availability worker announce on the eviction channel (``overlap_shared.eviction_channel``:
Redis pub/sub, sharded on a Redis Cluster) ``<token>`` (the event's
metadata changed) or ``<token>:<version>`` (a newer view exists); this listener forgets
what they name, for the app's life. While the channel is lost both L1s are emptied (their
TTLs bound staleness until it is back)."""

import asyncio
import logging
from dataclasses import dataclass

from overlap_shared.eviction_channel import messages
from overlap_shared.redis_client import RedisClient
from overlap_shared.view import EventSnapshot

from overlap_api.reads.l1 import VersionedL1

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LocalCaches:
    """The process's L1s: views (bytes) and event metadata."""

    views: VersionedL1[bytes]
    meta: VersionedL1[EventSnapshot]

    def on_message(self, data: bytes) -> None:
        """``<token>`` or ``<token>:<version>``: forget it; a version also sets a floor."""
        token, _, version = data.decode().partition(":")
        self.meta.forget(token)
        self.views.forget(token, int(version) if version.isdigit() else None)

    def clear(self) -> None:
        self.views.clear()
        self.meta.clear()


async def listen(redis: RedisClient, local: LocalCaches) -> None:
    """Apply every message of the L1 channel to ``local``; reconnect when it is lost."""
    while True:
        try:
            async for data in messages(redis):
                local.on_message(data)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # reconnect; L1 entries expire on their own meanwhile
            local.clear()
            log.warning("L1 invalidation channel lost, retrying: %s", exc)
            await asyncio.sleep(1)
