"""The one function that wires the app's resources: it opens the process-wide resources,
builds the read wing on them (one Redis gate, the two L1s, the view reader and the
caches), starts the background tasks (the L1 listener, the replica lag gauge when
``DATABASE_REPLICA_URL`` is set, and the outbox relay when ``RELAY_ENABLED``), and closes it
all again. The lifespan and the tests both use it; routes
reach the parts through the typed dependencies of ``http.deps``."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from overlap_shared.settings import PusherSettings
from pusher import Pusher
from starlette.applications import Starlette

from overlap_api.reads.caches import Caches
from overlap_api.reads.l1 import META_L1_TTL_S, VIEW_L1_TTL_S, VersionedL1
from overlap_api.reads.l1_channel import LocalCaches, listen
from overlap_api.reads.redis_gate import RedisGate
from overlap_api.reads.replica import track_lag
from overlap_api.reads.views import ViewReader
from overlap_api.resources import Resources
from overlap_api.settings import Settings
from overlap_api.writes.relay import make_relay


@dataclass(frozen=True)
class Wiring:
    """Everything the routes use, built once per process."""

    resources: Resources
    local: LocalCaches
    views: ViewReader
    caches: Caches
    pusher: PusherSettings  # PUSHER_* variables, read once
    signer: Pusher  # signs channel authorizations

    @classmethod
    def build(cls, resources: Resources, pusher_settings: PusherSettings) -> "Wiring":
        settings = resources.settings
        gate = RedisGate(settings.redis_read_budget_s)
        meta_ttl_s = min(META_L1_TTL_S, settings.cache_ttl_events / 1000)
        local = LocalCaches(VersionedL1(VIEW_L1_TTL_S), VersionedL1(meta_ttl_s))
        views = ViewReader(resources, gate, local.views)
        caches = Caches(resources, gate, local.meta, views)
        signer = Pusher(**pusher_settings.client_options())
        return cls(resources, local, views, caches, pusher_settings, signer)


@asynccontextmanager
async def wire(app: Starlette, settings: Settings) -> AsyncIterator[Wiring]:
    """Open, build and start all of it for ``app``; close it on leaving."""
    wiring = Wiring.build(await Resources.open(settings), PusherSettings())
    attach(app, wiring)
    watchers = [asyncio.create_task(listen(wiring.resources.redis, wiring.local), name="l1")]
    if wiring.resources.replica is not None:
        watchers.append(asyncio.create_task(track_lag(wiring.resources), name="replica-lag"))
    relay = None
    if settings.relay_enabled:
        relay = make_relay(
            settings,
            settings.relay_batch_size,
            settings.relay_coalesce_ms,
            settings.relay_linger_ms,
        )
    relay_task = asyncio.create_task(relay.run(), name="outbox-relay") if relay else None
    try:
        yield wiring
    finally:
        for task in watchers:
            task.cancel()
        if relay is not None and relay_task is not None:
            relay.stop()
            await asyncio.wait_for(relay_task, 10)
        await wiring.views.write_behind.drain()
        await wiring.resources.close()


def attach(app: Starlette, wiring: Wiring) -> None:
    """Let ``app`` serve with ``wiring`` (``wire`` does it; tests share one wiring)."""
    app.state.wiring = wiring


def wiring_of(app: Starlette) -> Wiring | None:
    """The app's wiring; None before its lifespan began (an app under construction)."""
    wiring: Wiring | None = getattr(app.state, "wiring", None)
    return wiring
