"""The tests' face of the launcher (``launcher/``): a service process for the length of a
block, its log in ``.local/log/test-<name>.log`` beside the stack's own logs."""

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from launcher.process import LOG_DIR, ROOT, START_TIMEOUT_S, Process, free_port, running
from launcher.services import API, url
from launcher.services import process as service_process

__all__ = ["ROOT", "START_TIMEOUT_S", "api_process", "free_port", "process", "stop_group"]


@contextmanager
def process(
    args: list[str],
    env: dict[str, str],
    ready_url: str,
    name: str,
    ready_s: float = START_TIMEOUT_S,
) -> Iterator[None]:
    """``args`` running, healthy at ``ready_url``, for the block."""
    with running(Process(name, args, ready_url, LOG_DIR / f"test-{name}.log", env), ready_s):
        yield


@contextmanager
def api_process(env: dict[str, str]) -> Iterator[str]:
    """An API process of the test's own on a free port; yields its base URL."""
    port = free_port()
    api = service_process(API, f"test-api-{port}", env, port)
    with running(api):
        yield url(port)


def stop_group(pid_file: Path, sig: signal.Signals, timeout_s: float) -> None:
    """Signal the process group a launcher started (its leader's pid in ``pid_file``) and
    wait until the leader is gone."""
    pid = int(pid_file.read_text())
    os.killpg(pid, sig)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} ({pid_file.name}) did not stop within {timeout_s} s")
