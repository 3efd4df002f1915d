"""The FastAPI application factory."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from overlap_api.errors import install_error_handlers
from overlap_api.openapi import install_openapi
from overlap_api.resources import Resources
from overlap_api.routes import events, health, me, participants
from overlap_api.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.resources = await Resources.open(settings)
        try:
            yield
        finally:
            await app.state.resources.close()

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
    install_openapi(app)
    for router in (health.router, events.router, participants.router, me.router):
        app.include_router(router)
    return app
