"""What must hold after a fault, as pure functions of what was recorded and what is stored.

Each check returns a list of violations (empty: it holds), each naming what is wrong.
"""

from collections.abc import Iterable, Mapping, Sequence

from chaos.load import Answer, Write

FAST_503_S = 5.0  # PostgreSQL down: an answer within this is "fast"
MEMORY_GROWTH = (1.5, 64.0)  # a fault may grow a process to 1.5x its RSS + 64 MiB
MEMORY_FLAT = (1.15, 32.0)  # a soak after warm-up: 1.15x + 32 MiB at most


def possible_bits(writes: Iterable[Write]) -> dict[str, set[int]]:
    """Participant -> the availability PostgreSQL may hold after ``writes`` (in the order
    each participant issued them): the last acknowledged write's, or that of any later
    write whose answer was lost. Nothing written yet: empty."""
    out: dict[str, set[int]] = {}
    for w in writes:
        if w.refused:
            continue
        if w.acked_version is not None:
            out[w.participant] = {w.bits}
        else:
            out.setdefault(w.participant, {0}).add(w.bits)
    return out


def committed_writes(
    writes: Sequence[Write], stored: Mapping[str, int], versions: Mapping[str, int]
) -> list[str]:
    """Every acknowledged write is in PostgreSQL: each participant holds a state some
    write left, and no event's version is below a version it acknowledged."""
    bad = [
        f"participant {pid[:8]} holds {stored.get(pid)!r}, expected one of {sorted(allowed)}"
        for pid, allowed in possible_bits(writes).items()
        if stored.get(pid) not in allowed
    ]
    for w in writes:
        if w.acked_version is not None and versions.get(w.event, -1) < w.acked_version:
            found = versions.get(w.event)
            bad.append(f"event {w.event[:8]} at v{found} < acknowledged v{w.acked_version}")
    return bad


def reached_kafka(
    writes: Sequence[Write], event_ids: Mapping[str, str], seen: set[tuple[str, int]]
) -> list[str]:
    """Every acknowledged write's domain event is on the domain topic."""
    missing = [
        f"event {w.event[:8]} v{w.acked_version}"
        for w in writes
        if w.acked_version is not None and (event_ids[w.event], w.acked_version) not in seen
    ]
    return [f"{len(missing)} acked writes not on Kafka, e.g. {missing[:3]}"] if missing else []


def views_current(cached: Mapping[str, int | None], versions: Mapping[str, int]) -> list[str]:
    """Every view in Redis is at the database's version (an expired one is absent: fine)."""
    return [
        f"view {token[:8]} at v{cached[token]}, database at v{version}"
        for token, version in versions.items()
        if cached.get(token) is not None and cached[token] != version
    ]


def pages_current(pages: Mapping[str, int], versions: Mapping[str, int]) -> list[str]:
    """Every page client shows the database's version."""
    return [
        f"page of {token[:8]} at v{seen}, database at v{versions[token]}"
        for token, seen in pages.items()
        if seen != versions[token]
    ]


def no_hangs(answers: Sequence[Answer]) -> list[str]:
    hung = [a for a in answers if a.outcome == "timeout"]
    return [f"{len(hung)} requests got no answer in time"] if hung else []


def no_stale_reads(answers: Sequence[Answer]) -> list[str]:
    stale = [a for a in answers if a.outcome == "stale"]
    return [f"{len(stale)} reads older than their min_version"] if stale else []


def only_503s(answers: Sequence[Answer], database_down: bool) -> list[str]:
    """No 5xx but 503 with Retry-After; while PostgreSQL is down, those come fast."""
    bad = [a for a in answers if a.outcome in ("5xx", "503-no-retry-after")]
    out = [f"{len(bad)} server errors other than 503 + Retry-After"] if bad else []
    if database_down:
        slow = [a for a in answers if a.outcome == "503" and a.seconds > FAST_503_S]
        if slow:
            worst = max(a.seconds for a in slow)
            out.append(f"{len(slow)} 503s slower than {FAST_503_S:.0f} s (worst {worst:.1f} s)")
    return out


def memory_bounded(
    before: Mapping[str, float],
    after: Mapping[str, float],
    growth: tuple[float, float] = MEMORY_GROWTH,
) -> list[str]:
    """No component grew past ``growth`` (factor, MiB): restarted ones are not compared."""
    factor, extra = growth
    return [
        f"{name} RSS {before[name]:.0f} -> {after[name]:.0f} MiB"
        for name in before.keys() & after.keys()
        if after[name] > before[name] * factor + extra
    ]


def errors_by_kind(answers: Sequence[Answer]) -> dict[str, int]:
    out: dict[str, int] = {}
    for a in answers:
        if a.outcome != "ok":
            out[a.outcome] = out.get(a.outcome, 0) + 1
    return dict(sorted(out.items()))


def errors_until(answers: Sequence[Answer], recovery: float) -> float:
    """Seconds after recovery began until the last failed request started (0: none)."""
    failed = [a.started for a in answers if a.outcome not in ("ok", "stale")]
    return max(0.0, max(failed) - recovery) if failed else 0.0
