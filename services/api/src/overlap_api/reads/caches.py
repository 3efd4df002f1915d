"""The API's caches besides the view: participant-key sessions, event metadata (with an
in-process L1 cleared through Redis pub/sub), and users' "my events" pages. Entries are
tagged so the cache-invalidator can clear exactly what a domain event dirtied; every miss
or Redis failure falls back to PostgreSQL. Reads share the view reader's ``RedisGate``:
one Redis deadline per read, one backoff for the process."""

import asyncio
import contextlib
import logging
import time
import uuid
from collections import OrderedDict
from datetime import date, datetime
from typing import Any

import orjson
from overlap_shared.cache_keys import L1_CHANNEL, meta_key, session_key, user_page_key
from overlap_shared.tagcache import TagCache
from overlap_shared.view import EventSnapshot

from overlap_api.reads.queries import read_me
from overlap_api.reads.redis_gate import RedisBudget
from overlap_api.reads.views import CACHE_HITS, CACHE_MISSES, ViewReader
from overlap_api.resources import Resources
from overlap_api.writes.store import participant_key_hash

log = logging.getLogger(__name__)
L1_MAX = 10_000
L1_TTL_S = 10.0  # bound even if a pub/sub message is lost


def snapshot_to_json(event: EventSnapshot) -> dict[str, Any]:
    return {
        f: (v.isoformat() if isinstance(v, date | datetime) else v)
        for f, v in ((f, getattr(event, f)) for f in EventSnapshot.__dataclass_fields__)
    } | {
        "id": str(event.id),
        "dates": [d.isoformat() for d in event.dates] if event.dates is not None else None,
    }


def snapshot_from_json(data: dict[str, Any]) -> EventSnapshot:
    return EventSnapshot(
        **{
            **data,
            "id": uuid.UUID(data["id"]),
            "dates": tuple(date.fromisoformat(d) for d in data["dates"]) if data["dates"] else None,
            "weekdays": tuple(data["weekdays"]) if data["weekdays"] else None,
            "created_at": datetime.fromisoformat(data["created_at"]),
            "updated_at": datetime.fromisoformat(data["updated_at"]),
        }
    )


