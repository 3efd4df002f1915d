"""Entry point: `overlap-api` (or `python -m overlap_api`)."""

import uvicorn
from overlap_shared.logs import setup_logging

from overlap_api.app import create_app
from overlap_api.settings import Settings


def main() -> None:
    settings = Settings()
    setup_logging(settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_level="warning",
        access_log=False,
        loop="uvloop",
        http="httptools",
    )


if __name__ == "__main__":
    main()
