"""Liveness, readiness and Prometheus metrics."""

import asyncio
from collections.abc import Awaitable

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from overlap_api.http.deps import ResourcesDep
from overlap_api.resources import Resources

router = APIRouter(tags=["operations"])


@router.get("/api/healthz", summary="Liveness: the process answers")
@router.get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _check(name: str, probe: Awaitable[object], limit_s: float) -> str | None:
    try:
        async with asyncio.timeout(limit_s):
            ok = await probe
    except Exception as exc:  # any failure means "not ready"; report it by name
        return f"{name}: {type(exc).__name__}: {exc}"[:200]
    return None if ok is not False else f"{name}: unreachable"


async def _sql_ping(resources: Resources) -> bool:
    async with resources.engine.connect() as conn:
        await conn.execute(text("select 1"))
    return True


@router.get(
    "/api/readyz",
    summary="Readiness: PostgreSQL, Redis and Kafka answer",
    responses={503: {"description": "a dependency is down"}},
)
@router.get("/readyz", include_in_schema=False)
async def readyz(resources: ResourcesDep) -> Response:
    timeout = resources.settings.readiness_timeout_s
    failures = await asyncio.gather(
        _check("postgresql", _sql_ping(resources), timeout),
        _check("redis", resources.redis.ping(), timeout),
        _check("kafka", resources.broker.ping(timeout), timeout),
    )
    problems = [f for f in failures if f]
    if problems:
        return JSONResponse({"status": "unavailable", "failures": problems}, status_code=503)
    return JSONResponse({"status": "ready"})


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
