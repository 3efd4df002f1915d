"""The restore drill on real services: the API (with its relay) and the three workers, as
processes on a database of their own, take writes; ``backup.sh backup`` runs under that load;
more writes follow (a participant joins), then ``backup.sh restore`` brings the backup back
while the stack runs. The relay publishes from the restored outbox, the caches hold the
restored views, and an open page, which had already shown newer versions, moves on to the
restored data: the restore advanced every version past the ones seen before."""

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from tests.conftest import Services
from tests.pusher_client import Socket, socket, subscribe_private
from tests.servers import ROOT, free_port, process

GAP = 1_000_000_000  # backup.sh's default RESTORE_VERSION_GAP
DRILL_REDIS_DB = 7  # the drill's restore clears every cache: not those of the other tests
CONVERGE_S = 90.0
START_S = 300.0  # a worker's start-up, on a machine shared with other test runs
WORKERS = ("overlap_availability", "overlap_invalidator", "overlap_notifier")


@dataclass
class Drill:
    """The drill's database, its stack behind a gateway, and the scripts' environment."""

    url: str
    api: str
    env: dict[str, str]
    engine: AsyncEngine

    async def script(self, *args: str) -> str:
        proc = await asyncio.create_subprocess_exec(
            str(ROOT / "deploy/local/backup.sh"),
            *args,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 300)
        assert proc.returncode == 0, err.decode()
        return out.decode().strip()

    async def scalar(self, sql: str, **params: object) -> Any:
        async with self.engine.connect() as conn:
            return (await conn.execute(text(sql), params)).scalar_one()


def drill_env(services: Services, db: str, home: Path) -> dict[str, str]:
    """What the drill's stack and scripts are given on top of the test run's environment."""
    pg, redis = make_url(services.database_url), make_url(services.redis_url)
    return {
        "OVERLAP_HOME": str(home),
        "PG_HOST": pg.host or "127.0.0.1",
        "PG_PORT": str(pg.port or 5432),
        "PG_USER": pg.username or "overlap",
        "PG_PASSWORD": pg.password or "",
        "PG_DB": db,
        "DATABASE_URL": pg.set(database=db).render_as_string(hide_password=False),
        "REDIS_URL": redis.set(database=str(DRILL_REDIS_DB)).render_as_string(False),
        "RATE_LIMITS_ENABLED": "false",
    }


@contextmanager
def drill_stack(env: dict[str, str]) -> Iterator[str]:
    """Migrate the drill's database, start the workers and the API; yield the API's URL."""
    alembic = [sys.executable, "-m", "alembic", "-c", str(ROOT / "services/api/alembic.ini")]
    subprocess.run([*alembic, "upgrade", "head"], env={**os.environ, **env}, check=True, cwd=ROOT)
    with ExitStack() as stack:
        for module in WORKERS:
            port = free_port()
            health = f"http://127.0.0.1:{port}/healthz"
            argv = [sys.executable, "-m", module]
            worker = process(argv, {**env, "HEALTH_PORT": str(port)}, health, module, START_S)
            stack.enter_context(worker)
        port = free_port()
        api = f"http://127.0.0.1:{port}"
        argv = [sys.executable, "-m", "overlap_api"]
        stack.enter_context(
            process(argv, {**env, "API_PORT": str(port)}, f"{api}/api/readyz", "drill-api", START_S)
        )
        yield api


