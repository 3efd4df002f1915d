"""The FastAPI application factory: the routers of every feature, the middleware around
them, the error handlers and the OpenAPI document. Its lifespan is ``wiring.wire``."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from overlap_shared import gc_pauses

from overlap_api.calendar_import import router as calendar_import
from overlap_api.events import routes as events
from overlap_api.http.admission import Admission, WriteQueue
from overlap_api.http.deadline import Deadline
from overlap_api.http.errors import BodyLimit, install_error_handlers
from overlap_api.http.fast_put import FastAvailabilityPut
from overlap_api.http.hot_reads import HotViewReads
from overlap_api.http.loop_lag import LoopLag
from overlap_api.http.monitoring import MetricsMiddleware, Monitor
from overlap_api.http.openapi import install_openapi
from overlap_api.me import routes as me
from overlap_api.ops import health, monitor
from overlap_api.participants import routes as participants
from overlap_api.realtime import routes as realtime
from overlap_api.settings import Settings
from overlap_api.wiring import wire

ROUTERS = (health, events, participants, me, monitor, realtime, calendar_import)


@asynccontextmanager
async def lifespan(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    async with wire(app, settings):
        gc_pauses.watch()
        gc_pauses.settle()  # start-up's objects out of every later collection
        yield


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
    app = FastAPI(
        title="Overlap API",
        version="0.1.0",
        description="Group availability scheduling: events, participants, availability, views.",
        lifespan=partial(lifespan, settings=settings),
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
        redirect_slashes=False,  # "/api/events/" is a 404 problem, not a redirect
        # FastAPI's native OpenTelemetry is unused here; off, a request skips the provider
        # lookups it made on every request (py-spy, issue #15)
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    install_error_handlers(app)
    install_middleware(app, settings)
    install_openapi(app)
    for router in (module.router for module in ROUTERS):
        app.include_router(router)
    return app


def install_middleware(app: FastAPI, settings: Settings) -> None:
    """The layers around the routes, innermost first (each ``add_middleware`` wraps the rest)."""
    app.add_middleware(BodyLimit)
    app.add_middleware(FastAvailabilityPut)  # the plain PUT availability, before the framework
    app.state.monitor = monitor = Monitor()  # the monitor route reads it (``MonitorDep``)
    if settings.enable_performance_monitoring:
        app.add_middleware(MetricsMiddleware, monitor=monitor)
    app.add_middleware(Deadline, seconds=settings.request_timeout_s)
    app.add_middleware(  # a refusal costs no task, no deadline, no metrics
        Admission,
        max_writes=settings.max_writes_in_flight,
        max_reads=settings.max_reads_in_flight,
        writes=WriteQueue(settings.write_concurrency, settings.write_queue_ms / 1000),
        lag=LoopLag(),
    )
    timed = monitor if settings.enable_performance_monitoring else None
    app.add_middleware(HotViewReads, monitor=timed)  # a hit does no I/O
    if settings.cors_origins:  # outermost, so hot reads get CORS headers too; none by default
        app.add_middleware(CORSMiddleware, **cors_options(settings.cors_origins))
