"""Database tables (SQLAlchemy 2, typed) and the outbox row of a message. Shared so the API and
the workers read one schema.

Availability is two bitmaps per participant row (``bitmaps`` module layout), so one
participant's update is one row write. Relationships are ``lazy="raise"``: an accidental
lazy load (the N+1 the user suffered from) fails loudly instead of querying.
"""

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from overlap_shared import events


class Base(DeclarativeBase):
    pass


class Event(Base):
    __tablename__ = "events"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    admin_key_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    timezone: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8))
    dates: Mapped[list[date] | None] = mapped_column(ARRAY(Date))
    weekdays: Mapped[list[str] | None] = mapped_column(ARRAY(String(3)))
    day_start: Mapped[int] = mapped_column(SmallInteger)
    day_end: Mapped[int] = mapped_column(SmallInteger)
    slot_minutes: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(10), default="open")
    final_start: Mapped[int | None] = mapped_column(SmallInteger)
    final_end: Mapped[int | None] = mapped_column(SmallInteger)
    version: Mapped[int] = mapped_column(BigInteger, default=1)
    creator_user_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    participants: Mapped[list["Participant"]] = relationship(
        back_populates="event", lazy="raise", passive_deletes=True
    )

    __table_args__ = (
        CheckConstraint("kind in ('dates', 'weekdays')", name="events_kind"),
        CheckConstraint("status in ('open', 'finalized')", name="events_status"),
        CheckConstraint(
            "day_start >= 0 and day_end <= 1440 and day_end > day_start", name="window"
        ),
        CheckConstraint("slot_minutes in (15, 30, 60)", name="events_slot_minutes"),
        Index("events_creator", "creator_user_id"),
    )


class Participant(Base):
    __tablename__ = "participants"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    name_key: Mapped[str] = mapped_column(String(320))  # NFKC + casefold, unique per event
    key_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    user_id: Mapped[str | None] = mapped_column(String(128))
    available: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    if_needed: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    event: Mapped[Event] = relationship(back_populates="participants", lazy="raise")

    __table_args__ = (
        UniqueConstraint("event_id", "name_key", name="participants_name_per_event"),
        Index("participants_event_order", "event_id", "created_at", "id"),
        Index("participants_user", "user_id"),
    )


class OutboxMessage(Base):
    """Domain events written in the same transaction as the change (relay publishes them)."""

    __tablename__ = "outbox"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    message_id: Mapped[uuid.UUID] = mapped_column(UUID)  # no index: no query reads it
    topic: Mapped[str] = mapped_column(String(200))
    key: Mapped[bytes] = mapped_column(LargeBinary)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    headers: Mapped[dict[str, str]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


def outbox_rows(topic: str, messages: Sequence[events.Message]) -> list[dict[str, object]]:
    """The outbox rows of ``messages``: the one shape the API's writes and the restore epoch
    insert, and the relay reads back."""
    return [
        {
            "message_id": m.id,
            "topic": topic,
            "key": events.kafka_key(m),
            "payload": events.encode(m),
            "headers": {"type": m.type},
        }
        for m in messages
    ]
