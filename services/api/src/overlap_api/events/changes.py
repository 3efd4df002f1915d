"""What an organiser's edit changes: the columns to write, and whether the slot grid moved
(availability is then remapped onto the new grid). Pure."""

from dataclasses import dataclass
from typing import Any

from overlap_shared.slots import SlotGrid, format_hhmm
from overlap_shared.view import EventSnapshot

from overlap_api.events.grid import grid_columns, grid_from
from overlap_api.http.errors import Conflict, Invalid

GRID_FIELDS = ("timezone", "dates", "weekdays", "day_start", "day_end", "slot_minutes")


@dataclass(frozen=True)
class EventEdit:
    columns: dict[str, Any]  # to write to the event's row
    old_grid: SlotGrid
    new_grid: SlotGrid

    @property
    def grid_changed(self) -> bool:
        return self.new_grid != self.old_grid


def grid_fields(event: EventSnapshot) -> dict[str, Any]:
    """The event's grid in the request's terms (``HH:MM``, lists)."""
    return {
        "timezone": event.timezone,
        "dates": list(event.dates) if event.dates is not None else None,
        "weekdays": list(event.weekdays) if event.weekdays is not None else None,
        "day_start": format_hhmm(event.day_start),
        "day_end": format_hhmm(event.day_end),
        "slot_minutes": event.slot_minutes,
    }


def new_grid(event: EventSnapshot, grid_changes: dict[str, Any]) -> SlotGrid:
    """The grid after the change: given dates replace weekdays, and the other way round."""
    merged = {**grid_fields(event), **grid_changes}
    if "dates" in grid_changes:
        merged["weekdays"] = None
    if "weekdays" in grid_changes:
        merged["dates"] = None
    try:
        return grid_from(merged)
    except ValueError as exc:
        raise Invalid(str(exc)) from None


def plan_edit(event: EventSnapshot, changed: dict[str, Any]) -> EventEdit:
    """The edit ``changed`` (the request's set fields) makes to ``event``; 422 or 409 when
    it may not."""
    if changed.get("title", "") is None or changed.get("description", "") is None:
        raise Invalid("title and description cannot be null")
    columns = {k: v for k, v in changed.items() if k not in GRID_FIELDS}
    grid_changes = {k: v for k, v in changed.items() if k in GRID_FIELDS}
    if not grid_changes:
        return EventEdit(columns, event.grid, event.grid)
    grid = new_grid(event, grid_changes)
    edit = EventEdit(columns | grid_columns(grid), event.grid, grid)
    if edit.grid_changed and event.status == "finalized":
        raise Conflict("a finalized event's slots cannot change; its final time would move")
    return edit
