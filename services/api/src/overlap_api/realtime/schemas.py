"""Models of the realtime routes: the client's connection settings, and Pusher's channel
authorization form and answer. The form's OpenAPI schema is made from ``AuthForm``."""

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

FORM = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 1024
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
CHANNEL = re.compile(rf"^(private|presence)-event-({_UUID})$")


class RealtimeConfig(BaseModel):
    key: str
    host: str | None = Field(description="Pusher-protocol server host; null means Pusher")
    port: int | None
    tls: bool
    cluster: str


class AuthForm(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    socket_id: str = Field(max_length=41, pattern=r"^\d{1,20}\.\d{1,20}$")
    channel_name: str = Field(max_length=164, pattern=r"^[-a-zA-Z0-9_=@,.;]+$")


class AuthAnswer(BaseModel):
    auth: str = Field(description="`<key>:<signature>`")
    channel_data: str | None = Field(
        default=None, description="presence only: JSON `{user_id, user_info: {name}}`"
    )


def form_schema() -> dict[str, Any]:
    """``AuthForm`` as the OpenAPI document shows it: only the channels that exist here
    (another well-formed name is a 403, not a 422)."""
    schema = AuthForm.model_json_schema()
    schema["properties"]["channel_name"]["pattern"] = CHANNEL.pattern
    return schema
