"""Request and answer models of the participant routes, and what a participant's name may be."""

import unicodedata
import uuid
from typing import Annotated

from overlap_shared.bitmaps import MAX_RANGES
from pydantic import AfterValidator, BaseModel, Field, StrictInt

from overlap_api.http.inputs import Input

Range = Annotated[list[StrictInt], Field(min_length=2, max_length=2, examples=[[0, 4]])]
Ranges = Annotated[list[Range], Field(max_length=MAX_RANGES)]
# Zero-width joiners: inside a name they join an emoji sequence ("👩‍💻") or keep Persian
# letters apart ("می‌خواهم"); alone, or at an edge, they only hide what a name is.
JOINERS = frozenset({"\u200c", "\u200d"})
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})  # bidi overrides are Cf


def misplaced_joiner(name: str) -> bool:
    """A joiner at an edge, or next to another joiner or a space."""
    return any(
        ch in JOINERS
        and (i in (0, len(name) - 1) or name[i - 1] in JOINERS | {" "} or name[i + 1] == " ")
        for i, ch in enumerate(name)
    )


def clean_name(value: str) -> str:
    """NFKC-normalise, trim; refuse control and format characters (but joiners inside) and
    blank or invisible names."""
    name = unicodedata.normalize("NFKC", value).strip()
    if not "".join(ch for ch in name if ch not in JOINERS).strip():
        raise ValueError("name must not be blank")
    if len(name) > 80:
        raise ValueError("name must be at most 80 characters")
    hidden = (ch for ch in name if ch not in JOINERS)
    if any(unicodedata.category(ch) in REFUSED_CATEGORIES for ch in hidden):
        raise ValueError("name must not contain control or unassigned characters")
    if misplaced_joiner(name):
        raise ValueError("a zero-width joiner must stand between two visible characters")
    return name


def name_key(name: str) -> str:
    """What makes two names the same person in one event."""
    return unicodedata.normalize("NFKC", name).casefold()


Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(clean_name)]


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
