"""The in-process cache (L1) of the read wing, kept honest by version floors. Pure.

One type serves both L1s: serialized views, and event metadata. Entries live ``ttl_s`` at
most. When a newer version of an event is announced (the availability worker publishes
``<token>:<version>`` on the L1 channel after writing a view) the event's *floor* rises:
older entries stop answering and cannot be stored again, so a read that raced the
announcement cannot put a stale view back.
"""

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

V = TypeVar("V")
L1_MAX = 10_000  # entries per L1
# Views stay in process memory this long at most; a newer version announced on the L1
# channel evicts them at once, so the TTL only bounds staleness if a message is lost.
VIEW_L1_TTL_S = 2.0
META_L1_TTL_S = 10.0  # event metadata; at most CACHE_TTL_EVENTS too


class VersionedL1(Generic[V]):
    def __init__(
        self, ttl_s: float, max_entries: int = L1_MAX, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl_s, self.max_entries, self.clock = ttl_s, max_entries, clock
        self._entries: OrderedDict[str, tuple[float, int, V]] = OrderedDict()
        self._floors: OrderedDict[str, int] = OrderedDict()

    def get(self, token: str) -> tuple[int, V] | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        expires, version, data = entry
        if expires <= self.clock() or version < self._floors.get(token, 0):
            del self._entries[token]
            return None
        return version, data

    def put(self, token: str, version: int, data: V) -> bool:
        if version < self._floors.get(token, 0):
            return False
        self._entries[token] = (self.clock() + self.ttl_s, version, data)
        self._entries.move_to_end(token)
        _trim(self._entries, self.max_entries)
        return True

    def forget(self, token: str, version: int | None = None) -> None:
        """Drop the entry; with ``version``, also refuse anything older from now on."""
        self._entries.pop(token, None)
        if version is not None:
            self._floors[token] = max(version, self._floors.get(token, 0))
            self._floors.move_to_end(token)
            _trim(self._floors, self.max_entries)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def _trim(mapping: "OrderedDict[str, Any]", limit: int) -> None:
    while len(mapping) > limit:
        mapping.popitem(last=False)
