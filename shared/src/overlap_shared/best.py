"""Best times on arrays: the rules of ``overlap_shared.oracle.scoring``, vectorized.

The search needs only per-slot figures, never the participants one by one:

* ``counts_a`` / ``counts_n``: how many people are available / if-needed in each slot;
* ``changes``: per slot, how many people's state differs from the slot before — a
  segment (maximal run of identical columns) starts where it is non-zero;
* ``exists``: the grid's existing slots (a block never crosses a missing one), and the
  slots per day (a block never crosses a day boundary).

Each segment start ``s`` of a stretch ending at ``E`` yields the block ``[s, e)`` where
``e`` is the first segment end ``>= s + min_slots`` (none when ``s + min_slots > E``).
Its score is the mean of ``available + 0.5 * if_needed`` over the block, from prefix sums;
it is rounded with Python's ``round`` so scores equal the oracle's to the last bit.
Blocks are ranked (score desc, length desc, start asc) and kept greedily when they do not
overlap a kept one.  Only the kept blocks (at most ``limit``) look at participants.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from overlap_shared.kernels import Bools, Packed, gather_columns

__all__ = ["Block", "SlotFigures", "describe_blocks", "rank_blocks"]

Ints = npt.NDArray[np.int64]
_SHORTLIST = 256  # candidates ranked first; all of them only when these run out


@dataclass(frozen=True, slots=True)
class Block:
    start: int
    end: int
    score: float


@dataclass(frozen=True, slots=True)
class SlotFigures:
    """What the search reads per slot (see the module docstring)."""

    slots_per_day: int
    exists: Bools
    counts_a: npt.NDArray[np.integer]
    counts_n: npt.NDArray[np.integer]
    changes: npt.NDArray[np.integer]


def _edge_masks(figures: SlotFigures) -> tuple[Bools, Bools]:
    """Per slot position ``0..slot_count``: where a segment starts, where a stretch ends.

    A stretch is a run of existing slots within one day; a segment starts at a stretch's
    first slot or where someone's state changes inside a stretch.
    """
    exists = figures.exists
    slot_count = exists.shape[0]
    day_start = np.zeros(slot_count + 1, dtype=np.bool_)
    day_start[:: figures.slots_per_day] = True
    present = np.concatenate((exists, [False]))
    before = np.concatenate(([False], exists))
    seg_start = present & (day_start | ~before | (np.append(figures.changes, 0) > 0))
    stretch_end = before & (day_start | ~present)
    return seg_start, stretch_end


def _candidates(figures: SlotFigures, min_slots: int, allowed: Bools | None) -> Ints:
    """``(start, end, halves)`` rows of every scoring candidate block."""
    seg_mask, end_mask = _edge_masks(figures)
    seg_starts = np.flatnonzero(seg_mask)
    stretch_ends = np.flatnonzero(end_mask)
    bounds = np.flatnonzero(seg_mask | end_mask)
    stretch_end = stretch_ends[np.searchsorted(stretch_ends, seg_starts, side="right")]
    reach = seg_starts + min_slots
    fits = reach <= stretch_end
    starts = seg_starts[fits]
    ends = bounds[np.searchsorted(bounds, reach[fits], side="left")]
    halves_per_slot = 2 * figures.counts_a.astype(np.int64) + figures.counts_n
    prefix = np.concatenate(([0], np.cumsum(halves_per_slot)))
    halves = prefix[ends] - prefix[starts]
    keep = halves > 0
    if allowed is not None:
        blocked = np.concatenate(([0], np.cumsum(~allowed, dtype=np.int64)))
        keep &= blocked[ends] == blocked[starts]
    return np.stack((starts[keep], ends[keep], halves[keep]), axis=1).astype(np.int64)


def _round4(halves: Ints, lengths: Ints) -> npt.NDArray[np.float64]:
    """``round(halves / (2 * length), 4)`` exactly as Python rounds, for every block.

    numpy's ``round`` scales, rounds and unscales; that gives Python's answer except
    when the scaled value lies within a rounding error of a half, so those few are
    recomputed with Python's ``round``.
    """
    means = halves / (2 * lengths)
    scaled = means * 10_000
    out = np.rint(scaled) / 10_000
    near_half = np.flatnonzero(np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6)
    for i in near_half.tolist():
        out[i] = round(float(means[i]), 4)
    return out


def rank_blocks(
    figures: SlotFigures, min_slots: int, limit: int, allowed: Bools | None = None
) -> list[Block]:
    """The best non-overlapping blocks, at most ``limit``, best first.

    ``allowed`` (optional) is False on slots where a required participant is neither
    available nor if-needed: a block covering one is not a candidate.
    """
    if limit <= 0 or min_slots > figures.slots_per_day:
        return []
    found = _candidates(figures, min_slots, allowed)
    if not len(found):
        return []
    scores = _round4(found[:, 2], found[:, 1] - found[:, 0])
    keys = _rank_keys(found, scores)
    if len(keys) > _SHORTLIST:  # the best few are nearly always enough: no full sort
        shortlist = np.argpartition(keys, _SHORTLIST)[:_SHORTLIST]
        kept = _greedy(found, scores, shortlist[np.argsort(keys[shortlist])], limit, figures)
        if len(kept) >= limit:
            return kept
    return _greedy(found, scores, np.argsort(keys), limit, figures)


def _rank_keys(found: Ints, scores: npt.NDArray[np.float64]) -> Ints:
    """One int64 per candidate that sorts ascending as (score desc, length desc, start asc).

    Scores are multiples of 1/10,000 (at most 1,000 people: under 2**24 steps), lengths and
    starts are below 2**13.
    """
    steps = np.rint(scores * 10_000).astype(np.int64)
    lengths = found[:, 1] - found[:, 0]
    return -((steps << 26) | (lengths << 13)) + found[:, 0]


def _greedy(
    found: Ints,
    scores: npt.NDArray[np.float64],
    order: npt.NDArray[np.intp],
    limit: int,
    figures: SlotFigures,
) -> list[Block]:
    """Walk ``order`` keeping each block that overlaps no kept one, up to ``limit``."""
    taken = bytearray(figures.exists.shape[0])
    kept: list[Block] = []
    for index, start, end in zip(order.tolist(), *found[order, :2].T.tolist(), strict=True):
        if taken.find(1, start, end) != -1:
            continue
        taken[start:end] = b"\1" * (end - start)
        kept.append(Block(start, end, float(scores[index])))
        if len(kept) >= limit:
            break
    return kept


def describe_blocks(
    blocks: Sequence[Block],
    changes: npt.NDArray[np.integer],
    available: Packed,
    if_needed: Packed,
    rows: npt.NDArray[np.intp],
    ids: npt.NDArray[np.object_],
) -> list[dict[str, Any]]:
    """The answer's blocks: who is available (or if-needed) in every slot of each.

    ``available`` / ``if_needed`` are packed rows (``overlap_shared.kernels``); ``rows``
    are the participants' rows of them in view order (``ids``, an object array of their
    id strings).  Columns within a segment are identical, so only each segment's first
    column of a block is read (``changes`` as in :class:`SlotFigures`).
    """
    spans = []
    for block in blocks:
        inner = np.flatnonzero(changes[block.start + 1 : block.end]) + block.start + 1
        spans.append([block.start, *inner.tolist()])
    columns = sorted({c for span in spans for c in span})
    where = {c: i for i, c in enumerate(columns)}
    gathered_a = gather_columns(available, rows, columns)  # every block at once, view order
    gathered_any = gathered_a | gather_columns(if_needed, rows, columns)
    out = []
    for block, span in zip(blocks, spans, strict=True):
        picks = [where[c] for c in span]
        in_a = gathered_a[:, picks].all(axis=1)
        in_any = gathered_any[:, picks].all(axis=1)
        out.append(
            {
                "start": block.start,
                "end": block.end,
                "available": ids[in_a].tolist(),
                "if_needed": ids[in_any & ~in_a].tolist(),
                "score": block.score,
            }
        )
    return out
