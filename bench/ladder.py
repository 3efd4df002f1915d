"""Max sustainable throughput: raise the open-loop rate step by step until it breaks."""

from collections.abc import Callable
from typing import Any


def rates(start: float, factor: float, steps: int) -> list[float]:
    return [round(start * factor**i) for i in range(steps)]


def sustainable(figures: dict[str, Any], p99_bound_ms: float) -> bool:
    """The server kept up: nearly every request succeeded, the achieved throughput is
    within 5% of the offered rate, and p99 (from the intended send time) stayed bounded."""
    p99 = (figures.get("latency_ms") or {}).get("p99")
    return (
        figures.get("success", 0) >= 0.999
        and figures.get("throughput", 0) >= 0.95 * figures.get("rate", float("inf"))
        and p99 is not None
        and p99 <= p99_bound_ms
    )


def climb(
    attack_at: Callable[[float], dict[str, Any]],
    ladder: list[float],
    p99_bound_ms: float,
    *,
    down_steps: int = 3,
    retries: int = 1,
) -> dict[str, Any]:
    """Attack at each rate until one is not sustainable; the last good rate is the max.
    A failing rate is tried again ``retries`` times before it counts as broken (a shared
    machine has hiccups). When even the first rate breaks, step down the same factor
    (``down_steps`` times)."""
    points, best = [], 0.0
    for rate in ladder:
        for _ in range(1 + retries):
            figures = attack_at(rate)
            ok = sustainable(figures, p99_bound_ms)
            points.append({**figures, "sustainable": ok})
            if ok:
                break
        if not ok:
            break
        best = rate
    if not best and ladder:
        best = step_down(attack_at, ladder, p99_bound_ms, points, down_steps)
    capped = bool(points) and points[-1]["sustainable"]  # the real max is above the ladder
    return {"points": points, "max_sustainable": best, "capped": capped}


def step_down(
    attack_at: Callable[[float], dict[str, Any]],
    ladder: list[float],
    p99_bound_ms: float,
    points: list[dict[str, Any]],
    steps: int = 3,
) -> float:
    """Below the ladder's first rate, by its factor, until a rate holds (0: none did);
    the points tried go in front of ``points``."""
    factor = ladder[1] / ladder[0] if len(ladder) > 1 else 2.0
    rate = ladder[0]
    for _ in range(steps):
        rate = round(rate / factor)
        figures = attack_at(rate)
        ok = sustainable(figures, p99_bound_ms)
        points.insert(0, {**figures, "sustainable": ok})
        if ok:
            return rate
    return 0.0


def climb_pair(
    attacks: tuple[Callable[[float], dict[str, Any]], Callable[[float], dict[str, Any]]],
    ladder: list[float],
    p99_bound_ms: float,
    *,
    retries: int = 1,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two ladders climbed side by side: at each rate the first endpoint, then the second,
    each until it breaks. Both see the machine in the same few seconds, so load from
    elsewhere (a shared machine) moves both figures together and their ratio stays put.
    A side that breaks at the first rate steps down alone."""
    points: tuple[list[dict[str, Any]], list[dict[str, Any]]] = ([], [])
    best, climbing = [0.0, 0.0], [True, True]
    for rate in ladder:
        for side in (0, 1):
            if not climbing[side]:
                continue
            for _ in range(1 + retries):
                figures = attacks[side](rate)
                ok = sustainable(figures, p99_bound_ms)
                points[side].append({**figures, "sustainable": ok})
                if ok:
                    break
            climbing[side] = ok
            best[side] = rate if ok else best[side]
    out = []
    for side in (0, 1):
        if not best[side] and ladder:
            best[side] = step_down(attacks[side], ladder, p99_bound_ms, points[side])
        capped = bool(points[side]) and points[side][-1]["sustainable"]
        out.append({"points": points[side], "max_sustainable": best[side], "capped": capped})
    return out[0], out[1]
