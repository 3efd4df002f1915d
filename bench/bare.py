"""The floors: the API's server stack (uvicorn + FastAPI, uvloop, httptools) with no app work.

    python -m bench.bare --port 8199 --body-file view.json [--database-url URL]

It serves ``GET /bare`` with the file's bytes (the bench passes the cached view's bytes,
so both endpoints send the same payload), served as ``overlap_api`` serves (``overlap_api.server``).
With ``--database-url`` it also serves ``PUT /bare`` as the API's PUT availability is
served (``overlap_api.http.fast_put``): by an ASGI middleware before FastAPI's router, the
body read, one ``select 1`` on a connection of a pool like the PUT's
(``overlap_shared.db.create_pool``), the bytes sent as two ASGI messages: the floor of a
write, one statement and no app work.
"""

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from fastapi import FastAPI, Response
from overlap_api.http.fast_put import read_body, send_json
from overlap_api.server import serve
from overlap_shared.db import create_pool
from starlette.types import ASGIApp, Receive, Scope, Send


class BareWrite:
    """ASGI middleware: ``PUT /bare`` answered with one pooled ``select 1`` and ``body``."""

    def __init__(self, app: ASGIApp, body: bytes) -> None:
        self.app, self.body = app, body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "PUT" or scope["path"] != "/bare":
            return await self.app(scope, receive, send)
        await read_body(receive)
        pool: asyncpg.Pool = scope["app"].state.pool
        async with pool.acquire() as conn:
            await conn.fetchval("select 1")
        await send_json(send, self.body)


def create_app(body: bytes, database_url: str | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await create_pool(database_url, "bench-bare", 8) if database_url else None
        app.state.pool = pool
        yield
        if pool is not None:
            await pool.close()

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    if database_url:
        app.add_middleware(BareWrite, body=body)

    @app.get("/bare")
    async def bare() -> Response:
        return Response(body, media_type="application/json")

    return app


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--body-file", type=Path)
    p.add_argument("--database-url", help="also serve PUT /bare: one statement on this database")
    a = p.parse_args()
    body = a.body_file.read_bytes() if a.body_file else b'{"version":1}'
    serve(create_app(body, a.database_url), a.host, a.port)


if __name__ == "__main__":
    main()
