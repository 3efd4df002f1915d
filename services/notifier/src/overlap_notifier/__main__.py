"""Entry point: `overlap-notifier` (or `python -m overlap_notifier`)."""

from overlap_shared.worker import serve

from overlap_notifier.app import create_app
from overlap_notifier.settings import Settings


def main() -> None:
    settings = Settings()
    serve(create_app(settings), settings, settings.health_port, settings.health_host)


if __name__ == "__main__":
    main()
