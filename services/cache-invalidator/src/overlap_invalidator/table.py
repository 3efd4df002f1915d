"""Which cache tags each domain event dirties. Pure and declarative.

Tags are per event (``tag_key(token, tag)``): ``meta`` (event metadata), ``sessions``
(every participant-key lookup), ``participant:<id>`` (one participant's lookup), ``users``
(cached "my events" pages that list this event). A user's own pages are tagged
``user:<id>`` (a new event or membership must appear in them).
"""

from overlap_shared import events

BY_TYPE: dict[str, tuple[str, ...]] = {
    "EventCreated": (),
    "EventUpdated": ("meta", "users"),
    "EventFinalized": ("meta",),
    "EventDeleted": ("meta", "sessions", "users"),
    "ParticipantJoined": (),
    "ParticipantRenamed": (),
    "ParticipantLeft": ("users",),
    "AvailabilityChanged": (),
}
# The types whose body names more to clear (a participant, a user); the rest are read
# from their envelope alone.
BODIES = frozenset({"EventCreated", "ParticipantJoined", "ParticipantRenamed", "ParticipantLeft"})


def tags_for(kind: str, msg: events.DomainEvent | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(tags of this event, user ids whose own pages are dirty) for a message of type
    ``kind`` (its body ``msg`` given for the :data:`BODIES` types)."""
    tags = BY_TYPE[kind]
    users: tuple[str, ...] = ()
    if isinstance(msg, events.ParticipantRenamed | events.ParticipantLeft):
        tags = (*tags, f"participant:{msg.data.participant_id}")
    if isinstance(msg, events.EventCreated) and msg.data.creator_user_id:
        users = (msg.data.creator_user_id,)
    if isinstance(msg, events.ParticipantJoined) and msg.data.user_id:
        users = (msg.data.user_id,)
    return tags, users
