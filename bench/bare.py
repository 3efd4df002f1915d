"""The floor: constant bytes on the API's server stack (uvicorn + FastAPI, uvloop, httptools).

    python -m bench.bare --port 8199 --body-file view.json

It serves ``GET /bare`` with the file's bytes (the bench passes the cached view's bytes,
so both endpoints send the same payload), started with the options of ``overlap_api``.
"""

import argparse
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Response


def create_app(body: bytes) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/bare")
    async def bare() -> Response:
        return Response(body, media_type="application/json")

    return app


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--body-file", type=Path)
    a = p.parse_args()
    body = a.body_file.read_bytes() if a.body_file else b'{"version":1}'
    uvicorn.run(
        create_app(body),
        host=a.host,
        port=a.port,
        log_level="warning",
        access_log=False,
        loop="uvloop",
        http="httptools",
    )


if __name__ == "__main__":
    main()
