"""What must hold after a fault, as pure functions of what was recorded and what is stored.

Each check returns a list of violations (empty: it holds), each naming what is wrong.
"""

from collections.abc import Iterable, Mapping, Sequence

from chaos.churn import Change
from chaos.load import Answer, Write

FAST_503_S = 5.0  # PostgreSQL down: an answer within this is "fast"
ONE_BROKER_SLOWEST_S = 1.0  # one broker of three down: no request may take longer
ONE_BROKER_CONVERGE_S = 10.0  # ...and the consumers keep up: views current within this
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


def possible_states(changes: Iterable[Change]) -> dict[str, set[str | None]]:
    """Subject (participant id, event token) -> the names or titles PostgreSQL may hold
    (None: gone): the last acknowledged change's, or that of a later unanswered one."""
    out: dict[str, set[str | None]] = {}
    for c in changes:
        if c.refused:
            continue
        if c.acked:
            out[c.subject] = {c.value}
        elif c.subject in out:
            out[c.subject].add(c.value)
    return out


def changes_committed(
    changes: Sequence[Change], stored: Mapping[str, str], versions: Mapping[str, int]
) -> list[str]:
    """Every acknowledged join, rename, leave, removal, edit, create and delete holds in
    PostgreSQL, and no event's version is below one a change acknowledged."""
    bad = [
        f"{subject[:8]} is {stored.get(subject)!r}, expected one of {sorted(map(str, allowed))}"
        for subject, allowed in possible_states(changes).items()
        if stored.get(subject) not in allowed
    ]
    for c in changes:
        if c.version is not None and c.token in versions and versions[c.token] < c.version:
            bad.append(f"event {c.token[:8]} at v{versions[c.token]} < acknowledged v{c.version}")
    return bad


def no_unasked_participants(
    changes: Sequence[Change], unanswered_joins: set[str], names: Mapping[str, str]
) -> list[str]:
    """Every participant of the load's events (id -> name) is one the load knows of, or
    one whose join got no answer."""
    known = {c.subject for c in changes}
    return [
        f"participant {pid[:8]} ({name!r}) nobody asked for"
        for pid, name in names.items()
        if pid not in known and name not in unanswered_joins
    ]


def changes_on_kafka(
    changes: Sequence[Change], event_ids: Mapping[str, str], seen: set[tuple[str, int]]
) -> list[str]:
    """Every acknowledged change that named a version has its domain event on Kafka."""
    missing = [
        f"{c.kind} {c.token[:8]} v{c.version}"
        for c in changes
        if c.version is not None and (event_ids[c.token], c.version) not in seen
    ]
    return [f"{len(missing)} acked changes not on Kafka, e.g. {missing[:3]}"] if missing else []


def deleted_gone(statuses: Mapping[str, int]) -> list[str]:
    """Each event whose delete was acknowledged answers 404 (token -> status of a GET)."""
    return [f"deleted event {t[:8]} answers {s}" for t, s in statuses.items() if s != 404]


def unnoticed(answers: Sequence[Answer], converged_s: float | None) -> list[str]:
    """One broker of three down: no request slower than 1 s, views current within 10 s."""
    slow = [a.seconds for a in answers if a.seconds > ONE_BROKER_SLOWEST_S]
    out = [f"{len(slow)} requests slower than 1 s (worst {max(slow):.2f} s)"] if slow else []
    if converged_s is not None and converged_s > ONE_BROKER_CONVERGE_S:
        out.append(f"consumers fell behind: converged in {converged_s:.1f} s")
    return out
