"""write path: no index on a column every write changes, none that no query reads

Every write bumps ``events.version`` and ``updated_at``; with ``updated_at`` in
``events_creator`` no such update could be HOT, so each one also wrote a new entry into
every index of ``events``. "My events" filters on ``creator_user_id`` and sorts a union
in memory, so the index keeps only that column. ``outbox.message_id`` had a unique
index no query uses (ids are random UUIDs; consumers dedup on them): one index insert and
delete per row less. A fill factor below 100 leaves room on each page for the new row
version of an update, so HOT updates stay on the page.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("events_creator", table_name="events")
    op.create_index("events_creator", "events", ["creator_user_id"], unique=False)
    op.drop_constraint("outbox_message_id_key", "outbox", type_="unique")
    op.execute("alter table events set (fillfactor = 80)")
    op.execute("alter table participants set (fillfactor = 80)")


def downgrade() -> None:
    op.execute("alter table participants reset (fillfactor)")
    op.execute("alter table events reset (fillfactor)")
    op.create_unique_constraint("outbox_message_id_key", "outbox", ["message_id"])
    op.drop_index("events_creator", table_name="events")
    op.create_index("events_creator", "events", ["creator_user_id", "updated_at"], unique=False)
