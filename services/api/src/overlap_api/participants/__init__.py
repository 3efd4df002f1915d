"""Participants: join, rename, leave, removal by the organiser, availability, and the
participant's own record."""
