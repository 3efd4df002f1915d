"""Entry point: `overlap-invalidator` (or `python -m overlap_invalidator`)."""

from overlap_shared.worker import serve

from overlap_invalidator.app import create_app
from overlap_invalidator.settings import Settings


def main() -> None:
    settings = Settings()
    serve(create_app(settings), settings, settings.health_port, settings.health_host)


if __name__ == "__main__":
    main()
