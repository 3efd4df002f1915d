"""Request and answer models of the event routes, the view among them."""

import unicodedata
import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, model_validator

from overlap_api.events.grid import HHMM, Dates, SlotMinutes, Weekday, Weekdays, Zone, grid_from
from overlap_api.http.inputs import Input, plain_text
from overlap_api.participants.schemas import ViewParticipant


def clean_title(value: str) -> str:
    title = value.strip()
    if not title:
        raise ValueError("title must not be blank")
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in title):
        raise ValueError("title must not contain control characters")
    return title


Title = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(clean_title)]
Description = Annotated[str, Field(max_length=2000), AfterValidator(plain_text)]


class EventCreate(Input):
    title: Title
    description: Description = ""
    timezone: Zone
    dates: Dates | None = None
    weekdays: Weekdays | None = None
    day_start: HHMM
    day_end: HHMM
    slot_minutes: SlotMinutes

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": "Team offsite planning",
                    "timezone": "Europe/Berlin",
                    "dates": ["2026-12-01", "2026-12-02"],
                    "day_start": "09:00",
                    "day_end": "17:00",
                    "slot_minutes": 30,
                }
            ]
        },
    )

    @model_validator(mode="after")
    def _valid_grid(self) -> "EventCreate":
        grid_from(self.model_dump())
        return self


class EventUpdate(Input):
    """Any subset of the event's fields; grid fields are re-validated together."""

    title: Title | None = None
    description: Description | None = None
    timezone: Zone | None = None
    dates: Dates | None = None
    weekdays: Weekdays | None = None
    day_start: HHMM | None = None
    day_end: HHMM | None = None
    slot_minutes: SlotMinutes | None = None

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"title": "New title"}]}
    )

    @model_validator(mode="after")
    def _one_kind(self) -> "EventUpdate":
        if self.dates is not None and self.weekdays is not None:
            raise ValueError("give at most one of 'dates' or 'weekdays'")
        if not self.model_fields_set:
            raise ValueError("nothing to change")
        return self


class SlotRange(Input):
    start: StrictInt = Field(ge=0, examples=[4])
    end: StrictInt = Field(gt=0, examples=[8])


# --- answers ---------------------------------------------------------------------------


class FinalPublic(BaseModel):
    start: int
    end: int


class EventPublic(BaseModel):
    id: uuid.UUID
    token: str
    title: str
    description: str
    timezone: str
    kind: Literal["dates", "weekdays"]
    dates: list[date] | None
    weekdays: list[Weekday] | None
    day_start: str
    day_end: str
    slot_minutes: int
    slots_per_day: int
    slot_count: int
    status: Literal["open", "finalized"]
    final: FinalPublic | None
    created_at: str
    updated_at: str
    expires_at: str | None = Field(description="deleted after this (retention); null: kept")


class EventCreated(BaseModel):
    token: str
    admin_key: str = Field(description="Returned once; keep it to edit the event.")
    version: int
    event: EventPublic


class EventChanged(BaseModel):
    version: int
    event: EventPublic


class BestBlock(BaseModel):
    start: int
    end: int
    available: list[uuid.UUID]
    if_needed: list[uuid.UUID]
    score: float


class Slots(BaseModel):
    starts_utc: list[str | None] | None
    missing: list[int]


class Heatmap(BaseModel):
    available: list[int]
    if_needed: list[int]


class View(BaseModel):
    version: int
    event: EventPublic
    slots: Slots
    participants: list[ViewParticipant]
    heatmap: Heatmap
    best: list[BestBlock]


class BestTimes(BaseModel):
    version: int
    best: list[BestBlock]
