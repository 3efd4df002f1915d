"""The whole stack of deploy/compose.yaml as containers, driven through its gateway.

Run by ``make test-compose`` (OVERLAP_SERVICES=compose, after ``make images``; the compose
v2 client comes from COMPOSE_BIN): up with the images built here and never a pull,
create → join → paint → view with a websocket client receiving view.updated, availability
scaled to 3 sharing the partitions, and a teardown that leaves nothing behind. Published
ports are on 127.0.0.1, chosen by tests.containers.host_ports.
"""

import asyncio
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from overlap_shared.settings import PusherSettings, ServiceSettings
from overlap_shared.topics import AVAILABILITY_GROUP

from bench.group import describe, even
from tests.conftest import Services
from tests.containers import host_ports
from tests.kafka_tail import group_stable
from tests.pusher_client import socket as pusher_socket
from tests.pusher_client import subscribe_private
from tests.servers import ROOT

pytestmark = pytest.mark.timeout(1200)  # a whole stack starting on a busy machine

PORT_VARS = ("GATEWAY_PORT", "API_PORT", "PG_PORT", "REDIS_PORT", "KAFKA_PORT", "SOKETI_PORT")
# compose runs the services with the default topics
DOMAIN_TOPIC = str(ServiceSettings.model_fields["domain_topic"].default)
DOMAIN_PARTITIONS = int(ServiceSettings.model_fields["domain_partitions"].default)
UP_TIMEOUT_S = 600


@dataclass
class Stack:
    """One compose project: its name, environment and the commands on it."""

    project: str
    env: dict[str, str]

    def compose(self, *args: str, timeout: float = UP_TIMEOUT_S) -> str:
        command = [
            os.environ["COMPOSE_BIN"],
            "--project-name",
            self.project,
            "--env-file",
            str(ROOT / "deploy/images/images.env"),
            "-f",
            str(ROOT / "deploy/compose.yaml"),
            *args,
        ]
        done = subprocess.run(
            command, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        assert done.returncode == 0, f"compose {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def leftovers(self) -> dict[str, list[str]]:
        """Containers, volumes and networks still labelled with this project."""
        label = f"label=com.docker.compose.project={self.project}"
        found = {}
        for kind in ("container", "volume", "network"):
            every = ["-a"] if kind == "container" else []
            listed = subprocess.run(
                ["/usr/bin/docker", kind, "ls", "-q", *every, "--filter", label],
                capture_output=True,
                text=True,
                check=True,
            )
            found[kind] = listed.stdout.split()
        return found

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.env['GATEWAY_PORT']}"

    def services(self) -> Services:
        """Where the host reaches this stack: Pusher through the gateway's /app/."""
        e = self.env
        return Services(
            database_url=f"postgresql+asyncpg://overlap:overlap@127.0.0.1:{e['PG_PORT']}/overlap",
            redis_url=f"redis://127.0.0.1:{e['REDIS_PORT']}/0",
            kafka_bootstrap_servers=f"127.0.0.1:{e['KAFKA_PORT']}",
            pusher=PusherSettings().model_copy(
                update={"host": "127.0.0.1", "port": int(e["GATEWAY_PORT"])}
            ),
        )


def first_200(url: str, since: float, timeout_s: float = UP_TIMEOUT_S) -> float:
    """Seconds from ``since`` until ``url`` first answers 200."""
    while True:
        try:
            if httpx.get(url, timeout=3).status_code == 200:
                return time.monotonic() - since
        except httpx.HTTPError:
            pass
        assert time.monotonic() - since < timeout_s, f"{url} never answered 200"
        time.sleep(0.5)


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    ports = host_ports(PORT_VARS, offset=10)  # beside a testcontainers run's ports
    env = {**os.environ, **{name: str(port) for name, port in ports.items()}}
    s = Stack(f"overlap-test-{uuid.uuid4().hex[:8]}", env)
    started = time.monotonic()
    try:
        s.compose("up", "--detach", "--no-build", "--pull", "never")
        took = first_200(f"{s.gateway}/api/healthz", started)
        print(f"\ncompose up -> first 200 through the gateway: {took:.1f} s")
        yield s
    finally:
        s.compose("down", "--volumes", "--remove-orphans", "--timeout", "20")


async def test_create_join_paint_view_reaches_a_websocket_client(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.gateway, timeout=15) as client:
        body = {
            "title": "Compose",
            "timezone": "Europe/Berlin",
            "dates": ["2026-12-01"],
            "day_start": "09:00",
            "day_end": "17:00",
            "slot_minutes": 30,
        }
        created = (await client.post("/api/events", json=body)).raise_for_status().json()
        token = created["token"]
        joined = await client.post(f"/api/events/{token}/participants", json={"name": "Ada"})
        key = {"X-Participant-Key": joined.raise_for_status().json()["participant_key"]}
        async with pusher_socket(stack.services()) as ws:
            channel = await subscribe_private(ws, client, created)
            painted = await client.patch(
                f"/api/events/{token}/participants/me/availability",
                json={"set_available": [[0, 4]]},
                headers=key,
            )
            version = int(painted.raise_for_status().json()["version"])

            def updated(m: dict[str, Any]) -> bool:
                if m.get("channel") != channel or m.get("event") != "view.updated":
                    return False
                return int(orjson.loads(m["data"])["version"]) >= version

            _, message = await ws.wait_for(updated, limit_s=60)
        pushed = orjson.loads(message["data"])
        view = (await client.get(f"/api/events/{token}")).raise_for_status().json()
    assert pushed["heatmap"]["available"][:5] == [1, 1, 1, 1, 0]
    assert view["version"] >= version
    assert view["heatmap"]["available"][:5] == [1, 1, 1, 1, 0]


async def test_three_availability_workers_share_the_partitions(stack: Stack) -> None:
    stack.compose("up", "--detach", "--no-build", "--pull", "never", "--scale", "availability=3")
    bootstrap = stack.services().kafka_bootstrap_servers
    async with asyncio.timeout(120):
        while True:
            await group_stable(bootstrap, AVAILABILITY_GROUP, members=3, timeout_s=120)
            state, held = await describe(bootstrap, AVAILABILITY_GROUP, DOMAIN_TOPIC)
            if state == "Stable" and len(held) == 3:
                break
            await asyncio.sleep(1)
    # each of the three holds partitions, every partition held once, shares within one
    assert even(state, held, consumers=3, partitions=DOMAIN_PARTITIONS), held
    running = stack.compose("ps", "--quiet", "availability").split()
    assert len(running) == 3


def test_zz_down_leaves_nothing_behind(stack: Stack) -> None:
    stack.compose("down", "--volumes", "--remove-orphans", "--timeout", "20")
    assert stack.leftovers() == {"container": [], "volume": [], "network": []}
