"""A map that keeps its keys in order of use: the one shape of the per-process caches that
drop their least recently used entry past a bound (the API's L1 views and event metadata,
its slot grids of the PUT path and held view aggregates, the availability worker's view
aggregates)."""

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Lru(Generic[K, V]):
    """Values by key, least recently used first; at most ``max_items`` when that is set
    (an owner with another bound trims with :meth:`oldest` and :meth:`pop`)."""

    def __init__(self, max_items: int | None = None) -> None:
        self.max_items = max_items
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        """The value of ``key``, now the most recently used; None when it is not held."""
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        """Hold ``value`` as the most recently used; past ``max_items`` the oldest go."""
        self._items[key] = value
        self._items.move_to_end(key)
        while self.max_items is not None and len(self._items) > self.max_items:
            self._items.popitem(last=False)

    def pop(self, key: K) -> V | None:
        return self._items.pop(key, None)

    def clear(self) -> None:
        self._items.clear()

    def oldest(self) -> K:
        """The least recently used key (the map must not be empty)."""
        return next(iter(self._items))

    def __len__(self) -> int:
        return len(self._items)
