"""The in-process cache (L1) of the read wing, kept honest by version floors. Pure.

One type serves both L1s: serialized views, and event metadata. Entries live ``ttl_s`` at
most. When a newer version of an event is announced (the availability worker publishes
``<token>:<version>`` on the L1 channel after writing a view) the event's *floor* rises:
older entries stop answering and cannot be stored again, so a read that raced the
announcement cannot put a stale view back.
"""

import time
from collections.abc import Callable
from typing import Generic, TypeVar

from overlap_shared.lru import Lru

V = TypeVar("V")
L1_MAX = 10_000  # entries per L1
# Views stay in process memory this long at most; a newer version announced on the L1
# channel evicts them at once, so the TTL only bounds staleness if a message is lost.
VIEW_L1_TTL_S = 2.0
META_L1_TTL_S = 10.0  # event metadata; at most CACHE_TTL_EVENTS too


class VersionedL1(Generic[V]):
    """Entries (least recently used dropped first past ``max_entries``) and the floors of
    the events announced lately (as many at most)."""

    def __init__(
        self, ttl_s: float, max_entries: int = L1_MAX, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl_s, self.clock = ttl_s, clock
        self._entries: Lru[str, tuple[float, int, V]] = Lru(max_entries)
        self._floors: Lru[str, int] = Lru(max_entries)

    def get(self, token: str) -> tuple[int, V] | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        expires, version, data = entry
        if expires <= self.clock() or version < self._floor(token):
            self._entries.pop(token)
            return None
        return version, data

    def put(self, token: str, version: int, data: V) -> bool:
        if version < self._floor(token):
            return False
        self._entries.put(token, (self.clock() + self.ttl_s, version, data))
        return True

    def forget(self, token: str, version: int | None = None) -> None:
        """Drop the entry; with ``version``, also refuse anything older from now on."""
        self._entries.pop(token)
        if version is not None:
            self._floors.put(token, max(version, self._floor(token)))

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def _floor(self, token: str) -> int:
        floor = self._floors.get(token)
        return 0 if floor is None else floor
