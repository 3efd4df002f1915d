"""The stack's PostgreSQL counts its statements: ``pg_stat_statements`` is preloaded
(deploy/local/infra.sh, compose, the container tests' server), so the README's list of what
a write costs PostgreSQL can be read again from any stack."""

import asyncpg
from overlap_shared.db import parse_database_url

from tests.conftest import Services


async def test_postgres_preloads_the_statement_statistics(services: Services) -> None:
    dsn = parse_database_url(services.database_url).url.set(drivername="postgresql")
    conn = await asyncpg.connect(dsn.render_as_string(hide_password=False))
    try:
        # a library's settings exist once the server loaded it (any user may read them)
        tracked = await conn.fetchval(
            "select setting from pg_settings where name = 'pg_stat_statements.track'"
        )
    finally:
        await conn.close()
    assert tracked in ("top", "all"), tracked
