"""Every Redis key Overlap owns: one place, one prefix, one hash tag per event.

Keys of one event share the hash tag ``{<token>}`` so they live in one Redis Cluster slot
(a tag read can be pipelined, a SCAN confined to it). The event's link token is the tag
rather than its id because every read arrives with the token: a cached read is then one
round trip, with no token-to-id lookup first.
"""

import hashlib

PREFIX = "ov:"
ALL_KEYS_PATTERN = f"{PREFIX}*"


def view_key(token: str) -> str:
    """The serialized view (JSON bytes starting with ``{"version":N``), or a tombstone."""
    return f"{PREFIX}{{{token}}}:view"


def view_lease_key(token: str) -> str:
    """Held by the one process recomputing a missing view (cross-process single flight)."""
    return f"{PREFIX}{{{token}}}:view-lease"


def floor_key(token: str) -> str:
    """The lowest event version a cache entry of this event may carry (see tagcache)."""
    return f"{PREFIX}{{{token}}}:floor"


def tag_key(token: str, tag: str) -> str:
    """The set of cache keys that ``tag`` names for this event."""
    return f"{PREFIX}{{{token}}}:tag:{tag}"


def session_key(token: str, key_hash_hex: str) -> str:
    """Participant key hash → that participant of this event."""
    return f"{PREFIX}{{{token}}}:session:{key_hash_hex}"


def meta_key(token: str) -> str:
    """The event's public metadata (the view's "event" document) and id."""
    return f"{PREFIX}{{{token}}}:meta"


def user_hash(user_id: str) -> str:
    return hashlib.sha256(user_id.encode()).hexdigest()[:32]


def user_page_key(user_id: str, page: str) -> str:
    """A cached page of a user's "my events" list (hash tag: the user)."""
    return f"{PREFIX}{{u:{user_hash(user_id)}}}:events:{page}"


def user_tag_key(user_id: str) -> str:
    """The set of a user's cached pages."""
    return f"{PREFIX}{{u:{user_hash(user_id)}}}:tag:pages"


L1_CHANNEL = f"{PREFIX}l1-invalidate"


def notifier_stats_key() -> str:
    return f"{PREFIX}stats:notifier"
