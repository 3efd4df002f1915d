"""Entity tags of an event: ``"v<version>"``, as answers carry them in ``ETag`` and clients
send them back in ``If-None-Match`` (a read) and ``If-Match`` (an edit). Pure."""


def etag(version: int) -> str:
    return f'"v{version}"'


def lists(header: str, tag: str) -> bool:
    """Whether an ``If-Match`` or ``If-None-Match`` header names ``tag`` (weak or strong)."""
    return tag in [t.strip().removeprefix("W/") for t in header.split(",")]
