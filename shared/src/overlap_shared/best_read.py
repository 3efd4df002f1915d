"""Best times answered from a cached view document, without PostgreSQL.

The view (DESIGN §3) holds everything the search needs: the grid's size and missing
slots, every participant's ranges and the heat-map counts.  The default question (blocks
of one slot or more, nobody required, at most the view's own number of blocks) is the
view's ``best`` itself, read from the document's tail without parsing the rest.  Any other
question rebuilds the participants' rows from their ranges and runs the array search
(``overlap_shared.best``): a few passes over participants x slots (at most 1,000 x
5,952), whatever the parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson

from overlap_shared.best import SlotFigures, describe_blocks, rank_blocks
from overlap_shared.kernels import exists_mask, rows_from_ranges, slot_changes

__all__ = ["VIEW_BEST_LIMIT", "best_from_view", "view_best", "view_head"]

VIEW_BEST_LIMIT = 10  # the number of blocks the view's ``best`` holds


def view_head(view: bytes) -> dict[str, Any]:
    """``{"version", "event"}`` of a view, parsed without the (large) rest.

    Strings in the view are JSON-escaped, so ``,"slots":`` first occurs as the key.
    """
    head: dict[str, Any] = orjson.loads(view[: view.index(b',"slots":')] + b"}")
    return head


def view_best(view: bytes) -> list[dict[str, Any]]:
    """The view's own ``best`` (its last key; it holds only ids and numbers)."""
    best: list[dict[str, Any]] = orjson.loads(view[view.rindex(b'},"best":') + 9 : -1])
    return best


def best_from_view(
    view: dict[str, Any], min_slots: int, required: Sequence[str], limit: int
) -> list[dict[str, Any]]:
    """Best times over a parsed view; ``required`` ids must be participants of it."""
    event, people = view["event"], view["participants"]
    slot_count = event["slot_count"]
    if not people:
        return []
    available = rows_from_ranges([p["available"] for p in people], slot_count)
    if_needed = rows_from_ranges([p["if_needed"] for p in people], slot_count)
    ids = np.asarray([p["id"] for p in people], dtype=object)
    allowed = None
    if required:
        position = {pid: i for i, pid in enumerate(ids.tolist())}
        needed = [position[pid] for pid in required]
        allowed = np.asarray((available[needed] | if_needed[needed]).all(axis=0))
    figures = SlotFigures(
        event["slots_per_day"],
        exists_mask(slot_count, view["slots"]["missing"]),
        np.asarray(view["heatmap"]["available"], dtype=np.int64),
        np.asarray(view["heatmap"]["if_needed"], dtype=np.int64),
        slot_changes(available, if_needed),
    )
    blocks = rank_blocks(figures, min_slots, limit, allowed)
    packed_a = np.packbits(available, axis=1, bitorder="little")
    packed_n = np.packbits(if_needed, axis=1, bitorder="little")
    rows = np.arange(len(ids))
    return describe_blocks(blocks, figures.changes, packed_a, packed_n, rows, ids)
