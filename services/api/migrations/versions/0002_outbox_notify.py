"""outbox: NOTIFY the relay on insert

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        create function outbox_notify() returns trigger language plpgsql as $$
        begin
          perform pg_notify('overlap_outbox', '');
          return null;
        end $$;
        """
    )
    op.execute(
        "create trigger outbox_notify after insert on outbox "
        "for each statement execute function outbox_notify()"
    )


def downgrade() -> None:
    op.execute("drop trigger if exists outbox_notify on outbox")
    op.execute("drop function if exists outbox_notify()")
