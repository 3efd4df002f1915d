"""Availability bitsets: one participant's slots at one level (``available`` or ``if_needed``).

In memory a bitset is a non-negative Python ``int`` whose bit ``i`` is set when slot ``i``
is marked.  Stored (``bytea``) it is ``ceil(slot_count / 8)`` bytes, **little-endian**:
slot ``i`` is byte ``i // 8``, bit ``i % 8`` of that byte (value ``1 << (i % 8)``), i.e.
exactly ``int.to_bytes(length, "little")``.

On the wire a bitset is a list of half-open slot ranges ``[[start, end], ...]``; a single
slot ``i`` is ``[i, i + 1]``.  :func:`bits_to_ranges` always returns the minimal sorted
list; :func:`ranges_to_bits` accepts overlapping or adjacent ranges (their union).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

__all__ = [
    "MAX_RANGES",
    "MAX_RANGES_PER_PARTICIPANT",
    "RangeError",
    "apply_patch",
    "bits_to_ranges",
    "check_disjoint",
    "check_range_budget",
    "from_bytes",
    "full_mask",
    "heatmap",
    "mask_of",
    "ranges_to_bits",
    "to_bytes",
]

MAX_RANGES = 1000
# Ranges one participant may hold, both levels together, after a PUT or PATCH.  It bounds
# the view: 1,000 participants at this limit make a view under 5 MB that the engine
# rebuilds in well under 0.5 s CPU (README, "View engine").  Realistic availability
# (a block or two a day for 62 days) needs about 125.
MAX_RANGES_PER_PARTICIPANT = 256

_BIT_TO_BYTE = bytes.maketrans(b"01", b"\x00\x01")


class RangeError(ValueError):
    """Invalid slot ranges (malformed, out of bounds, too many, on a missing slot, ...)."""


def full_mask(slot_count: int) -> int:
    """All ``slot_count`` slots set."""
    return (1 << slot_count) - 1


def mask_of(indexes: Iterable[int]) -> int:
    """A bitset with the given slot indexes set."""
    bits = 0
    for i in indexes:
        bits |= 1 << i
    return bits


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_plain_pair(pair: object) -> bool:
    """A list of two plain ints, the shape every request body decodes to: checked by exact
    type, which costs a third of the general check (:func:`_is_pair`) on the PUT's path."""
    return type(pair) is list and len(pair) == 2 and type(pair[0]) is int and type(pair[1]) is int


def _is_pair(pair: object) -> bool:
    """Any sequence (not a string) of two ints that are not booleans."""
    return (
        not isinstance(pair, (str, bytes))
        and isinstance(pair, Sequence)
        and len(pair) == 2
        and _is_int(pair[0])
        and _is_int(pair[1])
    )


def ranges_to_bits(
    ranges: Iterable[Sequence[int]], slot_count: int, missing: Collection[int] = ()
) -> int:
    """Union of half-open ranges ``[s, e)`` with ``0 <= s < e <= slot_count`` as a bitset.

    Raises :class:`RangeError` naming the offending range for a malformed pair, a bound
    outside the grid, a range covering a slot listed in ``missing``, or more than
    :data:`MAX_RANGES` ranges.
    """
    if isinstance(ranges, (str, bytes)):
        raise RangeError("ranges must be a list of [start, end] pairs")
    missing_bits = mask_of(missing) if missing else 0
    bits = 0
    for count, pair in enumerate(ranges, start=1):
        if count > MAX_RANGES:
            raise RangeError(f"too many ranges (at most {MAX_RANGES} per list)")
        if not (_is_plain_pair(pair) or _is_pair(pair)):
            raise RangeError(f"range {_show(pair)} is not a [start, end] pair of integers")
        start, end = pair[0], pair[1]
        if not 0 <= start < end <= slot_count:
            raise RangeError(f"range {_show(pair)} is outside 0 <= start < end <= {slot_count}")
        span = ((1 << (end - start)) - 1) << start
        if span & missing_bits:
            hit = _indexes(span & missing_bits)
            raise RangeError(f"range [{start}, {end}] covers slots that do not exist: {hit}")
        bits |= span
    return bits


def _show(value: object) -> str:
    try:
        text = repr(list(value) if isinstance(value, tuple) else value)
    except ValueError:  # e.g. an int too large to print
        return "<unprintable>"
    return text if len(text) <= 60 else text[:57] + "..."


