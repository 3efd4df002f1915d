"""Alembic environment: async engine from DATABASE_URL (pool parameters stripped)."""

import asyncio

from alembic import context
from overlap_shared.db import create_engine
from overlap_shared.models import Base
from overlap_shared.settings import ServiceSettings
from sqlalchemy.engine import Connection


def run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata)
    with context.begin_transaction():
        context.run_migrations()


async def main() -> None:
    engine = create_engine(ServiceSettings().database_url, "overlap-migrations")
    try:
        async with engine.connect() as conn:
            await conn.run_sync(run)
            await conn.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run against a database")
asyncio.run(main())
