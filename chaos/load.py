"""Bounded load on the chaos stack, and a record of every answer.

Writers: one per participant, each with one PUT in flight at a time, so a participant's
writes are ordered and the last acknowledged one (or a later one whose answer was lost)
must be what PostgreSQL holds. Readers: GETs of the event views, some with the
``min_version`` of the newest acknowledged write (read-your-writes). Pages: one Pusher
websocket client per event that behaves like the web page: on (re)subscription it fetches
the view, on ``view.updated`` it fetches ``?min_version=N``, and every 30 s it fetches
again as the page's safety net for missed messages. Churn (chaos.churn): the other
writes. Every request goes through the gateway.
"""

import asyncio
import contextlib
import random
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import websockets
from overlap_shared.bitmaps import bits_to_ranges

from chaos.churn import EVENT, TITLE, Change, Churn

REQUEST_TIMEOUT_S = 10.0  # a request without an answer by then has hung
SLOTS = 16  # one day, 09:00-17:00, 30-minute slots


@dataclass(frozen=True)
class Answer:
    """One request: what it was, when, how long, and how it ended."""

    kind: str  # "read" | "write" | "churn"
    started: float  # time.monotonic()
    seconds: float
    outcome: str  # "ok", "503", "503-no-retry-after", "5xx", "4xx", "conn", "timeout", "stale"


@dataclass(frozen=True)
class Write:
    event: str  # token
    participant: str  # participant id
    bits: int  # the availability it set
    acked_version: int | None  # None: no 2xx answer (it may or may not have committed)
    refused: bool  # a 4xx: certainly not committed


@dataclass
class Person:
    token: str
    event_id: str
    participant_id: str
    key: str


@dataclass
class Recording:
    """The answers of one stretch of load."""

    answers: list[Answer] = field(default_factory=list)


def classify(response: httpx.Response) -> str:
    status = response.status_code
    if status < 400:
        return "ok"
    if status == 503:
        return "503" if response.headers.get("retry-after") else "503-no-retry-after"
    return "5xx" if status >= 500 else "4xx"


def random_bits(rng: random.Random) -> int:
    bits = 0
    for _ in range(rng.randint(0, 3)):
        start = rng.randrange(SLOTS)
        end = rng.randint(start + 1, SLOTS)
        bits |= ((1 << (end - start)) - 1) << start
    return bits


SAFETY_POLL_S = 30  # deploy/web/js/app.js POLL_SAFETY_MS


