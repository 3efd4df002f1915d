"""Entry point: `overlap-api` (or `python -m overlap_api`)."""

from overlap_shared.logs import setup_logging

from overlap_api.app import create_app
from overlap_api.server import serve
from overlap_api.settings import Settings


def main() -> None:
    settings = Settings()
    setup_logging(settings.log_level)
    serve(create_app(settings), settings.api_host, settings.api_port)


if __name__ == "__main__":
    main()
