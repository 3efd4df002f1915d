"""The stack under test: use the running API, or start the local stack; the bare server."""

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
LOCAL = ROOT / "deploy" / "local"


def local_env() -> dict[str, str]:
    """The environment of deploy/local/env.sh (values already set are kept)."""
    out = subprocess.run(
        ["bash", "-c", f"source {LOCAL / 'env.sh'} && env -0"],
        capture_output=True,
        check=True,
        env=os.environ.copy(),
    ).stdout.decode()
    return dict(item.split("=", 1) for item in out.split("\0") if "=" in item)


def ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/readyz", timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


def ensure_stack(api_url: str, env: dict[str, str], *, start: bool = True) -> str:
    """ "existing" when the API already answers /api/readyz, else start infra + apps."""
    deadline = time.monotonic() + 15  # a shared machine: someone may be restarting it
    while time.monotonic() < deadline:
        if ready(api_url):
            return "existing"
        time.sleep(0.5)
    if not start:
        raise RuntimeError(f"no API ready at {api_url} (and --no-start was given)")
    print("[bench] API not ready: starting the local stack (infra.sh up, apps.sh up)", flush=True)
    subprocess.run([str(LOCAL / "infra.sh"), "up"], check=True, env=env, cwd=ROOT)
    subprocess.run([str(LOCAL / "apps.sh"), "up"], check=True, env=env, cwd=ROOT)
    deadline = time.monotonic() + 60
    while not ready(api_url):
        if time.monotonic() > deadline:
            raise RuntimeError(f"API not ready at {api_url} after starting the stack")
        time.sleep(0.5)
    return "started"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def bare_server(body: bytes) -> Iterator[str]:
    """Start ``bench.bare`` serving ``body``; yield its URL of the constant-bytes endpoint."""
    port = free_port()
    with tempfile.NamedTemporaryFile(prefix="bench-bare-", suffix=".json") as f:
        f.write(body)
        f.flush()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.bare", "--port", str(port), "--body-file", f.name],
            cwd=ROOT,
        )
        url = f"http://127.0.0.1:{port}/bare"
        try:
            deadline = time.monotonic() + 30
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"bench.bare exited with {proc.returncode}")
                try:
                    if httpx.get(url, timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("bench.bare not ready within 30 s")
                time.sleep(0.1)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
