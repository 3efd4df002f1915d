"""The FastAPI application factory."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from overlap_shared.worker import create_broker

from overlap_api.caches import Caches
from overlap_api.deadline import Deadline
from overlap_api.errors import BodyLimit, install_error_handlers
from overlap_api.monitoring import MetricsMiddleware, Monitor
from overlap_api.openapi import install_openapi
from overlap_api.relay import OutboxRelay, RelayConfig
from overlap_api.resources import Resources
from overlap_api.routes import events, export, health, me, monitor, participants, realtime
from overlap_api.settings import Settings
from overlap_api.view_reads import ViewReader


def make_relay(resources: Resources) -> OutboxRelay:
    settings = resources.settings
    config = RelayConfig(batch_size=settings.relay_batch_size)
    return OutboxRelay(
        resources.engine, lambda: create_broker(settings, "relay"), settings.database_url, config
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.resources = resources = await Resources.open(settings)
        app.state.views = views = ViewReader(resources)
        app.state.caches = caches = Caches(resources, views)
        l1_task = asyncio.create_task(caches.listen_for_l1_invalidations(), name="l1-invalidation")
        relay_task = None
        if settings.relay_enabled:
            relay = make_relay(resources)
            relay_task = asyncio.create_task(relay.run(), name="outbox-relay")
        try:
            yield
        finally:
            l1_task.cancel()
            if relay_task:
                relay.stop()
                await asyncio.wait_for(relay_task, 10)
            await resources.close()

    app = FastAPI(
        title="Overlap API",
        version="0.1.0",
        description="Group availability scheduling: events, participants, availability, views.",
        lifespan=lifespan,
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    install_error_handlers(app)
    app.add_middleware(BodyLimit)
    app.state.monitor = Monitor()
    if settings.enable_performance_monitoring:
        app.add_middleware(MetricsMiddleware, monitor=app.state.monitor)
    app.add_middleware(Deadline, seconds=settings.request_timeout_s)  # outermost
    install_openapi(app)
    routers = (health, events, export, participants, me, monitor, realtime)
    for router in (module.router for module in routers):
        app.include_router(router)
    return app
