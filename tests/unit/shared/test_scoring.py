from __future__ import annotations

import random
import timeit
from collections.abc import Collection, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from overlap_shared.oracle.scoring import best_times, slot_masks

Participant = tuple[str, int, int]


def reference(
    per_day: int,
    slot_count: int,
    participants: Sequence[Participant],
    missing: Collection[int],
    min_slots: int = 1,
    required: Collection[str] = (),
    limit: int = 10,
) -> list[dict[str, Any]]:
    """Brute force, straight from the rules in scoring's docstring, with sets of ids."""
    ids = [pid for pid, _, _ in participants]

    def level(i: int) -> tuple[frozenset[str], frozenset[str]]:
        avail = frozenset(pid for pid, a, _ in participants if a >> i & 1)
        maybe = frozenset(pid for pid, a, n in participants if not a >> i & 1 and n >> i & 1)
        return avail, maybe

    levels = {i: level(i) for i in range(slot_count)}
    candidates = []
    for day in range(slot_count // per_day):
        segments: list[list[int] | None] = []  # None marks a missing slot
        for i in range(day * per_day, (day + 1) * per_day):
            last = segments[-1] if segments else None
            if i in missing:
                segments.append(None)
            elif last is not None and levels[last[-1]] == levels[i]:
                last.append(i)
            else:
                segments.append([i])
        for k, segment in enumerate(segments):
            if segment is None:
                continue
            block: list[int] = []
            for nxt in segments[k:]:
                if nxt is None:
                    break
                block += nxt
                if len(block) >= min_slots:
                    break
            if len(block) < min_slots:
                continue
            avail = [p for p in ids if all(p in levels[i][0] for i in block)]
            maybe = [
                p
                for p in ids
                if p not in avail and all(p in levels[i][0] | levels[i][1] for i in block)
            ]
            total = sum(len(levels[i][0]) + 0.5 * len(levels[i][1]) for i in block)
            score = round(total / len(block), 4)
            if score == 0 or any(r not in avail + maybe for r in required):
                continue
            candidates.append((-score, -len(block), block[0], block[-1] + 1, avail, maybe))
    candidates.sort(key=lambda c: (c[0], c[1], c[2]))
    taken: set[int] = set()
    out: list[dict[str, Any]] = []
    for neg, _, start, end, avail, maybe in candidates:
        if len(out) >= limit:
            break
        if taken & set(range(start, end)):
            continue
        taken |= set(range(start, end))
        out.append(
            {"start": start, "end": end, "available": avail, "if_needed": maybe, "score": -neg}
        )
    return out


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    per_day = draw(st.integers(1, 8))
    days = draw(st.integers(1, 3))
    n = per_day * days
    count = draw(st.integers(0, 5))
    # Few distinct patterns so that segments longer than one slot are common.
    bits = st.integers(0, (1 << n) - 1) | st.sampled_from([0, (1 << n) - 1])
    people = [(f"p{k}", draw(bits), draw(bits)) for k in range(count)]
    ids = [p[0] for p in people]
    return {
        "per_day": per_day,
        "slot_count": n,
        "participants": people,
        "missing": draw(st.sets(st.integers(0, n - 1), max_size=2)),
        "min_slots": draw(st.integers(1, per_day + 1)),
        "required": draw(st.lists(st.sampled_from([*ids, "ghost"]), max_size=2))
        if draw(st.booleans())
        else [],
        "limit": draw(st.integers(1, 6)),
    }


@settings(max_examples=400)
@given(cases())
def test_matches_brute_force(case: dict[str, Any]) -> None:
    args = (case["per_day"], case["slot_count"], case["participants"], case["missing"])
    kwargs = {k: case[k] for k in ("min_slots", "required", "limit")}
    got = best_times(*args, **kwargs)
    assert got == reference(*args, **kwargs)
    missing = case["missing"]
    for block in got:
        start, end = block["start"], block["end"]
        assert end - start >= case["min_slots"]
        assert start // case["per_day"] == (end - 1) // case["per_day"]  # one day
        assert not missing & set(range(start, end))
        assert block["score"] > 0


def test_example_ranking() -> None:
    # One day of 6 slots.  Alice is free 0-4, Bob 2-6 (if needed in 0-2), Cara 3-4.
    people = [
        ("alice", 0b001111, 0),
        ("bob", 0b111100, 0b000011),
        ("cara", 0b001000, 0),
    ]
    got = best_times(6, 6, people, missing=())
    assert got == [
        {
            "start": 3,
            "end": 4,
            "available": ["alice", "bob", "cara"],
            "if_needed": [],
            "score": 3.0,
        },
        {"start": 2, "end": 3, "available": ["alice", "bob"], "if_needed": [], "score": 2.0},
        {"start": 0, "end": 2, "available": ["alice"], "if_needed": ["bob"], "score": 1.5},
        {"start": 4, "end": 6, "available": ["bob"], "if_needed": [], "score": 1.0},
    ]
    # Minimum two slots: blocks merge neighbouring segments and average their scores.
    got = best_times(6, 6, people, missing=(), min_slots=2)
    assert [(b["start"], b["end"], b["score"]) for b in got] == [
        (2, 4, 2.5),
        (0, 2, 1.5),
        (4, 6, 1.0),
    ]
    assert got[0]["available"] == ["alice", "bob"] and got[0]["if_needed"] == []
    # Required participant: only blocks Cara can make.
    got = best_times(6, 6, people, missing=(), min_slots=2, required=["cara"])
    assert got == []
    got = best_times(6, 6, people, missing=(), required=["cara"])
    assert [(b["start"], b["end"]) for b in got] == [(3, 4)]
    assert best_times(6, 6, people, missing=(), required=["nobody"]) == []
    assert len(best_times(6, 6, people, missing=(), limit=2)) == 2
    assert best_times(6, 6, people, missing=(), limit=0) == []
    assert best_times(6, 6, [], missing=()) == []


def test_days_and_missing_slots_split_blocks() -> None:
    # Two days of 4 slots; everybody is free everywhere; slot 1 does not exist.
    people = [("a", 0xFF, 0), ("b", 0xFF, 0)]
    got = best_times(4, 8, people, missing={1})
    assert [(b["start"], b["end"]) for b in got] == [(4, 8), (2, 4), (0, 1)]
    # A whole uniform segment is one block, even when longer than min_slots.
    assert best_times(4, 8, people, missing={1}, min_slots=3) == [
        {"start": 4, "end": 8, "available": ["a", "b"], "if_needed": [], "score": 2.0}
    ]
    assert best_times(4, 8, people, missing=(), min_slots=5) == []


def test_score_rounding_and_if_needed_only() -> None:
    people = [("a", 0b001, 0b000), ("b", 0, 0b111), ("c", 0b110, 0)]
    got = best_times(3, 3, people, missing=(), min_slots=3)
    # Slot scores 1.5, 1.5, 1.5 -> a and c are never available in all three slots.
    assert got == [{"start": 0, "end": 3, "available": [], "if_needed": ["b"], "score": 1.5}]
    people = [("a", 0b001, 0), ("b", 0b010, 0), ("c", 0, 0b010)]
    got = best_times(3, 3, people, missing=(), min_slots=3)
    assert got[0]["score"] == round(2.5 / 3, 4) == 0.8333


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        best_times(0, 0, [], ())
    with pytest.raises(ValueError):
        best_times(5, 7, [], ())
    with pytest.raises(ValueError):
        best_times(5, 10, [], (), min_slots=0)


def test_slot_masks_transpose() -> None:
    people = [("a", 0b0011, 0b0100), ("b", 0b0110, 0b1001), ("c", 1 << 9, 0)]
    avail, maybe = slot_masks(people, 4)
    assert avail == [0b001, 0b011, 0b010, 0]
    assert maybe == [0b010, 0, 0b001, 0b010]  # c: bits beyond the grid are ignored


def test_speed_200_participants_week_of_15_minute_slots() -> None:
    rng = random.Random(3)
    per_day, days, count = 96, 7, 200
    people = []
    for k in range(count):
        a = n = 0
        for d in range(days):
            start = rng.randrange(per_day)
            end = min(per_day, start + rng.randrange(1, 32))
            a |= ((1 << (end - start)) - 1) << (d * per_day + start)
            start = rng.randrange(per_day)
            n |= 1 << (d * per_day + start)
        people.append((f"p{k}", a, n & ~a))
    for min_slots in (1, 4, 16):

        def run(m: int = min_slots) -> None:
            best_times(per_day, per_day * days, people, (), m)

        per_call = min(timeit.repeat(run, number=10, repeat=3)) / 10
        print(f"\nbest_times 200 x 7 x 96, min_slots={min_slots}: {per_call * 1e3:.2f} ms")
