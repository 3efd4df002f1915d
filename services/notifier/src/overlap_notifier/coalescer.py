"""Per-channel coalescing of pending updates (pure: the caller passes the time).

Only the latest update per (channel, event name) is kept: a later version replaces an
earlier one and inherits its waiters, so one delivery settles every message it covers.
An update to a quiet channel (no call for it in the last ``window_s``) is due at once, so a
lone change reaches pages without waiting; otherwise a channel is due ``window_s`` after
its first pending update, which bounds a burst to about one call per window. A channel
whose call is in flight is not handed out again until that call ends (updates stay in
order). The number
of pending channels is capped: past the cap the oldest ``view.updated`` is dropped.
"""

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from overlap_notifier.payloads import VIEW_UPDATED

W = TypeVar("W")


@dataclass(eq=False)
class Update(Generic[W]):
    channel: str
    name: str  # view.updated | event.updated | event.deleted
    version: int
    token: str
    occurred_at: float  # epoch seconds of the message (for delivery latency)
    received_at: float  # clock of the first message this update covers (for the deadline)
    topic: str = ""  # where the message came from (for dead-lettering)
    raw: bytes = b""
    key: bytes | None = None
    waiters: list[W] = field(default_factory=list)
    attempts: int = 0


def merge(old: Update[W], new: Update[W]) -> Update[W]:
    """The update that survives; it inherits the other's waiters and oldest arrival."""
    winner, loser = (new, old) if new.version > old.version else (old, new)
    winner.waiters.extend(loser.waiters)
    loser.waiters = []
    winner.received_at = min(winner.received_at, loser.received_at)
    winner.attempts = max(winner.attempts, loser.attempts)
    return winner


@dataclass
class _Slot(Generic[W]):
    due: float
    updates: dict[str, Update[W]] = field(default_factory=dict)


class Coalescer(Generic[W]):
    def __init__(self, window_s: float, max_channels: int, remember: int = 10_000) -> None:
        self.window_s, self.max_channels, self.remember = window_s, max_channels, remember
        self._pending: OrderedDict[str, _Slot[W]] = OrderedDict()
        self._in_flight: set[str] = set()
        self._sent: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._last_call: OrderedDict[str, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._pending)

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def is_sent(self, update: Update[W]) -> bool:
        """Was this version (or a later one) of this channel's event delivered already?"""
        return self._sent.get((update.channel, update.name), 0) >= update.version

    def add(self, update: Update[W], now: float) -> list[Update[W]]:
        """Queue ``update``; returns the updates dropped to keep within the cap."""
        quiet = now - self._last_call.get(update.channel, float("-inf")) >= self.window_s
        leading = quiet and update.channel not in self._in_flight
        self._put(update, now if leading else now + self.window_s)
        return self._enforce_cap(keep=update.channel)

    def requeue(self, updates: list[Update[W]], due: float) -> list[Update[W]]:
        """Put back updates whose call failed, to go out again at ``due`` (or later)."""
        for update in updates:
            self._put(update, due, at_least=True)
        return self._enforce_cap(keep=None)

    def _put(self, update: Update[W], due: float, at_least: bool = False) -> None:
        slot = self._pending.get(update.channel)
        if slot is None:
            self._pending[update.channel] = _Slot(due, {update.name: update})
            return
        if at_least:
            slot.due = max(slot.due, due)
        old = slot.updates.get(update.name)
        slot.updates[update.name] = merge(old, update) if old else update

    def _enforce_cap(self, keep: str | None) -> list[Update[W]]:
        dropped: list[Update[W]] = []
        while len(self._pending) > self.max_channels:
            victim = next(
                (c for c, s in self._pending.items() if c != keep and VIEW_UPDATED in s.updates),
                None,
            )
            if victim is None:
                break  # only event.updated/deleted pending: rare and never dropped
            slot = self._pending[victim]
            dropped.append(slot.updates.pop(VIEW_UPDATED))
            if not slot.updates:
                del self._pending[victim]
        return dropped

    def has_due(self, now: float) -> bool:
        due = self.next_due()
        return due is not None and due <= now

    def next_due(self) -> float | None:
        """The earliest time a pending channel (not in flight) becomes due."""
        dues = [s.due for c, s in self._pending.items() if c not in self._in_flight]
        return min(dues) if dues else None

    def take(self, now: float, max_events: int) -> list[Update[W]]:
        """Due channels' updates, whole channels only, at most ``max_events`` (but at least
        one channel when any is due). The channels are in flight until :meth:`done`."""
        taken: list[Update[W]] = []
        for channel, slot in list(self._pending.items()):
            if slot.due > now or channel in self._in_flight:
                continue
            if taken and len(taken) + len(slot.updates) > max_events:
                break
            del self._pending[channel]
            self._in_flight.add(channel)
            self._last_call[channel] = now
            self._last_call.move_to_end(channel)
            while len(self._last_call) > self.remember:
                self._last_call.popitem(last=False)
            taken.extend(slot.updates.values())
        return taken

    def done(self, updates: list[Update[W]], delivered: bool) -> None:
        """The call carrying ``updates`` ended (successfully when ``delivered``)."""
        for update in updates:
            self._in_flight.discard(update.channel)
            if delivered:
                key = (update.channel, update.name)
                self._sent[key] = max(self._sent.get(key, 0), update.version)
                self._sent.move_to_end(key)
        while len(self._sent) > self.remember:
            self._sent.popitem(last=False)
