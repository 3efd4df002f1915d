"""Best times in pure Python (the oracle of the array search in ``overlap_shared.best``).

Algorithm (the contract of :func:`best_times`):

1. Per-slot score = ``|available| + 0.5 * |if_needed|`` (a participant marked in both
   levels counts as available only).
2. A block never crosses a day boundary or a missing slot (a DST gap), so each day is
   cut at its missing slots into *stretches* of existing slots.
3. Each stretch is split into *segments*: maximal runs of consecutive slots with the same
   (available set, if-needed set).
4. Candidates: from every segment ``i`` of a stretch, extend over segments
   ``i..j`` with the smallest ``j`` whose total length is ``>= min_slots``; when the
   stretch runs out first, segment ``i`` yields no candidate.
5. A block's ``available`` = participants available in every slot of the block; its
   ``if_needed`` = participants available-or-if-needed in every slot but not in
   ``available``.  Its ``score`` = the mean of the per-slot scores over the block's slots,
   rounded to 4 decimals.
6. Candidates scoring 0, or lacking a ``required`` participant from ``available`` or
   ``if_needed``, are dropped.  (A required id that is not a participant drops all.)
7. Rank by score desc, then length desc, then start asc; greedily keep blocks that do
   not overlap an already kept one, up to ``limit``.

Ids in each block's lists are in the participants' input order.

Implementation: the participants' bitsets are transposed once into per-slot masks over
participant positions (bit ``p`` = participant ``p``), via one string per participant
and strided slicing, so the per-slot work is a handful of int operations.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

__all__ = ["best_times", "slot_masks"]


def slot_masks(
    participants: Sequence[tuple[str, int, int]], slot_count: int
) -> tuple[list[int], list[int]]:
    """Transpose bitsets into per-slot participant masks ``(available, if_needed)``.

    Bit ``p`` of ``available[i]`` is set when participant ``p`` is available in slot
    ``i``.  Bits beyond ``slot_count`` are ignored; a slot marked at both levels counts
    as available only.
    """
    if slot_count <= 0:
        return [], []
    if not participants:
        return [0] * slot_count, [0] * slot_count
    full = (1 << slot_count) - 1
    fmt = f"0{slot_count}b"
    rows_a: list[str] = []
    rows_n: list[str] = []
    # Row p holds participant P-1-p (so participant p becomes bit p of each column), and
    # character k of a row is slot slot_count-1-k (format() writes the top bit first).
    for _, available, if_needed in reversed(participants):
        a = available & full
        rows_a.append(format(a, fmt))
        rows_n.append(format(if_needed & full & ~a, fmt))
    return _columns("".join(rows_a), slot_count), _columns("".join(rows_n), slot_count)


def _columns(matrix: str, slot_count: int) -> list[int]:
    cols = [int(matrix[k::slot_count], 2) for k in range(slot_count)]
    cols.reverse()
    return cols


def _ids(mask: int, ids: Sequence[str]) -> list[str]:
    out = []
    while mask:
        low = mask & -mask
        out.append(ids[low.bit_length() - 1])
        mask ^= low
    return out


# A candidate: (-score, -length, start, end, available mask, if_needed mask).
_Candidate = tuple[float, int, int, int, int, int]


def best_times(
    grid_slots_per_day: int,
    slot_count: int,
    participants: Sequence[tuple[str, int, int]],
    missing: Collection[int],
    min_slots: int = 1,
    required: Collection[str] = (),
    limit: int = 10,
) -> list[dict[str, Any]]:
    """Ranked non-overlapping best blocks; see the module docstring for the rules.

    ``participants`` are ``(id, available_bits, if_needed_bits)``.  Each result is
    ``{"start", "end", "available": [ids], "if_needed": [ids], "score"}`` with a
    half-open slot range ``[start, end)``.
    """
    if grid_slots_per_day <= 0 or slot_count % grid_slots_per_day:
        raise ValueError("slot_count must be a positive multiple of slots per day")
    if min_slots < 1:
        raise ValueError("min_slots must be at least 1")
    if limit <= 0 or not participants or min_slots > grid_slots_per_day:
        return []
    ids = [p[0] for p in participants]
    required_mask = _required_mask(ids, required)
    if required_mask is None:
        return []
    cols_a, cols_n = slot_masks(participants, slot_count)
    missing_set, candidates = frozenset(missing), list[_Candidate]()
    for day_start in range(0, slot_count, grid_slots_per_day):
        day = range(day_start, day_start + grid_slots_per_day)
        for stretch in _stretches(day, missing_set):
            _stretch_candidates(stretch, cols_a, cols_n, min_slots, required_mask, candidates)
    return _keep_best(sorted(candidates), ids, limit)


def _required_mask(ids: Sequence[str], required: Collection[str]) -> int | None:
    """The mask of the required participants; None when one of them is not a participant."""
    position = {pid: index for index, pid in enumerate(ids)}
    mask = 0
    for pid in required:
        if pid not in position:
            return None
        mask |= 1 << position[pid]
    return mask


def _stretches(day: range, missing: frozenset[int]) -> list[list[int]]:
    """The day's runs of existing slots, cut at its missing ones (empty runs included)."""
    out: list[list[int]] = [[]]
    for i in day:
        if i in missing:
            out.append([])
        else:
            out[-1].append(i)
    return out


def _keep_best(ranked: list[_Candidate], ids: Sequence[str], limit: int) -> list[dict[str, Any]]:
    """Greedily keep the ranked candidates that overlap no kept one, up to ``limit``."""
    taken = 0
    best: list[dict[str, Any]] = []
    for neg_score, _, start, end, avail, if_needed in ranked:
        span = ((1 << (end - start)) - 1) << start
        if span & taken:
            continue
        taken |= span
        best.append(
            {
                "start": start,
                "end": end,
                "available": _ids(avail, ids),
                "if_needed": _ids(if_needed, ids),
                "score": -neg_score,
            }
        )
        if len(best) >= limit:
            break
    return best


def _stretch_candidates(
    slots: list[int],
    cols_a: list[int],
    cols_n: list[int],
    min_slots: int,
    required_mask: int,
    out: list[_Candidate],
) -> None:
    """Append the candidates of one stretch of consecutive existing slots to ``out``."""
    if len(slots) < min_slots:
        return
    # Segments: (start, length, available mask, if_needed mask, half-points per slot).
    segments: list[tuple[int, int, int, int, int]] = []
    first = slots[0]
    key = (cols_a[first], cols_n[first])
    for i in slots[1:]:
        if (cols_a[i], cols_n[i]) != key:
            a, n = key
            segments.append((first, i - first, a, n, 2 * a.bit_count() + n.bit_count()))
            first, key = i, (cols_a[i], cols_n[i])
    a, n = key
    end = slots[-1] + 1
    segments.append((first, end - first, a, n, 2 * a.bit_count() + n.bit_count()))

    for i, (start, length, avail, if_needed, halves_per_slot) in enumerate(segments):
        if end - start < min_slots:
            break  # this and every later segment runs out of the stretch
        all_a = avail
        all_any = avail | if_needed
        halves = length * halves_per_slot
        j = i
        while length < min_slots:
            j += 1
            _, seg_len, seg_a, seg_n, seg_halves = segments[j]
            all_a &= seg_a
            all_any &= seg_a | seg_n
            length += seg_len
            halves += seg_len * seg_halves
        if halves == 0 or all_any & required_mask != required_mask:
            continue
        score = round(halves / (2 * length), 4)
        out.append((-score, -length, start, start + length, all_a, all_any & ~all_a))
