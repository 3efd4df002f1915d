"""The floor: constant bytes on the API's server stack (uvicorn + FastAPI, uvloop, httptools).

    python -m bench.bare --port 8199 --body-file view.json

It serves ``GET /bare`` with the file's bytes (the bench passes the cached view's bytes,
so both endpoints send the same payload), served as ``overlap_api`` serves (``overlap_api.server``).
"""

import argparse
from pathlib import Path

from fastapi import FastAPI, Response
from overlap_api.server import serve


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
    serve(create_app(body), a.host, a.port)


if __name__ == "__main__":
    main()
