"""Entry point `overlap-relay`: the outbox relay as its own process."""

import asyncio
import signal

from overlap_shared.logs import setup_logging

from overlap_api.settings import Settings
from overlap_api.writes.relay import make_relay


async def run(settings: Settings) -> None:
    # its own database connection and Kafka producer
    relay = make_relay(
        settings, settings.relay_batch_size, settings.relay_coalesce_ms, settings.relay_linger_ms
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, relay.stop)
    await relay.run()


def main() -> None:
    settings = Settings()
    setup_logging(settings.log_level)
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
