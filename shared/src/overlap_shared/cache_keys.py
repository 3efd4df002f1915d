"""Every Redis key Overlap owns: one place, one prefix, one hash tag per event.

Keys of one event share the hash tag ``{<token>}`` so they live in one Redis Cluster slot
(a tag read can be pipelined, a SCAN confined to it). The event's link token is the tag
rather than its id because every read arrives with the token: a cached read is then one
round trip, with no token-to-id lookup first.
"""

PREFIX = "ov:"
ALL_KEYS_PATTERN = f"{PREFIX}*"


def view_key(token: str) -> str:
    """The serialized view (JSON bytes starting with ``{"version":N``), or a tombstone."""
    return f"{PREFIX}{{{token}}}:view"


def view_lease_key(token: str) -> str:
    """Held by the one process recomputing a missing view (cross-process single flight)."""
    return f"{PREFIX}{{{token}}}:view-lease"


def notifier_stats_key() -> str:
    return f"{PREFIX}stats:notifier"
