"""The large event through the public API (DESIGN §8 "Large event"): 300 participants x
62 days x 96 slots in America/New_York (the spring-forward night's missing hour is on the
grid), 1-2 realistic blocks a day, seeded through the API with concurrent requests.

One run measures, each sample alone (one request in flight, so a figure is that path's own
cost, not a queue):

- recompute GET: a PUT, then at once ``GET ?min_version=<its version>``; the availability
  worker has not written that version yet, so the API builds the view (the share that
  really recomputed is read from ``view_recomputes_total``, and how, from its own write,
  a snapshot or in full, from ``view_rebuilds_total``);
- PUT → the worker's view in Redis: a PUT, then the view key's first bytes polled
  (``GETRANGE``) until they carry the PUT's version; no read in between, so only the
  worker can have written it;
- best-times: ``GET /best-times`` with the default parameters;
- cached GET: vegeta, open loop, at ``large_cached_rate``.

The timed requests go through aiohttp, whose C parser reads the 580 KB view in about
0.9 ms; httpx took 5-6 ms of the client's CPU for it (a cached GET measured 5.9 ms at
p50 through httpx, 0.9 ms through aiohttp, on the same server in the same minute), which
the figures then charged to the server.
"""

import asyncio
import random
import time
from typing import Any

import aiohttp
import httpx
import orjson
from overlap_availability.settings import Settings as AvailabilitySettings
from overlap_shared.cache_keys import view_key
from overlap_shared.redis_client import create_redis
from overlap_shared.viewcache import version_of

from bench import probes
from bench.config import Config
from bench.seed import Seeded, availability, cut, seed_all
from bench.stats import aggregate, summarize
from bench.vegeta import Target, attack

POLL_S = 0.003
JSON = "application/json"
# After a batch of several writes the worker pauses, counted from that batch's start
# (AVAILABILITY_LINGER_MS): the tail of a stream of writes, not the next lone write's due.
WORKER_PAUSE_S = AvailabilitySettings.model_fields["availability_linger_ms"].default / 1000


def measure(api: str, redis_url: str, cfg: Config) -> tuple[dict[str, Any], list[Any]]:
    """Seed the large event, then ``cfg.runs`` runs: (the median-of-runs figures, raw)."""
    started = time.perf_counter()
    seeded = asyncio.run(seed_large(api, cfg))
    seed_s = time.perf_counter() - started
    scenario = LargeEvent(api, redis_url, cfg, seeded)
    runs = []
    for i in range(cfg.runs):
        print(f"[bench] large event: run {i + 1}/{cfg.runs}", flush=True)
        runs.append(scenario.run(i))
    spec = cfg.large_event
    return aggregate(runs) | {
        "event": {"participants": spec.participants, "days": spec.days,
                  "slots": seeded.slot_count, "timezone": spec.timezone},
        "seed_s": round(seed_s, 1),
    }, runs  # fmt: skip


async def seed_large(api: str, cfg: Config) -> Seeded:
    """The large event, its participants joined and their availability PUT concurrently."""
    (seeded,) = await seed_all(api, (cfg.large_event,), seed=14, concurrency=cfg.seed_concurrency)
    return seeded


def plan(rng: random.Random, seeded: Seeded, missing: set[int]) -> dict[str, Any]:
    """A fresh week for one participant, the grid's missing slots cut out of its ranges."""
    spec = seeded.spec
    avail, maybe = availability(rng, spec.days, spec.slots_per_day, spec.max_blocks)
    return {"available": cut(avail, missing), "if_needed": cut(maybe, missing)}


def api_work(before: dict[str, float], after: dict[str, float]) -> dict[str, float | None]:
    """What the API did between two scrapes of its ``/metrics``: its view builds from its
    own writes alone, as deltas on a held aggregate and in full, and its garbage
    collector's pauses (count, seconds)."""

    def builds(how: str) -> float:  # a label first seen in between counts from 0
        label = f'how="{how}"'
        return (probes.total(after, "view_rebuilds_total", label) or 0.0) - (
            probes.total(before, "view_rebuilds_total", label) or 0.0
        )

    return {
        "own_builds": builds("own"),
        "delta_builds": builds("delta"),
        "full_builds": builds("full"),
        "gc_pauses": probes.delta(before, after, "gc_pause_seconds_count"),
        "gc_pause_s": probes.delta(before, after, "gc_pause_seconds_sum"),
    }


