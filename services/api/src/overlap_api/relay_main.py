"""Entry point `overlap-relay`: the outbox relay as its own process."""

import asyncio
import signal

from overlap_shared.logs import setup_logging

from overlap_api.app import make_relay
from overlap_api.resources import Resources
from overlap_api.settings import Settings


async def run(settings: Settings) -> None:
    resources = await Resources.open(settings)
    relay = make_relay(resources)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, relay.stop)
    try:
        await relay.run()
    finally:
        await resources.close()


def main() -> None:
    settings = Settings()
    setup_logging(settings.log_level)
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