class Load:
    def __init__(self, api_url: str, pusher: dict[str, str], seed: int) -> None:
        self.api_url, self.pusher = api_url, pusher
        self.rng = random.Random(seed)
        self.people: list[Person] = []
        self.tokens: list[str] = []
        self.event_ids: dict[str, str] = {}
        self.acked: dict[str, int] = {}  # token -> newest acknowledged version
        self.recording = Recording()
        self.all_writes: list[Write] = []  # every write of the run, in the order issued
        self.pages: list[Page] = []
        self.churn = Churn(self.timed, {}, self.event_ids, random.Random(seed + 1))
        self._tasks: list[asyncio.Task[None]] = []
        self._page_tasks: list[asyncio.Task[None]] = []
        self._stop = asyncio.Event()
        self.client = httpx.AsyncClient(
            base_url=api_url,
            timeout=REQUEST_TIMEOUT_S + 5,
            # Idle connections are dropped before uvicorn's 5 s keep-alive ends them, so a
            # request never races the server closing its connection.
            limits=httpx.Limits(
                max_connections=200, max_keepalive_connections=50, keepalive_expiry=2
            ),
        )

    async def setup(self, events: int, participants: int) -> None:
        for _ in range(events):
            r = await self.client.post("/api/events", json=EVENT)
            r.raise_for_status()
            token, event_id = r.json()["token"], r.json()["event"]["id"]
            self.tokens.append(token)
            self.event_ids[token] = event_id
            self.churn.admin_keys[token] = r.json()["admin_key"]
            self.churn.record("create", token, token, TITLE, r)
            for i in range(participants):
                joined = await self.client.post(
                    f"/api/events/{token}/participants", json={"name": f"p{i}"}
                )
                joined.raise_for_status()
                j = joined.json()
                pid = j["participant"]["id"]
                self.churn.record("join", token, pid, f"p{i}", joined)
                self.people.append(Person(token, event_id, pid, j["participant_key"]))
        self.pages = [Page(self, token) for token in self.tokens]
        self._page_tasks = [asyncio.create_task(p.run()) for p in self.pages]

    @property
    def changes(self) -> list[Change]:
        return self.churn.changes

    def start(self, write_rate: float, read_rate: float, churn_rate: float = 0) -> Recording:
        """Start writers, readers and churn; returns the recording of this stretch."""
        self.recording = Recording()
        self._stop.clear()
        per_writer = write_rate / len(self.people)
        self._tasks = [asyncio.create_task(self._writer(p, per_writer)) for p in self.people]
        readers = 4
        self._tasks += [
            asyncio.create_task(self._reader(read_rate / readers)) for _ in range(readers)
        ]
        if churn_rate:
            self._tasks.append(asyncio.create_task(self.churn.run(churn_rate, self._stop)))
        return self.recording

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)
        self._tasks = []

    async def close(self) -> None:
        for task in self._page_tasks:
            task.cancel()
        await asyncio.gather(*self._page_tasks, return_exceptions=True)
        await self.client.aclose()

    async def _pace(self, rate: float) -> bool:
        """Sleep an exponential gap for ``rate``/s; False once the load is stopping."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), self.rng.expovariate(rate))
        return not self._stop.is_set()

    async def timed(self, kind: str, method: str, url: str, **kw: Any) -> httpx.Response | None:
        started = time.monotonic()
        response = None
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_S):
                response = await self.client.request(method, url, **kw)
            outcome = classify(response)
        except TimeoutError:
            outcome = "timeout"
        except httpx.TimeoutException:
            outcome = "timeout"
        except httpx.TransportError:
            outcome = "conn"
        self.recording.answers.append(Answer(kind, started, time.monotonic() - started, outcome))
        return response

    async def _writer(self, person: Person, rate: float) -> None:
        url = f"/api/events/{person.token}/participants/me/availability"
        while await self._pace(rate):
            bits = random_bits(self.rng)
            body = {"available": bits_to_ranges(bits), "if_needed": []}
            headers = {"X-Participant-Key": person.key}
            r = await self.timed("write", "PUT", url, json=body, headers=headers)
            version = r.json()["version"] if r is not None and r.status_code == 200 else None
            refused = r is not None and 400 <= r.status_code < 500
            write = Write(person.token, person.participant_id, bits, version, refused)
            self.all_writes.append(write)
            if version is not None:
                self.acked[person.token] = max(self.acked.get(person.token, 0), version)

    async def _reader(self, rate: float) -> None:
        while await self._pace(rate):
            token = self.rng.choice(self.tokens)
            wanted = self.acked.get(token) if self.rng.random() < 0.3 else None
            params = {"min_version": wanted} if wanted else None
            r = await self.timed("read", "GET", f"/api/events/{token}", params=params)
            stale = (
                wanted
                and r is not None
                and r.status_code == 200
                and orjson.loads(r.content)["version"] < wanted
            )
            if stale:  # an answer older than the version it asked for
                self.recording.answers.append(Answer("read", time.monotonic(), 0, "stale"))


class Page:
    """A page showing one event: websocket updates, fetches like the web page does."""

    def __init__(self, load: Load, token: str) -> None:
        self.load, self.token = load, token
        self.version = 0
        self.subscriptions = 0

    async def run(self) -> None:
        safety = asyncio.create_task(self._safety_poll())
        try:
            await self._sessions()
        finally:
            safety.cancel()

    async def _safety_poll(self) -> None:
        """The web page's safety net for missed messages (app.js ``POLL_SAFETY_MS``): a
        fetch every 30 s, so a page whose fetches all fell into an outage still catches up."""
        while True:
            await asyncio.sleep(SAFETY_POLL_S)
            await self.refresh(None)

    async def _sessions(self) -> None:
        while True:
            # Any failure of a session (the auth request's too) ends it, never the page.
            with contextlib.suppress(
                OSError,
                websockets.WebSocketException,
                TimeoutError,
                httpx.HTTPError,
                KeyError,
                ValueError,
            ):
                await self._session()
            await asyncio.sleep(0.5)  # pusher-js reconnects after a short delay too

    async def _session(self) -> None:
        cfg = self.load.pusher
        url = f"ws://{cfg['host']}:{cfg['port']}/app/{cfg['key']}?protocol=7&client=chaos"
        async with websockets.connect(url, open_timeout=5, ping_interval=5) as ws:
            hello = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
            socket_id = orjson.loads(hello["data"])["socket_id"]
            channel = f"private-event-{self.load.event_ids[self.token]}"
            auth = await self.load.client.post(
                "/api/realtime/auth",
                data={"socket_id": socket_id, "channel_name": channel},
                headers={"X-Event-Token": self.token},
                timeout=5,
            )
            if auth.status_code != 200:
                return
            sub = {"event": "pusher:subscribe", "data": {"channel": channel, **auth.json()}}
            await ws.send(orjson.dumps(sub).decode())
            async for raw in ws:
                msg = orjson.loads(raw)
                name = msg.get("event")
                if name == "pusher:ping":
                    await ws.send('{"event":"pusher:pong","data":{}}')
                elif name == "pusher_internal:subscription_succeeded":
                    self.subscriptions += 1
                    await self.refresh(None)
                elif name == "view.updated" and msg.get("channel") == channel:
                    version = int(orjson.loads(msg["data"])["version"])
                    if version > self.version:
                        await self.refresh(version)

    async def refresh(self, min_version: int | None) -> None:
        """Fetch the view, retrying while the API cannot answer (a page must not stay stale
        because one fetch fell into an outage)."""
        params = {"min_version": min_version} if min_version else None
        for _ in range(20):
            with contextlib.suppress(httpx.HTTPError):
                url = f"/api/events/{self.token}"
                r = await self.load.client.get(url, params=params, timeout=5)
                if r.status_code == 200:
                    self.version = max(self.version, int(orjson.loads(r.content)["version"]))
                    return
            await asyncio.sleep(0.5)