@pytest.fixture
async def drill(services: Services, tmp_path: Path) -> AsyncIterator[Drill]:
    db = f"overlap_drill_{uuid.uuid4().hex[:8]}"
    env = drill_env(services, db, tmp_path)
    admin = create_async_engine(
        make_url(env["DATABASE_URL"]).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{db}"'))
    engine = create_async_engine(env["DATABASE_URL"], poolclass=NullPool)  # outlives the swap
    try:
        with drill_stack(env) as api:
            yield Drill(env["DATABASE_URL"], api, {**os.environ, **env}, engine)
    finally:
        await engine.dispose()
        async with admin.connect() as conn:
            for name in (db, f"{db}_replaced", f"{db}_restoring"):
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@dataclass
class Load:
    """Availability writes to every event, round robin, until stopped; the versions acked."""

    client: httpx.AsyncClient
    people: list[tuple[str, str]]  # (event token, participant key)
    acked: list[tuple[str, int]] = field(default_factory=list)
    refused: int = 0
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            token, key = self.people[n % len(self.people)]
            body = {"available": [[n % 16, n % 16 + 1 + n % 7]], "if_needed": []}
            try:
                r = await self.client.put(
                    f"/api/events/{token}/participants/me/availability",
                    json=body,
                    headers={"X-Participant-Key": key},
                )
            except httpx.HTTPError:
                r = None
            if r is not None and r.status_code == 200:
                self.acked.append((token, r.json()["version"]))
            else:  # the database is swapped during the restore: a few 503s, retried
                self.refused += 1
            n += 1
            await asyncio.sleep(0.02)


@dataclass
class Page:
    """The event page's update rule (deploy/web/js/app.js): a realtime message or an answer
    counts only when its version is newer than the view shown."""

    token: str
    version: int = 0
    names: list[str] = field(default_factory=list)

    async def follow(self, client: httpx.AsyncClient, announced: int) -> None:
        if announced <= self.version:
            return
        r = await client.get(f"/api/events/{self.token}", params={"min_version": announced})
        if r.status_code == 200 and r.json()["version"] >= self.version:
            self.version = r.json()["version"]
            self.names = sorted(p["name"] for p in r.json()["participants"])


def announced_versions(sock: Socket, channel: str) -> Iterator[int]:
    """The versions of the realtime messages on ``channel``, in their order of arrival."""
    for _, m in sock.events:
        if m.get("channel") == channel and m.get("event") in ("view.updated", "event.updated"):
            yield int(orjson.loads(m["data"])["version"])


def announces(channel: str, version: int) -> Callable[[dict[str, Any]], bool]:
    def match(m: dict[str, Any]) -> bool:
        if m.get("channel") != channel or m.get("event") not in ("view.updated", "event.updated"):
            return False
        return bool(orjson.loads(m["data"])["version"] == version)

    return match


async def setup_events(client: httpx.AsyncClient) -> list[tuple[dict[str, Any], list[str]]]:
    made = []
    for title in ("Drill A", "Drill B", "Drill C"):
        body = {
            "title": title,
            "timezone": "UTC",
            "dates": ["2027-05-03"],
            "day_start": "09:00",
            "day_end": "17:00",
            "slot_minutes": 30,
        }
        r = await client.post("/api/events", json=body)
        assert r.status_code == 201, r.text
        keys = []
        for name in ("Ada", "Bo"):
            j = await client.post(
                f"/api/events/{r.json()['token']}/participants", json={"name": name}
            )
            assert j.status_code == 201, j.text
            keys.append(j.json()["participant_key"])
        made.append((r.json(), keys))
    return made


async def answered(send: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
    """The answer, sent once more after a 503 (as the page does): an API process's first
    query after the swap finds its pooled connection ended, and the pool reconnects."""
    r = await send()
    if r.status_code == 503:
        await asyncio.sleep(float(r.headers.get("Retry-After", "1")))
        r = await send()
    return r


async def converged(drill: Drill, client: httpx.AsyncClient, token: str) -> tuple[int, list[str]]:
    """Wait until the cached view of ``token`` is the database's; (version, names)."""
    deadline = asyncio.get_running_loop().time() + CONVERGE_S
    while True:
        version = await drill.scalar("SELECT version FROM events WHERE token = :t", t=token)
        r = await client.get(f"/api/events/{token}")
        if r.status_code == 200 and r.json()["version"] == version:
            return version, sorted(p["name"] for p in r.json()["participants"])
        assert asyncio.get_running_loop().time() < deadline, (version, r.status_code, r.text)
        await asyncio.sleep(0.5)


async def outbox_left(drill: Drill, within_s: float = 15.0) -> int:
    """The outbox's rows once empty, or after ``within_s``: the relay deletes a batch's rows
    by its next statement (the next batch, or its poll at most a second later)."""
    deadline = asyncio.get_running_loop().time() + within_s
    while (left := await drill.scalar("SELECT count(*) FROM outbox")) and (
        asyncio.get_running_loop().time() < deadline
    ):
        await asyncio.sleep(0.2)
    return int(left)


@pytest.mark.timeout(1500)
async def test_a_backup_under_load_restores_with_outbox_caches_and_pages_consistent(
    services: Services, drill: Drill, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(base_url=drill.api, timeout=10) as client:
        made = await setup_events(client)
        tokens = [e["token"] for e, _ in made]
        load = Load(client, [(e["token"], k) for e, keys in made for k in keys])
        writer = asyncio.create_task(load.run())
        async with socket(services) as sock:
            channel = await subscribe_private(sock, client, made[0][0])
            page = Page(tokens[0])
            await asyncio.sleep(1)
            during = len(load.acked)
            backup = await drill.script("backup", str(tmp_path / "drill.dump"))
            assert len(load.acked) > during, "no write was acknowledged while the backup ran"
            await asyncio.sleep(1)
            lost = await client.post(f"/api/events/{tokens[0]}/participants", json={"name": "Lost"})
            assert lost.status_code == 201
            await asyncio.sleep(1)
            load.stop.set()
            await writer
            seen, names = await converged(drill, client, tokens[0])
            await page.follow(client, seen)
            assert page.version == seen and "Lost" in page.names
            before = {t: await converged(drill, client, t) for t in tokens}

            await drill.script("restore", backup)

            for token in tokens:
                version, names = await converged(drill, client, token)
                assert GAP < version < GAP + before[token][0], "the version moved past the old ones"
                assert "Lost" not in names and {"Ada", "Bo"} <= set(names)
            restored = await drill.scalar(
                "SELECT version FROM events WHERE token = :t", t=tokens[0]
            )
            await sock.wait_for(announces(channel, restored), limit_s=CONVERGE_S)
            for announced in announced_versions(sock, channel):
                await page.follow(client, announced)
            assert page.version == restored and "Lost" not in page.names
        assert await outbox_left(drill) == 0, "the relay left rows"
        me = await answered(
            lambda: client.get(
                f"/api/events/{tokens[0]}/participants/me",
                headers={"X-Participant-Key": lost.json()["participant_key"]},
            )
        )
        assert me.status_code == 403, "a participant the restore removed is still known"
        after = await answered(
            lambda: client.put(
                f"/api/events/{tokens[1]}/participants/me/availability",
                json={"available": [[0, 2]], "if_needed": []},
                headers={"X-Participant-Key": made[1][1][0]},
            )
        )
        assert after.status_code == 200 and after.json()["version"] > GAP
