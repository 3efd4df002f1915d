"""Answer models of the signed-in user's routes."""

from typing import Literal

from pydantic import BaseModel


class MyEvent(BaseModel):
    token: str
    title: str
    role: Literal["admin", "participant"]
    updated_at: str


class MyEvents(BaseModel):
    events: list[MyEvent]
    next_cursor: str | None = None
