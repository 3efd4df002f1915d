"""Array kernels of the view engine: stored bitsets as packed numpy rows, and their ranges.

A participant's level is kept as it is stored: a row of little-endian bytes, eight slots a
byte (slot ``i`` is bit ``i % 8`` of byte ``i // 8``), with one zero byte past the grid so
that every run of marked slots ends inside its row.  Many participants form a
``(participants, bytes)`` ``uint8`` matrix.  Runs are found on the packed bytes: a slot
starts or ends a run where its bit differs from the bit before it (``x ^ (x << 1)`` with
the carry from the previous byte), and only the few bytes holding such an edge are
unpacked.  A full rebuild thus passes over ``participants x slots / 8`` bytes, and one
participant's change costs one row.

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
    "Packed",
    "Ranges",
    "exists_mask",
    "gather_columns",
    "pack_clean",
    "packed_width",
    "row_ranges",
    "rows_from_ranges",
    "scan_changes",
    "scan_level",
    "slot_changes",
    "unpack_clean",
    "unpack_rows",
]

Bools = npt.NDArray[np.bool_]
Packed = npt.NDArray[np.uint8]
Ranges = npt.NDArray[np.int64]
Ints32 = npt.NDArray[np.int32]
Positions = npt.NDArray[np.intp]


def exists_mask(slot_count: int, missing: Collection[int]) -> Bools:
    """True for every slot of the grid that exists (not skipped by a DST change)."""
    mask = np.ones(slot_count, dtype=np.bool_)
    if missing:
        mask[np.fromiter(missing, dtype=np.int64)] = False
    return mask


def packed_width(slot_count: int) -> int:
    """Bytes of one packed row: the grid's bytes and one zero byte past them."""
    return (slot_count + 7) // 8 + 1


def _packed(stored: Sequence[bytes], width: int) -> Packed:
    joined = b"".join(data[:width].ljust(width, b"\0") for data in stored)
    return np.frombuffer(joined, dtype=np.uint8).reshape(len(stored), width)


def pack_clean(
    stored_a: Sequence[bytes], stored_n: Sequence[bytes], exists: Bools
) -> tuple[Packed, Packed]:
    """Stored bitsets of both levels -> two cleaned packed matrices (``packed_width`` bytes
    a row, the last byte always zero).

    Bytes past the grid are dropped and short values padded with zeros, as the view reads
    stored bits (a grid edit may leave rows of another length until remapped); marks on
    missing slots are dropped and a slot marked at both levels is available only.
    """
    slot_count = exists.shape[0]
    width = packed_width(slot_count)
    if not stored_a:
        empty = np.zeros((0, width), dtype=np.uint8)
        return empty, empty.copy()
    valid = np.zeros(width, dtype=np.uint8)
    valid[:-1] = np.packbits(exists, bitorder="little")  # zero past slot_count
    packed_a = _packed(stored_a, width) & valid
    packed_n = _packed(stored_n, width) & valid & ~packed_a
    return packed_a, packed_n


def unpack_rows(packed: Packed, slot_count: int) -> Bools:
    """Packed rows -> ``(..., slot_count)`` booleans (True = marked)."""
    bits = np.unpackbits(packed, axis=-1, count=slot_count, bitorder="little")
    return bits.view(np.bool_)


def unpack_clean(
    stored_a: Sequence[bytes], stored_n: Sequence[bytes], exists: Bools
) -> tuple[Bools, Bools]:
    """:func:`pack_clean` as two ``(rows, slot_count)`` boolean matrices."""
    packed_a, packed_n = pack_clean(stored_a, stored_n, exists)
    slot_count = exists.shape[0]
    return unpack_rows(packed_a, slot_count), unpack_rows(packed_n, slot_count)


def run_edges(packed: Packed) -> Positions:
    """Ascending flat bit positions (``row * 8 * bytes + slot``) where a row's bit differs
    from the one before it (a row starts unmarked): starts and ends of runs, in pairs."""
    carry = np.zeros_like(packed)
    carry[:, 1:] = packed[:, :-1] >> np.uint8(7)
    flat = (packed ^ ((packed << np.uint8(1)) | carry)).ravel()
    where = np.flatnonzero(flat != 0)  # (numpy finds True in booleans faster than in bytes)
    bits = np.flatnonzero(np.unpackbits(flat[where], bitorder="little").view(np.bool_))
    positions: Positions = where[bits >> 3] * 8 + (bits & 7)
    return positions


@dataclass(frozen=True, slots=True)
class LevelScan:
    """One level of many rows, scanned once: per-row ranges, per-slot counts, run edges.

    ``edges`` are flat bit positions in the packed rows laid end to end
    (``row * stride + slot``, ``stride`` bits a row); a run starts or ends at each.
    """

    ranges: list[Ranges]
    counts: Ints32
    edges: Positions
    stride: int


def scan_level(packed: Packed, slot_count: int) -> LevelScan:
    """Ranges, counts and edges of a cleaned packed matrix, in one pass over its bytes."""
    rows, stride = packed.shape[0], packed.shape[1] * 8
    edges = run_edges(packed)
    pairs = edges.reshape(-1, 2)
    per_row = np.searchsorted(pairs[:, 0], np.arange(rows + 1) * stride)
    cols = (pairs - (pairs[:, :1] // stride) * stride).astype(np.int64)
    steps = np.bincount(cols[:, 0], minlength=slot_count + 1) - np.bincount(
        cols[:, 1], minlength=slot_count + 1
    )
    counts = np.cumsum(steps[:slot_count], dtype=np.int32)
    ranges = [cols[per_row[i] : per_row[i + 1]] for i in range(rows)]
    return LevelScan(ranges, counts, edges, stride)


def scan_changes(available: LevelScan, if_needed: LevelScan, slot_count: int) -> Ints32:
    """:func:`slot_changes` of two disjoint levels, from their scans' edges.

    A row's state changes at slot ``s`` when either level has an edge there; both levels
    have one at the same place when one ends where the other starts, counted once.
    """
    stride, a, n = available.stride, available.edges, if_needed.edges
    both = n[:0]
    if len(a) and len(n):
        at = np.minimum(np.searchsorted(a, n), len(a) - 1)
        both = n[a[at] == n]
    counts = (
        np.bincount(a % stride, minlength=stride)
        + np.bincount(n % stride, minlength=stride)
        - np.bincount(both % stride, minlength=stride)
    )
    out = np.zeros(slot_count, dtype=np.int32)
    out[1:] = counts[1:slot_count]
    return out


def row_ranges(row: Bools) -> Ranges:
    """The minimal sorted half-open ranges of one boolean row's True entries."""
    padded = np.zeros(row.shape[0] + 2, dtype=np.int8)
    padded[1:-1] = row
    ranges: Ranges = np.flatnonzero(np.diff(padded)).astype(np.int64).reshape(-1, 2)
    return ranges


def gather_columns(packed: Packed, rows: Positions, columns: Sequence[int]) -> Bools:
    """The given slots (columns) of the given packed rows, as a boolean matrix."""
    cols = np.asarray(columns, dtype=np.intp)
    picked = packed.take(cols >> 3, axis=1).take(rows, axis=0)  # (faster than np.ix_)
    bits: Bools = ((picked >> (cols & 7).astype(np.uint8)) & 1).view(np.bool_)
    return bits


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
