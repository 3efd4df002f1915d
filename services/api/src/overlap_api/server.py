"""The API's server stack: uvicorn with uvloop and httptools, no access log. Its own small
module so that the bench's bare floor (``bench/bare.py``) serves on the very same options
without importing the app."""

import uvicorn
from fastapi import FastAPI


def serve(app: FastAPI, host: str, port: int) -> None:
    """Run ``app`` on ``host:port`` until stopped."""
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        loop="uvloop",
        http="httptools",
    )
