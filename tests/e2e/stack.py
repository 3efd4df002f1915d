"""The whole app stack (API, workers, nginx gateway) from deploy/local/apps.sh, on free ports
with a private OVERLAP_HOME, for end-to-end tests that go through the gateway."""

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.servers import ROOT, free_port

PORT_VARS = (
    "API_PORT",
    "GATEWAY_PORT",
    "AVAILABILITY_HEALTH_PORT",
    "INVALIDATOR_HEALTH_PORT",
    "NOTIFIER_HEALTH_PORT",
)


@contextmanager
def app_stack(home: Path, database_url: str, **extra: str) -> Iterator[str]:
    """Start the stack, yield the gateway's base URL, stop it (even when start-up failed)."""
    env = {
        **os.environ,
        **{name: str(free_port()) for name in PORT_VARS},
        "OVERLAP_HOME": str(home),
        "DATABASE_URL": database_url,
        **extra,
    }
    script = str(ROOT / "deploy/local/apps.sh")
    try:
        subprocess.run([script, "up"], env=env, check=True, timeout=120)
        yield f"http://127.0.0.1:{env['GATEWAY_PORT']}"
    finally:
        subprocess.run([script, "down"], env=env, check=False, timeout=120)
