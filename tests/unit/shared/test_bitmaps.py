from __future__ import annotations

import itertools
import random
import timeit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from overlap_shared.bitmaps import (
    MAX_RANGES,
    RangeError,
    apply_patch,
    bits_to_ranges,
    check_disjoint,
    from_bytes,
    heatmap,
    ranges_to_bits,
    to_bytes,
)


@st.composite
def sized_ranges(draw: st.DrawFn) -> tuple[int, list[list[int]]]:
    n = draw(st.integers(1, 300))
    pair = st.tuples(st.integers(0, n - 1), st.integers(1, n)).filter(lambda p: p[0] < p[1])
    ranges = draw(st.lists(pair.map(list), max_size=20))
    return n, ranges


@st.composite
def sized_bits(draw: st.DrawFn) -> tuple[int, int]:
    n = draw(st.integers(1, 700))
    return n, draw(st.integers(0, (1 << n) - 1))


@given(sized_ranges())
def test_ranges_to_bits_is_the_union(case: tuple[int, list[list[int]]]) -> None:
    n, ranges = case
    bits = ranges_to_bits(ranges, n)
    covered = {i for s, e in ranges for i in range(s, e)}
    assert {i for i in range(n) if bits >> i & 1} == covered
    minimal = bits_to_ranges(bits)
    assert ranges_to_bits(minimal, n) == bits
    # Minimal: sorted, non-empty, neither overlapping nor touching.
    assert all(s < e for s, e in minimal)
    assert all(a[1] < b[0] for a, b in itertools.pairwise(minimal))


@given(sized_bits())
def test_bits_ranges_bytes_round_trip(case: tuple[int, int]) -> None:
    n, bits = case
    assert ranges_to_bits(bits_to_ranges(bits), n) == bits
    data = to_bytes(bits, n)
    assert len(data) == (n + 7) // 8
    assert from_bytes(data) == bits
    for i in range(n):  # the documented layout: byte i // 8, bit i % 8, little-endian
        assert (data[i // 8] >> (i % 8)) & 1 == (bits >> i) & 1


def test_layout_and_examples() -> None:
    assert to_bytes(0b1, 10) == b"\x01\x00"
    assert to_bytes(1 << 9, 10) == b"\x00\x02"
    assert to_bytes(0, 0) == b""
    assert bits_to_ranges(0) == []
    assert bits_to_ranges(0b1110_0110) == [[1, 3], [5, 8]]
    assert ranges_to_bits([[0, 2], [1, 3], (3, 4)], 8) == 0b1111
    assert ranges_to_bits(iter([]), 8) == 0
    with pytest.raises(ValueError):
        to_bytes(1 << 10, 10)
    with pytest.raises(ValueError):
        to_bytes(-1, 10)
    with pytest.raises(ValueError):
        bits_to_ranges(-1)


@pytest.mark.parametrize(
    ("ranges", "message"),
    [
        ([[0, 0]], r"\[0, 0\]"),
        ([[3, 2]], r"\[3, 2\]"),
        ([[-1, 2]], r"\[-1, 2\]"),
        ([[0, 11]], r"\[0, 11\]"),
        ([[0, 1], [5, 12]], r"\[5, 12\]"),
        ([[True, 2]], r"\[True, 2\]"),
        ([[0, 1.0]], r"\[0, 1.0\]"),
        ([[0, 1, 2]], r"\[0, 1, 2\]"),
        ([[1]], r"\[1\]"),
        (["01"], "'01'"),
        ([5], "5"),
        ([None], "None"),
        ([[10**5000, 1]], "unprintable"),
        ("[[0, 1]]", "list"),
    ],
)
def test_ranges_to_bits_rejects(ranges: object, message: str) -> None:
    with pytest.raises(RangeError, match=message):
        ranges_to_bits(ranges, 10)  # type: ignore[arg-type]


def test_ranges_to_bits_takes_any_pair_of_ints_not_only_lists() -> None:
    """Request bodies decode to lists of plain ints (the fast check); any other sequence of
    two ints still counts, as before it."""

    class Slot(int):
        pass

    assert ranges_to_bits([(0, 2), [Slot(4), 5]], 10) == 0b10011


def test_ranges_cap() -> None:
    ok = [[i, i + 1] for i in range(MAX_RANGES)]
    assert ranges_to_bits(ok, MAX_RANGES) == (1 << MAX_RANGES) - 1
    with pytest.raises(RangeError, match="too many"):
        ranges_to_bits([*ok, [0, 1]], MAX_RANGES)


def test_missing_slots_are_refused() -> None:
    assert ranges_to_bits([[0, 2], [4, 6]], 8, missing=(2, 3)) == 0b110011
    with pytest.raises(
        RangeError, match=r"range \[1, 4\] covers slots that do not exist: \[2, 3\]"
    ):
        ranges_to_bits([[0, 1], [1, 4]], 8, missing={2, 3})


@given(
    st.integers(1, 300).flatmap(
        lambda n: st.tuples(st.just(n), st.lists(st.integers(0, (1 << n) - 1), max_size=30))
    )
)
def test_heatmap_equals_naive(case: tuple[int, list[int]]) -> None:
    n, bitsets = case
    assert heatmap(bitsets, n) == [sum(b >> i & 1 for b in bitsets) for i in range(n)]


def test_heatmap_many_participants_and_edges() -> None:
    n = 20
    bitsets = [(1 << n) - 1] * 600 + [0b101] * 300
    counts = heatmap(bitsets, n)
    assert counts == [900, 600, 900] + [600] * (n - 3)
    assert heatmap([], 5) == [0] * 5
    assert heatmap([], 0) == []
    with pytest.raises(ValueError):
        heatmap([1 << 5], 5)
    with pytest.raises(ValueError):
        heatmap([-1], 5)


def test_heatmap_speed() -> None:
    rng = random.Random(7)
    n = 7 * 96
    bitsets = [rng.getrandbits(n) for _ in range(200)]
    per_call = min(timeit.repeat(lambda: heatmap(bitsets, n), number=20, repeat=5)) / 20
    print(f"\nheatmap 200 participants x {n} slots: {per_call * 1e3:.3f} ms")
    assert heatmap(bitsets, n) == [sum(b >> i & 1 for b in bitsets) for i in range(n)]


masks = st.integers(0, (1 << 64) - 1)


@given(masks, masks, masks, masks, masks)
def test_apply_patch(a: int, n: int, set_a: int, set_n: int, clear: int) -> None:
    n &= ~a  # stored levels are disjoint
    new_a, new_n = apply_patch(a, n, set_a, set_n, clear)
    assert new_a & new_n == 0
    check_disjoint(new_a, new_n)
    for i in range(64):
        bit = 1 << i
        if set_a & bit:
            expected = "a"
        elif set_n & bit:
            expected = "n"
        elif clear & bit:
            expected = "-"
        else:
            expected = "a" if a & bit else "n" if n & bit else "-"
        actual = "a" if new_a & bit else "n" if new_n & bit else "-"
        assert actual == expected


def test_check_disjoint() -> None:
    check_disjoint(0b0011, 0b1100)
    with pytest.raises(RangeError, match=r"available and if_needed overlap at \[\[1, 3\]\]"):
        check_disjoint(0b0111, 0b1110)
