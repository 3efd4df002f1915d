"""Array kernels of the view engine: stored bitsets as numpy rows, and their ranges.

A participant's level is a ``bool`` row of ``slot_count`` entries (True = marked); many
participants form a ``(participants, slot_count)`` matrix.  numpy does the per-slot work
in C, so a full rebuild costs a few passes over ``participants x slots`` bytes instead of
Python loops, and one participant's change costs one row.

Ranges come out as ``(k, 2)`` ``int64`` arrays that orjson serializes directly
(``OPT_SERIALIZE_NUMPY``) into exactly the bytes of the equivalent lists of lists.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "Bools",
    "LevelScan",
    "Ranges",
    "clean_levels",
    "exists_mask",
    "row_ranges",
    "rows_from_ranges",
    "scan_changes",
    "scan_level",
    "slot_changes",
    "unpack_clean",
]

Bools = npt.NDArray[np.bool_]
Ranges = npt.NDArray[np.int64]
Ints32 = npt.NDArray[np.int32]
_NO_RANGES: Ranges = np.zeros((0, 2), dtype=np.int64)


def exists_mask(slot_count: int, missing: Collection[int]) -> Bools:
    """True for every slot of the grid that exists (not skipped by a DST change)."""
    mask = np.ones(slot_count, dtype=np.bool_)
    if missing:
        mask[np.fromiter(missing, dtype=np.int64)] = False
    return mask


def _packed(stored: Sequence[bytes], width: int) -> npt.NDArray[np.uint8]:
    joined = b"".join(data[:width].ljust(width, b"\0") for data in stored)
    return np.frombuffer(joined, dtype=np.uint8).reshape(len(stored), width)


def unpack_clean(
    stored_a: Sequence[bytes], stored_n: Sequence[bytes], exists: Bools
) -> tuple[Bools, Bools]:
    """Stored little-endian bitsets of both levels -> two cleaned ``(rows, slots + 1)``
    matrices whose last column is always False (the layout :func:`scan_level` reads).

    Bytes past the grid are dropped and short values padded with zeros, as the view reads
    stored bits (a grid edit may leave rows of another length until remapped); marks on
    missing slots are dropped and a slot marked at both levels is available only.  The
    cleaning runs on the packed bytes, eight slots per operation.
    """
    slot_count = exists.shape[0]
    width = (slot_count + 7) // 8
    if not stored_a:
        empty = np.zeros((0, slot_count + 1), dtype=np.bool_)
        return empty, empty.copy()
    valid = np.packbits(exists, bitorder="little")
    packed_a = _packed(stored_a, width) & valid
    packed_n = _packed(stored_n, width) & valid & ~packed_a
    unpack = np.unpackbits
    # Bits at and past slot_count are zero (``valid`` has none), or padded by numpy.
    bits_a = unpack(packed_a, axis=1, count=slot_count + 1, bitorder="little").view(np.bool_)
    bits_n = unpack(packed_n, axis=1, count=slot_count + 1, bitorder="little").view(np.bool_)
    return bits_a, bits_n


def clean_levels(available: Bools, if_needed: Bools, exists: Bools) -> tuple[Bools, Bools]:
    """Drop marks on missing slots; a slot marked at both levels counts as available only."""
    clean_a = available & exists
    return clean_a, if_needed & exists & ~clean_a


@dataclass(frozen=True, slots=True)
class LevelScan:
    """One level of many rows, scanned once: per-row ranges, per-slot counts, run edges.

    ``edges`` are flat positions in the rows laid end to end, each followed by one empty
    column (``row * (slots + 1) + slot``); a run starts or ends at each.
    """

    ranges: list[Ranges]
    counts: npt.NDArray[np.int32]
    edges: npt.NDArray[np.intp]


def scan_level(padded: Bools) -> LevelScan:
    """Ranges, counts and edges of a ``(rows, slots + 1)`` matrix whose last column is
    False, in one pass over it."""
    rows, width = padded.shape[0], padded.shape[1] - 1
    flat = np.ascontiguousarray(padded).ravel()
    edges = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    if rows and flat[0]:
        edges = np.concatenate(([0], edges))
    pairs = edges.reshape(-1, 2)
    per_row = np.searchsorted(pairs[:, 0], np.arange(rows + 1) * (width + 1))
    cols = (pairs - (pairs[:, :1] // (width + 1)) * (width + 1)).astype(np.int64)
    steps = np.bincount(cols[:, 0], minlength=width + 1) - np.bincount(
        cols[:, 1], minlength=width + 1
    )
    counts = np.cumsum(steps[:width], dtype=np.int32)
    ranges = [cols[per_row[i] : per_row[i + 1]] for i in range(rows)]
    return LevelScan(ranges, counts, edges)


def scan_changes(available: LevelScan, if_needed: LevelScan, slot_count: int) -> Ints32:
    """:func:`slot_changes` of two disjoint levels, from their scans' edges.

    A row's state changes at slot ``s`` when either level has an edge there; both levels
    have one at the same place when one ends where the other starts, counted once.
    """
    stride = slot_count + 1
    size = max(len(available.ranges), 1) * stride
    marked = np.zeros(size + 1, dtype=np.bool_)
    marked[available.edges] = True
    both = if_needed.edges[marked[if_needed.edges]]
    counts = (
        np.bincount(available.edges % stride, minlength=stride)
        + np.bincount(if_needed.edges % stride, minlength=stride)
        - np.bincount(both % stride, minlength=stride)
    )
    out = np.zeros(slot_count, dtype=np.int32)
    out[1:] = counts[1:slot_count]
    return out


def row_ranges(row: Bools) -> Ranges:
    """The minimal sorted half-open ranges of one row's True entries."""
    if not row.any():
        return _NO_RANGES
    padded = np.zeros((1, row.shape[0] + 1), dtype=np.bool_)
    padded[0, :-1] = row
    return scan_level(padded).ranges[0]


def slot_changes(available: Bools, if_needed: Bools) -> Ints32:
    """Per slot ``s``: how many rows differ between slot ``s - 1`` and ``s`` (0 at slot 0).

    With cleaned levels a row's state in a slot is one of none / available / if-needed;
    a block-search segment ends where any participant's state changes.
    """
    state = available.astype(np.int8) + 2 * if_needed.astype(np.int8)
    out = np.zeros(state.shape[-1], dtype=np.int32)
    if state.shape[-1] > 1:
        differ = state[..., 1:] != state[..., :-1]
        out[1:] = differ if differ.ndim == 1 else differ.sum(axis=0, dtype=np.int32)
    return out


def rows_from_ranges(ranges: Sequence[Sequence[Sequence[int]]], slot_count: int) -> Bools:
    """Per-row range lists (as in the view) -> a ``(len(ranges), slot_count)`` matrix."""
    steps = np.zeros((len(ranges), slot_count + 1), dtype=np.int16)
    for index, pairs in enumerate(ranges):
        if len(pairs):
            edges = np.asarray(pairs, dtype=np.int64)
            steps[index, edges[:, 0]] += 1
            steps[index, edges[:, 1]] -= 1
    return np.cumsum(steps[:, :slot_count], axis=1) > 0
