"""The stack under test: the running API, or the local stack started (``launcher.local``);
and the bench's own bare server, started through the launcher like every other process.

``ROOT``, ``free_port``, ``local_env`` and ``ensure_stack`` are the launcher's, named here
for the bench modules that import them from ``bench.stack``."""

import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from launcher.local import ensure_stack, local_env
from launcher.process import ROOT, START_TIMEOUT_S, Process, free_port, running

__all__ = ["ROOT", "bare_server", "ensure_stack", "free_port", "local_env"]


@contextmanager
def bare_server(body: bytes, database_url: str | None = None) -> Iterator[str]:
    """Start ``bench.bare`` serving ``body`` (and, on ``database_url``, its write floor);
    yield its URL of the constant-bytes endpoint."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/bare"
    with tempfile.NamedTemporaryFile(prefix="bench-bare-", suffix=".json") as f:
        f.write(body)
        f.flush()
        argv = [sys.executable, "-m", "bench.bare", "--port", str(port), "--body-file", f.name]
        argv += ["--database-url", database_url] if database_url else []
        log = Path(tempfile.gettempdir()) / f"bench-bare-{port}.log"
        with running(Process("bench.bare", argv, url, log), START_TIMEOUT_S):
            yield url
