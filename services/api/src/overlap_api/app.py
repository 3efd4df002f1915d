"""The FastAPI application factory."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from overlap_api.admission import Admission
from overlap_api.caches import Caches
from overlap_api.calendar_import.router import router as calendar_import_router
from overlap_api.deadline import Deadline
from overlap_api.errors import BodyLimit, install_error_handlers
from overlap_api.hot_reads import HotViewReads
from overlap_api.monitoring import MetricsMiddleware, Monitor
from overlap_api.openapi import install_openapi
from overlap_api.relay import KafkaPublisher, OutboxRelay, RelayConfig
from overlap_api.resources import Resources
from overlap_api.routes import events, export, health, me, monitor, participants, realtime
from overlap_api.settings import Settings
from overlap_api.view_reads import ViewReader


def make_relay(settings: Settings) -> OutboxRelay:
    config = RelayConfig(batch_size=settings.relay_batch_size)
    return OutboxRelay(lambda: KafkaPublisher(settings), settings.database_url, config)


def cors_options(origins: list[str]) -> dict[str, Any]:
    """CORS for the listed frontends: the methods and key headers the API uses, no cookies."""
    return {
        "allow_origins": origins,
        "allow_methods": ["GET", "POST", "PUT", "PATCH", "DELETE"],
        "allow_headers": [
            "Content-Type",
            "Authorization",
            "X-Admin-Key",
            "X-Participant-Key",
            "X-Event-Token",
            "X-Min-Version",
            "If-Match",
            "If-None-Match",
        ],
        "expose_headers": ["ETag", "Retry-After", "X-Request-ID"],
        "allow_credentials": False,
        "max_age": 600,
    }


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
            relay = make_relay(settings)
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
    install_middleware(app, settings)
    install_openapi(app)
    routers = (health, events, export, participants, me, monitor, realtime)
    for router in (module.router for module in routers):
        app.include_router(router)
    app.include_router(calendar_import_router)
    return app


def install_middleware(app: FastAPI, settings: Settings) -> None:
    """The layers around the routes, innermost first (each ``add_middleware`` wraps the rest)."""
    app.add_middleware(BodyLimit)
    app.state.monitor = Monitor()
    if settings.enable_performance_monitoring:
        app.add_middleware(MetricsMiddleware, monitor=app.state.monitor)
    app.add_middleware(Deadline, seconds=settings.request_timeout_s)
    app.add_middleware(  # a refusal costs no task, no deadline, no metrics
        Admission,
        max_writes=settings.max_writes_in_flight,
        max_reads=settings.max_reads_in_flight,
    )
    timed = app.state.monitor if settings.enable_performance_monitoring else None
    app.add_middleware(HotViewReads, monitor=timed)  # a hit does no I/O
    if settings.cors_origins:  # outermost, so hot reads get CORS headers too; none by default
        app.add_middleware(CORSMiddleware, **cors_options(settings.cors_origins))