class LargeEvent:
    """One large event's scenario against the API at ``api``."""

    def __init__(self, api: str, redis_url: str, cfg: Config, seeded: Seeded) -> None:
        self.api, self.redis_url, self.cfg, self.seeded = api, redis_url, cfg, seeded
        self.url = f"{api}/api/events/{seeded.token}"

    def run(self, i: int) -> dict[str, Any]:
        figures = asyncio.run(self._sequential(random.Random(1400 + i)))
        cached = attack([Target("GET", self.url)], self.cfg.large_cached_rate, self.cfg.large_s)
        got = cached.figures()
        return figures | {"cached_get": got["latency_ms"], "cached_success": got["success"]}

    async def _sequential(self, rng: random.Random) -> dict[str, Any]:
        redis = create_redis(self.redis_url)
        try:
            timeout = aiohttp.ClientTimeout(total=30)
            async with (
                httpx.AsyncClient(timeout=30) as client,
                aiohttp.ClientSession(timeout=timeout) as timed,
            ):
                first = await client.get(self.url)
                missing = set(first.json()["slots"]["missing"])
                before = await probes.scrape(client, f"{self.api}/metrics")
                recompute = [await self._recompute(timed, rng, missing) for _ in self._n()]
                between = await probes.scrape(client, f"{self.api}/metrics")
                await self._settle(client, redis)
                to_worker = [await self._to_worker(timed, redis, rng, missing) for _ in self._n()]
                best = [await self._timed(timed, f"{self.url}/best-times") for _ in self._n()]
            stored = await redis.memory_usage(view_key(self.seeded.token))
        finally:
            await redis.aclose()
        recomputed = probes.delta(before, between, "view_recomputes_total")
        arrived = [t for t in to_worker if t is not None]
        return {
            "recompute_get": summarize(recompute),
            "recompute_share": None
            if recomputed is None
            else min(1.0, recomputed / len(recompute)),
            "recompute_api": api_work(before, between),
            "put_to_worker_view": summarize(arrived),
            "worker_views_missing": len(to_worker) - len(arrived),
            "best_times": summarize(best),
            "view_bytes": len(first.content),
            "redis_bytes": stored,
        }

    def _n(self) -> range:
        return range(self.cfg.large_samples)

    async def _put(
        self, client: aiohttp.ClientSession, rng: random.Random, missing: set[int]
    ) -> int:
        headers = {"X-Participant-Key": rng.choice(self.seeded.keys), "Content-Type": JSON}
        body = orjson.dumps(plan(rng, self.seeded, missing))
        url = f"{self.url}/participants/me/availability"
        async with client.put(url, data=body, headers=headers) as r:
            r.raise_for_status()
            return int(orjson.loads(await r.read())["version"])

    async def _recompute(
        self, client: aiohttp.ClientSession, rng: random.Random, missing: set[int]
    ) -> float:
        version = await self._put(client, rng, missing)
        return await self._timed(client, f"{self.url}?min_version={version}")

    async def _to_worker(
        self, client: aiohttp.ClientSession, redis: Any, rng: random.Random, missing: set[int]
    ) -> float | None:
        """Milliseconds from the PUT's send until the worker's view of its version is in
        Redis (None: not within ``large_view_wait_s``)."""
        sent = time.perf_counter()
        version = await self._put(client, rng, missing)
        key = view_key(self.seeded.token)
        while time.perf_counter() - sent < self.cfg.large_view_wait_s:
            head = await redis.getrange(key, 0, 40)
            if (version_of(head) or 0) >= version:
                return (time.perf_counter() - sent) * 1000
            await asyncio.sleep(POLL_S)
        return None

    async def _settle(self, client: httpx.AsyncClient, redis: Any) -> None:
        """Wait (at most ``large_view_wait_s``) until the worker has caught up with the
        writes so far, then out its pause after them, so that neither is charged to the
        next figure (a lone write: one in flight, the view awaited before the next)."""
        latest = int((await client.get(self.url)).json()["version"])
        deadline = time.perf_counter() + self.cfg.large_view_wait_s
        while time.perf_counter() < deadline:
            head = await redis.getrange(view_key(self.seeded.token), 0, 40)
            if (version_of(head) or 0) >= latest:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(WORKER_PAUSE_S)

    @staticmethod
    async def _timed(client: aiohttp.ClientSession, url: str) -> float:
        """Milliseconds until the whole body of a GET of ``url`` has arrived."""
        sent = time.perf_counter()
        async with client.get(url) as r:
            r.raise_for_status()
            await r.read()
        return (time.perf_counter() - sent) * 1000
