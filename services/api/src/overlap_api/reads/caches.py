"""The API's caches besides the view: participant-key sessions, event metadata (with an
in-process L1 cleared through Redis pub/sub, see ``l1_channel``), and users' "my events"
pages. Entries are tagged so the cache-invalidator can clear exactly what a domain event
dirtied; every miss or Redis failure falls back to PostgreSQL. Reads share the view
reader's ``RedisGate``: one Redis deadline per read, one backoff for the process."""

import uuid
from datetime import date, datetime
from typing import Any

from overlap_shared.cache_keys import meta_key, session_key, user_page_key
from overlap_shared.tagcache import TagCache
from overlap_shared.view import EventSnapshot

from overlap_api.reads.l1 import VersionedL1
from overlap_api.reads.metrics import count_lookup
from overlap_api.reads.redis_gate import RedisBudget, RedisGate
from overlap_api.reads.views import ViewReader
from overlap_api.resources import Resources


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


def _document(found: object) -> dict[str, Any] | None:
    """A cached JSON object; None for a miss (or anything else under the key)."""
    return found if isinstance(found, dict) else None


class Caches:
    def __init__(
        self,
        resources: Resources,
        gate: RedisGate,
        meta_l1: VersionedL1[EventSnapshot],
        views: ViewReader,
    ) -> None:
        self.resources, self.gate, self._l1, self._views = resources, gate, meta_l1, views
        self.settings = resources.settings
        self.tags = TagCache(resources.redis)

    # --- sessions ------------------------------------------------------------------
    async def get_session(
        self, token: str, digest_hex: str, budget: RedisBudget
    ) -> dict[str, Any] | None:
        found = _document(
            await self.gate.call(self.tags.get(session_key(token, digest_hex)), budget)
        )
        count_lookup("sessions", found)
        return found

    async def put_session(
        self, token: str, digest_hex: str, version: int, pid: str, budget: RedisBudget
    ) -> None:
        tags = ("sessions", f"participant:{pid}")
        value = {"participant_id": pid, "version": version}
        ttl = self.settings.cache_ttl_sessions
        key = session_key(token, digest_hex)
        await self.gate.call(self.tags.put(token, key, version, value, ttl, tags), budget)

    # --- event metadata (L1 + Redis) --------------------------------------------------
    async def get_meta(self, token: str, budget: RedisBudget | None = None) -> EventSnapshot | None:
        local = self._l1.get(token)
        count_lookup("events_l1", local)
        if local is not None:
            return local[1]
        found = _document(await self.gate.call(self.tags.get(meta_key(token)), budget))
        count_lookup("events", found)
        if not found:
            return None
        event = snapshot_from_json(found)
        self._l1.put(token, event.version, event)
        return event

    async def put_meta(self, event: EventSnapshot, budget: RedisBudget | None = None) -> None:
        ttl = self.settings.cache_ttl_events
        value = snapshot_to_json(event)
        key = meta_key(event.token)
        put = self.tags.put(event.token, key, event.version, value, ttl, ("meta",))
        if await self.gate.call(put, budget):
            self._l1.put(event.token, event.version, event)

    # --- a writer's next read -----------------------------------------------------------
    # The workers clear caches from the domain events; these make a removal visible at once
    # to the reads that follow the 204 (and would otherwise be served from a cache).
    async def event_deleted(self, token: str, version: int) -> None:
        await self._views.bury(token, version)
        await self._forget(token, version, "meta", "sessions")

    async def participant_left(self, token: str, version: int, pid: uuid.UUID) -> None:
        await self._forget(token, version, f"participant:{pid}")

    async def _forget(self, token: str, version: int, *tags: str) -> None:
        ttl = self.settings.longest_cache_ttl_ms
        await self.gate.call(self.tags.invalidate(token, version, tags, ttl))
        self._l1.forget(token)

    # --- "my events" pages ------------------------------------------------------------
    async def get_user_page(
        self, user_id: str, page: str, budget: RedisBudget | None = None
    ) -> dict[str, Any] | None:
        found = _document(await self.gate.call(self.tags.get(user_page_key(user_id, page)), budget))
        count_lookup("users", found)
        return found

    async def put_user_page(
        self, user_id: str, page: str, value: dict[str, Any], budget: RedisBudget | None = None
    ) -> None:
        tokens = [e["token"] for e in value["events"]]
        ttl = self.settings.cache_ttl_users
        await self.gate.call(self.tags.put_user_page(user_id, page, value, ttl, tokens), budget)
