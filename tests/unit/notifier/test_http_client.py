"""The Pusher calls' HTTP client costs no import search per request: httpcore imports
sniffio on every request to learn which async library runs, and without sniffio installed
each of those imports searched ``sys.path`` (seen in the notifier's profile)."""

import importlib.util

import sniffio


async def test_sniffio_is_installed_and_names_the_loop() -> None:
    assert importlib.util.find_spec("sniffio") is not None  # a dependency of the notifier
    assert sniffio.current_async_library() == "asyncio"