class Caches:
    def __init__(self, resources: Resources, views: ViewReader) -> None:
        self.resources, self.views = resources, views
        self.settings = resources.settings
        self.tags = TagCache(resources.redis)
        self.l1: OrderedDict[str, tuple[float, EventSnapshot]] = OrderedDict()
        self.gate = views.gate

    async def _safe(self, call: Any, budget: RedisBudget | None = None) -> Any:
        """Part of a read's ``budget``, or (after a write) a call with a deadline of its own."""
        if budget is None:
            return await self.gate.call_alone(call)
        return await self.gate.call(call, budget)

    # --- sessions ------------------------------------------------------------------
    async def get_session(
        self, token: str, digest_hex: str, budget: RedisBudget
    ) -> dict[str, Any] | None:
        found = await self._safe(self.tags.get(session_key(token, digest_hex)), budget)
        (CACHE_HITS if found else CACHE_MISSES).labels("sessions").inc()
        return found

    async def put_session(
        self, token: str, digest_hex: str, version: int, pid: str, budget: RedisBudget
    ) -> None:
        tags = ("sessions", f"participant:{pid}")
        value = {"participant_id": pid, "version": version}
        ttl = self.settings.cache_ttl_sessions
        key = session_key(token, digest_hex)
        await self._safe(self.tags.put(token, key, version, value, ttl, tags), budget)

    # --- event metadata (L1 + Redis) --------------------------------------------------
    async def get_meta(self, token: str, budget: RedisBudget | None = None) -> EventSnapshot | None:
        entry = self.l1.get(token)
        if entry and entry[0] > time.monotonic():
            CACHE_HITS.labels("events_l1").inc()
            return entry[1]
        CACHE_MISSES.labels("events_l1").inc()
        found = await self._safe(self.tags.get(meta_key(token)), budget)
        (CACHE_HITS if found else CACHE_MISSES).labels("events").inc()
        if not found:
            return None
        event = snapshot_from_json(found)
        self._remember(token, event)
        return event

    async def put_meta(self, event: EventSnapshot, budget: RedisBudget | None = None) -> None:
        ttl = self.settings.cache_ttl_events
        value = snapshot_to_json(event)
        key = meta_key(event.token)
        put = self.tags.put(event.token, key, event.version, value, ttl, ("meta",))
        if await self._safe(put, budget):
            self._remember(event.token, event)

    def _remember(self, token: str, event: EventSnapshot) -> None:
        ttl = min(L1_TTL_S, self.settings.cache_ttl_events / 1000)
        self.l1[token] = (time.monotonic() + ttl, event)
        self.l1.move_to_end(token)
        while len(self.l1) > L1_MAX:
            self.l1.popitem(last=False)

    async def listen_for_l1_invalidations(self) -> None:
        """Forget L1 entries named on the invalidation channel (runs for the app's life)."""
        while True:
            try:
                pubsub = self.resources.redis.pubsub()
                await pubsub.subscribe(L1_CHANNEL)
                async for message in pubsub.listen():
                    if message["type"] == "message":
                        self.on_l1_message(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # reconnect; L1 entries expire on their own meanwhile
                self.l1.clear()
                self.views.l1.clear()
                log.warning("L1 invalidation channel lost, retrying: %s", exc)
                await asyncio.sleep(1)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    def on_l1_message(self, data: bytes) -> None:
        """``<token>`` (metadata changed) or ``<token>:<version>`` (a newer view exists)."""
        token, _, version = data.decode().partition(":")
        self.l1.pop(token, None)
        self.views.l1.forget(token, int(version) if version.isdigit() else None)

    # --- a writer's next read -----------------------------------------------------------
    # The workers clear caches from the domain events; these make a removal visible at once
    # to the reads that follow the 204 (and would otherwise be served from a cache).
    async def event_deleted(self, token: str, version: int) -> None:
        await self.views.bury(token, version)
        await self._forget(token, version, "meta", "sessions")

    async def participant_left(self, token: str, version: int, pid: uuid.UUID) -> None:
        await self._forget(token, version, f"participant:{pid}")

    async def _forget(self, token: str, version: int, *tags: str) -> None:
        ttl = self.settings.longest_cache_ttl_ms
        await self._safe(self.tags.invalidate(token, version, tags, ttl))
        self.l1.pop(token, None)

    # --- "my events" pages ------------------------------------------------------------
    async def get_user_page(
        self, user_id: str, page: str, budget: RedisBudget | None = None
    ) -> dict[str, Any] | None:
        found = await self._safe(self.tags.get(user_page_key(user_id, page)), budget)
        (CACHE_HITS if found else CACHE_MISSES).labels("users").inc()
        return found

    async def put_user_page(
        self, user_id: str, page: str, value: dict[str, Any], budget: RedisBudget | None = None
    ) -> None:
        tokens = [e["token"] for e in value["events"]]
        ttl = self.settings.cache_ttl_users
        await self._safe(self.tags.put_user_page(user_id, page, value, ttl, tokens), budget)


async def read_me_cached(
    caches: Caches, views: ViewReader, token: str, participant_key: str | None
) -> dict[str, Any]:
    """The caller's own record: session cache + cached view, else one SQL statement. The
    Redis calls of all three share one deadline."""
    digest = participant_key_hash(participant_key).hex()
    budget = caches.gate.budget()
    session = await caches.get_session(token, digest, budget)
    if session:
        view = orjson.loads(await views.read(token, session["version"], budget))
        for p in view["participants"]:
            if p["id"] == session["participant_id"]:
                return {
                    "participant": {"id": p["id"], "name": p["name"]},
                    "available": p["available"],
                    "if_needed": p["if_needed"],
                    "version": view["version"],
                }
    async with caches.resources.reading() as conn:
        me = await read_me(conn, token, participant_key)
    await caches.put_session(token, digest, me["version"], str(me["participant"]["id"]), budget)
    return me
