"""The best-times answer, from the event's view bytes (no SQL; see ``best_read``)."""

import orjson
from overlap_shared.best_read import VIEW_BEST_LIMIT, best_from_view, view_best, view_head

from overlap_api.http.errors import Invalid


def best_for(view: bytes, min_minutes: int, required: list[str], limit: int) -> bytes:
    """Blocks of at least ``min_minutes`` where the ``required`` participants are free."""
    head = view_head(view)
    slot_minutes = head["event"]["slot_minutes"]
    if min_minutes % slot_minutes:
        raise Invalid(f"min_minutes must be a multiple of the slot size ({slot_minutes})")
    min_slots = max(1, min_minutes // slot_minutes)
    if min_slots == 1 and not required and limit <= VIEW_BEST_LIMIT:
        best = view_best(view)[:limit]
    else:
        doc = orjson.loads(view)
        ids = {p["id"] for p in doc["participants"]}
        unknown = [r for r in required if r not in ids]
        if unknown:
            raise Invalid(f"required names participants not in this event: {unknown[:5]}")
        best = best_from_view(doc, min_slots, required, limit)
    return orjson.dumps({"version": head["version"], "best": best})
