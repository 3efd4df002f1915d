"""Request and response models. Every input model forbids unknown fields and bounds sizes."""

import unicodedata
import uuid
from datetime import date
from typing import Annotated, Any, Literal

from overlap_shared.bitmaps import MAX_RANGES
from overlap_shared.slots import MAX_DAYS, SlotGrid, SlotGridError, parse_hhmm
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, model_validator

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
HHMM = Annotated[str, Field(pattern=r"^\d\d:\d\d$", examples=["09:00", "24:00"])]
Range = Annotated[list[StrictInt], Field(min_length=2, max_length=2, examples=[[0, 4]])]
Ranges = Annotated[list[Range], Field(max_length=MAX_RANGES)]


def clean_name(value: str) -> str:
    """NFKC-normalise, trim; refuse control characters and blank names."""
    name = unicodedata.normalize("NFKC", value).strip()
    if not name:
        raise ValueError("name must not be blank")
    if len(name) > 80:
        raise ValueError("name must be at most 80 characters")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in name):
        raise ValueError("name must not contain control or unassigned characters")
    return name


def name_key(name: str) -> str:
    """What makes two names the same person in one event."""
    return unicodedata.normalize("NFKC", name).casefold()


def plain_text(value: str) -> str:
    """Refuse what PostgreSQL cannot store (NUL) and UTF-8 cannot encode (lone surrogates)."""
    if "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value):
        raise ValueError("text must not contain NUL or unpaired surrogate characters")
    return value


def clean_title(value: str) -> str:
    title = value.strip()
    if not title:
        raise ValueError("title must not be blank")
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in title):
        raise ValueError("title must not contain control characters")
    return title


Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(clean_name)]
Title = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(clean_title)]
Description = Annotated[str, Field(max_length=2000), AfterValidator(plain_text)]
Zone = Annotated[str, Field(min_length=1, max_length=64, examples=["Europe/Berlin"])]
# Far enough from date.min/max that every slot instant, in any zone, is a datetime (year 1
# in Asia/Tokyo starts in year 0 UTC: an event no view or calendar could be built for).
FIRST_DATE, LAST_DATE = date(1900, 1, 1), date(9998, 12, 31)


def in_range(value: date) -> date:
    if not FIRST_DATE <= value <= LAST_DATE:
        raise ValueError(f"dates must lie between {FIRST_DATE} and {LAST_DATE}")
    return value


Dates = Annotated[
    list[Annotated[date, AfterValidator(in_range)]], Field(min_length=1, max_length=MAX_DAYS)
]
Weekdays = Annotated[list[Weekday], Field(min_length=1, max_length=7)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


def grid_from(fields: dict[str, Any]) -> SlotGrid:
    """Build (and so validate) a slot grid from event fields; ValueError when invalid."""
    dates, weekdays = fields.get("dates"), fields.get("weekdays")
    if (dates is None) == (weekdays is None):
        raise ValueError("give exactly one of 'dates' or 'weekdays'")
    if dates is not None and len(set(dates)) != len(dates):
        raise ValueError("dates must be unique")
    if weekdays is not None and len(set(weekdays)) != len(weekdays):
        raise ValueError("weekdays must be unique")
    try:
        return SlotGrid(
            kind="dates" if dates is not None else "weekdays",
            dates=tuple(sorted(dates)) if dates is not None else None,
            weekdays=tuple(d for d in WEEK if d in weekdays) if weekdays is not None else None,
            day_start=parse_hhmm(fields["day_start"]),
            day_end=parse_hhmm(fields["day_end"]),
            slot_minutes=fields["slot_minutes"],
            timezone=fields["timezone"],
        )
    except SlotGridError as exc:
        raise ValueError(str(exc)) from None


WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class EventCreate(Input):
    title: Title
    description: Description = ""
    timezone: Zone
    dates: Dates | None = None
    weekdays: Weekdays | None = None
    day_start: HHMM
    day_end: HHMM
    slot_minutes: Literal[15, 30, 60]

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
    slot_minutes: Literal[15, 30, 60] | None = None

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


class ParticipantCreate(Input):
    name: Name = Field(examples=["Ada"])


class ParticipantRename(Input):
    name: Name = Field(examples=["Ada L."])


class AvailabilityPut(Input):
    available: Ranges = Field(default_factory=list, examples=[[[0, 4], [10, 12]]])
    if_needed: Ranges = Field(default_factory=list, examples=[[[4, 6]]])


class AvailabilityPatch(Input):
    set_available: Ranges = Field(default_factory=list, examples=[[[0, 2]]])
    set_if_needed: Ranges = Field(default_factory=list)
    clear: Ranges = Field(default_factory=list)


# --- responses ------------------------------------------------------------------------


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


class ParticipantPublic(BaseModel):
    id: uuid.UUID
    name: str


class ParticipantJoined(BaseModel):
    participant: ParticipantPublic
    participant_key: str = Field(description="Returned once; the browser's session key.")
    version: int


class ParticipantChanged(BaseModel):
    participant: ParticipantPublic
    version: int


class ParticipantMe(BaseModel):
    participant: ParticipantPublic
    available: list[list[int]]
    if_needed: list[list[int]]
    version: int


class AvailabilityAnswer(BaseModel):
    version: int
    available: list[list[int]]
    if_needed: list[list[int]]


class ViewParticipant(BaseModel):
    id: uuid.UUID
    name: str
    available: list[list[int]]
    if_needed: list[list[int]]


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


class MyEvent(BaseModel):
    token: str
    title: str
    role: Literal["admin", "participant"]
    updated_at: str


class MyEvents(BaseModel):
    events: list[MyEvent]
    next_cursor: str | None = None
