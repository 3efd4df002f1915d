"""The gateway's error log shows no query string (a key may be put there by mistake): the
lines nginx writes for a rate-limited request, an oversized body and an API process that
refuses connections quote the request line, the upstream URL and the referrer; apps.sh cuts
their query strings before the log. Also: with no API process left, a 503 problem with
Retry-After (never nginx's 502 page)."""

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from launcher.local import app_stack
from tests.conftest import Services
from tests.servers import stop_group

SECRET = "key-put-in-the-query"
QUERY = f"?participant_key={SECRET}&min_version=1"


@pytest.fixture(scope="module")
def gateway(
    services: Services, migrated: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    home = tmp_path_factory.mktemp("error-log-stack")
    with app_stack(home, services.database_url, GATEWAY_RATE="2") as url:
        yield url, home


@pytest.mark.timeout(400)  # the stack's start-up included, on a busy machine
def test_error_lines_name_the_path_but_never_the_query(gateway: tuple[str, Path]) -> None:
    url, home = gateway
    headers = {"Referer": f"http://page.example/e/x{QUERY}"}
    with httpx.Client(timeout=10, headers=headers) as client:
        limited = [client.get(f"{url}/api/healthz{QUERY}").status_code for _ in range(260)]
        assert 429 in limited
        too_large = client.put(f"{url}/api/events/abc{QUERY}", content=b"x" * 300_000)
        assert too_large.status_code == 413
        stop_group(home / "run" / "api-0.pid", signal.SIGTERM, timeout_s=20)
        down = client.get(f"{url}/api/events/abc{QUERY}")
    assert down.status_code == 503
    assert down.headers["retry-after"] == "1"
    assert down.headers["content-type"] == "application/problem+json"
    time.sleep(0.5)  # the filter writes each line as it comes
    log = (home / "log" / "gateway.log").read_text()
    # The three kinds of line were written, with the request's path...
    assert "limiting requests" in log
    assert "client intended to send too large body" in log
    assert "connect() failed" in log
    assert 'request: "GET /api/events/abc HTTP/1.1"' in log
    assert 'upstream: "http://127.0.0.1:' in log
    # ...and nothing of its query string.
    assert SECRET not in log
    assert "min_version" not in log
