"""The write-capacity scenario's tools: PUT targets on one event, a vegeta attack that keeps
each hit's status code, and the database checks that nothing acknowledged was lost.

"Nothing lost" is checked on the event itself: every write bumps its version by one, so the
version's rise over an attack must equal the number of 200s; and the outbox must drain (the
relay published every row to Kafka).
"""

import asyncio
import csv
import json
import random
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import asyncpg

from bench.seed import Seeded, availability
from bench.stats import summarize
from bench.vegeta import Target, ensure_vegeta, intended_latencies, parse_report

JSON = "application/json"


def put_targets(api: str, event: Seeded, count: int, seed: int) -> list[Target]:
    """``count`` PUTs of fresh availability, the event's participants in turn."""
    rng = random.Random(seed)
    out = []
    url = f"{api}/api/events/{event.token}/participants/me/availability"
    for i in range(count):
        avail, maybe = availability(rng, event.spec.days, event.spec.slots_per_day)
        out.append(
            Target(
                "PUT",
                url,
                {"X-Participant-Key": event.keys[i % len(event.keys)], "Content-Type": JSON},
                json.dumps({"available": avail, "if_needed": maybe}).encode(),
            )
        )
    return out


def attack_by_code(targets: Sequence[Target], rate: float, seconds: float) -> dict[str, Any]:
    """One constant-rate attack; latencies (from the intended send time) overall and per
    status code, so refusals and acceptances are seen apart."""
    vegeta = ensure_vegeta()
    with tempfile.TemporaryDirectory(prefix="bench-writes-") as tmp:
        tfile, rfile = Path(tmp) / "targets.jsonl", Path(tmp) / "results.bin"
        tfile.write_text("\n".join(t.line() for t in targets) + "\n")
        with rfile.open("wb") as out:
            subprocess.run(
                [vegeta, "attack", "-format=json", f"-targets={tfile}", f"-rate={rate:g}/s",
                 f"-duration={seconds:g}s", "-max-body=0", "-workers=32",
                 "-max-workers=20000", "-timeout=10s"],
                stdout=out, check=True,
            )  # fmt: skip
        report = subprocess.run(
            [vegeta, "report", "-type=json", str(rfile)], capture_output=True, check=True, text=True
        ).stdout
        encoded = subprocess.run(
            [vegeta, "encode", "-to=csv", str(rfile)], capture_output=True, check=True, text=True
        ).stdout
    rows = [r for r in csv.reader(encoded.splitlines()) if r]
    parsed = parse_report(report)
    latencies, lateness = intended_latencies(rows, rate)
    by_code: dict[str, list[float]] = {}
    for row, ms in zip(rows, latencies, strict=True):
        by_code.setdefault(row[1], []).append(ms)
    return {
        "rate": rate,
        "requests": parsed["requests"],
        "throughput": parsed["throughput"],
        "success": parsed["success"],
        "status_codes": parsed["status_codes"],
        "latency_ms": summarize(latencies),
        "latency_by_code_ms": {code: summarize(v) for code, v in sorted(by_code.items())},
        "max_lateness_ms": lateness,
    }


def accepted(figures: dict[str, Any]) -> int:
    return int(figures["status_codes"].get("200", 0))


class Database:
    """The event's version and the outbox backlog, read straight from PostgreSQL."""

    def __init__(self, database_url: str) -> None:
        self.dsn = database_url.replace("postgresql+asyncpg://", "postgresql://", 1)

    async def _fetch(self, sql: str, *args: object) -> Any:
        conn = await asyncpg.connect(self.dsn)
        try:
            return await conn.fetchval(sql, *args)
        finally:
            await conn.close()

    def version(self, event: Seeded) -> int:
        query = "select version from events where token = $1"
        return int(asyncio.run(self._fetch(query, event.token)))

    def backlog(self) -> int:
        return int(asyncio.run(self._fetch("select count(*) from outbox")))

    def drained(self, timeout_s: float) -> bool:
        """True once the outbox is empty (the relay published everything) within the time."""
        deadline = time.monotonic() + timeout_s
        while self.backlog():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True


def checked(db: Database, event: Seeded, attack: Any, drain_s: float) -> dict[str, Any]:
    """Run ``attack()`` on ``event`` and add whether every acknowledged write was kept."""
    before = db.version(event)
    figures: dict[str, Any] = attack()
    figures["drained"] = db.drained(drain_s)
    figures["lost"] = accepted(figures) - (db.version(event) - before)
    return figures
