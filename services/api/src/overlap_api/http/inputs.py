"""What every request body shares: unknown fields are refused, and text must be storable."""

from pydantic import BaseModel, ConfigDict


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


def plain_text(value: str) -> str:
    """Refuse what PostgreSQL cannot store (NUL) and UTF-8 cannot encode (lone surrogates)."""
    if "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value):
        raise ValueError("text must not contain NUL or unpaired surrogate characters")
    return value
