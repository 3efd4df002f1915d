"""The rest of the API's writes under fault, and a record of each: joins, renames, leaves,
organiser edits and removals on the events the pages show, and events created and deleted.

One task runs cycles, one request at a time, so each subject's changes are ordered: a
participant (joined, renamed, then leaving or removed by the organiser), the title of a
shown event (organiser edits), an event of its own (created, then deleted). What
PostgreSQL holds must be the state the last acknowledged change left, or one a later
unanswered change would leave (chaos.invariants.possible_states)."""

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

TITLE = "chaos"
EVENT = {
    "title": TITLE,
    "timezone": "UTC",
    "dates": ["2027-01-04"],
    "day_start": "09:00",
    "day_end": "17:00",
    "slot_minutes": 30,
}


DELETES = ("leave", "remove", "delete")


@dataclass(frozen=True)
class Change:
    """One write of the churn. ``subject``: a participant id or an event token;
    ``value``: the name or title it leaves (None: the subject is gone)."""

    kind: str  # "join" | "rename" | "leave" | "remove" | "edit" | "create" | "delete"
    token: str  # the event it changes
    subject: str
    value: str | None
    acked: bool  # a 2xx answer
    refused: bool  # an answer saying it was not applied
    version: int | None = None  # the event version the answer named


@dataclass
class Churn:
    """Cycles of changes on the shown events (``admin_keys``: token -> admin key)."""

    timed: Callable[..., Awaitable[httpx.Response | None]]
    admin_keys: dict[str, str]
    event_ids: dict[str, str]
    rng: random.Random
    changes: list[Change] = field(default_factory=list)
    unanswered_joins: set[str] = field(default_factory=set)  # names: may have joined
    deleted: set[str] = field(default_factory=set)  # tokens whose delete was acknowledged
    confirmed_gone: set[str] = field(default_factory=set)  # of those: seen answering 404
    serial: int = 0

    async def run(self, rate: float, stop: asyncio.Event) -> None:
        steps = (self.member, self.edit, self.scratch_event)
        while await self.pace(rate, stop):  # a step that fails at once must not spin
            await self.rng.choice(steps)(rate, stop)

    async def pace(self, rate: float, stop: asyncio.Event) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), self.rng.expovariate(rate))
        return not stop.is_set()

    def record(
        self, kind: str, token: str, subject: str, value: str | None, r: httpx.Response | None
    ) -> bool:
        """Record a change from its answer; True when it was acknowledged."""
        status = None if r is None else r.status_code
        acked = status is not None and status < 300
        # A retried delete may find its subject already gone: only a 2xx is sure.
        refused = status is not None and 400 <= status < 500 and kind not in DELETES
        version = _version(r) if acked and r is not None else None
        self.changes.append(Change(kind, token, subject, value, acked, refused, version))
        return acked

    async def member(self, rate: float, stop: asyncio.Event) -> None:
        """Join a shown event, rename, then leave or be removed by the organiser."""
        token = self.rng.choice(list(self.admin_keys))
        self.serial += 1
        name = f"c{self.serial}"
        base = f"/api/events/{token}/participants"
        r = await self.timed("churn", "POST", base, json={"name": name})
        if r is None or r.status_code != 201:
            if r is None or r.status_code >= 500:
                self.unanswered_joins.add(name)
            return
        pid, key = r.json()["participant"]["id"], r.json()["participant_key"]
        self.record("join", token, pid, name, r)
        mine = {"X-Participant-Key": key}
        if not await self.pace(rate, stop):
            return
        renamed = f"{name}-r"
        r = await self.timed("churn", "PATCH", f"{base}/me", json={"name": renamed}, headers=mine)
        self.record("rename", token, pid, renamed, r)
        await self.pace(rate, stop)  # leaves even when stopping: nothing left behind
        if self.rng.random() < 0.5:
            r = await self.timed("churn", "DELETE", f"{base}/me", headers=mine)
            self.record("leave", token, pid, None, r)
        else:
            admin = {"X-Admin-Key": self.admin_keys[token]}
            r = await self.timed("churn", "DELETE", f"{base}/{pid}", headers=admin)
            self.record("remove", token, pid, None, r)

    async def edit(self, rate: float, stop: asyncio.Event) -> None:
        """The organiser renames a shown event."""
        token = self.rng.choice(list(self.admin_keys))
        self.serial += 1
        title = f"chaos {self.serial}"
        headers = {"X-Admin-Key": self.admin_keys[token]}
        url = f"/api/events/{token}"
        r = await self.timed("churn", "PATCH", url, json={"title": title}, headers=headers)
        self.record("edit", token, token, title, r)

    async def scratch_event(self, rate: float, stop: asyncio.Event) -> None:
        """Create an event, then delete it."""
        r = await self.timed("churn", "POST", "/api/events", json=EVENT)
        if r is None or r.status_code != 201:
            return
        token, admin_key = r.json()["token"], r.json()["admin_key"]
        self.event_ids[token] = r.json()["event"]["id"]
        self.record("create", token, token, TITLE, r)
        await self.pace(rate, stop)
        headers = {"X-Admin-Key": admin_key}
        r = await self.timed("churn", "DELETE", f"/api/events/{token}", headers=headers)
        if self.record("delete", token, token, None, r):
            self.deleted.add(token)


def _version(r: httpx.Response) -> int | None:
    with contextlib.suppress(ValueError, KeyError, TypeError):
        return int(r.json()["version"])
    return None