def _indexes(bits: int) -> list[int]:
    out = []
    while bits:
        low = bits & -bits
        out.append(low.bit_length() - 1)
        bits ^= low
    return out


def bits_to_ranges(bits: int) -> list[list[int]]:
    """The minimal sorted list of half-open ranges covering exactly the set bits."""
    if bits < 0:
        raise ValueError("a bitset cannot be negative")
    out: list[list[int]] = []
    while bits:
        start = (bits & -bits).bit_length() - 1
        # Adding the run's lowest bit carries through the run and sets the bit after it.
        end = ((bits + (1 << start)) ^ bits).bit_length() - 1
        out.append([start, end])
        bits &= ~((1 << end) - 1)
    return out


def to_bytes(bits: int, slot_count: int) -> bytes:
    """Bitset -> ``ceil(slot_count / 8)`` little-endian bytes (see the module docstring)."""
    if bits < 0 or bits >> slot_count:
        raise ValueError(f"bitset has bits outside 0..{slot_count - 1}")
    return bits.to_bytes((slot_count + 7) // 8, "little")


def from_bytes(data: bytes) -> int:
    """Little-endian stored bytes -> bitset (the inverse of :func:`to_bytes`)."""
    return int.from_bytes(data, "little")


def heatmap(bitsets: Sequence[int], slot_count: int) -> list[int]:
    """Per-slot count of the bitsets that have the slot set.

    Each bitset is rendered once as a string of ``0``/``1`` and translated to one byte per
    slot; read as a big integer these byte "lanes" add up without carries, so one bignum
    addition per participant counts all slots at once.  Lanes are 8 bits wide, so the
    bitsets are summed in chunks of 255.
    """
    if slot_count <= 0:
        return []
    fmt = f"0{slot_count}b"
    counts: list[int] | None = None
    for chunk_start in range(0, len(bitsets), 255):
        total = 0
        for bits in bitsets[chunk_start : chunk_start + 255]:
            text = format(bits, fmt)
            if len(text) != slot_count or bits < 0:
                raise ValueError(f"bitset has bits outside 0..{slot_count - 1}")
            # Big-endian: the string's last character (bit 0) becomes the lowest lane.
            total += int.from_bytes(text.encode("ascii").translate(_BIT_TO_BYTE), "big")
        chunk = list(total.to_bytes(slot_count, "little"))
        counts = chunk if counts is None else [a + b for a, b in zip(counts, chunk, strict=True)]
    return counts if counts is not None else [0] * slot_count


def check_disjoint(available: int, if_needed: int) -> None:
    """Raise :class:`RangeError` when a slot is both ``available`` and ``if_needed``."""
    overlap = available & if_needed
    if overlap:
        raise RangeError(f"available and if_needed overlap at {bits_to_ranges(overlap)}")


def apply_patch(
    available: int, if_needed: int, set_available: int, set_if_needed: int, clear: int
) -> tuple[int, int]:
    """Apply a PATCH to one participant's two levels; returns ``(available, if_needed)``.

    Steps, in this order: ``clear`` removes its slots from both levels; then
    ``set_if_needed`` adds its slots to ``if_needed`` and removes them from ``available``;
    then ``set_available`` adds its slots to ``available`` and removes them from
    ``if_needed``.  So when the lists overlap, ``set_available`` wins over
    ``set_if_needed``, which wins over ``clear``.  Disjoint levels stay disjoint.
    """
    available &= ~clear
    if_needed &= ~clear
    if_needed |= set_if_needed
    available &= ~set_if_needed
    available |= set_available
    if_needed &= ~set_available
    return available, if_needed


def _runs(bits: int) -> int:
    return (bits & ~(bits << 1)).bit_count()


def check_range_budget(available: int, if_needed: int) -> None:
    """Raise :class:`RangeError` when the two levels hold more than
    :data:`MAX_RANGES_PER_PARTICIPANT` ranges together."""
    count = _runs(available) + _runs(if_needed)
    if count > MAX_RANGES_PER_PARTICIPANT:
        raise RangeError(
            f"availability would have {count} ranges; at most {MAX_RANGES_PER_PARTICIPANT} "
            "(available and if_needed together) per participant"
        )
