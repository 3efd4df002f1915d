"""vegeta, the open-loop load generator: install it once, run attacks, parse what it says.

An attack sends requests at a constant rate whatever happened to the previous ones
(vegeta starts new workers when all are busy). Latency is taken from the *intended*
send time: for hit ``seq`` that is ``t0 + seq / rate``; a hit vegeta sent late is
charged its lateness, so queueing in the generator cannot hide (no coordinated omission).
"""

import base64
import csv
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.stats import summarize

MODULE = "github.com/tsenart/vegeta/v12@latest"
GO = Path("/usr/local/go/bin/go")


def cache_bin() -> Path:
    root = os.environ.get("OVERLAP_CACHE") or str(Path.home() / ".cache" / "overlap")
    return Path(root) / "bin"


def ensure_vegeta() -> str:
    """The vegeta binary: on PATH, in the cache, or ``go install``-ed into the cache."""
    found = shutil.which("vegeta") or (
        str(cache_bin() / "vegeta") if (cache_bin() / "vegeta").exists() else None
    )
    if found:
        return found
    go = shutil.which("go") or (str(GO) if GO.exists() else None)
    if not go:
        raise RuntimeError("vegeta is missing and Go is not installed (/usr/local/go/bin/go)")
    cache_bin().mkdir(parents=True, exist_ok=True)
    print(f"[bench] installing vegeta into {cache_bin()} (go install {MODULE})", flush=True)
    env = {**os.environ, "GOBIN": str(cache_bin())}
    subprocess.run([go, "install", MODULE], check=True, env=env)
    return str(cache_bin() / "vegeta")


@dataclass(frozen=True)
class Target:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None

    def line(self) -> str:
        """One line of vegeta's JSON target format."""
        doc: dict[str, Any] = {"method": self.method, "url": self.url}
        if self.headers:
            doc["header"] = {k: [v] for k, v in self.headers.items()}
        if self.body is not None:
            doc["body"] = base64.b64encode(self.body).decode()
        return json.dumps(doc, separators=(",", ":"))


@dataclass
class Attack:
    """What one attack measured; latencies in milliseconds."""

    rate: float
    duration_s: float
    requests: int
    throughput: float  # successful responses per second (vegeta's definition)
    success: float  # ratio of 2xx/3xx
    status_codes: dict[str, int]
    latency_ms: dict[str, float]  # from the intended send time
    sent_latency_ms: dict[str, float]  # vegeta's own, from the actual send time
    max_lateness_ms: float
    errors: list[str]

    def figures(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "requests": self.requests,
            "throughput": self.throughput,
            "success": self.success,
            "latency_ms": self.latency_ms,
            "sent_latency_ms": self.sent_latency_ms,
            "max_lateness_ms": self.max_lateness_ms,
        }


def parse_report(text: str) -> dict[str, Any]:
    """``vegeta report -type=json`` → rate, throughput, success, codes, latencies in ms."""
    doc = json.loads(text)
    lat = doc.get("latencies") or {}
    names = {"50th": "p50", "90th": "p90", "95th": "p95", "99th": "p99", "max": "max"}
    return {
        "requests": int(doc.get("requests", 0)),
        "rate": float(doc.get("rate", 0.0)),
        "throughput": float(doc.get("throughput", 0.0)),
        "success": float(doc.get("success", 0.0)),
        "status_codes": {str(k): int(v) for k, v in (doc.get("status_codes") or {}).items()},
        "latency_ms": {short: lat[long] / 1e6 for long, short in names.items() if long in lat}
        | ({"mean": lat["mean"] / 1e6} if "mean" in lat else {}),
        "errors": list(doc.get("errors") or [])[:5],
    }


def intended_latencies(rows: Iterable[Sequence[str]], rate: float) -> tuple[list[float], float]:
    """From ``vegeta encode -to csv`` rows: latency (ms) from each hit's intended send time.

    CSV columns: timestamp (unix ns), code, latency (ns), bytes out, bytes in, error, body,
    attack, seq, ... Intended time of hit ``seq`` is ``t0 + seq / rate`` with ``t0`` the
    earliest ``timestamp - seq / rate``. Returns the latencies and the largest lateness (ms).
    """
    hits = [(int(r[0]), int(r[2]), int(r[8])) for r in rows if r]
    if not hits:
        return [], 0.0
    step_ns = 1e9 / rate
    t0 = min(ts - seq * step_ns for ts, _, seq in hits)
    out, worst = [], 0.0
    for ts, latency, seq in hits:
        late = max(0.0, ts - (t0 + seq * step_ns))
        worst = max(worst, late)
        out.append((latency + late) / 1e6)
    return out, worst / 1e6


def attack(
    targets: Sequence[Target], rate: float, duration_s: float, *, timeout_s: float = 10
) -> Attack:
    """Run one constant-rate attack over ``targets`` (round robin) and measure it."""
    vegeta = ensure_vegeta()
    with tempfile.TemporaryDirectory(prefix="bench-vegeta-") as tmp:
        tfile, rfile = Path(tmp) / "targets.jsonl", Path(tmp) / "results.bin"
        tfile.write_text("\n".join(t.line() for t in targets) + "\n")
        with rfile.open("wb") as out:
            subprocess.run(
                [
                    vegeta, "attack", "-format=json", f"-targets={tfile}",
                    f"-rate={rate:g}/s", f"-duration={duration_s:g}s", "-max-body=0",
                    "-workers=32", "-max-workers=20000", f"-timeout={timeout_s:g}s",
                ],
                stdout=out, check=True,
            )  # fmt: skip
        report = subprocess.run(
            [vegeta, "report", "-type=json", str(rfile)], capture_output=True, check=True, text=True
        ).stdout
        encoded = subprocess.run(
            [vegeta, "encode", "-to=csv", str(rfile)], capture_output=True, check=True, text=True
        ).stdout
    parsed = parse_report(report)
    latencies, lateness = intended_latencies(csv.reader(encoded.splitlines()), rate)
    return Attack(
        rate=rate,
        duration_s=duration_s,
        requests=parsed["requests"],
        throughput=parsed["throughput"],
        success=parsed["success"],
        status_codes=parsed["status_codes"],
        latency_ms=summarize(latencies),
        sent_latency_ms=parsed["latency_ms"],
        max_lateness_ms=lateness,
        errors=parsed["errors"],
    )
