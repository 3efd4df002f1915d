"""Entry point: `overlap-availability` (or `python -m overlap_availability`)."""

from overlap_shared.worker import serve

from overlap_availability.app import create_app
from overlap_availability.settings import Settings


def main() -> None:
    settings = Settings()
    serve(create_app(settings), settings, settings.health_port, settings.health_host)


if __name__ == "__main__":
    main()
