"""Which offsets may be committed: those below the first record not yet settled (pure).

The consumer keeps reading while earlier updates wait for their window or for Pusher, so
it cannot commit "everything consumed". Each record is registered in order; once every
record up to some offset of a partition is settled (delivered, skipped or dead-lettered),
that partition may be committed up to there.
"""

from collections import deque
from dataclasses import dataclass
from typing import Generic, TypeVar

P = TypeVar("P")  # a topic-partition


@dataclass(eq=False)
class Entry:
    offset: int
    settled: bool = False

    def settle(self, *_: object) -> None:
        self.settled = True


class OffsetTracker(Generic[P]):
    def __init__(self) -> None:
        self._parts: dict[P, deque[Entry]] = {}
        self._last: dict[P, int] = {}

    @property
    def unsettled(self) -> int:
        return sum(1 for q in self._parts.values() for e in q if not e.settled)

    def add(self, part: P, offset: int) -> Entry:
        if offset <= self._last.get(part, -1):  # the consumer was rewound: start over
            self._parts.pop(part, None)
        self._last[part] = offset
        entry = Entry(offset)
        self._parts.setdefault(part, deque()).append(entry)
        return entry

    def committable(self) -> dict[P, int]:
        """Per partition, the offset to commit (next to read); settled entries are let go."""
        out: dict[P, int] = {}
        for part, queue in self._parts.items():
            while queue and queue[0].settled:
                out[part] = queue.popleft().offset + 1
        return out

    def keep_only(self, assigned: set[P]) -> None:
        """Forget partitions this consumer no longer owns (their new owner replays them)."""
        for part in [p for p in self._parts if p not in assigned]:
            del self._parts[part]
            self._last.pop(part, None)
